"""Store credentials from Secrets Manager, through Powertools' cache."""

from __future__ import annotations

import pytest

from bcsync.adapters.credentials import SecretsManagerCredentials
from bcsync.domain.stores import StoreCredentials


class Provider:
    """Powertools' SecretsProvider as far as the adapter uses it: a get (the real one caches for
    `max_age`; this one records what it was asked)."""

    def __init__(self) -> None:
        self.secret = {"access_token": "token-1", "client_secret": "secret-1"}
        self.asked: list[tuple[str, int, str]] = []

    def get(self, name: str, *, max_age: int, transform: str) -> dict[str, str]:
        self.asked.append((name, max_age, transform))
        return dict(self.secret)


def test_a_stores_secret_is_read_under_the_prefix_through_the_cache_for_its_time():
    provider = Provider()
    credentials = SecretsManagerCredentials("bcsync/stores/", 300, provider)
    assert credentials.credentials("abc") == StoreCredentials(access_token="token-1", client_secret="secret-1")
    assert provider.asked == [("bcsync/stores/abc", 300, "json")]


def test_a_secret_without_its_fields_is_refused():
    provider = Provider()
    provider.secret = {"access_token": ""}
    with pytest.raises(ValueError):
        SecretsManagerCredentials("bcsync/stores/", 300, provider).credentials("abc")
