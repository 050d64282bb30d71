"""Newsletter sign-ups that identify a browser, in the profiles table beside the identities: the
claim a browser made as its form was submitted (keyed by the claim's digest) and the link the
subscriber webhook writes (an identity of kind `signup`, keyed by the address's digest). Both
expire after a day (the table's TTL removes them; readers also check the dates)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

from bcsync.adapters.dynamodb import digested_identity_key, identity_key
from bcsync.domain.events import iso_utc
from bcsync.domain.signups import SIGNUP_CLAIM_LIFE, SignupClaim, SignupLink


def claim_key(store_hash: str, claim_digest: str) -> str:
    return f"{store_hash}#signup-claim#{claim_digest}"


def _expires(at: datetime) -> int:
    return int((at + SIGNUP_CLAIM_LIFE).timestamp())


class DynamoSignupClaims:
    def __init__(self, resource: Any, table_name: str) -> None:
        self._table = resource.Table(table_name)

    def hold(self, store_hash: str, claim: SignupClaim) -> None:
        item = {
            "pk": claim_key(store_hash, claim.claim_digest),
            "email_digest": claim.email_digest,
            "claimed_at": iso_utc(claim.claimed_at),
            "expires_at": _expires(claim.claimed_at),
        }
        try:
            self._table.put_item(Item=item, ConditionExpression="attribute_not_exists(pk)")
        except ClientError as error:
            if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise

    def link(self, store_hash: str, email: str, profile_id: str, subscribed_at: datetime) -> None:
        self._table.put_item(
            Item={
                "pk": identity_key(store_hash, "signup", email),
                "profile_id": profile_id,
                "subscribed_at": iso_utc(subscribed_at),
                "expires_at": _expires(subscribed_at),
            }
        )

    def find(self, store_hash: str, claim_digest: str) -> SignupClaim | None:
        item = self._table.get_item(Key={"pk": claim_key(store_hash, claim_digest)}).get("Item")
        if not item:
            return None
        return SignupClaim(claim_digest, str(item["email_digest"]), datetime.fromisoformat(str(item["claimed_at"])))

    def linked(self, store_hash: str, email_digest: str) -> SignupLink | None:
        item = self._table.get_item(
            Key={"pk": digested_identity_key(store_hash, "signup", email_digest)}, ConsistentRead=True
        ).get("Item")
        if not item:
            return None
        return SignupLink(str(item["profile_id"]), datetime.fromisoformat(str(item["subscribed_at"])))
