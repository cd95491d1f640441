"""The delivery worker inside a web process, whoever hosts the app (``serve``, gunicorn, waitress).

It starts with the app. A server that forks after loading the app (gunicorn ``--preload``) copies
no threads into its children and may copy locks that the worker's threads held: such a child runs
no worker and says so; host the app without preloading, or run separate ``billrun-connector
worker`` processes. At interpreter exit the worker stops gracefully: attempts in flight finish and
are recorded, unstarted claims are released.
"""

from __future__ import annotations

import atexit
import logging
import os

from connector.config import Settings
from connector.delivery.worker import Worker
from connector.storage import Database

log = logging.getLogger(__name__)

# Beyond the attempt timeout, for recording the last attempts and releasing claims.
STOP_GRACE_SECONDS = 10.0


class InProcessWorker:
    """A :class:`Worker` on a thread of this process."""

    def __init__(self, database: Database, settings: Settings) -> None:
        self.database = database
        self.settings = settings
        self._worker: Worker | None = None
        self._pid = 0

    def start(self) -> InProcessWorker:
        self._worker = Worker(self.database, self.settings)
        self._worker.start()
        self._pid = os.getpid()
        os.register_at_fork(after_in_child=self._after_fork)
        atexit.register(self.stop)
        return self

    def _after_fork(self) -> None:
        if self._worker is None or self._pid == os.getpid():
            return
        self._worker = None
        log.error(
            "process %d was forked from one running the delivery worker (gunicorn --preload?): it runs none. "
            "Host the app without preloading, or set BILLRUN_CONNECTOR_IN_PROCESS_WORKER=false and run "
            "`billrun-connector worker` beside it",
            os.getpid(),
        )

    def wake(self) -> None:
        if self._worker is not None:
            self._worker.wake()

    def request_stop(self) -> None:
        """Stop claiming (returns at once; safe in a signal handler)."""
        if self._worker is not None:
            self._worker.request_stop()

    def stop(self, timeout: float | None = None) -> bool:
        """Stop gracefully; False if attempts were still running after *timeout* seconds."""
        worker, self._worker = self._worker, None
        if worker is None or self._pid != os.getpid():
            return True
        return worker.stop(self.settings.timeout + STOP_GRACE_SECONDS if timeout is None else timeout)
