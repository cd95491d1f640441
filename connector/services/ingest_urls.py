"""Ingest URLs: make one (the URL is the credential BillRun posts to), list them, revoke one; and the
commands that register a URL in BillRun. The command line and the console use these."""

from __future__ import annotations

import shlex
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from sqlalchemy.orm import Session

from connector.billrun_link.pairs import wanted_pairs
from connector.catalog import Catalog
from connector.ingest_urls import INGEST_PATH, ingest_url, read_token
from connector.services.errors import Invalid, NotFound
from connector.services.principal import Principal
from connector.services.tenants import tenant_for
from connector.services.text import plain
from connector.storage import billrun_links, ingest_tokens
from connector.storage.models import IngestToken

MAX_SOURCE = 200
BILLRUN_URL_EXAMPLE = "https://billrun.example.org"


@dataclass(frozen=True)
class NewIngestUrl:
    token: IngestToken
    url: str


def check_base_url(base_url: str) -> str:
    """*base_url* without a trailing slash if it is an http(s) URL with a host."""
    parts = urlsplit(base_url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise Invalid(f"{base_url!r} is not an http(s) URL", {"base_url": ["an http(s) URL such as https://host"]})
    return base_url.strip().rstrip("/")


def create(
    session: Session, principal: Principal, secret_key: str, *, base_url: str, tenant: str | None = None, source: str
) -> NewIngestUrl:
    """A new ingest URL under *base_url* (the connector as BillRun reaches it) for the tenant."""
    base = check_base_url(base_url)
    source = plain(source, "source", MAX_SOURCE)
    owner = tenant_for(session, principal, tenant, create=True)
    token = ingest_tokens.create_ingest_token(session, owner, source)
    return NewIngestUrl(token, ingest_url(base, secret_key, token.id))


def listing(session: Session, principal: Principal, tenant_id: int | None = None) -> Sequence[IngestToken]:
    """Ingest URLs by id (the URLs are not stored): the caller's tenant's, or for an admin key every
    tenant's unless *tenant_id* is given."""
    return ingest_tokens.list_ingest_tokens(session, principal.within(tenant_id))


def revoke(session: Session, principal: Principal, secret_key: str, id_or_url: str) -> IngestToken:
    """Revoke an ingest URL given its id (``ing_...``) or the URL itself; BillRun's posts to it get 401."""
    token_id: str | None = id_or_url.strip()
    if INGEST_PATH in id_or_url:
        token_id = read_token(secret_key, id_or_url.rstrip("/").rsplit("/", 1)[-1])
        if token_id is None:
            raise Invalid("that URL was not made with this connector's secret key")
    row = ingest_tokens.revoke_ingest_token(session, token_id or "", principal.scope)
    if row is None:
        raise NotFound(f"no ingest URL {id_or_url!r}")
    return row


def registration_commands(url: str, pairs: Iterable[tuple[str, str]], billrun_url: str | None = None) -> str:
    """A shell script that registers *url* in BillRun's webhooks plugin once per ``(module, action)``.

    BillRun's plugin API takes one module and action per webhook. The script stops at once, saying
    what to set, while ``BILLRUN_TOKEN`` (a BillRun OAuth2 access token) or, for a tenant not
    connected to its BillRun, ``BILLRUN_URL`` is unset.
    """
    if billrun_url:
        where = f"BILLRUN_URL={shlex.quote(billrun_url.rstrip('/'))}"
    else:
        where = ': "${BILLRUN_URL:?set BILLRUN_URL to your BillRun, e.g. ' + BILLRUN_URL_EXAMPLE + '}"'
    listed = " ".join(shlex.quote(f"{module}/{action}") for module, action in sorted(set(pairs)))
    return "\n".join(
        (
            where,
            ': "${BILLRUN_TOKEN:?set BILLRUN_TOKEN to a BillRun OAuth2 access token}"',
            f"INGEST_URL={shlex.quote(url)}",
            f"for pair in {listed}; do",
            '  curl -s -X POST "$BILLRUN_URL/plugins/webhooks/create" -H "Authorization: Bearer $BILLRUN_TOKEN" \\',
            '    --data-urlencode "webhook_module=${pair%%/*}" --data-urlencode "webhook_action=${pair#*/}" \\',
            '    --data-urlencode "webhook_url=$INGEST_URL"',
            "done",
        )
    )


@dataclass(frozen=True)
class Registration:
    """What to register in the tenant's BillRun: its URL if connected, the pairs its subscriptions need."""

    billrun_url: str | None
    pairs: list[tuple[str, str]]


def registration(catalog: Catalog, session: Session, tenant_id: int) -> Registration:
    """The ``(module, action)`` pairs the tenant's active subscriptions need BillRun to fire (with the
    collection steps named when it was connected), and its BillRun's URL when it is connected."""
    connection = billrun_links.get_connection(session, tenant_id)
    names = billrun_links.subscribed_event_names(session, tenant_id)
    steps = connection.collection_steps if connection is not None else ()
    return Registration(connection.url if connection else None, sorted(wanted_pairs(catalog, names, steps)))
