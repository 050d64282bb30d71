"""Per-store credentials from Secrets Manager (`bcsync/stores/<store_hash>`), cached by Powertools."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError
from botocore.exceptions import ClientError
from pydantic import BaseModel, Field

from bcsync.domain.stores import StoreCredentials
from bcsync.usecases.ports import UnknownStore


class StoreSecret(BaseModel):
    access_token: str = Field(min_length=1)
    client_secret: str = Field(min_length=1)
    webhook_token: str | None = None


class SecretsManagerCredentials:
    def __init__(self, prefix: str, max_age_seconds: int, provider: Any) -> None:
        """`provider`: Powertools' SecretsProvider on the function's one Secrets Manager client."""
        self._prefix = prefix
        self._max_age = max_age_seconds
        self._provider = provider

    def credentials(self, store_hash: str) -> StoreCredentials:
        name = f"{self._prefix}{store_hash}"
        try:
            raw = self._provider.get(name, max_age=self._max_age, transform="json")
        except GetParameterError as exc:
            cause = exc.__context__
            if isinstance(cause, ClientError) and cause.response["Error"]["Code"] == "ResourceNotFoundException":
                raise UnknownStore(store_hash) from None
            raise
        secret = StoreSecret.model_validate(raw)
        return StoreCredentials(
            access_token=secret.access_token,
            client_secret=secret.client_secret,
            webhook_token=secret.webhook_token or None,
        )


class SecretsManagerStores:
    """The stores bcsync serves: one secret each under the prefix."""

    def __init__(self, client: Any, prefix: str) -> None:
        self._client = client
        self._prefix = prefix

    def store_hashes(self) -> list[str]:
        paginator = self._client.get_paginator("list_secrets")
        names = [
            secret["Name"]
            for page in paginator.paginate(Filters=[{"Key": "name", "Values": [self._prefix]}])
            for secret in page.get("SecretList", [])
        ]
        return sorted(name.removeprefix(self._prefix) for name in names if name.startswith(self._prefix))
