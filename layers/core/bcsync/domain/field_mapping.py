"""Which BigCommerce customer fields become which profile properties (dotdigital's field list).

The mapping names fields as dotdigital's connector does ("Billing city", "Company", ...). The
defaults map the built-in ones; a field left out is not synced; an unknown field name is an error
when the settings are loaded, never a silent skip. Email, External ID, Customer Group and Store
Credit are always synced, and City/Region/Zip/Country come from orders, so no field may map there.

BigCommerce account address books do not mark billing or shipping addresses: both read the
first address. BigCommerce keeps state and region in one field (`state_or_province`), so both
names read it, and its v3 API keeps no fax number, so the fax fields read as empty.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from bcsync.domain.bigcommerce import Customer, CustomerAddress
from bcsync.domain.events import iso_utc


def _address(customer: Customer) -> CustomerAddress:
    return customer.addresses[0] if customer.addresses else CustomerAddress()


def _address_fields(kind: str) -> dict[str, Callable[[Customer], str]]:
    return {
        f"{kind} address 1": lambda c: _address(c).address1,
        f"{kind} address 2": lambda c: _address(c).address2,
        f"{kind} phone": lambda c: _address(c).phone,
        f"{kind} fax": lambda c: "",
        f"{kind} city": lambda c: _address(c).city,
        f"{kind} postcode": lambda c: _address(c).postal_code,
        f"{kind} state": lambda c: _address(c).state_or_province,
        f"{kind} region": lambda c: _address(c).state_or_province,
        f"{kind} country": lambda c: _address(c).country,
        f"{kind} company": lambda c: _address(c).company,
    }


CUSTOMER_FIELDS: dict[str, Callable[[Customer], str]] = {
    "First name": lambda c: c.first_name,
    "Last name": lambda c: c.last_name,
    "Created date": lambda c: iso_utc(c.date_created) if c.date_created else "",
    "Company": lambda c: c.company,
    "Phone": lambda c: c.phone,
    "Note": lambda c: c.notes,
    **_address_fields("Billing"),
    **_address_fields("Shipping"),
}

DEFAULT_FIELD_MAPPING: dict[str, str] = {
    "First name": "First Name",
    "Last name": "Last Name",
    "Phone": "Phone Number",
}

RESERVED_PROPERTIES = frozenset(
    {"Email", "External ID", "Customer Group", "Store Credit", "City", "Region", "Zip", "Country"}
)


def parse_field_mapping(raw: Mapping[str, Any]) -> dict[str, str]:
    """BigCommerce field name (any case) -> property name, checked whole; errors name every fault."""
    known = {name.lower(): name for name in CUSTOMER_FIELDS}
    problems: list[str] = []
    mapping: dict[str, str] = {}
    for field, target in raw.items():
        name = known.get(str(field).strip().lower())
        if name is None:
            problems.append(f"unknown BigCommerce customer field {field!r}")
        elif not isinstance(target, str) or not target.strip():
            problems.append(f"field {field!r} must map to a non-empty property name")
        elif target.strip() in RESERVED_PROPERTIES:
            problems.append(f"field {field!r} cannot map to {target.strip()!r}, which bcsync fills itself")
        else:
            mapping[name] = target.strip()
    targets = list(mapping.values())
    clashes = sorted({target for target in targets if targets.count(target) > 1})
    if clashes:
        problems.append(f"several fields map to the same property: {clashes}")
    if problems:
        raise ValueError("; ".join(problems) + f". Known fields: {sorted(CUSTOMER_FIELDS)}")
    return mapping


def mapped_properties(customer: Customer, mapping: Mapping[str, str]) -> dict[str, str]:
    """The mapped fields' values; empty ones are left out rather than erasing what is known."""
    values = {target: CUSTOMER_FIELDS[field](customer).strip() for field, target in mapping.items()}
    return {target: value for target, value in values.items() if value}
