"""bcsync: BigCommerce webhooks to marketing events, profiles and flow triggers."""
