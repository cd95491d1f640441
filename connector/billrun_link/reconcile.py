"""One reconcile pass: make a tenant's BillRun hold exactly the webhooks its subscriptions need.

A pass (1) aligns the registration rows with the pairs the tenant's active subscriptions need (with
none while a disconnect is under way) and makes a new ingest URL when the connection's was revoked,
in one short transaction; (2) with
``verify``, reads every registered webhook from BillRun and marks the ones BillRun lost; (3) calls
BillRun for every row that is due: ``create`` (a duplicate id means an earlier create got through,
so ``update`` makes sure of its URL), ``update`` when the ingest URL changed, ``delete`` for pairs no
longer wanted. No transaction is open during a call to BillRun. A failed call is retried with
backoff; a failure that would fail every call (unreachable, refused credentials) ends the pass.
(4) ends a disconnect under
way once BillRun holds none of the connection's webhooks, by forgetting the connection. Passes on one
connection never overlap: each takes the connection's lease in the database.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import requests
from sqlalchemy.orm import Session

from connector.billrun_link import endpoint, secret_box
from connector.billrun_link.errors import BillrunError, DuplicateWebhookId, PluginRefused
from connector.billrun_link.pairs import Pair, wanted_pairs
from connector.billrun_link.plugin_client import PluginClient
from connector.billrun_link.token import Credentials, TokenClient
from connector.billrun_link.webhook_ids import webhook_id
from connector.catalog import Catalog, get_catalog
from connector.ingest_urls import ingest_url
from connector.storage import Database, billrun_links, ingest_tokens
from connector.storage.billrun_links import CREATING, DELETING, REGISTERED
from connector.storage.models import BillrunConnection, utcnow

log = logging.getLogger(__name__)

LEASE_SECONDS = 300.0
BACKOFF_FIRST_SECONDS = 5.0
BACKOFF_MAX_SECONDS = 600.0
INGEST_SOURCE = "billrun"
CLAIM_POLL_SECONDS = 0.1


def backoff_seconds(attempts: int, scale: float = 1.0) -> float:
    """5 s after the first failure, doubling up to 10 min (times the retry scale factor)."""
    return min(BACKOFF_FIRST_SECONDS * 2 ** (attempts - 1), BACKOFF_MAX_SECONDS) * scale


@dataclass(frozen=True)
class _Row:
    id: int
    pair: Pair
    webhook_id: str
    state: str
    settled: bool  # registered with the current ingest URL
    due: bool  # unsettled and past its backoff


@dataclass
class PassResult:
    """What a pass did; ``error`` is set when it ended early or could not start."""

    created: list[Pair] = field(default_factory=list)
    updated: list[Pair] = field(default_factory=list)
    deleted: list[Pair] = field(default_factory=list)
    lost: list[Pair] = field(default_factory=list)  # BillRun no longer had them (found by verify)
    failed: list[tuple[Pair, str]] = field(default_factory=list)
    error: str | None = None
    busy: bool = False  # another reconciler held the connection
    forgotten: bool = False  # a disconnect completed: the connection is gone
    left_behind: list[str] = field(default_factory=list)  # webhook ids BillRun may hold (forced disconnect)

    @property
    def ok(self) -> bool:
        return not self.failed and self.error is None and not self.busy


@dataclass(frozen=True)
class _Target:
    """The connection as a pass needs it, read in the planning transaction."""

    connection_id: int
    credentials: Credentials
    url: str  # the ingest URL BillRun must call
    fingerprint: str
    rows: list[_Row]
    withdrawing: bool  # a disconnect is under way


class Reconciler:
    """Runs passes; keeps one token client per connection, so tokens are reused until they expire."""

    def __init__(
        self,
        db: Database,
        secret_key: str,
        *,
        owner: str,
        retry_scale: float = 1.0,
        catalog: Catalog | None = None,
        http: requests.Session | None = None,
    ) -> None:
        self.db = db
        self.secret_key = secret_key
        self.owner = owner
        self.retry_scale = retry_scale
        self.catalog = catalog or get_catalog()
        self.http = http or endpoint.new_session()
        self._clients: dict[int, tuple[Credentials, PluginClient]] = {}

    def client(self, connection_id: int, credentials: Credentials) -> PluginClient:
        """The plugin client of a connection, new when its credentials changed."""
        cached = self._clients.get(connection_id)
        if cached is None or cached[0] != credentials:
            cached = (credentials, PluginClient(TokenClient(credentials, self.http), self.http))
            self._clients[connection_id] = cached
        return cached[1]

    def adopt(self, connection_id: int, client: PluginClient) -> None:
        """Use *client* (and its token) for the connection, e.g. the one connect proved."""
        self._clients[connection_id] = (client.tokens.credentials, client)

    def run(
        self,
        connection_id: int,
        *,
        verify: bool = False,
        immediate: bool = False,
        wait: float = 0.0,
        force_forget: bool = False,
    ) -> PassResult:
        """One pass on a connection. *immediate* ignores backoff; *wait* is how long to wait for another
        pass to end. On a connection being disconnected, the pass removes every webhook and then forgets
        the connection, or (*force_forget*) forgets it even though BillRun may still hold some. A
        connection forgotten meanwhile (another pass completed its disconnect) ends with ``forgotten``."""
        result = PassResult()
        claimed = self._claim(connection_id, wait)
        if claimed is None:
            result.forgotten = True
            return result
        if not claimed:
            result.busy = True
            return result
        try:
            self._run(connection_id, result, verify=verify, immediate=immediate, force_forget=force_forget)
        finally:
            with self.db.session() as session:
                billrun_links.release(session, connection_id, self.owner)
        return result

    def _claim(self, connection_id: int, wait: float) -> bool | None:
        """Take the connection's lease, waiting up to *wait* seconds for another pass to end: ``True``
        once taken, ``False`` when still held, ``None`` when the connection no longer exists."""
        deadline = time.monotonic() + wait
        while True:
            with self.db.session() as session:
                if billrun_links.claim(session, connection_id, self.owner, LEASE_SECONDS):
                    return True
                if session.get(BillrunConnection, connection_id) is None:
                    return None
            if time.monotonic() >= deadline:
                return False
            time.sleep(CLAIM_POLL_SECONDS)

    def _run(
        self, connection_id: int, result: PassResult, *, verify: bool, immediate: bool, force_forget: bool
    ) -> None:
        try:
            target = self._plan(connection_id)
        except secret_box.UnreadableSecret as exc:
            result.error = str(exc)
            with self.db.session() as session:
                billrun_links.record_pass(session, connection_id, result.error)
            self._forget(connection_id, result, force_forget)
            return
        if target is None:  # disconnected meanwhile
            result.forgotten = True
            return
        client = self.client(connection_id, target.credentials)
        verified = False
        try:
            rows = target.rows
            if verify and not target.withdrawing:
                rows = self._verify(client, target, result)
                verified = True
            for row in rows:
                if not row.settled and (row.due or immediate):
                    self._apply(client, target, row, result)
        except BillrunError as exc:  # one that every further call would meet too: the pass ends
            result.error = exc.message
        self._record(target, lambda s: billrun_links.record_pass(s, connection_id, result.error, verified=verified))
        if target.withdrawing:
            self._forget(connection_id, result, force_forget)

    def _forget(self, connection_id: int, result: PassResult, force: bool) -> None:
        """End a disconnect under way: forget the connection once BillRun holds none of its webhooks,
        or at once if *force*."""
        with self.db.session() as session:
            connection = session.get(BillrunConnection, connection_id)
            if connection is None or connection.disconnect_requested_at is None:
                return
            left = [row.webhook_id for row in billrun_links.registrations(session, connection_id)]
            if left and not force:
                return
            billrun_links.delete_connection(session, connection_id)
        result.forgotten = True
        result.left_behind = left

    # -- planning (one transaction) -------------------------------------------------------------

    def _plan(self, connection_id: int) -> _Target | None:
        with self.db.session() as session:
            connection = session.get(BillrunConnection, connection_id)
            if connection is None:
                return None
            url = ingest_url(connection.ingest_base_url, self.secret_key, _ingest_token(session, connection))
            withdrawing = connection.disconnect_requested_at is not None
            if withdrawing:
                billrun_links.withdraw_all(session, connection_id)
            else:
                names = billrun_links.subscribed_event_names(session, connection.tenant_id)
                wanted = wanted_pairs(self.catalog, names, connection.collection_steps)
                prefix = connection.webhook_id_prefix
                billrun_links.plan(session, connection_id, wanted, lambda pair: webhook_id(prefix, *pair))
            now = utcnow()
            fingerprint = billrun_links.url_fingerprint(url)
            rows = [
                _Row(
                    row.id,
                    (row.module, row.action),
                    row.webhook_id,
                    row.state,
                    billrun_links.settled(row, fingerprint),
                    billrun_links.due(row, fingerprint, now),
                )
                for row in billrun_links.registrations(session, connection_id)
            ]
            secret = secret_box.decrypt(self.secret_key, connection.client_secret_encrypted)
            credentials = Credentials(connection.url, connection.client_id, secret)
        return _Target(connection_id, credentials, url, fingerprint, rows, withdrawing)

    # -- calls to BillRun -----------------------------------------------------------------------

    def _verify(self, client: PluginClient, target: _Target, result: PassResult) -> list[_Row]:
        """Read every registered webhook; one BillRun lost becomes a ``creating`` row, due now."""
        checked = []
        for row in target.rows:
            if row.state == REGISTERED and not client.exists(row.webhook_id):
                log.warning("BillRun lost webhook %s (%s.%s): registering it again", row.webhook_id, *row.pair)
                self._record(target, lambda s, row_id=row.id: billrun_links.record_missing(s, row_id))
                result.lost.append(row.pair)
                row = _Row(row.id, row.pair, row.webhook_id, CREATING, settled=False, due=True)
            checked.append(row)
        return checked

    def _apply(self, client: PluginClient, target: _Target, row: _Row, result: PassResult) -> None:
        module, action = row.pair
        try:
            if row.state == DELETING:
                client.delete(row.webhook_id)
                self._record(target, lambda s: billrun_links.record_deleted(s, row.id))
                result.deleted.append(row.pair)
                return
            if row.state == REGISTERED:  # it holds an older ingest URL
                client.update(row.webhook_id, module, action, target.url)
                result.updated.append(row.pair)
            else:
                try:
                    client.create(row.webhook_id, module, action, target.url)
                except DuplicateWebhookId:  # an earlier create got through: make sure of its URL
                    client.update(row.webhook_id, module, action, target.url)
                result.created.append(row.pair)
            self._record(target, lambda s: billrun_links.record_registered(s, row.id, target.fingerprint))
        except BillrunError as exc:
            log.warning("BillRun webhook %s (%s.%s): %s", row.webhook_id, module, action, exc.message)
            scale, message = self.retry_scale, exc.message
            self._record(
                target,
                lambda s: billrun_links.record_failure(
                    s, row.id, message, lambda attempts: backoff_seconds(attempts, scale)
                ),
            )
            result.failed.append((row.pair, exc.message))
            if not isinstance(exc, PluginRefused):  # unreachable, refused credentials: all calls would fail
                raise

    def _record(self, target: _Target, write: Callable[[Session], None]) -> None:
        """Write one outcome in its own short transaction, renewing the connection's lease."""
        with self.db.session() as session:
            write(session)
            billrun_links.claim(session, target.connection_id, self.owner, LEASE_SECONDS)


def _ingest_token(session: Session, connection: BillrunConnection) -> str:
    """The connection's ingest token id. A revoked one is replaced by the tenant's newest unrevoked
    token (e.g. one the operator just made), else by a new one: BillRun then gets the new URL."""
    current = billrun_links.active_ingest_token(session, connection.tenant_id, connection.ingest_token_id)
    if current is not None:
        return current.id
    replacement = billrun_links.active_ingest_token(session, connection.tenant_id)
    if replacement is None:
        replacement = ingest_tokens.create_ingest_token(session, connection.tenant, INGEST_SOURCE)
    log.info("tenant %s: its BillRun link's ingest URL was revoked; using %s", connection.tenant.name, replacement.id)
    connection.ingest_token_id = replacement.id
    return replacement.id
