"""The layer ships bytecode (layers/core/compile_layer.py, run by `sam build` with the runtime's
Python): dependencies as bytecode alone, bcsync beside its sources with caches the import system
trusts without checking them, and tracebacks naming the paths the runtime mounts. Run here with this
interpreter in the runtime's place: the files it writes are what the runtime's writes for its own."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

from bcsync_ops.local_stack import PROJECT_ROOT

COMPILE_LAYER = PROJECT_ROOT / "layers" / "core" / "compile_layer.py"
RUNNING = f"{sys.version_info.major}.{sys.version_info.minor}"
IMPORT_PROBE = """
import json, sys, traceback
sys.path.insert(0, sys.argv[1])
import dep.mod, ours.keep
try:
    dep.mod.fail()
except ValueError as error:
    frames = [frame.filename for frame in traceback.extract_tb(error.__traceback__)]
print(json.dumps({
    "value": ours.keep.VALUE,
    "dep_loader": type(dep.mod.__spec__.loader).__name__,
    "ours_loader": type(ours.keep.__spec__.loader).__name__,
    "frames": frames,
}))
"""


def layer(site: Path) -> Path:
    files = {
        "dep/__init__.py": "",
        "dep/mod.py": "def fail():\n    raise ValueError('from a dependency')\n",
        "dep/legacy.py": 'print "no Python 3 compiles this"\n',
        "ours/__init__.py": "",
        "ours/keep.py": "VALUE = 'as built'\n",
    }
    for name, text in files.items():
        (site / name).parent.mkdir(parents=True, exist_ok=True)
        (site / name).write_text(text)
    return site


def compile_layer(site: Path, *options: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(COMPILE_LAYER), str(site), *options], capture_output=True, text=True, check=False
    )


def test_dependencies_ship_bytecode_alone_and_bcsync_keeps_its_sources(tmp_path: Path) -> None:
    site = layer(tmp_path / "python")

    result = compile_layer(site, "--python", RUNNING, "--keep-sources", "ours")

    assert result.returncode == 0, result.stderr
    assert sorted(path.relative_to(site).as_posix() for path in site.rglob("*.py")) == [
        "dep/legacy.py",  # does not compile: its source stays, and the build says so
        "ours/__init__.py",
        "ours/keep.py",
    ]
    assert "dep/legacy.py does not compile" in result.stdout
    assert (site / "dep" / "mod.pyc").is_file() and (site / "dep" / "__init__.pyc").is_file()
    assert Path(importlib.util.cache_from_source(str(site / "ours" / "keep.py"))).is_file()


def test_the_runtime_imports_the_bytecode_without_checking_it_and_tracebacks_name_opt(tmp_path: Path) -> None:
    site = layer(tmp_path / "python")
    assert compile_layer(site, "--python", RUNNING, "--keep-sources", "ours").returncode == 0
    # An edited source is not read: the cache built with the layer is trusted as it is.
    (site / "ours" / "keep.py").write_text("VALUE = 'edited after the build'\n")

    probe = subprocess.run(
        [sys.executable, "-B", "-c", IMPORT_PROBE, str(site)], capture_output=True, text=True, check=True
    )

    loaded = json.loads(probe.stdout)
    assert loaded["value"] == "as built"
    assert loaded["dep_loader"] == "SourcelessFileLoader"
    assert loaded["ours_loader"] == "SourceFileLoader"
    assert loaded["frames"][-1] == "/opt/python/dep/mod.py"


def test_another_pythons_bytecode_is_refused(tmp_path: Path) -> None:
    site = layer(tmp_path / "python")

    result = compile_layer(site, "--python", "3.99", "--keep-sources", "ours")

    assert result.returncode != 0
    assert f"this is Python {RUNNING}; the runtime's bytecode needs Python 3.99" in result.stderr
    assert not list(site.rglob("*.pyc")) and (site / "dep" / "mod.py").is_file()
