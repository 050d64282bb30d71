"""Waiting in the foreground until the operator stops a command (Ctrl-C) or a supervisor does
(SIGTERM: a test, a container, systemd).

Python runs signal handlers in the main thread only, and the kernel may hand a process's signal to
any of its threads: one taken by a poller thread does not wake a main thread blocked on a lock, so
an untimed wait can miss a SIGTERM for good (`bcsync local` did, now and then, in the end-to-end
tests). The wait wakes every tenth of a second, when Python runs the handlers of any signal taken."""

from __future__ import annotations

import contextlib
import signal
import threading

SIGNAL_CHECK_SECONDS = 0.1


def until_stopped() -> None:
    """Returns on SIGTERM or Ctrl-C; call it from the main thread."""
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    with contextlib.suppress(KeyboardInterrupt):
        while not stopped.wait(SIGNAL_CHECK_SECONDS):
            pass
