"""The parts of BigCommerce API responses that bcsync reads, parsed once at the boundary.

Money arrives as strings ('62.6793') and becomes Decimal; v2 dates are RFC 2822 and v3 dates
ISO 8601, both become aware UTC datetimes; v2's '' for "not set" becomes None.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from decimal import Decimal, InvalidOperation
from email.utils import parsedate_to_datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AliasChoices, BaseModel, BeforeValidator, ConfigDict, Field

EMBEDDED_LINE_CAP = 50


def parse_money(value: Any) -> Decimal:
    if value is None or value == "":
        return Decimal(0)
    if isinstance(value, float):
        value = repr(value)
    try:
        return Decimal(str(value))
    except InvalidOperation as exc:
        raise ValueError(f"not a money amount: {value!r}") from exc


def parse_datetime(value: Any) -> datetime | None:
    """RFC 2822 (v2), ISO 8601 (v3) or a Unix timestamp, always returned in UTC."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, int | float):
        try:
            parsed = datetime.fromtimestamp(value, tz=UTC)
        except (OverflowError, OSError, ValueError) as exc:  # beyond what the platform's time_t holds
            raise ValueError(f"not a timestamp: {value!r}") from exc
    elif isinstance(value, str):
        text = value.strip()
        try:
            parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            try:
                parsed = parsedate_to_datetime(text)
            except (TypeError, ValueError) as exc:
                raise ValueError(f"not an RFC 2822 or ISO 8601 date: {value!r}") from exc
    else:
        raise ValueError(f"not a date: {value!r}")
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


Money = Annotated[Decimal, BeforeValidator(parse_money)]
Timestamp = Annotated[datetime | None, BeforeValidator(parse_datetime)]
# A guest's customer id, a custom item's product id: 0 as BigCommerce documents it, and null too.
IdOrZero = Annotated[int, BeforeValidator(lambda value: value or 0)]


class BcModel(BaseModel):
    """A BigCommerce answer: a validation error names the field, never its value (a person's data)."""

    model_config = ConfigDict(extra="ignore", frozen=True, hide_input_in_errors=True, defer_build=True)


class Address(BcModel):
    first_name: str = ""
    last_name: str = ""
    company: str = ""
    street_1: str = ""
    city: str = ""
    state: str = ""
    zip: str = ""
    country: str = ""
    country_iso2: str = ""
    phone: str = ""
    email: str = ""


class AppliedDiscount(BcModel):
    amount: Money = Decimal(0)
    name: str | None = None
    code: str | None = None
    target: str | None = None


class ProductOption(BcModel):
    display_name: str = ""
    display_value: str = ""


class OrderLine(BcModel):
    """An order product; `id` is what refunds and shipments reference."""

    id: int
    product_id: IdOrZero = 0
    variant_id: int | None = None
    name: str = ""
    sku: str = ""
    quantity: int = 0
    price_ex_tax: Money = Decimal(0)
    price_inc_tax: Money = Decimal(0)
    base_cost_price: Money = Decimal(0)
    cost_price_ex_tax: Money = Decimal(0)
    cost_price_inc_tax: Money = Decimal(0)
    brand: str | None = None
    applied_discounts: list[AppliedDiscount] = Field(default_factory=list)
    product_options: list[ProductOption] = Field(default_factory=list)


class Order(BcModel):
    id: int
    customer_id: IdOrZero = 0
    status_id: int
    status: str = ""
    date_created: Timestamp
    date_modified: Timestamp = None
    date_shipped: Timestamp = None
    subtotal_ex_tax: Money = Decimal(0)
    subtotal_inc_tax: Money = Decimal(0)
    shipping_cost_ex_tax: Money = Decimal(0)
    shipping_cost_inc_tax: Money = Decimal(0)
    discount_amount: Money = Decimal(0)
    coupon_discount: Money = Decimal(0)
    is_tax_inclusive_pricing: bool = False
    currency_code: str = ""
    default_currency_code: str = ""
    items_total: int = 0
    billing_address: Address = Field(default_factory=Address)
    consignments: Any = None

    @property
    def transaction_currency(self) -> str:
        """The currency the shopper paid in (BigCommerce calls it the default currency)."""
        return self.default_currency_code or self.currency_code

    def embedded_lines(self) -> list[OrderLine] | None:
        """Line items embedded by `include=consignments.line_items`, or None when they are not
        all there (not requested, links only, capped at 50 with a `__warning__`, or short of
        `items_total`), in which case `/orders/{id}/products` is the authority."""
        if not self.consignments:
            return None
        lines: dict[int, OrderLine] = {}
        for consignment in _consignments(self.consignments):
            if "__warning__" in consignment:
                return None
            items = consignment.get("line_items")
            if not isinstance(items, list):
                continue
            if len(items) >= EMBEDDED_LINE_CAP:
                return None
            for item in items:
                if not isinstance(item, dict) or "id" not in item or "quantity" not in item:
                    return None
                line = OrderLine.model_validate(item)
                lines[line.id] = line
        if not lines or sum(line.quantity for line in lines.values()) < self.items_total:
            return None
        return sorted(lines.values(), key=lambda line: line.id)


def _consignments(value: Any) -> Iterator[dict[str, Any]]:
    """Walks both consignment shapes (the object form and the array of such objects): shipping,
    pickup and download consignments, and the gift certificates sent by email."""
    groups = value if isinstance(value, list) else [value]
    for group in groups:
        if not isinstance(group, dict):
            continue
        if "__warning__" in group:
            yield group
        email = group.get("email")
        gift_certificates = email.get("gift_certificates") if isinstance(email, dict) else None
        for consignments in (group.get("shipping"), group.get("pickups"), group.get("downloads"), gift_certificates):
            for consignment in consignments if isinstance(consignments, list) else []:
                if isinstance(consignment, dict):
                    yield consignment


class Refund(BcModel):
    id: int
    order_id: int
    created: Timestamp
    total_amount: Money = Decimal(0)
    reason: str | None = None


class ProductImage(BcModel):
    url_standard: str = ""


class CustomUrl(BcModel):
    url: str = ""


class CatalogProduct(BcModel):
    """A `product_Full`, read with `include=primary_image` (without it there is no image)."""

    id: int
    name: str = ""
    sku: str = ""
    price: Money = Decimal(0)
    sale_price: Money = Decimal(0)
    categories: list[int] = Field(default_factory=list)
    brand_id: int | None = None
    custom_url: CustomUrl | None = None
    primary_image: ProductImage | None = None
    inventory_level: int | None = None
    # Enums in the published spec (none|product|variant, available|disabled|preorder); kept as
    # text so a value added later fails one feed rule, not the whole product.
    inventory_tracking: str = "none"
    availability: str = "available"
    is_visible: bool = True
    date_created: Timestamp = None

    @property
    def image_url(self) -> str:
        return self.primary_image.url_standard if self.primary_image else ""


class Category(BcModel):
    id: int = Field(validation_alias=AliasChoices("category_id", "id"))
    name: str = ""


class Brand(BcModel):
    id: int
    name: str = ""


class StoreInfo(BcModel):
    secure_url: str = ""
    timezone: dict[str, Any] = Field(default_factory=dict)

    def zone(self) -> tzinfo:
        """The store's timezone: its IANA name, else its fixed offset, else UTC."""
        name = self.timezone.get("name")
        if name:
            try:
                return ZoneInfo(str(name))
            except (ZoneInfoNotFoundError, ValueError):
                pass
        offset = self.timezone.get("raw_offset")
        return timezone(timedelta(seconds=int(offset))) if isinstance(offset, int | float) else UTC


# ---------------------------------------------------------------------- carts and checkouts, API v3
class CartLineItem(BcModel):
    """A physical, digital or custom cart line; custom lines have no product id."""

    id: str
    product_id: IdOrZero = 0
    variant_id: int | None = None
    sku: str = ""
    name: str = ""
    url: str = ""
    image_url: str = ""
    quantity: int = 0
    list_price: Money = Decimal(0)
    sale_price: Money = Decimal(0)
    extended_sale_price: Money = Decimal(0)
    discount_amount: Money = Decimal(0)
    coupon_amount: Money = Decimal(0)


class CartGiftCertificate(BcModel):
    """A gift certificate in the cart: sent by email, so nothing ships; no product or quantity."""

    id: str
    name: str = ""
    amount: Money = Decimal(0)

    def as_line(self) -> CartLineItem:
        return CartLineItem(
            id=self.id,
            name=self.name,
            quantity=1,
            list_price=self.amount,
            sale_price=self.amount,
            extended_sale_price=self.amount,
        )


class CartLineItems(BcModel):
    physical_items: list[CartLineItem] = Field(default_factory=list)
    digital_items: list[CartLineItem] = Field(default_factory=list)
    gift_certificates: list[CartGiftCertificate] = Field(default_factory=list)
    custom_items: list[CartLineItem] = Field(default_factory=list)

    def all(self) -> list[CartLineItem]:
        gift_certificates = [certificate.as_line() for certificate in self.gift_certificates]
        return [*self.physical_items, *self.digital_items, *gift_certificates, *self.custom_items]


class CartCoupon(BcModel):
    code: str = ""


class CartCurrency(BcModel):
    code: str = ""


class CheckoutCart(BcModel):
    """The cart inside `GET /v3/checkouts/{id}`, whose amounts come in both tax bases (the
    `cart_amount` of `GET /v3/carts/{id}` is not there)."""

    id: str
    customer_id: IdOrZero = 0
    email: str = ""
    currency: CartCurrency = Field(default_factory=CartCurrency)
    tax_included: bool = False
    discount_amount: Money = Decimal(0)
    cart_amount_inc_tax: Money = Decimal(0)
    cart_amount_ex_tax: Money = Decimal(0)
    coupons: list[CartCoupon] = Field(default_factory=list)
    line_items: CartLineItems = Field(default_factory=CartLineItems)
    created_time: Timestamp = None
    updated_time: Timestamp = None

    @property
    def amount(self) -> Decimal:
        """Items after discounts and coupons, without shipping: ex-tax unless prices include tax."""
        return self.cart_amount_inc_tax if self.tax_included else self.cart_amount_ex_tax


class AddressV3(BcModel):
    """The v3 address fields customer address books and checkouts share."""

    first_name: str = ""
    last_name: str = ""
    company: str = ""
    address1: str = ""
    address2: str = ""
    city: str = ""
    state_or_province: str = ""
    postal_code: str = ""
    country_code: str = ""
    phone: str = ""


class CustomerAddress(AddressV3):
    """An `address_Full` of a customer's address book, which also names the country."""

    country: str = ""


class CheckoutAddress(AddressV3):
    """A checkout's billing address or a consignment's `address` (`email` and `country_code`
    are required there; the schema has no country name)."""

    email: str = ""

    @property
    def is_filled(self) -> bool:
        """Enough of an address to ship to: the shopper got past the address step."""
        return bool(self.address1.strip() and self.country_code.strip())


class CheckoutConsignment(BcModel):
    """Where a set of lines ships: `address` is the shipping address the shopper entered."""

    address: CheckoutAddress | None = None


class Checkout(BcModel):
    """`GET /v3/checkouts/{id}`: the cart plus what the shopper entered at checkout. The billing
    address is `{}` until filled; a consignment exists once a shipping address was entered."""

    id: str
    cart: CheckoutCart
    billing_address: CheckoutAddress | None = None
    consignments: list[CheckoutConsignment] = Field(default_factory=list)
    coupons: list[CartCoupon] = Field(default_factory=list)
    created_time: Timestamp = None
    updated_time: Timestamp = None


# ---------------------------------------------------------------------- customers and subscribers, API v3
class StoreCredit(BcModel):
    amount: Money = Decimal(0)


class Customer(BcModel):
    id: int
    email: str = ""
    first_name: str = ""
    last_name: str = ""
    company: str = ""
    phone: str = ""
    notes: str = ""
    customer_group_id: int = 0
    date_created: Timestamp = None
    date_modified: Timestamp = None
    addresses: list[CustomerAddress] = Field(default_factory=list)
    store_credit_amounts: list[StoreCredit] = Field(default_factory=list)

    @property
    def store_credit(self) -> Decimal:
        return sum((credit.amount for credit in self.store_credit_amounts), Decimal(0))


class CustomerGroup(BcModel):
    id: int
    name: str = ""


class Subscriber(BcModel):
    id: int
    email: str = ""
    first_name: str = ""
    last_name: str = ""
    source: str = ""
    consents: list[str] = Field(default_factory=list)
    date_created: Timestamp = None
    date_modified: Timestamp = None


class CreatedCart(BcModel):
    """`POST /v3/carts` answers the whole cart (`Cart_Full`); restoring one needs only its id."""

    id: str


class CartRedirectUrls(BcModel):
    """`POST /v3/carts/{cartId}/redirect_urls`: single-use links, valid 30 days."""

    cart_url: str
    checkout_url: str = ""


# ---------------------------------------------------------------------- storefront scripts (/v3/content/scripts)
class StorefrontScript(BcModel):
    """`script_Full`: what `bcsync onsite install` reads back of the script it keeps."""

    uuid: str
    name: str
    consent_category: str = ""
    visibility: str = ""
    location: str = ""


# ---------------------------------------------------------------------- webhooks API (/v3/hooks)
class Hook(BcModel):
    id: int
    scope: str
    destination: str
    is_active: bool = True
    headers: dict[str, str] | None = None
    created_at: Timestamp = None
    updated_at: Timestamp = None


class OrderCount(BcModel):
    """`/v2/orders/count`: how many orders the filters match (the backfill's progress total)."""

    count: int = 0
