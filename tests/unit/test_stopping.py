"""`bcsync local`, `bcsync demo` and `bcsync console` wait in the foreground until stopped: a SIGTERM
the kernel hands to another of their threads still stops them (bcsync_ops/stopping.py)."""

from __future__ import annotations

import subprocess
import sys

SIGTERM_TAKEN_BY_ANOTHER_THREAD = """
import os, signal, threading, time
from bcsync_ops.stopping import until_stopped

# The main thread blocks SIGTERM, so the kernel can hand it only to the thread below.
signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})

def poller():
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM})
    time.sleep(0.2)
    os.kill(os.getpid(), signal.SIGTERM)
    time.sleep(60)

threading.Thread(target=poller, daemon=True).start()
until_stopped()
print("stopped")
"""


def test_a_sigterm_taken_by_another_thread_stops_the_wait() -> None:
    # The timeout guards against a hang (an untimed wait never wakes); it measures nothing.
    result = subprocess.run(
        [sys.executable, "-c", SIGTERM_TAKEN_BY_ANOTHER_THREAD], capture_output=True, text=True, timeout=30, check=False
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "stopped"
