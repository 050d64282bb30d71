"""Refusals: a request bcsync will not act on, with the status code and a message safe to show."""

from __future__ import annotations


class Refused(Exception):
    def __init__(self, status_code: int, message: str) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.message = message
