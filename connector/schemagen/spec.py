"""The compact definition of every event type BillRun's webhooks plugin can fire.

Facts come from BillRun's plugin source: billapi entities fire one event per billapi action
(``trackchanges`` is only a documentation label, kept here as a subscription group), bills and
balances fire the PHP hook names, collection fires the state or the custom step name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

GROUPS: tuple[tuple[str, str], ...] = (
    ("entities", "Entity changes"),
    ("bills", "Payments and invoices"),
    ("balances", "Balances"),
    ("events", "Billing events"),
    ("collection", "Collection"),
)

REVISIONED = ("create", "update", "closeandnew", "close", "move", "delete", "permanentchange", "reopen")

# Step names BillRun may send as a custom collection action (the configured step ``name``).
CUSTOM_STEP_PATTERN = r"^[A-Za-z0-9_][A-Za-z0-9_ .-]{0,63}$"
FAMILY_ACTION = "*"


@dataclass(frozen=True)
class Entity:
    """A billapi collection whose changes the plugin reports."""

    module: str
    noun: str
    actions: tuple[str, ...]
    what: str  # a short phrase for descriptions, e.g. "a customer account"


ENTITIES: tuple[Entity, ...] = (
    Entity("accounts", "Account", ("create", "update", "closeandnew", "close", "delete", "permanentchange", "reopen"),
           "a customer account"),
    Entity("subscribers", "Subscriber", REVISIONED, "a subscriber"),
    Entity("plans", "Plan", REVISIONED, "a plan"),
    Entity("services", "Service", REVISIONED, "a service (add-on)"),
    Entity("rates", "Rate", REVISIONED, "a rate (product)"),
    Entity("taxes", "Tax", REVISIONED, "a tax rate"),
    Entity("prepaidincludes", "Prepaid Bucket", REVISIONED, "a prepaid bucket (prepaid include)"),
    Entity("prepaidgroups", "Prepaid Group", REVISIONED, "a prepaid group"),
    Entity("discounts", "Discount", REVISIONED, "a discount"),
    Entity("users", "User", ("create", "update", "delete", "changepassword"), "a BillRun user"),
    Entity("autorenew", "Auto-Renewal", ("create", "update", "delete"), "an auto-renewal of a bucket"),
    Entity("balances", "Balance", ("update", "delete", "permanentchange", "reopen"), "a balance"),
    Entity("lines", "Usage Line", ("delete",), "a usage line (CDR)"),
    Entity("queue", "Queue Entry", ("delete",), "a processing queue entry"),
)

ACTION_TITLES: dict[str, str] = {
    "create": "{noun} Created",
    "update": "{noun} Updated",
    "closeandnew": "{noun} Changed From a Date",
    "close": "{noun} Closed",
    "move": "{noun} Revision Moved",
    "delete": "{noun} Deleted",
    "permanentchange": "{noun} Permanently Changed",
    "reopen": "{noun} Reopened",
    "changepassword": "User Password Changed",
}

ACTION_DESCRIPTIONS: dict[str, str] = {
    "create": "BillRun created {what} (billapi create).",
    "update": "{What} was changed in place (billapi update).",
    "closeandnew": "{What} was changed from a date: BillRun closed the current revision and opened a new one"
                   " (billapi closeandnew).",
    "close": "{What} was closed: its current revision got an end date (billapi close).",
    "move": "The start or end date of a revision of {what} was moved (billapi move).",
    "delete": "{What} was deleted (billapi delete).",
    "permanentchange": "{What} was changed permanently from a date, across its revisions (billapi permanentchange).",
    "reopen": "{What} that was closed was reopened with a new revision (billapi reopen).",
    "changepassword": "A BillRun user's password was changed (billapi changepassword); the password is never sent.",
}

IMPORTANT: frozenset[str] = frozenset({
    "accounts.create", "accounts.update", "subscribers.create", "subscribers.update", "subscribers.trackchanges",
    "bills.afterChargeSuccess", "bills.afterRejection", "bills.afterInvoiceConfirmed", "events.create",
    "collection.in_collection", "collection.out_of_collection",
})


@dataclass(frozen=True)
class HookType:
    """A non-entity event type (bills, balances, events, collection)."""

    module: str
    action: str
    group: str
    title: str
    noun: str
    description: str
    fired_by_billrun: bool = True
    document: str = field(default="")  # which payload shape (see connector.schemagen.fields.PAYLOADS)


HOOKS: tuple[HookType, ...] = (
    HookType("bills", "afterChargeSuccess", "bills", "Charge Succeeded", "Payment",
             "A payment from a customer was completed: an automatic charge, a manual payment or an installment"
             " agreement.", document="payment_bill"),
    HookType("bills", "afterRefundSuccess", "bills", "Refund Succeeded", "Refund",
             "A refund to a customer was completed.", document="payment_bill"),
    HookType("bills", "afterPaymentAdjusted", "bills", "Payment Adjusted", "Payment Adjustment",
             "The amount of a payment was adjusted or the payment cancelled (BillRun's adjustpayment API).",
             document="payment_adjusted"),
    HookType("bills", "afterInvoiceConfirmed", "bills", "Invoice Confirmed", "Invoice",
             "An invoice was confirmed and BillRun created its bill.", document="invoice_bill"),
    HookType("bills", "afterRejection", "bills", "Payment Rejected", "Payment",
             "A payment was rejected by the payment gateway; the original payment is sent, marked rejected.",
             document="payment_bill"),
    HookType("bills", "afterDenial", "bills", "Payment Denied", "Denial",
             "A customer denied a charge (a row of the CreditGuard denials file was processed).",
             document="denial_bill"),
    HookType("balances", "afterBalanceUpdate", "balances", "Balance Updated by Usage", "Balance",
             "A balance changed while BillRun rated a usage line; before is the usage line, after the balance.",
             document="balance_update"),
    HookType("balances", "afterBalanceCreation", "balances", "Balance Created", "Balance",
             "Documented by BillRun for postpaid balance creation but never fired: BillRun has no such hook."
             " Use balances.afterBalanceUpdate or balances.trackchanges instead.",
             fired_by_billrun=False, document="balance_creation"),
    HookType("events", "create", "events", "Billing Event Triggered", "Billing Event",
             "A configured billing event (a balance threshold or a fraud rule) was triggered and is being saved.",
             document="event_create"),
    HookType("events", "notify", "events", "Billing Event Notified", "Billing Event",
             "BillRun's events cron sent the notification of a billing event; BillRun sends no event details.",
             document="event_notify"),
    HookType("collection", "in_collection", "collection", "Customer Entered Collection", "Customer",
             "Customers entered the dunning collection process (sent in batches of account ids).",
             document="collection_state"),
    HookType("collection", "out_of_collection", "collection", "Customer Left Collection", "Customer",
             "Customers left the dunning collection process (sent in batches of account ids).",
             document="collection_state"),
)

FAMILY = HookType("collection", FAMILY_ACTION, "collection", "Collection Step Run", "Collection Step",
                  "A custom dunning step ran for a customer; the event type is collection.<step name>.",
                  document="collection_step")


def snake(name: str) -> str:
    """``afterChargeSuccess`` -> ``after_charge_success`` (Zapier trigger keys, n8n option values)."""
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name).lower()


def key_for(module: str, action: str) -> str:
    """The snake_case key of a type; the custom step family is ``collection_step``."""
    if action == FAMILY_ACTION:
        return f"{module}_step"
    return f"{module}_{snake(action)}"
