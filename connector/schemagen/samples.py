"""Realistic example payloads, built from the field names and formats BillRun uses.

Each entity has one document and a change; the samples of the change actions are derived
from them the way BillRun's billapi changes revisions. Values are what the connector delivers
after normalisation (typed numbers, booleans, arrays, ISO 8601 UTC dates).
"""

from __future__ import annotations

import copy
import hashlib
from typing import Any

Doc = dict[str, Any]

START = "2024-01-31T00:00:00Z"
OPEN_END = "2173-01-31T00:00:00Z"
CHANGE_DATE = "2024-03-01T00:00:00Z"
MOVED_START = "2024-02-15T00:00:00Z"


def _revision(start: str = START) -> Doc:
    return {"from": start, "to": OPEN_END, "creation_time": start}


SERVICE = {
    "name": "INTERNATIONAL_PACK",
    "service_id": 1690000000000,
    "quantity": 1,
    "from": START,
    "to": OPEN_END,
    "creation_time": START,
}

ENTITY_DOCS: dict[str, Doc] = {
    "accounts": {
        "aid": 1001,
        "type": "account",
        "firstname": "Dana",
        "lastname": "Levi",
        "email": "dana.levi@example.com",
        "country": "Israel",
        "address": "12 Herzl St, Tel Aviv",
        "zip_code": "6100101",
        "personal_id": "039485721",
        "salutation": "Ms",
        "invoicing_day": 1,
        "invoice_language": "en_GB",
        "invoice_detailed": True,
        "in_collection": False,
        "payment_gateway": {
            "active": {
                "name": "CreditGuard",
                "card_token": "1098765432101234",
                "four_digits": "1234",
                "card_expiration": "0427",
                "generate_token_time": "2024-01-31T09:12:44Z",
            }
        },
        **_revision(),
    },
    "subscribers": {
        "sid": 12,
        "aid": 1001,
        "type": "subscriber",
        "plan": "GOLD_MONTHLY",
        "play": "Default",
        "firstname": "Dana",
        "lastname": "Levi",
        "address": "12 Herzl St, Tel Aviv",
        "country": "Israel",
        "plan_activation": START,
        "activation_date": START,
        "services": [SERVICE],
        **_revision(),
    },
    "plans": {
        "name": "GOLD_MONTHLY",
        "description": "Gold monthly plan",
        "price": [{"from": 0, "to": "UNLIMITED", "price": 49.9}],
        "recurrence": {"periodicity": "month"},
        "upfront": True,
        "connection_type": "postpaid",
        "prorated_start": True,
        "prorated_end": True,
        "prorated_termination": True,
        "tax": [{"type": "vat", "taxation": "global"}],
        "type": "customer",
        **_revision(),
    },
    "services": {
        "name": "INTERNATIONAL_PACK",
        "description": "International calls pack",
        "price": [{"from": 0, "to": 12, "price": 9.9}],
        "recurrence": {"periodicity": "month"},
        "prorated": True,
        "quantitative": False,
        "balance_period": "default",
        "vatable": True,
        "tax": [{"type": "vat", "taxation": "global"}],
        **_revision(),
    },
    "rates": {
        "key": "CALL_EUROPE",
        "description": "Calls to Europe",
        "tariff_category": "retail",
        "pricing_method": "tiered",
        "add_to_retail": True,
        "invoice_label": "Calls to Europe",
        "rates": {
            "call": {
                "BASE": {
                    "rate": [
                        {
                            "from": 0,
                            "to": "UNLIMITED",
                            "interval": 60,
                            "price": 0.12,
                            "uom_display": {"range": "minutes", "interval": "minutes"},
                        }
                    ]
                }
            }
        },
        "params": {"prefix": "+33"},
        "tax": [{"type": "vat", "taxation": "global"}],
        **_revision(),
    },
    "taxes": {"key": "VAT_IL", "description": "Israeli VAT", "rate": 0.17, "embed_tax": False, **_revision()},
    "prepaidincludes": {
        "name": "DATA_5GB",
        "external_id": 7,
        "description": "5 GB data bucket",
        "charging_by": "usagev",
        "charging_by_usaget": "data",
        "charging_by_usaget_unit": "byte",
        "priority": 10,
        "shared": False,
        "unlimited": False,
        "additional_charging_usaget": ["incoming_data"],
        **_revision(),
    },
    "prepaidgroups": {
        "name": "MONTHLY_DATA_BUNDLE",
        "description": "Monthly data bundle",
        "charging_value": 5368709120,
        "operation": "inc",
        **_revision(),
    },
    "discounts": {
        "key": "FAMILY_10",
        "description": "10% family discount",
        "type": "percentage",
        "subject": {"general": {"value": 0.1}},
        "params": {"min_subscribers": 3, "max_subscribers": 8},
        "prorated_start": "1",
        "prorated_end": "1",
        "priority": 2,
        "cycles": 12,
        "excludes": ["WELCOME_5"],
        **_revision(),
    },
    "charges": {
        "key": "ROUTER_RENTAL",
        "description": "Router rental",
        "type": "monetary",
        "subject": {"general": {"value": 4.9}},
        "proration": "inherited",
        "priority": 1,
        "cycles": "",
        "excludes": ["WELCOME_5"],
        **_revision(),
    },
    "users": {"username": "billing.ops", "roles": ["read", "write"], **_revision()},
    "autorenew": {
        "aid": 1001,
        "sid": 12,
        "bucket_group": "MONTHLY_DATA_BUNDLE",
        "interval": "month",
        "cycles": 12,
        "cycles_remaining": 11,
        "next_renew": "2024-02-29T00:00:00Z",
        "immediate": True,
        **_revision(),
    },
    "balances": {
        "aid": 1001,
        "sid": 12,
        "from": START,
        "to": "2024-02-29T23:59:59Z",
        "connection_type": "prepaid",
        "charging_by": "usagev",
        "charging_by_usaget": "data",
        "priority": 10,
        "pp_includes_name": "DATA_5GB",
        "pp_includes_external_id": 7,
        "balance": {"totals": {"data": {"usagev": -5368709120}}},
    },
    "reports": {
        "key": "MONTHLY_USAGE",
        "user": "billing.ops",
        "entity": "usage",
        "type": 1,
        "conditions": [{"field": "usaget", "op": "in", "value": "data"}],
        "columns": [{"key": "aid", "field_name": "aid", "label": "Account"}],
        "sorts": [{"field": "urt", "op": "-1"}],
        **_revision(),
    },
    "bills": {
        "type": "inv",
        "invoice_id": 101,
        "aid": 1001,
        "billrun_key": "202401",
        "amount": 117.0,
        "due": 117.0,
        "due_date": "2024-02-15T00:00:00Z",
        "charge": {"not_before": "2024-02-15T00:00:00Z"},
        "paid": "0",
        "invoice_date": "2024-02-01T00:00:00Z",
        "urt": "2024-02-01T00:00:00Z",
    },
    "suggestions": {
        "recalculation_type": "rates",
        "aid": 1001,
        "sid": 12,
        "firstname": "Dana",
        "lastname": "Levi",
        "billrun_key": "202401",
        "min_urt_line": "2024-01-03T08:00:00Z",
        "max_urt_line": "2024-01-29T19:40:00Z",
        "usagev": 5400,
        "key": "CALL_EUROPE",
        "status": "open",
        "total_lines": 37,
        "old_charge": 10.8,
        "new_charge": 9.0,
        "amount": 1.8,
        "type": "credit",
        "stamp": "45c48cce2e2d7fbdea1afc51c7c6ad26",
        "urt": "2024-02-02T03:00:00Z",
        "from": "2023-12-31T22:00:00Z",
        "to": "2024-01-31T22:00:00Z",
    },
    "jobs_messages": {
        "queue_name": "jobs",
        "md5": "8f14e45fceea167a5a36dedd4bea2543",
        "body": {"type": "cycle", "config": {"stamp": "202402", "generate_pdf": "1"}},
    },
    "lines": {
        "stamp": "9f0c2b7e1d4a4c3e8b6f5a2d1c0e9b8a",
        "type": "ggsn",
        "usaget": "data",
        "usagev": 1048576,
        "usagev_unit": "byte",
        "urt": "2024-02-01T10:33:20Z",
        "aid": 1001,
        "sid": 12,
        "plan": "GOLD_MONTHLY",
        "arate_key": "INTERNET",
        "aprice": 0.5,
        "billrun": "202402",
        "process_time": "2024-02-01T10:35:02Z",
    },
    "queue": {
        "stamp": "9f0c2b7e1d4a4c3e8b6f5a2d1c0e9b8a",
        "type": "ggsn",
        "urt": "2024-02-01T10:33:20Z",
        "calc_name": "rate",
        "aid": 1001,
        "sid": 12,
        "in_queue_since": "2024-02-01T10:33:25Z",
    },
}

ENTITY_CHANGES: dict[str, Doc] = {
    "accounts": {"email": "dana@levi-family.example", "address": "4 Rothschild Blvd, Tel Aviv"},
    "subscribers": {"plan": "PLATINUM_MONTHLY", "former_plan": "GOLD_MONTHLY", "plan_activation": CHANGE_DATE},
    "plans": {"price": [{"from": 0, "to": "UNLIMITED", "price": 54.9}]},
    "services": {"price": [{"from": 0, "to": 12, "price": 11.9}]},
    "rates": {
        "rates": {
            "call": {
                "BASE": {
                    "rate": [
                        {
                            "from": 0,
                            "to": "UNLIMITED",
                            "interval": 60,
                            "price": 0.1,
                            "uom_display": {"range": "minutes", "interval": "minutes"},
                        }
                    ]
                }
            }
        }
    },
    "taxes": {"rate": 0.18},
    "prepaidincludes": {"priority": 5},
    "prepaidgroups": {"charging_value": 10737418240},
    "discounts": {"cycles": 24},
    "charges": {"subject": {"general": {"value": 5.9}}},
    "reports": {
        "columns": [
            {"key": "aid", "field_name": "aid", "label": "Account"},
            {"key": "usagev", "field_name": "usagev", "label": "Volume"},
        ]
    },
    "bills": {"due_date": "2024-02-29T00:00:00Z", "charge": {"not_before": "2024-02-29T00:00:00Z"}},
    "suggestions": {"status": "accept"},
    "jobs_messages": {"done": "1", "cancelled": "1", "cancel_time": "2024-02-01T07:55:00Z", "includeChildJobs": "0"},
    "users": {"roles": ["read", "write", "admin"]},
    "autorenew": {"cycles_remaining": 10, "next_renew": "2024-03-31T00:00:00Z"},
    "balances": {"balance": {"totals": {"data": {"usagev": -4320133120}}}},
    "lines": {},
    "queue": {},
}

MODIFIED_USERS = ("admin", "crm_integration", "_3RD_PARTY_TOKEN_")


def entity_change_sample(module: str, action: str) -> Doc:
    """The payload of *action* on *module*, derived the way billapi changes revisions."""
    if module not in ENTITY_DOCS:  # a login: BillRun sends who, nothing else
        return {"modifiedUser": "billing.ops"}
    doc = ENTITY_DOCS[module]
    changed = {**copy.deepcopy(doc), **copy.deepcopy(ENTITY_CHANGES[module])}
    payload: Doc
    if action == "create":
        payload = {"after": copy.deepcopy(doc)}
    elif action == "delete":
        payload = {"before": copy.deepcopy(doc)}
    elif action == "permanentchange":  # only the split revision: after is it, closed at the change date
        payload = {"before": copy.deepcopy(doc), "after": {**copy.deepcopy(doc), "to": CHANGE_DATE}}
    elif action == "closeandnew":
        payload = {
            "before": {**copy.deepcopy(doc), "to": CHANGE_DATE},
            "after": {**changed, "from": CHANGE_DATE, "creation_time": START},
        }
    elif action == "close":
        payload = {"before": copy.deepcopy(doc), "after": {**copy.deepcopy(doc), "to": CHANGE_DATE}}
    elif action == "move":
        payload = {"before": copy.deepcopy(doc), "after": {**copy.deepcopy(doc), "from": MOVED_START}}
    elif action == "reopen":
        payload = {
            "before": {**copy.deepcopy(doc), "to": CHANGE_DATE},
            "after": {**copy.deepcopy(doc), "from": "2024-04-01T00:00:00Z"},
        }
    elif action == "changepassword":
        payload = {"before": copy.deepcopy(doc), "after": copy.deepcopy(doc)}
    else:  # update, cancelled
        payload = {"before": copy.deepcopy(doc), "after": changed}
    user_index = int(hashlib.sha256(f"{module}.{action}".encode()).hexdigest(), 16) % len(MODIFIED_USERS)
    payload["modifiedUser"] = MODIFIED_USERS[user_index]
    return payload


# More samples of single change types, where BillRun sends a shape the derived sample does not show.
EXTRA_CHANGE_SAMPLES: dict[str, list[Doc]] = {
    "balances.update": [
        {
            "after": {
                **copy.deepcopy(ENTITY_DOCS["balances"]),
                "balance": {"totals": {"data": {"usagev": -5368709120}}},
            },
            "modifiedUser": "_3RD_PARTY_TOKEN_",
        }
    ],  # a first prepaid top-up: no before
}


_PAYMENT: Doc = {
    "type": "rec",
    "method": "automatic",
    "dir": "fc",
    "aid": 1001,
    "amount": 117.0,
    "due": -117.0,
    "txid": "0000000000042",
    "urt": "2024-02-01T00:00:00Z",
    "due_date": "2024-02-01T00:00:00Z",
    "billrun_key": "202401",
    "waiting_for_confirmation": False,
    "pending": False,
    "left": 0.0,
    "gateway_details": {"name": "CreditGuard", "amount": 117.0, "currency": "USD"},
    "payment_gateway": {"name": "CreditGuard", "transactionId": "12345678"},
    "vendor_response": {"name": "CreditGuard", "status": "000"},
    "pays": [{"type": "inv", "id": 101, "amount": 117.0}],
}

_INVOICE: Doc = {
    "type": "inv",
    "invoice_id": 101,
    "aid": 1001,
    "billrun_key": "202401",
    "invoice_type": "regular",
    "invoice_file": "/var/www/billrun/files/invoices/202401/pdf/202401_1001_101.pdf",
    "customer_status": "open",
    "amount": 117.0,
    "due": 117.0,
    "due_before_vat": 100.0,
    "left_to_pay": 117.0,
    "vatable_left_to_pay": 117.0,
    "paid": "0",
    "total_paid": 0.0,
    "invoice_date": "2024-02-01T00:00:00Z",
    "due_date": "2024-02-15T00:00:00Z",
    "charge": {"not_before": "2024-02-15T00:00:00Z"},
    "urt": "2024-02-01T00:00:00Z",
    "confirmation_time": "2024-02-01T06:12:09Z",
    "payer_name": "Dana Levi",
    "firstname": "Dana",
    "lastname": "Levi",
    "country_code": "IL",
    "method": "automatic",
    "billed": 1,
    "tx": "5d41402abc4b2a76b9719d911017c592",
    "invoicing_day": 1,
}

_POSTPAID_BALANCE: Doc = {
    "aid": 1001,
    "sid": 12,
    "from": "2024-02-01T00:00:00Z",
    "to": "2024-03-01T00:00:00Z",
    "connection_type": "postpaid",
    "plan_description": "Gold monthly plan",
    "start_period": "default",
    "period": "default",
    "priority": 0,
    "balance": {
        "cost": 12.5,
        "totals": {"data": {"usagev": 5242880, "cost": 2.5, "count": 5}},
        "groups": {"GOLD_DATA": {"usagev": 5242880, "count": 5, "left": 19994757120, "total": 20000000000}},
    },
}

_BILLING_EVENT: Doc = {
    "event_code": "DATA_80",
    "event_description": "80% of included data used",
    "event_type": "balance",
    "active": True,
    "creation_time": "2024-02-01T10:35:02Z",
    "conditions": [
        {
            "type": "reached_percentage",
            "path": "balance.groups.GOLD_DATA.usagev",
            "value": 80,
            "unit": "gb1000",
            "usaget": "data",
            "property_type": "usagev",
        }
    ],
    "extra_params": {
        "aid": 1001,
        "sid": 12,
        "line_stamp": "9f0c2b7e1d4a4c3e8b6f5a2d1c0e9b8a",
        "row": {
            "usagev": 1048576,
            "urt": 1706783600,
            "usaget": "data",
            "stamp": "9f0c2b7e1d4a4c3e8b6f5a2d1c0e9b8a",
            "unit": "byte",
        },
    },
    "before": 15990000000,
    "after": 16010000000,
    "based_on": "usagev",
    "group_total": 20000000000,
    "reached_constant": 16000000000,
    "reached_constant_percentage": 80,
    "stamp": "e2fc714c4727ee9395f324cd2e7f331f",
}


def _balance_after_usage() -> Doc:
    after = copy.deepcopy(_POSTPAID_BALANCE)
    after["balance"]["groups"]["GOLD_DATA"]["usagev"] = 16010000000
    after["balance"]["groups"]["GOLD_DATA"]["left"] = 3990000000
    return after


def _state_change(state: str, aids: list[int]) -> Doc:
    return {
        "step": {
            "step_code": "collection state change",
            "step_type": "httpnoack",
            "step_config": {"url": "https://crm.example.com/billing/collection", "method": "POST"},
            "extra_params": {"state": state, "aids": aids, "process_name": "default"},
            "creation_time": "2024-02-20T10:00:00Z",
        }
    }


CUSTOM_STEP_NAME = "send_reminder_sms"
FREE_TEXT_STEP_NAME = "Reminder (day 3)"

HOOK_SAMPLES: dict[str, list[Doc]] = {
    "bills.afterChargeSuccess": [
        {"bill": copy.deepcopy(_PAYMENT)},
        {
            "bill": {
                **copy.deepcopy(_PAYMENT),
                "txid": "0000000000043",
                "payment_method": {"expiration_date": "0427", "last_four_digits": "1234"},
            }
        },
        {"bill": {"aid": 1001}},  # an installment agreement sends the account only
    ],
    "bills.afterRefundSuccess": [
        {
            "bill": {
                **copy.deepcopy(_PAYMENT),
                "dir": "tc",
                "method": "credit",
                "amount": 20.0,
                "due": 20.0,
                "txid": "0000000000057",
                "urt": "2024-02-05T13:20:00Z",
                "due_date": "2024-02-05T13:20:00Z",
                "gateway_details": {"name": "CreditGuard", "amount": 20.0, "currency": "USD"},
                "payment_gateway": {"name": "CreditGuard", "transactionId": "12349911"},
                "note": "Goodwill refund",
                "pays": [{"type": "rec", "id": "0000000000042", "amount": 20.0}],
            }
        }
    ],
    "bills.afterPaymentAdjusted": [{"old": 100.0, "new": 80.0, "aid": 1001}],
    "bills.afterInvoiceConfirmed": [{"bill": copy.deepcopy(_INVOICE)}],
    "bills.afterRejection": [
        {
            "bill": {
                **copy.deepcopy(_PAYMENT),
                "rejected": True,
                "rejection_code": "033",
                "vendor_response": {"name": "CreditGuard", "status": "033"},
            }
        }
    ],
    "bills.afterDenial": [
        {
            "bill": {
                "aid": 1001,
                "amount": 117.0,
                "transaction_id": "12345678",
                "stamp": "c4ca4238a0b923820dcc509a6f75849b",
                "row_number": 3,
                "vendor_fields": {
                    "vendor_name": "CreditGuard",
                    "cg_clearing_by": "Isracard",
                    "terminal_number": "0962210",
                    "supplier_num": "1234567",
                    "rikuz": "20240205",
                    "shovar_num": "00417",
                    "status": "denied",
                    "addon_data": "chargeback",
                },
            }
        }
    ],
    "balances.afterBalanceUpdate": [
        {
            "before": {**copy.deepcopy(ENTITY_DOCS["lines"]), "granted_usagev": 1048576, "granted_cost": 0.5},
            "after": _balance_after_usage(),
        }
    ],
    "balances.afterBalanceCreation": [{"after": copy.deepcopy(_POSTPAID_BALANCE)}],
    "events.create": [
        {
            "event": copy.deepcopy(_BILLING_EVENT),
            "before": copy.deepcopy(_POSTPAID_BALANCE),
            "after": _balance_after_usage(),
        }
    ],
    # BillRun's own body carries nothing (the event object cannot be form-encoded); other senders may add it.
    "events.notify": [{}, {"event": copy.deepcopy(_BILLING_EVENT)}],
    "collection.in_collection": [_state_change("in_collection", [1001, 1007])],
    "collection.out_of_collection": [_state_change("out_of_collection", [1001])],
    f"collection.{CUSTOM_STEP_NAME}": [
        {
            "step": {
                "process_name": "default",
                "step_code": CUSTOM_STEP_NAME,
                "step_type": "sms",
                "step_config": {"template": "Hi Dana, your invoice of 117.00 USD is overdue."},
                "extra_params": {"aid": 1001, "mobile": "+972501234567"},
                "stamp": "a87ff679a2f3e71d9181a67b7542122c",
                "trigger_date": "2024-02-25T08:00:00Z",
                "creation_time": "2024-02-20T10:00:00Z",
            }
        }
    ],
    f"collection.{FREE_TEXT_STEP_NAME}": [
        {
            "step": {
                "process_name": "default",
                "step_code": FREE_TEXT_STEP_NAME,
                "step_type": "mail",
                "step_config": {"subject": "Your invoice is overdue"},
                "extra_params": {"aid": 1001},
                "stamp": "e4da3b7fbbce2345d7772b0674a318d5",
                "trigger_date": "2024-02-23T08:00:00Z",
                "creation_time": "2024-02-20T10:00:00Z",
            }
        }
    ],
}


def envelope(type_name: str, data: Doc, timestamp: str) -> Doc:
    """A whole delivery as the connector sends it, with a stable id."""
    digest = hashlib.sha256(f"{type_name}|{timestamp}".encode()).hexdigest()[:24]
    return {"id": f"evt_{digest}", "type": type_name, "timestamp": timestamp, "data": data}
