"""The state file: where a running local stack says how to reach it (the CLI's commands read it)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any


def state_file() -> Path:
    """Where a running local stack says how to reach it (read by the export commands)."""
    return Path(os.environ.get("BCSYNC_STATE_DIR", Path.home() / ".bcsync")) / "local-stack.json"


def write_state(state: dict[str, Any]) -> None:
    """Written whole, then moved into place: a reader never sees half of it."""
    path = state_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    partial.write_text(json.dumps({"pid": os.getpid(), **state}, indent=2))
    partial.replace(path)


def clear_state() -> None:
    """Remove the state file if this process wrote it (another stack may have started since)."""
    path = state_file()
    if path.exists() and json.loads(path.read_text()).get("pid") == os.getpid():
        path.unlink()
