"""The `bcsync` command: local stack, demo, exports and erasure (reconcile, backfill and webhooks follow)."""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from bcsync_ops import exports


def _run_local(args: argparse.Namespace) -> int:
    from bcsync_ops.local_stack import LocalStack, StoreConfig

    stack = LocalStack(StoreConfig.from_environ(), port=args.port, aws_port=args.aws_port, log_level=args.log_level)
    stack.start()
    routes = "\n".join(f"  {method} {stack.api_url}{path}" for method, path in sorted(stack.routes))
    print(
        f"bcsync local stack is up (AWS emulated by moto at {stack.aws_endpoint})\n{routes}\nCtrl-C to stop.",
        flush=True,
    )
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    try:
        stopped.wait()
    except KeyboardInterrupt:
        pass
    finally:
        stack.stop()
    return 0


def _run_demo(args: argparse.Namespace) -> int:
    from bcsync_ops.demo import main

    return main()


def _exporter(
    records: Callable[[exports.StackTables], Iterator[dict[str, Any]]],
) -> Callable[[argparse.Namespace], int]:
    def run(args: argparse.Namespace) -> int:
        tables = exports.deployed_tables(args.stack_name) if args.stack_name else exports.local_tables()
        exports.write_lines(records(tables), sys.stdout)
        return 0

    return run


def _erase_profile(args: argparse.Namespace) -> int:
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")  # stdout carries only the JSON result
    tables = exports.deployed_tables(args.stack_name) if args.stack_name else exports.local_tables()
    store_hash = args.store or (None if args.stack_name else exports.local_store_hash())
    if not store_hash:
        print("bcsync profiles erase: name the store with --store <store_hash>", file=sys.stderr)
        return 2
    erased = tables.erasure().erase(store_hash, args.email)
    print(json.dumps({"erased": erased is not None, **(erased or {})}))
    return 0


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="bcsync", description="BigCommerce to marketing events, self-hosted.")
    commands = root.add_subparsers(dest="command", required=True)

    local = commands.add_parser("local", help="run the Docker-free local stack (moto + the template's routes)")
    local.add_argument("--port", type=int, default=3000, help="port of the local HTTP API (default 3000)")
    local.add_argument("--aws-port", type=int, default=0, help="port of the moto server (default: any free one)")
    local.add_argument("--log-level", default="INFO", help="function log level (default INFO)")
    local.set_defaults(run=_run_local)

    demo = commands.add_parser("demo", help="run a scripted story against a bundled sandbox store")
    demo.set_defaults(run=_run_demo)

    groups = {}
    for noun, records in (
        ("events", exports.event_records),
        ("profiles", exports.profile_records),
        ("triggers", exports.trigger_records),
        ("carts", exports.cart_records),
    ):
        groups[noun] = commands.add_parser(noun, help=f"{noun} commands").add_subparsers(dest="action", required=True)
        export = groups[noun].add_parser("export", help=f"print {noun} as JSON lines")
        export.add_argument("--stack-name", help="read a deployed stack instead of the running local one")
        export.set_defaults(run=_exporter(records))

    erase = groups["profiles"].add_parser(
        "erase", help="delete a person's profile, identities, events, triggers and cart links (right to be forgotten)"
    )
    erase.add_argument("--email", required=True, help="any email address the person is known by")
    erase.add_argument("--store", help="store hash (default: the running local stack's store)")
    erase.add_argument("--stack-name", help="erase from a deployed stack instead of the running local one")
    erase.set_defaults(run=_erase_profile)
    return root


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    result: int = args.run(args)
    return result


if __name__ == "__main__":
    sys.exit(main())
