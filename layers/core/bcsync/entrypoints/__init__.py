"""Translations between Lambda event shapes and the use cases."""
