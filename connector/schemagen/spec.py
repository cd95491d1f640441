"""The compact definition of every event type BillRun's webhooks plugin can fire.

Facts come from BillRun's source (``BillRun/system``). The plugin
(``application/plugins/webhooks.php``) forwards:

- every audit-trail change (``Billrun_AuditTrail_Util::trackChanges``) as ``<collection>.<type>``:
  the billapi actions of each collection (``Models_Entity``, allowed by the collection's
  ``conf/modules/billapi/<collection>.ini``), prepaid top-ups, logins and the jobs queue;
  ``trackchanges`` is only a documentation label, kept here as a subscription group;
- the bills and balances hooks under their PHP function names;
- billing events (``create``, ``notify``) and collection steps (the state, or the step name).

Each action records the BillRun source files that fire it, or why BillRun never does.
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
    ("system", "Logins and jobs"),
    ("any", "Everything"),
)

REVISIONED = ("create", "update", "closeandnew", "close", "move", "delete", "permanentchange", "reopen")

PLUGIN = "application/plugins/webhooks.php"
ENTITY_MODEL = "application/modules/Billapi/Models/Entity.php"
AUDIT_TRAIL = "library/Billrun/AuditTrail/Util.php"

# A custom collection step arrives as collection.<step name>: the configured step name, free text.
MAX_STEP_NAME = 255
CUSTOM_STEP_PATTERN = rf"^[^\x00-\x1f\x7f]{{1,{MAX_STEP_NAME}}}$"
ANY_ACTION = "*"
ALL_TYPES = "*"


@dataclass(frozen=True)
class Firing:
    """Where BillRun fires an action: the source files, or (``never``) why it never does."""

    sources: tuple[str, ...]
    never: str = ""

    @property
    def fired(self) -> bool:
        return not self.never


def billapi(module: str, *extra: str) -> Firing:
    """A billapi action: allowed by the collection's ini, audited by ``Models_Entity``."""
    return Firing((f"conf/modules/billapi/{module}.ini", ENTITY_MODEL, *extra))


@dataclass(frozen=True)
class Entity:
    """A collection whose audit-trail changes the plugin reports as ``<module>.<action>``."""

    module: str
    noun: str
    actions: tuple[str, ...]
    what: str  # a short phrase for descriptions, e.g. "a customer account"
    group: str = "entities"
    firing: dict[str, Firing] = field(default_factory=dict)  # per action; default: billapi(module)

    def fired(self, action: str) -> Firing:
        return self.firing.get(action) or billapi(self.module)


_BALANCE_TOPUP = "library/Billrun/Balance/Update/Prepaidinclude.php"
_LOGIN = Firing(
    (
        "application/controllers/Action/Auth.php",
        "library/Billrun/Auth/Abstract.php",
        "library/Billrun/Auth/Internal.php",
        AUDIT_TRAIL,
    )
)

ENTITIES: tuple[Entity, ...] = (
    Entity(
        "accounts",
        "Account",
        ("create", "update", "closeandnew", "close", "delete", "permanentchange", "reopen"),
        "a customer account",
    ),
    Entity(
        "subscribers",
        "Subscriber",
        REVISIONED,
        "a subscriber",
        firing={"move": billapi("subscribers", "application/modules/Billapi/Models/Subscribers.php")},
    ),
    Entity("plans", "Plan", REVISIONED, "a plan"),
    Entity("services", "Service", REVISIONED, "a service (add-on)"),
    Entity("rates", "Rate", REVISIONED, "a rate (product)"),
    Entity("taxes", "Tax", REVISIONED, "a tax rate"),
    Entity("prepaidincludes", "Prepaid Bucket", REVISIONED, "a prepaid bucket (prepaid include)"),
    Entity("prepaidgroups", "Prepaid Group", REVISIONED, "a prepaid group"),
    Entity(
        "discounts",
        "Discount",
        REVISIONED,
        "a discount",
        firing={
            "reopen": Firing(
                ("conf/modules/billapi/discounts.ini",),
                never="discounts.ini has no reopen action, so billapi refuses it",
            ),
        },
    ),
    Entity(
        "charges",
        "Charge",
        ("create", "update", "closeandnew", "close", "move", "delete"),
        "a charge (a one-off or recurring charge)",
    ),
    Entity(
        "users",
        "User",
        ("create", "update", "delete", "changepassword"),
        "a BillRun user",
        firing={
            "changepassword": Firing((ENTITY_MODEL,), never="Models_Entity::changePassword() calls no trackChanges"),
        },
    ),
    Entity("autorenew", "Auto-Renewal", ("create", "update", "delete"), "an auto-renewal of a bucket"),
    Entity(
        "balances",
        "Balance",
        ("update", "delete", "permanentchange", "reopen"),
        "a balance",
        firing={"update": billapi("balances", _BALANCE_TOPUP)},
    ),
    Entity("reports", "Report", ("create", "update", "delete"), "a saved report"),
    Entity("lines", "Usage Line", ("delete",), "a usage line (CDR)"),
    Entity("queue", "Queue Entry", ("delete",), "a processing queue entry"),
    Entity("bills", "Bill", ("update",), "a bill (an invoice or a payment)", group="bills"),
    Entity("suggestions", "Rebalance Suggestion", ("update",), "a rebalance suggestion"),
    Entity("login", "Login", ("login",), "a login to BillRun", group="system", firing={"login": _LOGIN}),
    Entity(
        "jobs_messages",
        "Job",
        ("create", "cancelled"),
        "a job of BillRun's jobs queue",
        group="system",
        firing={
            "create": Firing(("library/Billrun/Jobsmanager.php", AUDIT_TRAIL)),
            "cancelled": Firing(("application/models/Jobsqueue.php", AUDIT_TRAIL)),
        },
    ),
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
    "login": "User Logged In",
    "cancelled": "{noun} Cancelled",
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
    "login": "A user signed in to BillRun; modifiedUser names the user and BillRun sends no before or after.",
}

# Descriptions of single types that differ from their action's.
TYPE_DESCRIPTIONS: dict[str, str] = {
    "balances.update": "A balance was changed in place: by billapi update, or by a prepaid top-up (charging a"
    " prepaid bucket), whose first top-up has no before.",
    "jobs_messages.create": "A job was queued in BillRun's jobs queue (for example a billing cycle run).",
    "jobs_messages.cancelled": "A queued job was cancelled before it started.",
    "bills.update": "The due date or charge date of a bill was changed (billapi update).",
    "suggestions.update": "The status of a rebalance suggestion was changed (billapi update).",
}

# What BillRun really does, beyond the description: shown in docs/billrun.md.
ACTION_CAVEATS: dict[str, str] = {
    "permanentchange": "Only the revision that gets split is sent, and its after is that old revision closed at"
    " the change date; the revisions changed from the date on are not sent (BillRun reports"
    " them through trackMultipleChanges, which the plugin ignores).",
    "move": "An update of the neighbouring revision (its end or start moved along) may follow.",
    "delete": "An update of the previous revision (reopened to the deleted one's end) may follow.",
    "create": "No before.",
    "reopen": "before is the closed revision, after the new one.",
    "changepassword": "Never fired.",
}
TYPE_CAVEATS: dict[str, str] = {
    "balances.update": "A first prepaid top-up has no before (PHP drops the empty record).",
    "balances.afterBalanceCreation": "Never fired: BillRun's documentation lists it, but its source has no such hook.",
    "balances.afterBalanceUpdate": "before is the usage line being rated, not the old balance.",
    "events.notify": "Arrives empty: the plugin passes an object PHP cannot form-encode, so only module and action"
    " are sent.",
    "discounts.reopen": "Never fired: discounts.ini has no reopen action.",
    "users.changepassword": "Never fired: changePassword() calls no trackChanges.",
    "bills.afterChargeSuccess": "An installment agreement sends only bill.aid; CreditGuard payments carry"
    " bill.payment_method as {expiration_date, last_four_digits}, a custom gateway's file may give it as text.",
    "events.create": "before and after are the whole balance before and after the usage; event.before and"
    " event.after are the values at the condition's path.",
    "collection.in_collection": "step.extra_params.aids is a batch of accounts (500 by default), not one aid.",
    "collection.out_of_collection": "step.extra_params.aids is a batch of accounts (500 by default), not one aid.",
    "login.login": "Only modifiedUser.",
    "users.create": "The password is removed by the plugin.",
    "users.update": "The password is removed by the plugin.",
}

IMPORTANT: frozenset[str] = frozenset(
    {
        "accounts.create",
        "accounts.update",
        "subscribers.create",
        "subscribers.update",
        "subscribers.trackchanges",
        "bills.afterChargeSuccess",
        "bills.afterRejection",
        "bills.afterInvoiceConfirmed",
        "events.create",
        "collection.in_collection",
        "collection.out_of_collection",
    }
)

_PAYMENT_RUN = (
    "library/Billrun/Bill.php",
    "library/Billrun/PaymentManager.php",
    "library/Billrun/Processor/PaymentGateway/CreditGuard/Transactions.php",
    "library/Billrun/Processor/PaymentGateway/Custom.php",
    "library/Billrun/Processor/PaymentGateway/Custom/TransactionsResponse.php",
)
_COLLECTION = Firing(("library/Billrun/CollectionSteps.php", "library/Billrun/CollectionSteps/Db.php"))


@dataclass(frozen=True)
class HookType:
    """A non-audit event type (bills, balances, events, collection)."""

    module: str
    action: str
    group: str
    title: str
    noun: str
    description: str
    firing: Firing
    document: str = field(default="")  # which payload shape (see connector.schemagen.fields.PAYLOADS)


HOOKS: tuple[HookType, ...] = (
    HookType(
        "bills",
        "afterChargeSuccess",
        "bills",
        "Charge Succeeded",
        "Payment",
        "A payment from a customer was completed: an automatic charge, a manual payment or an installment agreement.",
        Firing((*_PAYMENT_RUN, "library/Billrun/Bill/Payment/InstallmentAgreement.php")),
        document="payment_bill",
    ),
    HookType(
        "bills",
        "afterRefundSuccess",
        "bills",
        "Refund Succeeded",
        "Refund",
        "A refund to a customer was completed.",
        Firing(_PAYMENT_RUN),
        document="payment_bill",
    ),
    HookType(
        "bills",
        "afterPaymentAdjusted",
        "bills",
        "Payment Adjusted",
        "Payment Adjustment",
        "The amount of a payment was adjusted or the payment cancelled (BillRun's adjustpayment API).",
        Firing(("application/controllers/Action/AdjustPayment.php",)),
        document="payment_adjusted",
    ),
    HookType(
        "bills",
        "afterInvoiceConfirmed",
        "bills",
        "Invoice Confirmed",
        "Invoice",
        "An invoice was confirmed and BillRun created its bill.",
        Firing(("application/helpers/Generator/BillrunToBill.php",)),
        document="invoice_bill",
    ),
    HookType(
        "bills",
        "afterRejection",
        "bills",
        "Payment Rejected",
        "Payment",
        "A payment was rejected by the payment gateway; the original payment is sent, marked rejected.",
        Firing(
            (
                "library/Billrun/Bill/Payment.php",
                "library/Billrun/Processor/PaymentGateway/Custom.php",
                "library/Billrun/Processor/PaymentGateway/Custom/TransactionsResponse.php",
            )
        ),
        document="payment_bill",
    ),
    HookType(
        "bills",
        "afterDenial",
        "bills",
        "Payment Denied",
        "Denial",
        "A customer denied a charge (a row of the CreditGuard denials file was processed).",
        Firing(("library/Billrun/Processor/PaymentGateway/CreditGuard/Denials.php",)),
        document="denial_bill",
    ),
    HookType(
        "balances",
        "afterBalanceUpdate",
        "balances",
        "Balance Updated by Usage",
        "Balance",
        "A balance changed while BillRun rated a usage line; before is the usage line, after the balance.",
        Firing(("library/Billrun/Balance.php",)),
        document="balance_update",
    ),
    HookType(
        "balances",
        "afterBalanceCreation",
        "balances",
        "Balance Created",
        "Balance",
        "Documented by BillRun for postpaid balance creation but never fired: BillRun has no such hook."
        " Use balances.afterBalanceUpdate or balances.trackchanges instead.",
        Firing((PLUGIN,), never="no afterBalanceCreation hook exists anywhere in BillRun's source"),
        document="balance_creation",
    ),
    HookType(
        "events",
        "create",
        "events",
        "Billing Event Triggered",
        "Billing Event",
        "A configured billing event (a balance threshold or a fraud rule) was triggered and is being saved.",
        Firing(("library/Billrun/EventsManager.php",)),
        document="event_create",
    ),
    HookType(
        "events",
        "notify",
        "events",
        "Billing Event Notified",
        "Billing Event",
        "BillRun's events cron sent the notification of a billing event; BillRun sends no event details.",
        Firing(("library/Billrun/EventsManager.php",)),
        document="event_notify",
    ),
    HookType(
        "collection",
        "in_collection",
        "collection",
        "Customer Entered Collection",
        "Customer",
        "Customers entered the dunning collection process (sent in batches of account ids).",
        _COLLECTION,
        document="collection_state",
    ),
    HookType(
        "collection",
        "out_of_collection",
        "collection",
        "Customer Left Collection",
        "Customer",
        "Customers left the dunning collection process (sent in batches of account ids).",
        _COLLECTION,
        document="collection_state",
    ),
)

# Payload shape and firing of a custom collection step (collection.<step name>).
CUSTOM_STEP_DOCUMENT = "collection_step"
CUSTOM_STEP_FIRING = _COLLECTION


@dataclass(frozen=True)
class EverydayTrigger:
    """A trigger an automation app offers by name (the Zapier app's dedicated triggers).

    ``label`` follows the editors' "New ..." / "Updated ..." style and ``description`` starts
    "Triggers when"; both use a billing person's words. ``events`` are the catalog types it
    subscribes to (fired ones only); ``collection.*`` takes an optional step name.
    """

    key: str
    label: str
    noun: str
    description: str
    events: tuple[str, ...]


EVERYDAY: tuple[EverydayTrigger, ...] = (
    EverydayTrigger(
        "new_account",
        "New Account",
        "Account",
        "Triggers when a new customer account is created.",
        ("accounts.create",),
    ),
    EverydayTrigger(
        "updated_account",
        "Updated Account",
        "Account",
        "Triggers when a customer account's details change, whether the change applies now or from a later date.",
        ("accounts.update", "accounts.closeandnew", "accounts.permanentchange"),
    ),
    EverydayTrigger(
        "closed_account",
        "Closed Account",
        "Account",
        "Triggers when a customer account is closed (given an end date).",
        ("accounts.close",),
    ),
    EverydayTrigger(
        "new_subscriber",
        "New Subscriber",
        "Subscriber",
        "Triggers when a new subscriber (a subscription of a customer account) is created.",
        ("subscribers.create",),
    ),
    EverydayTrigger(
        "updated_subscriber",
        "Updated Subscriber",
        "Subscriber",
        "Triggers when a subscriber's details, plan or services change, whether the change applies now or from a"
        " later date.",
        ("subscribers.update", "subscribers.closeandnew", "subscribers.permanentchange"),
    ),
    EverydayTrigger(
        "closed_subscriber",
        "Closed Subscriber",
        "Subscriber",
        "Triggers when a subscriber is closed (given an end date), for example when a customer cancels.",
        ("subscribers.close",),
    ),
    EverydayTrigger(
        "new_payment",
        "New Payment",
        "Payment",
        "Triggers when a customer's payment goes through: an automatic charge, a manual payment or an installment.",
        ("bills.afterChargeSuccess",),
    ),
    EverydayTrigger(
        "new_refund",
        "New Refund",
        "Refund",
        "Triggers when a refund to a customer goes through.",
        ("bills.afterRefundSuccess",),
    ),
    EverydayTrigger(
        "rejected_payment",
        "Rejected Payment",
        "Payment",
        "Triggers when the payment gateway rejects a customer's payment.",
        ("bills.afterRejection",),
    ),
    EverydayTrigger(
        "adjusted_payment",
        "Adjusted Payment",
        "Payment",
        "Triggers when the amount of a payment is changed or the payment is cancelled.",
        ("bills.afterPaymentAdjusted",),
    ),
    EverydayTrigger(
        "new_invoice",
        "New Invoice",
        "Invoice",
        "Triggers when an invoice is confirmed and its bill is created.",
        ("bills.afterInvoiceConfirmed",),
    ),
    EverydayTrigger(
        "updated_balance",
        "Updated Balance",
        "Balance",
        "Triggers when usage is charged to a customer's balance (once per rated usage record, so it can fire often).",
        ("balances.afterBalanceUpdate",),
    ),
    EverydayTrigger(
        "new_customer_in_collection",
        "New Customer in Collection",
        "Customer",
        "Triggers when overdue customer accounts enter collection (dunning); one trigger carries a batch of accounts.",
        ("collection.in_collection",),
    ),
    EverydayTrigger(
        "customer_out_of_collection",
        "Customer Out of Collection",
        "Customer",
        "Triggers when customer accounts leave collection (dunning), for example after paying what they owe; one"
        " trigger carries a batch of accounts.",
        ("collection.out_of_collection",),
    ),
    EverydayTrigger(
        "new_collection_step",
        "New Collection Step",
        "Collection Step",
        "Triggers when a collection (dunning) step runs, such as a payment reminder: the one step you name, or"
        " every step.",
        ("collection.*",),
    ),
    EverydayTrigger(
        "new_billing_alert",
        "New Billing Alert",
        "Billing Alert",
        "Triggers when one of your BillRun event rules goes off, such as a balance threshold or a fraud rule.",
        ("events.create",),
    ),
)

# Titles and nouns of the module wildcards (<module>.*), in catalog order of first appearance.
MODULE_NOUNS: dict[str, str] = {
    "bills": "Bill",
    "balances": "Balance",
    "events": "Billing Event",
    "collection": "Collection",
}


def snake(name: str) -> str:
    """``afterChargeSuccess`` -> ``after_charge_success`` (Zapier trigger keys, n8n option values)."""
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name).lower()


def key_for(module: str, action: str) -> str:
    """The snake_case key of a type; ``<module>.*`` is ``<module>_any`` and ``*`` is ``any``."""
    if module == ALL_TYPES:
        return "any"
    if action == ANY_ACTION:
        return f"{module}_any"
    return f"{module}_{snake(action)}"
