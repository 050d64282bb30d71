"""Newsletter sign-ups that identify a browser (onsite tracking): the browser makes a random
claim as its form is submitted, BigCommerce creates the subscriber, and the subscriber webhook
links the address; a claim is honoured only for a subscriber created about when it was made."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

# A newsletter form's claim is honoured for a day, and only for a subscriber BigCommerce created
# about when the form was submitted: from a little before the claim arrived (beacons can be slower
# than the form's own post) to a few minutes after (the subscriber record comes first, the webhook later).
SIGNUP_CLAIM_LIFE = timedelta(days=1)
SIGNUP_EARLIEST = timedelta(minutes=2)
SIGNUP_LATEST = timedelta(minutes=10)


@dataclass(frozen=True)
class SignupClaim:
    """What is kept of a newsletter form's claim: digests only (a reader of the table can neither
    present the claim nor read the address), and when it arrived."""

    claim_digest: str
    email_digest: str
    claimed_at: datetime

    def identifies(self, link: SignupLink | None, now: datetime) -> str | None:
        """The profile, when its storefront subscription (for this claim's address) came from this
        claim's form: an address typed into the form later, or long before, identifies no one."""
        if link is None or now - self.claimed_at > SIGNUP_CLAIM_LIFE:
            return None
        if self.claimed_at - SIGNUP_EARLIEST <= link.subscribed_at <= self.claimed_at + SIGNUP_LATEST:
            return link.profile_id
        return None


@dataclass(frozen=True)
class SignupLink:
    """The subscriber webhook's word: this address subscribed on the storefront, as this profile."""

    profile_id: str
    subscribed_at: datetime
