"""The periodic reconcile beside the delivery worker: every connection, every few seconds.

A pass that finds nothing to do costs a few short transactions and no call to BillRun, so a subscription change
reaches BillRun within ``check_seconds`` (2 s) plus the calls. Every ``verify_seconds`` (5 min) a pass
also reads back each registered webhook, so one deleted behind the connector's back is registered
again. Failed calls are retried with backoff (see :mod:`.reconcile`); the loop itself never stops on
an error. It needs the connector's secret key (to decrypt client secrets and sign ingest URLs): a
worker without one (PostgreSQL without ``BILLRUN_CONNECTOR_SECRET_KEY``) logs that once and does not
reconcile.
"""

from __future__ import annotations

import logging
import threading
import time

from connector.billrun_link.reconcile import Reconciler
from connector.config import ConfigError, Settings, resolve_secret_key
from connector.storage import Database, billrun_links

log = logging.getLogger(__name__)

CHECK_SECONDS = 2.0
VERIFY_SECONDS = 300.0


class LinkLoop:
    """``start()`` runs passes in a daemon thread until ``stop()``."""

    def __init__(
        self,
        db: Database,
        settings: Settings,
        *,
        owner: str,
        check_seconds: float = CHECK_SECONDS,
        verify_seconds: float = VERIFY_SECONDS,
    ) -> None:
        self.db = db
        self.settings = settings
        self.owner = owner
        self.check_seconds = check_seconds
        self.verify_seconds = verify_seconds
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._verified_at: dict[int, float] = {}

    def start(self) -> None:
        self._thread = threading.Thread(target=self.run, name="billrun-link", daemon=True)
        self._thread.start()

    def stop(self, timeout: float | None = None) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def run(self) -> None:
        secret_key = self._secret_key()
        if secret_key is None:
            return
        reconciler = Reconciler(self.db, secret_key, owner=self.owner, retry_scale=self.settings.retry_scale)
        while not self._stopping.is_set():
            try:
                self.pass_once(reconciler)
            except Exception:  # a database hiccup must not end the loop
                log.exception("BillRun reconcile pass failed")
            self._stopping.wait(self.check_seconds)

    def pass_once(self, reconciler: Reconciler) -> None:
        with self.db.session() as session:
            connection_ids = billrun_links.list_connection_ids(session)
        now = time.monotonic()
        for connection_id in connection_ids:
            if self._stopping.is_set():
                return
            verify = now - self._verified_at.get(connection_id, now - self.verify_seconds) >= self.verify_seconds
            result = reconciler.run(connection_id, verify=verify)
            if verify and not result.busy and result.error is None:
                self._verified_at[connection_id] = now

    def _secret_key(self) -> str | None:
        if self.settings.secret_key:
            return self.settings.secret_key
        try:
            return resolve_secret_key(self.settings.database_url)
        except ConfigError as exc:
            log.warning("BillRun links are not reconciled by this worker: %s", exc)
            return None
