"""Connect, status, sync and disconnect: the operations the CLI and the admin API share.

``connect`` proves the credentials (a token) and the plugin API (a read that changes nothing) before
it stores anything; then it stores the connection (the client secret encrypted), makes the tenant's
ingest URL if it has none, and runs a first pass. The client secret is never returned.
"""

from __future__ import annotations

import os
import secrets
import socket
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from connector.billrun_link import endpoint, secret_box
from connector.billrun_link.errors import BillrunError
from connector.billrun_link.plugin_client import PluginClient
from connector.billrun_link.reconcile import INGEST_SOURCE, PassResult, Reconciler
from connector.billrun_link.token import Credentials, TokenClient
from connector.billrun_link.webhook_ids import new_prefix
from connector.config import Settings
from connector.ingest_urls import ingest_url
from connector.storage import Database, billrun_links, ingest_tokens, tenants
from connector.storage.models import BillrunConnection, BillrunRegistration, utcnow

MAX_STEP_LENGTH = 200
LEASE_WAIT_SECONDS = 30.0  # how long a command waits for the worker's pass on the same connection
MAX_CLIENT_ID_LENGTH = 200


class LinkError(Exception):
    """A request the link cannot carry out; ``code`` is stable, the message says what to do."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def invalid(message: str) -> LinkError:
    return LinkError("invalid_input", message)


def not_connected(tenant: str) -> LinkError:
    return LinkError("not_connected", f"tenant {tenant!r} has no BillRun connection (billrun connect first)")


@dataclass(frozen=True)
class ConnectRequest:
    tenant: str
    url: str
    client_id: str
    client_secret: str
    ingest_base_url: str | None = None
    collection_steps: Sequence[str] = ()


@dataclass(frozen=True)
class ConnectReport:
    tenant: str
    url: str
    addresses: str  # what the BillRun host resolved to, e.g. "127.0.0.1 (loopback)"
    ingest_base_url: str
    ingest_token_id: str
    ingest_url_made: bool
    first_pass: PassResult


@dataclass(frozen=True)
class DisconnectReport:
    removed: int
    left_behind: list[str]  # webhook ids BillRun may still hold (only with force)


def reconciler(db: Database, settings: Settings) -> Reconciler:
    """A reconciler for one command or request; its lease owner is its own, so two requests served
    by one process never reconcile one connection at once."""
    owner = f"{socket.gethostname()}:{os.getpid()}:link:{secrets.token_hex(3)}"
    return Reconciler(db, settings.secret_key, owner=owner, retry_scale=settings.retry_scale)


def _check(request: ConnectRequest, settings: Settings) -> tuple[str, str, list[str]]:
    """The normalised BillRun URL, ingest base URL and collection steps; raises on bad input."""
    if not request.tenant.strip() or len(request.tenant.strip()) > 200:
        raise invalid("the tenant name must be 1 to 200 characters")
    if not request.client_id.strip() or len(request.client_id) > MAX_CLIENT_ID_LENGTH:
        raise invalid(f"the client id must be 1 to {MAX_CLIENT_ID_LENGTH} characters")
    if not request.client_secret:
        raise invalid("the client secret is empty")
    try:
        url = endpoint.normalize_url(request.url)
    except BillrunError as exc:
        raise LinkError(exc.code, exc.message) from None
    base = (
        (request.ingest_base_url or settings.base_url or f"http://{settings.host}:{settings.port}").strip().rstrip("/")
    )
    parts = urlsplit(base)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise invalid(f"the ingest base URL must be an http(s) URL, not {base!r}")
    steps = [step.strip() for step in request.collection_steps]
    for step in steps:
        if not step or len(step) > MAX_STEP_LENGTH:
            raise invalid(f"a collection step name must be 1 to {MAX_STEP_LENGTH} characters, not {step!r}")
    return url, base, list(dict.fromkeys(steps))


def connect(db: Database, settings: Settings, request: ConnectRequest) -> ConnectReport:
    """Prove, store and run a first pass. Raises :class:`LinkError` and stores nothing on failure."""
    url, base, steps = _check(request, settings)
    tenant_name = request.tenant.strip()
    try:
        addresses = endpoint.resolve(url, settings.allowed_networks)
        http = endpoint.new_session()
        credentials = Credentials(url, request.client_id.strip(), request.client_secret)
        client = PluginClient(TokenClient(credentials, http), http)
        client.probe()
    except BillrunError as exc:
        raise LinkError(exc.code, exc.message) from None
    with db.session() as session:
        tenant = tenants.get_or_create_tenant(session, tenant_name)
        existing = billrun_links.get_connection(session, tenant.id)
        if existing is not None and existing.url != url and billrun_links.registrations(session, existing.id):
            raise LinkError(
                "conflict",
                f"tenant {tenant_name!r} is connected to another BillRun ({existing.url}) that holds its webhooks: "
                "disconnect it first",
            )
        token = billrun_links.active_ingest_token(session, tenant.id)
        made = token is None
        if token is None:
            token = ingest_tokens.create_ingest_token(session, tenant, INGEST_SOURCE)
        connection = billrun_links.save_connection(
            session,
            tenant_id=tenant.id,
            url=url,
            client_id=credentials.client_id,
            client_secret_encrypted=secret_box.encrypt(settings.secret_key, request.client_secret),
            ingest_base_url=base,
            ingest_token_id=token.id,
            collection_steps=steps,
            webhook_id_prefix=existing.webhook_id_prefix if existing else new_prefix(),
        )
        connection_id, token_id = connection.id, token.id
    first_pass = reconciler(db, settings)
    first_pass.adopt(connection_id, client)
    first = first_pass.run(connection_id, immediate=True, wait=LEASE_WAIT_SECONDS)
    return ConnectReport(tenant_name, url, endpoint.describe_addresses(addresses), base, token_id, made, first)


def _connection_id(db: Database, tenant: str) -> int:
    with db.session() as session:
        owner = tenants.find_tenant(session, tenant)
        connection = billrun_links.get_connection(session, owner.id) if owner is not None else None
        if connection is None:
            raise not_connected(tenant)
        return connection.id


def sync(db: Database, settings: Settings, tenant: str) -> PassResult:
    """Reconcile now: read back every registered webhook, then do every pending call, backoff or not."""
    result = reconciler(db, settings).run(
        _connection_id(db, tenant), verify=True, immediate=True, wait=LEASE_WAIT_SECONDS
    )
    if result.forgotten:  # a disconnect finished while this waited
        raise not_connected(tenant)
    return result


def disconnect(db: Database, settings: Settings, tenant: str, *, force: bool = False) -> DisconnectReport:
    """Delete every webhook the connector made in BillRun, then forget the connection.

    If some cannot be deleted (BillRun unreachable), the connection stays, marked for disconnection:
    the worker keeps deleting and forgets it once done. With *force* it is forgotten at once, and
    the ids BillRun may still hold are reported.
    """
    connection_id = _connection_id(db, tenant)
    with db.session() as session:
        billrun_links.request_disconnect(session, connection_id)
    result = reconciler(db, settings).run(connection_id, immediate=True, wait=LEASE_WAIT_SECONDS, force_forget=force)
    if result.busy:
        raise LinkError("busy", "another process is reconciling this BillRun connection; try again in a moment")
    if not result.forgotten:
        reason = result.error or "; ".join(error for _, error in result.failed) or "unknown"
        raise LinkError(
            "billrun_unreachable",
            f"webhooks could not be removed from BillRun ({reason}); the connection is kept, marked for "
            "disconnection, and the worker keeps removing them: run disconnect again, or with force to forget it now",
        )
    return DisconnectReport(len(result.deleted), result.left_behind)


# -- status ----------------------------------------------------------------------------------------


def _when(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value is not None else None


def registration_status(row: BillrunRegistration, current_fingerprint: str | None) -> str:
    """``registered``, ``pending`` (to create or update), ``removing`` or ``failing`` (last call failed)."""
    if row.last_error and row.attempts:
        return "failing"
    if row.state == billrun_links.DELETING:
        return "removing"
    if row.state == billrun_links.REGISTERED and row.url_fingerprint == current_fingerprint:
        return "registered"
    return "pending"


def status(db: Database, settings: Settings, tenant: str) -> dict[str, Any]:
    """The connection and every registration (never the client secret)."""
    with db.session() as session:
        owner = tenants.find_tenant(session, tenant)
        connection = billrun_links.get_connection(session, owner.id) if owner is not None else None
        if connection is None:
            raise not_connected(tenant)
        fingerprint = None
        if connection.ingest_token_id and settings.secret_key:
            url = ingest_url(connection.ingest_base_url, settings.secret_key, connection.ingest_token_id)
            fingerprint = billrun_links.url_fingerprint(url)
        rows = billrun_links.registrations(session, connection.id)
        items = []
        for row in rows:
            state = registration_status(row, fingerprint)
            items.append(
                {
                    "module": row.module,
                    "action": row.action,
                    "webhook_id": row.webhook_id,
                    "status": state,
                    "attempts": row.attempts,
                    "next_try_at": _when(row.next_try_at) if state != "registered" else None,
                    "last_error": row.last_error,
                    "registered_at": _when(row.registered_at),
                }
            )
        counts = {name: 0 for name in ("registered", "pending", "removing", "failing")}
        for item in items:
            counts[item["status"]] += 1
        return _connection_view(connection) | {"counts": counts, "registrations": items}


def _connection_view(connection: BillrunConnection) -> dict[str, Any]:
    return {
        "tenant": connection.tenant.name,
        "url": connection.url,
        "client_id": connection.client_id,
        "ingest_base_url": connection.ingest_base_url,
        "ingest_url_id": connection.ingest_token_id,
        "collection_steps": list(connection.collection_steps),
        "webhook_id_prefix": connection.webhook_id_prefix,
        "connected_at": _when(connection.created_at),
        "last_sync_at": _when(connection.last_sync_at),
        "last_verified_at": _when(connection.last_verified_at),
        "last_error": connection.last_error,
        "disconnect_requested_at": _when(connection.disconnect_requested_at),
        "checked_at": _when(utcnow()),
    }
