"""BillRun's own way of posting, end to end: PHP builds each delivery with http_build_query and POSTs it
with curl and the headers of BillRun's Zend client to a real connector (`serve`) on loopback.

For every delivery: the answer is 200; the connector's decoder reads PHP's body exactly as PHP's
parse_str does; the stored event is the normalisation of what parse_str decodes; and the delivery a
`*` subscriber gets is signed, strict JSON (no NaN, no Infinity), on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
import requests
import standardwebhooks
from sqlalchemy import select

from connector.billrun import normalise
from connector.catalog import get_catalog
from connector.php import parse_str
from connector.storage import Database
from connector.storage.models import Event

from . import php_wire
from .conftest import run
from .receiver import Receiver

pytestmark = pytest.mark.slow  # a served connector and a PHP process; `-m 'not slow'` skips it

ZEND_HEADERS = (
    "Content-Type: application/x-www-form-urlencoded",
    "User-Agent: Zend_Http_Client",
    "Accept-encoding: deflate",
    "Connection: close",
)
# libcurl asks "Expect: 100-continue" by itself for bodies over 1 KB in older releases (still on many
# BillRun servers), over 1 MB in current ones: the PHP side is asked to behave like the older ones.
EXPECT_THRESHOLD = 1024


def when(seconds: int, micros: int = 0) -> dict[str, int]:
    """A Mongo date as BillRun's PHP holds it."""
    return {"sec": seconds, "usec": micros}


JAN_31, FEB_1, FAR = when(1706659200), when(1706745600), when(6408441600)
REVISION = {"from": JAN_31, "to": FAR, "creation_time": JAN_31}


def subscriber(sid: int, **fields: Any) -> dict[str, Any]:
    return {
        "aid": 1001,
        "sid": sid,
        "type": "subscriber",
        "plan": "GOLD",
        "firstname": "נועה",
        "lastname": "Levi",
        "services": [
            {"name": "INTL_PACK", "service_id": 1690000000001, "from": JAN_31, "to": FAR, "creation_time": JAN_31},
            {"name": "ROAMING [EU]", "service_id": 1690000000002, "quantity": 2, "from": JAN_31, "to": FAR},
        ],
        "overrides": [{"key": "CALL", "price": 0.1 + 0.2}],
        "plan_activation": JAN_31,
        **REVISION,
        **fields,
    }


def change(module: str, action: str, before: Any, after: Any, user: str = "crm") -> dict[str, Any]:
    """An audit-trail change as webhooks.php trackChanges() builds it (before or after may be null)."""
    return {"module": module, "action": action, "before": before, "after": after, "modifiedUser": user}


def bill(module_action: str, bill: dict[str, Any]) -> dict[str, Any]:
    return {"module": "bills", "action": module_action, "bill": bill}


PAYMENT = {
    "type": "rec",
    "method": "automatic",
    "dir": "fc",
    "aid": 1001,
    "amount": 117.5,
    "due": -117.5,
    "txid": "0000000000042",
    "urt": FEB_1,
    "billrun_key": "202401",
    "waiting_for_confirmation": False,
    "pending": False,
    "payment_method": {"expiration_date": "0427", "last_four_digits": "4242"},
    "gateway_details": {"name": "CreditGuard", "amount": 117.5, "currency": "ILS"},
    "payment_gateway": {"name": "CreditGuard", "transactionId": "12345678"},
    "vendor_response": {"name": "CreditGuard", "status": "000"},
    "pays": [{"type": "inv", "id": 101, "amount": 117.5, "total_amount": 117.5, "date": FEB_1}],
}
INVOICE_LINES = [
    {"key": f"LINE_{n}", "usagev": n * 1.5, "aprice": n / 3, "description": f"Line {n}: calls ~ {n} min"}
    for n in range(1, 21)
]
BALANCE = {
    "aid": 1001,
    "sid": 12,
    "from": JAN_31,
    "to": FAR,
    "connection_type": "postpaid",
    "period": "default",
    "balance": {
        "cost": 12.5,
        "totals": {"data": {"usagev": 5242880, "cost": 2.5, "count": 5, "out_group": {"usagev": 0}}},
        "groups": {
            "DATA [5GB]": {"usagev": 1073741824, "count": 3, "left": 4294967296, "total": 5368709120},
            "SMS (local)": {"usagev": 12, "count": 12, "left": 88, "total": 100},
        },
    },
    "tx": {"9f0c1a": {"usagev": 1048576, "aprice": 0.5}},
}
USAGE_LINE = {
    "stamp": "9f0c1a",
    "type": "ggsn",
    "usaget": "data",
    "usagev": 1048576,
    "urt": when(1706750000, 250000),
    "aid": 1001,
    "sid": 12,
    "arate_key": "INTERNET",
    "aprice": 0.5,
}


def step(name: str, **extra: Any) -> dict[str, Any]:
    return {
        "module": "collection",
        "action": name,
        "step": {
            "process_name": "default",
            "step_code": name,
            "step_type": "http",
            "step_config": {"url": "https://crm.example.test/dunning", "method": "POST"},
            "extra_params": {"aid": 1001, **extra},
            "stamp": "c0ffee",
            "trigger_date": FEB_1,
            "creation_time": JAN_31,
        },
    }


def state_change(state: str, aids: Any) -> dict[str, Any]:
    return {
        "module": "collection",
        "action": state,
        "step": {
            "step_code": "collection state change",
            "step_type": "httpnoack",
            "step_config": {"url": "", "method": "POST"},
            "extra_params": {"state": state, "aids": aids, "process_name": "default"},
            "creation_time": "2024-02-01T10:00:00+00:00",
        },
    }


DELIVERIES: list[tuple[str, dict[str, Any]]] = [
    # entities
    ("subscriber updated", change("subscribers", "update", subscriber(12), subscriber(12, plan="PLATINUM"))),
    ("subscriber created: no before", change("subscribers", "create", None, subscriber(13))),
    ("subscriber moved", change("subscribers", "move", subscriber(12), subscriber(12, **{"from": FEB_1}))),
    (
        "account permanently changed",
        change(
            "accounts",
            "permanentchange",
            {"aid": 1001, "type": "account", "in_collection": False, "invoicing_day": 1, **REVISION},
            {"aid": 1001, "type": "account", "in_collection": True, "invoicing_day": 1, **REVISION, "to": FEB_1},
            "_3RD_PARTY_TOKEN_",
        ),
    ),
    (
        "plan changed from a date",
        change(
            "plans",
            "closeandnew",
            None,
            {
                "name": "GOLD",
                "price": [{"from": 0, "to": 12, "price": 9.99}, {"from": 12, "to": "UNLIMITED", "price": 19.99}],
                "recurrence": {"periodicity": "month", "frequency": 1},
                "upfront": True,
                "tax": [{"type": "vat", "taxation": "global"}],
                **REVISION,
            },
        ),
    ),
    (
        "rate with steps: floats PHP prints its own way",
        change(
            "rates",
            "update",
            None,
            {
                "key": "CALL~INTL",
                "rates": {"call": {"BASE": {"rate": [{"from": 0, "to": 60, "interval": 1, "price": 0.1 + 0.2}]}}},
                "small": 1e-5,
                "big": 1e20,
                **REVISION,
            },
        ),
    ),
    (
        "discount with empty values",
        change(
            "discounts",
            "create",
            None,
            {
                "key": "WELCOME",
                "type": "monetary",
                "priority": "",
                "cycles": "",
                "limit": "",
                "prorated_start": "",
                "params": {"min_subscribers": "", "max_subscribers": "", "conditions": []},
                "subject": {"general": {"value": 10}},
                "excludes": [],
                "description": "",
                **REVISION,
            },
        ),
    ),
    ("charge deleted", change("charges", "delete", {"key": "SETUP_FEE", "type": "monetary", **REVISION}, None)),
    (
        "report with nested lists",
        change(
            "reports",
            "create",
            None,
            {
                "key": "DATA_USAGE",
                "type": 1,
                "conditions": [{"field": "usaget", "op": "in", "value": ["data", "sms"]}],
                "columns": [[{"key": "aid"}, {"key": "sid"}], [{"key": "usagev", "func": "sum"}]],
                "sorts": [],
            },
        ),
    ),
    (
        "user updated",
        change(
            "users", "update", {"username": "dana", "roles": ["read"]}, {"username": "dana", "roles": ["read", "write"]}
        ),
    ),
    ("usage line deleted", change("lines", "delete", USAGE_LINE, None)),
    ("queue entry deleted", change("queue", "delete", {"stamp": "9f0c1a", "calc_name": "rate", "urt": FEB_1}, None)),
    (
        "tax reopened",
        change("taxes", "reopen", {"key": "VAT", "rate": 0.17, **REVISION}, {"key": "VAT", "rate": 0.18, **REVISION}),
    ),
    (
        "prepaid bucket closed",
        change(
            "prepaidincludes",
            "close",
            {"name": "DATA_1GB", "external_id": 7, **REVISION},
            {"name": "DATA_1GB", "external_id": 7, **REVISION, "to": FEB_1},
        ),
    ),
    (
        "rebalance suggestion updated",
        change(
            "suggestions",
            "update",
            {"aid": 1001, "status": "open", "amount": 3.5},
            {"aid": 1001, "status": "accept", "amount": 3.5},
        ),
    ),
    # bills
    ("charge succeeded (CreditGuard)", bill("afterChargeSuccess", PAYMENT)),
    ("refund succeeded", bill("afterRefundSuccess", {**PAYMENT, "dir": "tc", "amount": 20.0, "due": 20.0})),
    ("payment adjusted", {"module": "bills", "action": "afterPaymentAdjusted", "old": 100, "new": 80.5, "aid": 1001}),
    (
        "invoice confirmed: a body over 1 KB",
        bill(
            "afterInvoiceConfirmed",
            {"type": "inv", "invoice_id": 101, "aid": 1001, "amount": 117.5, "due_date": FEB_1, "lines": INVOICE_LINES},
        ),
    ),
    ("payment rejected", bill("afterRejection", {**PAYMENT, "rejected": True, "rejection_code": "033"})),
    (
        "charge denied",
        bill("afterDenial", {"aid": 1001, "amount": 117.5, "transaction_id": "12345678", "row_number": 4}),
    ),
    (
        "bill updated",
        change(
            "bills",
            "update",
            {"type": "inv", "invoice_id": 101, "aid": 1001},
            {"type": "inv", "invoice_id": 101, "aid": 1001, "due_date": FEB_1},
        ),
    ),
    # balances
    (
        "balance updated by usage: groups named with brackets",
        {"module": "balances", "action": "afterBalanceUpdate", "before": USAGE_LINE, "after": BALANCE},
    ),
    (
        "first prepaid top-up: no before",
        change("balances", "update", None, {**BALANCE, "connection_type": "prepaid", "pp_includes_name": "DATA_1GB"}),
    ),
    # events
    (
        "billing event triggered",
        {
            "module": "events",
            "action": "create",
            "event": {
                "event_code": "DATA_80",
                "event_type": "balance",
                "active": True,
                "conditions": [{"type": "reached_percentage", "path": "balance.totals.data.usagev", "value": 80}],
                "creation_time": FEB_1,
                "extra_params": {"aid": 1001, "sid": 12, "row": {"usagev": 1048576, "urt": 1706750000}},
                "before": 4000000,
                "after": 4300000,
                "reached_constant_percentage": 80,
                "stamp": "d41d8cd98f00b204e9800998ecf8427e",
            },
            "before": BALANCE,
            "after": BALANCE,
        },
    ),
    ("billing event notified: empty", {"module": "events", "action": "notify", "event": []}),
    # collection
    ("customers entered collection: 500 accounts", state_change("in_collection", list(range(1, 501)))),
    ("customers left collection", state_change("out_of_collection", [7])),
    ("custom step with spaces and parentheses", step("Reminder (day 3)", template="first")),
    ("custom step in Hebrew", step("תזכורת SMS", phone="+972-50-000-0000")),
    ("custom step with punctuation", step("50% off! #2 & more; then: stop?")),
    # logins and jobs
    ("login", change("login", "login", None, None, "dana")),
    (
        "job queued",
        change(
            "jobs_messages",
            "create",
            None,
            {
                "queue_name": "billrun",
                "md5": "abc",
                "body": {"type": "cycle", "config": {"stamp": "202401"}},
                "done": False,
            },
        ),
    ),
    (
        "job cancelled",
        change(
            "jobs_messages",
            "cancelled",
            {"md5": "abc", "done": False},
            {"md5": "abc", "done": True, "cancelled": True, "cancel_time": FEB_1, "includeChildJobs": ""},
        ),
    ),
    # what the catalog does not know
    ("an action the catalog does not know", change("subscribers", "archive", None, subscriber(12))),
    (
        "a module the catalog does not know",
        {"module": "warehouse", "action": "restock", "item": {"sku": "SIM-1", "qty": 40, "at": FEB_1}},
    ),
    # numbers JSON cannot carry, and keys PHP reads its own way
    (
        "numbers JSON cannot carry",
        {
            "module": "bills",
            "action": "afterPaymentAdjusted",
            "old": "1e999",
            "new": {"__float__": "NAN"},
            "aid": "9" * 4400,
        },
    ),
    (
        "infinite floats and integers beyond 64 bits",
        change(
            "balances",
            "update",
            None,
            {
                **BALANCE,
                "balance": {
                    "cost": {"__float__": "INF"},
                    "totals": {
                        "data": {
                            "usagev": 18446744073709551616,
                            "count": "9223372036854775808",
                            "cost": {"__float__": "-INF"},
                        }
                    },
                },
            },
        ),
    ),
    ("huge list indexes", state_change("in_collection", {"9223372036854775807": 5, "9" * 4400: 6})),
    (
        "a map key holding ]",
        change("balances", "update", None, {"aid": 1, "balance": {"groups": {"A]B": {"usagev": 1}}}}),
    ),
]


def _expected_type(data: dict[str, Any]) -> str:
    return get_catalog().type_for(data["module"], data["action"]) or f"{data['module']}.{data['action']}"


def test_deliveries_posted_by_php_are_decoded_as_php_decodes_them(
    served: tuple[str, dict[str, str]], receiver: Receiver, db_url: str
) -> None:
    assert len(DELIVERIES) >= 30
    groups = {get_catalog().get(_expected_type(data)) for _, data in DELIVERIES}
    assert {entry.group for entry in groups if entry is not None} == {
        "entities", "bills", "balances", "events", "collection", "system"
    }  # fmt: skip
    assert None in groups  # and types the catalog does not know
    base, env = served
    made = run(env, "ingest-url", "--tenant", "acme", "--base-url", base)
    key = run(env, "keys", "create", "--tenant", "acme").stdout.strip().splitlines()[-1]
    hook = requests.post(
        base + "/api/v1/hooks",
        json={"target_url": receiver.url, "event": "*"},
        headers={"Authorization": f"Bearer {key}"},
        timeout=10,
    ).json()

    url = made.stdout.strip().splitlines()[-1]
    deliveries = [data for _, data in DELIVERIES]
    posts = php_wire.run_php("post", {"url": url, "deliveries": deliveries, "expect_100_over": EXPECT_THRESHOLD})

    database = Database(db_url)
    try:
        with database.session() as session:
            stored = {event.id: event.envelope() for event in session.scalars(select(Event))}
    finally:
        database.dispose()
    delivered = {}
    for request in receiver.wait_for(len(DELIVERIES), timeout=60):
        envelope = standardwebhooks.Webhook(hook["secret"]).verify(request.body, request.headers)
        strict = json.loads(request.body, parse_constant=lambda name: pytest.fail(f"{name} in a delivery"))
        assert strict == envelope
        delivered[envelope["id"]] = envelope

    long_bodies = 0
    for (name, data), post in zip(DELIVERIES, posts, strict=True):
        assert post["status"] == 200, (name, post["error"], post["answer"])
        answer = json.loads(post["answer"])
        assert answer["status"] == 1 and answer["type"] == _expected_type(data), (name, answer)
        sent = post["sent"].splitlines()
        assert all(header in sent for header in ZEND_HEADERS), (name, sent)
        if len(post["body"]) > EXPECT_THRESHOLD:
            long_bodies += 1
            assert "Expect: 100-continue" in sent, name
            assert any(line.startswith("HTTP/1.1 100") for line in post["received"]), (name, post["received"])
        body = post["body"].encode("ascii")
        php_decoded = php_wire.from_hex(post["parsed"])
        assert parse_str(body)[0] == php_decoded, name  # the connector's decoder reads what PHP reads
        payload = {key: value for key, value in php_decoded.items() if key not in ("module", "action")}
        event = stored[answer["id"]]
        assert event["data"] == normalise(answer["type"], payload), name  # and stores its normalisation
        assert delivered[answer["id"]] == event, name
    assert long_bodies >= 3


def test_a_body_over_the_size_limit_is_a_clear_413(served: tuple[str, dict[str, str]]) -> None:
    """Over 1 MB current libcurl asks "Expect: 100-continue" by itself; the answer is 413 with a reason."""
    base, env = served
    url = run(env, "ingest-url", "--tenant", "acme", "--base-url", base).stdout.strip().splitlines()[-1]
    huge = change("subscribers", "update", None, {"sid": 12, "notes": "x" * (1024 * 1024)})
    (post,) = php_wire.run_php("post", {"url": url, "deliveries": [huge]})
    assert "Expect: 100-continue" in post["sent"].splitlines()
    assert post["status"] == 413, (post["error"], post["answer"])
    assert "larger than the limit" in json.loads(post["answer"])["error"]["message"]
