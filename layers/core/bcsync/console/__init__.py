"""The operator console: one self-contained page served by the read API at /console."""
