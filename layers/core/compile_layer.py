"""Compiles a built layer's modules to the Lambda runtime's bytecode; run by that runtime's Python.

`/opt` is read-only in Lambda, so a module a layer ships without bytecode is compiled again at every
cold start. The packages named by `--keep-sources` (bcsync) keep their sources beside their caches,
so tracebacks show their lines; every other module ships as bytecode in place of its source, which
keeps the layer within its size budget (a dependency's frame in a traceback names its file and line,
without the text). The caches are never checked against the sources: a layer never changes.
"""

from __future__ import annotations

import argparse
import importlib.util
import py_compile
import sys
from pathlib import Path

NEVER_CHECKED = py_compile.PycInvalidationMode.UNCHECKED_HASH


def compile_layer(site: Path, runtime_root: str, keep_sources: frozenset[str]) -> list[Path]:
    """Compiles every module under `site`; returns the dependencies' that did not compile (they keep
    their sources: the runtime could not import them either, if ever asked to). Ours must compile."""
    failed = []
    for source in sorted(site.rglob("*.py")):
        relative = source.relative_to(site)
        keeps_source = relative.parts[0] in keep_sources
        cache = importlib.util.cache_from_source(str(source)) if keeps_source else str(source.with_suffix(".pyc"))
        try:
            py_compile.compile(
                str(source),
                cfile=cache,
                # The path a traceback shows: where the runtime finds the module, not the build's folder.
                dfile=f"{runtime_root}/{relative.as_posix()}",
                doraise=True,
                invalidation_mode=NEVER_CHECKED,
            )
        except py_compile.PyCompileError:
            if keeps_source:
                raise
            failed.append(relative)
            continue
        if not keeps_source:
            source.unlink()
    return failed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("site", type=Path, help="the layer's python/ folder")
    parser.add_argument("--python", required=True, help="the runtime's Python version, e.g. 3.13")
    parser.add_argument("--runtime-root", default="/opt/python", help="where the runtime mounts the folder")
    parser.add_argument("--keep-sources", action="append", default=[], help="a top-level package keeping its sources")
    args = parser.parse_args()
    running = f"{sys.version_info.major}.{sys.version_info.minor}"
    if running != args.python:
        raise SystemExit(f"compile_layer: this is Python {running}; the runtime's bytecode needs Python {args.python}")
    failed = compile_layer(args.site, args.runtime_root, frozenset(args.keep_sources))
    for relative in failed:
        print(f"compile_layer: {relative} does not compile for Python {running}; its source stays")
    print(f"compile_layer: bytecode for Python {running} ({sys.implementation.cache_tag})")


if __name__ == "__main__":
    main()
