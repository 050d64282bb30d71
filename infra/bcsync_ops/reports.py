"""`bcsync profiles show --email`, `bcsync metrics` and `bcsync feeds show`: the read API's answers
as tables."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from bcsync.usecases.feeds import FeedQuery, Feeds
    from bcsync.usecases.read_model import ReadModel


def _money(value: Decimal) -> str:
    return f"{value:,.2f}"


def profile(read: ReadModel, store_hash: str, email: str, *, out: TextIO, err: TextIO, events: int = 20) -> int:
    """The person, their metrics snapshot and their latest events."""
    from bcsync.domain.refusals import Refused

    try:
        found = read.profile_by_email(store_hash, email)
        snapshot = read.snapshot(store_hash, str(found.profile["id"]))
        page = read.events(store_hash, str(found.profile["id"]), metric=None, before=None, limit=events)
    except Refused as refused:
        print(refused.message, file=err)
        return 1
    person = found.profile
    print(f"{person['id']}  {person.get('email') or ''}", file=out)
    print("  identities: " + ", ".join(f"{i.kind} {i.value}" for i in found.identities), file=out)
    consent = person.get("consent") or {}
    lists = ", ".join(person.get("lists") or []) or "none"
    print(f"  email marketing: {consent.get('email_marketing') or 'no consent'}; lists: {lists}", file=out)
    print(
        f"\n{'metric':<18}{'30 days':>9}{'value':>12}{'all time':>10}{'value':>12}   (through {snapshot.through})",
        file=out,
    )
    for row in snapshot.metrics:
        recent, total = row.last_30_days, row.all_time
        print(
            f"{row.metric:<18}{recent.count:>9}{_money(recent.value):>12}{total.count:>10}{_money(total.value):>12}",
            file=out,
        )
    print(f"\n{'time (UTC)':<22}{'metric':<18}{'value':>12}  items", file=out)
    for event in page.events:
        properties = event["properties"]
        items = properties.get("Items") or [properties.get("Name")]
        print(
            f"{event['time']:<22}{event['metric']:<18}{_money(Decimal(event['value'])):>12}  "
            + ", ".join(str(item) for item in items if item),
            file=out,
        )
    if page.next:
        print(f"... older events: GET /profiles/{person['id']}/events?before={page.next}", file=out)
    return 0


def metrics(read: ReadModel, store_hash: str, *, days: int, out: TextIO) -> int:
    """Every metric: the last `days` days and all time, from the counters."""
    totals = read.metrics(store_hash)
    print(f"{'metric':<18}{f'{days} days':>9}{'value':>14}{'all time':>10}{'value':>14}", file=out)
    for total in totals:
        series = read.series(store_hash, total.metric, days=days, tz="store")
        count = sum(day.count for day in series.days)
        value = sum((day.value for day in series.days), Decimal(0))
        print(
            f"{total.metric:<18}{count:>9}{_money(value):>14}{total.all_time.count:>10}"
            f"{_money(total.all_time.value):>14}",
            file=out,
        )
    return 0


def feed(feeds: Feeds, store_hash: str, query: FeedQuery, *, out: TextIO, err: TextIO | None = None) -> int:
    """A feed's items as an email would show them, with what ranked them."""
    from bcsync.domain.refusals import Refused
    from bcsync_ops.terminal import print_table

    try:
        view = feeds.show(store_hash, query)
    except Refused as refused:
        print(refused.message, file=err or out)
        return 1
    window = f"last {view.days} days" if view.days else "all time"
    count = len(view.items)
    print(f"{view.feed} ({window}): {count} item{'' if count == 1 else 's'}", file=out)
    rows = [
        (
            item.product_id,
            item.name,
            _money(item.price),
            _money(item.sale_price) if item.sale_price else "",
            item.score,
            item.url,
        )
        for item in view.items
    ]
    print_table(
        out, ("product", "name", "price", "sale", "score", "url"), rows, right={"product", "price", "sale", "score"}
    )
    return 0
