"""The `bcsync` command: local stack, demo, exports, erasure, and the sync operations."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bcsync_ops import exports, operations, reports
from bcsync_ops import flows as flow_files
from bcsync_ops.stopping import until_stopped

if TYPE_CHECKING:
    from bcsync_ops.stack_reader import StackReader


def _run_local(args: argparse.Namespace) -> int:
    from bcsync_ops.local_stack import LocalStack, StoreConfig

    stack = LocalStack(
        StoreConfig.from_environ(),
        port=args.port,
        aws_port=args.aws_port,
        log_level=args.log_level,
        time_scale=args.time_scale,
    )
    stack.start()
    routes = "\n".join(f"  {method} {stack.api_url}{path}" for method, path in sorted(stack.routes))
    print(
        f"bcsync local stack is up (AWS emulated by moto at {stack.aws_endpoint})\n{routes}\n"
        f"read API token (Authorization: Bearer ...): {stack.api_token}\n"
        f"console: {stack.console_url}\nCtrl-C to stop.",
        flush=True,
    )
    try:
        until_stopped()
    finally:
        stack.stop()
    return 0


def _run_console(args: argparse.Namespace) -> int:
    """The local stack's console URL; for a deployed stack, a signing proxy on localhost."""
    if not args.stack_name:
        state = exports.local_state()
        print(f"{state['api_url']}/console#token={state['api_token']}")
        return 0
    import boto3

    from bcsync_ops.console_proxy import SigningProxy, api_base

    session = boto3.session.Session()
    credentials = session.get_credentials()
    if credentials is None or not session.region_name:
        print("bcsync console: no AWS credentials or region configured", file=sys.stderr)
        return 1
    base = api_base(args.stack_name, session.client("cloudformation"))
    proxy = SigningProxy(base, credentials, session.region_name, port=args.port).start()
    print(f"console of {args.stack_name}: {proxy.url}  (requests signed with your AWS credentials)\nCtrl-C to stop.")
    try:
        until_stopped()
    finally:
        proxy.stop()
    return 0


def _onsite_token(stack: operations.StackHandle, args: argparse.Namespace) -> int:
    """A click token for a known person, as a flow email's link would carry (demos and tests)."""
    from bcsync.domain.confirmation import click_token

    app = stack.container
    profile_id = app.profile_repository.find(stack.store_hash, "email", args.email.strip().lower())
    if profile_id is None:
        print("no profile with that email", file=sys.stderr)
        return 1
    secret = app.credentials.credentials(stack.store_hash).client_secret
    print(click_token(secret, stack.store_hash, profile_id, datetime.now(UTC)))
    return 0


KEEP_HELP = "keep an anonymous visitor's views in their browser (14 days), sent once they are known"


def _snippet_for(args: argparse.Namespace, store: str | None = None) -> str:
    """The storefront script, pointed at the local or a deployed stack."""
    from bcsync_ops.snippet import snippet

    endpoint, store = args.endpoint, store or args.store
    if not endpoint and args.stack_name:
        import boto3

        from bcsync_ops.console_proxy import api_base

        endpoint = api_base(args.stack_name, boto3.client("cloudformation"))
    if not endpoint or not store:
        state = exports.local_state()
        endpoint, store = endpoint or state["api_url"], store or state["store_hash"]
    return snippet(endpoint, store, args.client_id or "", keep_anonymous_views=args.keep_anonymous_views)


def _onsite_snippet(args: argparse.Namespace) -> int:
    print(_snippet_for(args), end="")
    return 0


def _onsite_install(stack: operations.StackHandle, args: argparse.Namespace) -> int:
    """The snippet in the store's Script Manager: created once, updated on later installs."""
    from bcsync_ops.snippet import SCRIPT_NAME, script_manager_entry

    entry = script_manager_entry(_snippet_for(args, stack.store_hash))
    client = stack.bigcommerce()
    existing = next((script for script in client.list_scripts() if script.name == SCRIPT_NAME), None)
    script = client.update_script(existing.uuid, entry) if existing else client.create_script(entry)
    verb = "updated" if existing else "installed"
    print(
        f"{verb} {SCRIPT_NAME} ({script.uuid}): {script.visibility} pages, {script.location}, {script.consent_category}"
    )
    return 0


def _run_demo(args: argparse.Namespace) -> int:
    from bcsync_ops.demo import main

    return main(serve=args.serve)


def _exporter(
    records: Callable[[StackReader], Iterator[dict[str, Any]]],
) -> Callable[[argparse.Namespace], int]:
    def run(args: argparse.Namespace) -> int:
        store = getattr(args, "store", None)  # only `events export` takes one
        stack = operations.StackHandle.resolve(args.stack_name, store, needs_store=False).reader()
        if getattr(args, "format", "jsonl") == "csv":
            from bcsync_ops.history import export_csv

            if not args.metric:
                print("bcsync events export: --format csv exports one metric: name it with --metric", file=sys.stderr)
                return 2
            export_csv(stack, store, args.metric, sys.stdout)
            return 0
        exports.write_lines(records(stack), sys.stdout)
        return 0

    return run


def _erase_profile(args: argparse.Namespace) -> int:
    stack = operations.StackHandle.resolve(args.stack_name, args.store, needs_store=False)
    if not stack.named_store:
        print("bcsync profiles erase: name the store with --store <store_hash>", file=sys.stderr)
        return 2
    erased = stack.container.erasure.erase(stack.store_hash, args.email)
    print(json.dumps({"erased": erased is not None, **(erased or {})}))
    return 0


def _operation(
    action: Callable[[operations.StackHandle, argparse.Namespace], int],
) -> Callable[[argparse.Namespace], int]:
    def run(args: argparse.Namespace) -> int:
        try:
            return action(operations.StackHandle.resolve(args.stack_name, args.store), args)
        except operations.OperationFailed as error:
            return operations.fail(error)

    return run


def _since(value: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date: {value!r} (use YYYY-MM-DD)") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _time_scale(value: str) -> float:
    try:
        scale = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {value!r}") from None
    if not 1 <= scale <= 1_000_000:
        raise argparse.ArgumentTypeError("must be between 1 and 1000000")
    return scale


def _positive(value: str) -> int:
    number = int(value)
    if number < 1:
        raise argparse.ArgumentTypeError("must be 1 or more")
    return number


def _stack_options(command: argparse.ArgumentParser) -> argparse.ArgumentParser:
    command.add_argument("--stack-name", help="act on a deployed stack instead of the running local one")
    command.add_argument("--store", help="store hash (default: the local stack's store)")
    return command


def _add_operations(commands: Any) -> None:
    target = _stack_options
    out = sys.stdout
    reconcile = target(commands.add_parser("reconcile", help="poll BigCommerce for what webhooks missed; wait"))
    reconcile.add_argument("--timeout", type=float, default=3600, help="seconds to wait (default 3600)")
    reconcile.set_defaults(run=_operation(lambda stack, a: operations.reconcile(stack, out, timeout=a.timeout)))

    backfill = target(commands.add_parser("backfill", help="import the store's history (no flow triggers)"))
    backfill.add_argument("--since", type=_since, help="orders created since this date (default: all)")
    backfill.add_argument("--no-wait", action="store_true", help="start it and return without the progress bar")
    backfill.add_argument("--stop", action="store_true", help="stop a running backfill (resume it later)")
    backfill.set_defaults(run=_operation(_backfill))

    sync = target(commands.add_parser("sync", help="hourly sync on/off, run it now, or show its status"))
    sync.add_argument("action", choices=("on", "off", "now", "status"))
    sync.set_defaults(run=_operation(lambda stack, a: operations.sync(stack, out, a.action)))

    hooks = commands.add_parser("webhooks", help="the store's webhooks").add_subparsers(dest="action", required=True)
    register = target(hooks.add_parser("register", help="create missing and re-enable deactivated hooks"))
    register.add_argument("--destination", required=True, help="the stack's webhook base URL (WebhookBaseUrl)")
    register.set_defaults(
        run=_operation(lambda stack, a: operations.webhooks(stack, out, destination=a.destination, repair=True))
    )
    status = target(hooks.add_parser("status", help="show each scope's hook; exit 1 if any is missing or off"))
    status.set_defaults(
        run=_operation(lambda stack, a: operations.webhooks(stack, out, destination=None, repair=False))
    )

    verify = target(commands.add_parser("verify-counts", help="compare daily Placed Order counts with BigCommerce"))
    verify.add_argument("--days", type=_positive, default=7, help="days back, in the store's timezone (default 7)")
    verify.set_defaults(run=_operation(lambda stack, a: operations.verify_counts(stack, out, days=a.days)))


def _backfill(stack: operations.StackHandle, args: argparse.Namespace) -> int:
    if args.stop:
        from bcsync.usecases.backfill import BackfillRequests

        BackfillRequests(stack.container.sync_state).request_stop(stack.store_hash)
        print("stop requested; the backfill stops after its current page")
        return 0
    return operations.backfill(stack, sys.stdout, since=args.since, wait=not args.no_wait)


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="bcsync", description="BigCommerce to marketing events, self-hosted.")
    commands = root.add_subparsers(dest="command", required=True)

    local = commands.add_parser("local", help="run the Docker-free local stack (moto + the template's routes)")
    local.add_argument("--port", type=int, default=3000, help="port of the local HTTP API (default 3000)")
    local.add_argument("--aws-port", type=int, default=0, help="port of the moto server (default: any free one)")
    local.add_argument("--log-level", default="INFO", help="function log level (default INFO)")
    local.add_argument(
        "--time-scale",
        type=_time_scale,
        default=1.0,
        help="run flow delays and timers N times faster (3600: an hour a second); events keep real times",
    )
    local.set_defaults(run=_run_local)

    console = commands.add_parser("console", help="the console's URL (local), or a signing proxy to a deployed one")
    console.add_argument("--stack-name", help="serve a deployed stack's console on localhost, signing its requests")
    console.add_argument("--port", type=int, default=8787, help="the proxy's port (default 8787)")
    console.set_defaults(run=_run_console)

    onsite = commands.add_parser("onsite", help="onsite tracking").add_subparsers(dest="action", required=True)
    script = onsite.add_parser("snippet", help="print the storefront script for BigCommerce's Script Manager")
    script.add_argument("--stack-name", help="point it at a deployed stack (default: the running local one)")
    script.add_argument("--store", help="store hash (default: the local stack's store)")
    script.add_argument("--endpoint", help="the API's base URL (default: the stack's)")
    script.add_argument("--client-id", help="the app's client id, to know signed-in shoppers by their JWT")
    script.add_argument("--keep-anonymous-views", action="store_true", help=KEEP_HELP)
    script.set_defaults(run=_onsite_snippet)
    install = _stack_options(onsite.add_parser("install", help="add the snippet to the store's Script Manager"))
    install.add_argument("--endpoint", help="the API's base URL (default: the stack's)")
    install.add_argument("--client-id", help="the app's client id, to know signed-in shoppers by their JWT")
    install.add_argument("--keep-anonymous-views", action="store_true", help=KEEP_HELP)
    install.set_defaults(run=_operation(_onsite_install))
    token = _stack_options(onsite.add_parser("token", help="mint a click token (?_bc=) for a known person"))
    token.add_argument("--email", required=True, help="an email address the person is known by")
    token.set_defaults(run=_operation(_onsite_token))

    demo = commands.add_parser("demo", help="run a scripted story against a bundled sandbox store")
    demo.add_argument("--serve", action="store_true", help="keep the stack and its console up after the story")
    demo.set_defaults(run=_run_demo)

    groups = _add_exports(commands)
    erase = groups["profiles"].add_parser(
        "erase", help="delete a person's profile, identities, events, triggers and cart links (right to be forgotten)"
    )
    erase.add_argument("--email", required=True, help="any email address the person is known by")
    erase.add_argument("--store", help="store hash (default: the running local stack's store)")
    erase.add_argument("--stack-name", help="erase from a deployed stack instead of the running local one")
    erase.set_defaults(run=_erase_profile)
    show_profile = _stack_options(groups["profiles"].add_parser("show", help="a person's metrics and latest events"))
    show_profile.add_argument("--email", required=True, help="an email address the person is known by")
    show_profile.set_defaults(
        run=_operation(
            lambda stack, a: reports.profile(
                stack.container.read_model, stack.store_hash, a.email, out=sys.stdout, err=sys.stderr
            )
        )
    )
    metric_totals = _stack_options(commands.add_parser("metrics", help="every metric: the last days and all time"))
    metric_totals.add_argument("--days", type=_positive, default=30, help="days to sum (default 30)")
    metric_totals.set_defaults(
        run=_operation(
            lambda stack, a: reports.metrics(stack.container.read_model, stack.store_hash, days=a.days, out=sys.stdout)
        )
    )
    _add_feeds(commands)
    _add_import(commands)
    _add_flow_commands(commands)
    _add_operations(commands)
    return root


def _add_feeds(commands: Any) -> None:
    from bcsync.domain.feeds import Feed

    feeds = commands.add_parser("feeds", help="product feeds for flow emails").add_subparsers(
        dest="action", required=True
    )
    show = _stack_options(feeds.add_parser("show", help="a feed's items, as the read API serves them"))
    show.add_argument("name", choices=[feed.value for feed in Feed])
    show.add_argument("--limit", type=_positive, default=10, help="items (default 10, at most 50)")
    show.add_argument("--days", type=_positive, help="days read (best-sellers 30, trending 28 by default)")
    show.add_argument("--product-id", type=_positive, help="the product (bought-together)")
    person = show.add_mutually_exclusive_group()
    person.add_argument("--profile-id", help="the person (for-you)")
    person.add_argument("--email", help="the person, by an email address they are known by (for-you)")
    show.add_argument("--by", choices=("units", "revenue"), default="units", help="what best-sellers ranks by")
    show.set_defaults(run=_operation(_show_feed))


def _show_feed(stack: operations.StackHandle, args: argparse.Namespace) -> int:
    from bcsync.domain.feeds import Feed
    from bcsync.domain.refusals import Refused
    from bcsync.usecases.feeds import FeedQuery

    profile_id = args.profile_id
    if args.email:
        try:
            profile_id = str(stack.container.read_model.profile_by_email(stack.store_hash, args.email).profile["id"])
        except Refused as refused:
            print(refused.message, file=sys.stderr)
            return 1
    query = FeedQuery(
        Feed(args.name), limit=args.limit, days=args.days, product_id=args.product_id, profile_id=profile_id, by=args.by
    )
    return reports.feed(stack.container.feeds, stack.store_hash, query, out=sys.stdout, err=sys.stderr)


def _add_exports(commands: Any) -> dict[str, Any]:
    """`<noun> export` for each record kind; the groups, for their other commands."""
    groups = {}
    for noun, records in (
        ("events", exports.event_records),
        ("profiles", exports.profile_records),
        ("triggers", exports.trigger_records),
        ("carts", exports.cart_records),
        ("actions", exports.action_records),
    ):
        groups[noun] = commands.add_parser(noun, help=f"{noun} commands").add_subparsers(dest="action", required=True)
        export = groups[noun].add_parser("export", help=f"print {noun} as JSON lines")
        export.add_argument("--stack-name", help="read a deployed stack instead of the running local one")
        export.set_defaults(run=_exporter(records))
        if noun == "events":
            export.add_argument(
                "--format", choices=("jsonl", "csv"), default="jsonl", help="csv: one metric, Klaviyo-style"
            )
            export.add_argument("--metric", help="the metric to export (required with --format csv)")
            export.add_argument("--store", help="only this store's events")

    return groups


def _add_import(commands: Any) -> None:
    imports = commands.add_parser("import", help="import history from another platform")
    kinds = imports.add_subparsers(dest="action", required=True)
    events = _stack_options(kinds.add_parser("events", help="import a metric CSV or JSON lines (no flow starts)"))
    events.add_argument("file", help="a Klaviyo-style metric CSV, or JSON lines (.jsonl)")
    events.add_argument("--format", choices=("csv", "jsonl"), help="default: by the file's extension (csv)")
    events.add_argument("--map", help="YAML: source name, metric names, property renames")
    events.add_argument("--metric", help="the CSV's metric (one metric a file), as the old platform named it")
    events.add_argument("--dry-run", action="store_true", help="check every row and print what would be imported")
    events.set_defaults(run=_import_events)


def _import_events(args: argparse.Namespace) -> int:
    from bcsync_ops.history import import_events

    if args.dry_run:  # no stack needed
        return import_events(None, args)
    return _operation(import_events)(args)


def _add_flow_commands(commands: Any) -> None:
    flows = commands.add_parser("flows", help="flow definitions").add_subparsers(dest="action", required=True)
    validate = flows.add_parser("validate", help="check a flow file (no stack needed); exit 1 naming each fault")
    validate.add_argument("file", type=Path, help="the flow file (YAML), e.g. flows/default.yaml")
    validate.set_defaults(run=lambda a: flow_files.validate(a.file, sys.stdout, sys.stderr))
    on_stack = _stack_options
    apply = on_stack(flows.add_parser("apply", help="validate a flow file and make it the store's flows"))
    apply.add_argument("file", type=Path, help="the flow file (YAML)")
    apply.set_defaults(
        run=_operation(
            lambda stack, a: flow_files.apply(
                stack.container.flow_library, stack.store_hash, a.file, sys.stdout, sys.stderr
            )
        )
    )
    listing = on_stack(flows.add_parser("list", help="the store's flows, a line each"))
    listing.set_defaults(
        run=_operation(
            lambda stack, a: flow_files.list_flows(stack.container.flow_library, stack.store_hash, sys.stdout)
        )
    )
    show = on_stack(flows.add_parser("show", help="one of the store's flows, as YAML"))
    show.add_argument("name", help="the flow's name")
    show.set_defaults(
        run=_operation(
            lambda stack, a: flow_files.show(
                stack.container.flow_library, stack.store_hash, a.name, sys.stdout, sys.stderr
            )
        )
    )
    status = on_stack(flows.add_parser("status", help="per flow: runs, actions sent, skips and exits"))
    status.set_defaults(
        run=_operation(
            lambda stack, a: flow_files.status(
                stack.reader().runs_of_store(stack.store_hash), stack.store_hash, sys.stdout
            )
        )
    )
    runs = on_stack(flows.add_parser("runs", help="a person's flow runs and their steps, with times"))
    runs.add_argument("--email", required=True, help="an email address the person is known by")
    runs.set_defaults(
        run=_operation(
            lambda stack, a: flow_files.runs_of_person(
                stack.container.flow_runs,
                stack.container.profile_repository,
                stack.store_hash,
                a.email,
                out=sys.stdout,
                err=sys.stderr,
            )
        )
    )
    backfill = on_stack(flows.add_parser("backfill", help="enter past qualifying people where they would be now"))
    backfill.add_argument("flow", help="the flow's name")
    backfill.add_argument("--since", type=_since, help="triggers since this date (default: all history)")
    backfill.add_argument("--dry-run", action="store_true", help="count where people would enter; write nothing")
    backfill.set_defaults(
        run=_operation(
            lambda stack, a: flow_files.backpopulate(
                stack.container.flow_runner, stack.reader(), stack.store_hash, a, out=sys.stdout, err=sys.stderr
            )
        )
    )


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    result: int = args.run(args)
    return result


if __name__ == "__main__":
    sys.exit(main())
