"""Store credentials from Secrets Manager, through a cache that can be dropped."""

from __future__ import annotations

from typing import Any

import pytest

from bcsync.adapters.credentials import SecretsManagerCredentials
from bcsync.domain.stores import StoreCredentials


class Provider:
    """Powertools' SecretsProvider as far as the adapter uses it: a cached get."""

    def __init__(self) -> None:
        self.secret = {"access_token": "token-1", "client_secret": "secret-1"}
        self.cache: dict[str, Any] = {}
        self.fetches = 0

    def get(self, name: str, *, max_age: int, transform: str) -> dict[str, str]:
        if name not in self.cache:
            self.fetches += 1
            self.cache[name] = dict(self.secret)
        return self.cache[name]

    def clear_cache(self) -> None:
        self.cache.clear()


def test_a_secret_is_read_once_until_forgotten_then_read_again_as_it_is_now():
    provider = Provider()
    credentials = SecretsManagerCredentials("bcsync/stores/", 300, provider)
    assert credentials.credentials("abc") == StoreCredentials(access_token="token-1", client_secret="secret-1")
    provider.secret = {"access_token": "token-2", "client_secret": "secret-2"}  # rotated
    assert credentials.credentials("abc").access_token == "token-1"
    assert provider.fetches == 1
    credentials.forget()
    assert credentials.credentials("abc").access_token == "token-2"
    assert provider.fetches == 2


def test_a_secret_without_its_fields_is_refused():
    provider = Provider()
    provider.secret = {"access_token": ""}
    with pytest.raises(ValueError):
        SecretsManagerCredentials("bcsync/stores/", 300, provider).credentials("abc")
