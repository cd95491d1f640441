"""Stopping the processes end-to-end tests start (importable from every test folder: pytest puts
``tests/`` on the path)."""

from __future__ import annotations

import signal
import subprocess
from typing import Any


def stop(process: subprocess.Popen[Any], sig: int = signal.SIGTERM, grace: float = 30.0) -> None:
    """Stop *process* with *sig* if it still runs; kill it if it has not ended within *grace* seconds."""
    if process.poll() is not None:
        return
    process.send_signal(sig)
    try:
        process.wait(grace)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(10)
