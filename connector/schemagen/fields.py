"""Fields of BillRun's documents as the connector delivers them (normalised JSON).

Names and formats follow BillRun's billapi configuration, models and hooks. Entity documents
allow extra properties: BillRun lets operators add custom fields to most entities.
"""

from __future__ import annotations

from connector.schemagen.dsl import Schema, arr, b, date, i, money, n, obj, or_string, ref, s, shared

DATE_PATTERN = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z$"

COMMON_TYPES: dict[str, Schema] = {
    "date": {
        "type": "string",
        "format": "date-time",
        "pattern": DATE_PATTERN,
        "description": "A date in ISO 8601, UTC (BillRun sends dates as {sec, usec}).",
    },
    "money": {"type": "number", "description": "An amount in the currency configured in BillRun."},
    "aid": {"type": "integer", "minimum": 0, "description": "Account id (BillRun's customer number)."},
    "sid": {"type": "integer", "minimum": 0, "description": "Subscriber id."},
    "event_id": {
        "type": "string",
        "pattern": r"^[A-Za-z0-9_]+$",
        "maxLength": 128,
        "description": "The event id (evt_...): the same on every retry and replay; the webhook-id header.",
    },
    "service_entry": obj(
        "A service attached to a subscriber or an account.",
        {
            "name": s("Service name (key of the services collection)."),
            "service_id": i("Id of this attachment, unique per subscriber."),
            "quantity": i("Quantity, for quantitative services."),
            "from": date("Start of the service for this subscriber."),
            "to": date("End of the service for this subscriber."),
            "creation_time": date("When the service was attached."),
        },
    ),
    "tax_entry": obj(
        "How the item is taxed.",
        {
            "type": s("Tax type, e.g. vat."),
            "taxation": s("Taxation method: global, custom, default or no."),
        },
    ),
    "price_tier": obj(
        "A price for a range of cycles.",
        {
            "from": i("First cycle of the range (0-based)."),
            "to": or_string(i("Last cycle of the range, or UNLIMITED.")),
            "price": money("Price per cycle in this range."),
        },
    ),
    "rate_step": obj(
        "One pricing step of a rate.",
        {
            "from": i("Volume at which the step starts."),
            "to": or_string(i("Volume at which the step ends, or UNLIMITED.")),
            "interval": n("Charging interval (volume rounded up to it)."),
            "price": money("Price per interval."),
            "uom_display": obj(
                "Units shown for the range and the interval.",
                {
                    "range": s("Unit of the range, e.g. seconds or mb."),
                    "interval": s("Unit of the interval."),
                },
            ),
        },
    ),
    "recurrence": obj(
        "How often a plan or service is charged.",
        {
            "periodicity": s("Charging period, e.g. month or year."),
            "frequency": i("Number of months between charges."),
            "start": i("Month in which the recurrence starts."),
        },
    ),
    "db_ref": obj(
        "A reference to another BillRun document; only the collection name (under the key $ref)"
        " survives the form encoding."
    ),
    "allocation": obj(
        "An invoice or payment covered, and the amount.",
        {
            "type": s("inv (invoice) or rec (payment).", enum=["inv", "rec"]),
            "id": or_string(i("Invoice number or payment txid.")),
            "amount": money("Amount allocated."),
            "total_amount": money("Total of the covered bill."),
            "date": date("When it was allocated."),
        },
    ),
    "price_override": obj("A price override of an account or a subscriber."),
}


def _revision(noun: str) -> dict[str, Schema]:
    return {
        "from": date(f"Start of this revision of the {noun}."),
        "to": date(f"End of this revision of the {noun} (far in the future when open-ended)."),
        "creation_time": date(f"When the {noun} was first created."),
    }


def _discount_like(noun: str) -> dict[str, Schema]:
    """Discounts and charges (their billapi ini declares priority, cycles, limit and proration as strings)."""
    return {
        "key": s(f"{noun.capitalize()} key."),
        "description": s(f"Human name of the {noun}."),
        "type": s("monetary or percentage.", enum=["monetary", "percentage"]),
        "subject": obj(
            f"What the {noun} applies to and by how much.",
            {
                "general": obj("The whole bill.", {"value": n("Amount or fraction.")}),
                "plan": obj("By plan name.", values=obj("A plan.", {"value": n("Amount or fraction.")})),
                "service": obj("By service name.", values=obj("A service.", {"value": n("Amount or fraction.")})),
            },
        ),
        "params": obj(
            f"When the {noun} applies.",
            {
                "min_subscribers": or_string(i("Fewest subscribers the account must have (empty: no minimum).")),
                "max_subscribers": or_string(i("Most subscribers the account may have (empty: no maximum).")),
                "conditions": arr("Conditions on account and subscriber fields.", obj("A condition set.")),
            },
        ),
        "proration": s("Proration policy, e.g. inherited."),
        "prorated_start": or_string(b("Whether the first cycle is prorated.")),
        "prorated_end": or_string(b("Whether the last cycle is prorated.")),
        "priority": or_string(i(f"Order among {noun}s.")),
        "cycles": or_string(i(f"Number of cycles the {noun} lasts (empty: unlimited).")),
        "excludes": arr(f"{noun.capitalize()}s this one excludes.", s(f"A {noun} key.")),
        "limit": or_string(n("Cap on the amount (empty: none).")),
        "simultaneous_limit": i("How many times it may apply at once."),
        **_revision(noun),
    }


ENTITY_FIELDS: dict[str, tuple[str, dict[str, Schema]]] = {
    "accounts": (
        "A customer account (stored in BillRun's subscribers collection with type account).",
        {
            "aid": shared("aid"),
            "type": s("Always account.", enum=["account"]),
            "firstname": s("First name of the account holder."),
            "lastname": s("Last name of the account holder."),
            "email": s("Email address for invoices and notices."),
            "country": s("Country."),
            "address": s("Postal address."),
            "zip_code": s("Postal code."),
            "personal_id": s("Personal or company id number."),
            "salutation": s("Salutation, e.g. Mr or Ms."),
            "payment_gateway": obj(
                "Payment gateway settings of the account.",
                {
                    "active": obj(
                        "The gateway in use.",
                        {
                            "name": s("Gateway name, e.g. CreditGuard, Stripe or PayPal_ExpressCheckout."),
                            "card_token": s("Token of the stored card."),
                            "card_expiration": s("Card expiry, as the gateway reports it."),
                            "four_digits": s("Last four digits of the card."),
                            "generate_token_time": date("When the card token was made."),
                        },
                    ),
                },
            ),
            "in_collection": b("Whether the account is in the dunning collection process."),
            "invoicing_day": i("Day of the month on which the account is invoiced."),
            "invoice_language": s("Invoice language, e.g. en_GB."),
            "invoice_detailed": b("Whether invoices show usage details."),
            "account_import_id": s("Id given by an import."),
            "services": arr("Services attached at account level.", shared("service_entry")),
            "overrides": arr("Account-level price overrides.", shared("price_override")),
            **_revision("account"),
        },
    ),
    "subscribers": (
        "A subscriber (a line or a customer's subscription), owned by an account.",
        {
            "sid": shared("sid"),
            "aid": shared("aid", "Account id of the owning account."),
            "type": s("Always subscriber.", enum=["subscriber"]),
            "plan": s("Name of the subscriber's plan."),
            "plan_activation": date("When the current plan started."),
            "plan_deactivation": date("When the current plan ended."),
            "former_plan": s("The plan before the last plan change."),
            "play": s("Play (product family) of the subscriber, e.g. Default."),
            "firstname": s("First name."),
            "lastname": s("Last name."),
            "address": s("Address."),
            "country": s("Country."),
            "activation_date": date("When the subscriber was activated."),
            "deactivation_date": date("When the subscriber was deactivated."),
            "services": arr("Services attached to the subscriber.", shared("service_entry")),
            "discounts": arr(
                "Discounts given to the subscriber.",
                obj(
                    "A discount of the subscriber.",
                    {
                        "key": s("Discount key."),
                        "from": date("Start of the discount."),
                        "to": date("End of the discount."),
                    },
                ),
            ),
            "overrides": arr("Subscriber-level price overrides.", shared("price_override")),
            **_revision("subscriber"),
        },
    ),
    "plans": (
        "A plan: the recurring charge and the included usage of a subscriber.",
        {
            "name": s("Plan name (its key)."),
            "description": s("Human name of the plan."),
            "price": arr("Recurring price by cycle range.", shared("price_tier")),
            "recurrence": shared("recurrence"),
            "upfront": b("Whether the plan is charged at the start of the cycle."),
            "connection_type": s("postpaid or prepaid.", enum=["postpaid", "prepaid"]),
            "charging_type": s("Charging type, e.g. postpaid or prepaid."),
            "prorated_start": b("Whether the first cycle is prorated."),
            "prorated_end": b("Whether the last cycle is prorated."),
            "prorated_termination": b("Whether termination is prorated."),
            "tax": arr("Taxation of the plan.", shared("tax_entry")),
            "type": s("Plan type, e.g. customer."),
            "rates": obj("Plan-specific rate overrides, by rate key."),
            "include": obj("Usage included in the plan."),
            "disallowed_rates": arr("Rates the plan does not allow.", s("A rate key.")),
            "notifications_threshold": obj("Balance notification thresholds."),
            "pp_threshold": obj("Prepaid thresholds, by prepaid bucket id."),
            "rounding_rules": obj("Rounding of charges."),
            **_revision("plan"),
        },
    ),
    "services": (
        "A service (add-on) that can be attached to subscribers.",
        {
            "name": s("Service name (its key)."),
            "description": s("Human name of the service."),
            "price": arr("Recurring price by cycle range.", shared("price_tier")),
            "recurrence": shared("recurrence"),
            "include": obj("Usage included in the service."),
            "prorated": b("Whether the service is prorated."),
            "quantitative": b("Whether the service has a quantity."),
            "balance_period": s("Period of the service's balance, e.g. default."),
            "rates": obj("Service-specific rate overrides, by rate key."),
            "tax": arr("Taxation of the service.", shared("tax_entry")),
            "vatable": b("Whether VAT applies."),
            "rounding_rules": obj("Rounding of charges."),
            **_revision("service"),
        },
    ),
    "rates": (
        "A rate (a product): how a kind of usage is priced.",
        {
            "key": s("Rate key."),
            "description": s("Human name of the rate."),
            "rates": obj(
                "Prices by usage type, then by plan name or BASE.",
                values=obj(
                    "Prices of one usage type, by plan name or BASE.",
                    values=obj(
                        "The price of this usage type under one plan.",
                        {
                            "rate": arr("Pricing steps.", shared("rate_step")),
                            "percentage": n("Percentage of the base price, for plan overrides."),
                        },
                    ),
                ),
            ),
            "tariff_category": s("Tariff category, e.g. retail."),
            "pricing_method": s("tiered or volume.", enum=["tiered", "volume"]),
            "add_to_retail": b("Whether the rate is added to the retail tariff."),
            "invoice_label": s("Label printed on invoices."),
            "params": obj("Matching parameters (prefixes, conditions)."),
            "tax": arr("Taxation of the rate.", shared("tax_entry")),
            "rounding_rules": obj("Rounding of charges."),
            **_revision("rate"),
        },
    ),
    "taxes": (
        "A tax rate.",
        {
            "key": s("Tax key."),
            "description": s("Human name of the tax."),
            "rate": n("Tax rate as a fraction, e.g. 0.17."),
            "embed_tax": b("Whether prices include the tax."),
            **_revision("tax"),
        },
    ),
    "prepaidincludes": (
        "A prepaid bucket (prepaid include).",
        {
            "name": s("Bucket name."),
            "external_id": i("Numeric id used by charging."),
            "description": s("Human name of the bucket."),
            "charging_by": s("What the bucket counts.", enum=["usagev", "cost", "total_cost"]),
            "charging_by_usaget": s("Usage type the bucket applies to, e.g. call or data."),
            "charging_by_usaget_unit": s("Unit of that usage type, e.g. seconds or byte."),
            "priority": i("Order in which buckets are used."),
            "shared": b("Whether the bucket is shared by the account's subscribers."),
            "unlimited": b("Whether the bucket is unlimited."),
            "allowed_in": obj("Plans and rates in which the bucket may be used."),
            "additional_charging_usaget": arr("Further usage types charged from the bucket.", s("A usage type.")),
            **_revision("prepaid bucket"),
        },
    ),
    "prepaidgroups": (
        "A prepaid group: a bundle of usage sold as a unit.",
        {
            "name": s("Group name."),
            "description": s("Human name of the group."),
            "include": obj("Usage included in the group."),
            "charging_value": n("Value charged to the buckets."),
            "operation": s("How the value is applied, e.g. inc or set."),
            **_revision("prepaid group"),
        },
    ),
    "discounts": ("A discount.", _discount_like("discount")),
    "charges": (
        "A charge: a one-off or recurring amount added to bills, defined like a discount.",
        _discount_like("charge"),
    ),
    "users": (
        "A BillRun user (the password is never sent).",
        {
            "username": s("User name."),
            "roles": arr("Permissions of the user.", s("A role: read, write or admin.")),
            **_revision("user"),
        },
    ),
    "autorenew": (
        "An auto-renewal: a bucket group renewed for a subscriber on a schedule.",
        {
            "aid": shared("aid"),
            "sid": shared("sid"),
            "bucket_group": s("The prepaid group renewed."),
            "interval": s("Renewal interval, day or month."),
            "cycles": i("Number of renewals in total."),
            "cycles_remaining": i("Renewals still to come."),
            "next_renew": date("When the next renewal happens."),
            "immediate": b("Whether the first renewal happened at once."),
            **_revision("auto-renewal"),
        },
    ),
    "balances": (
        "A balance: a subscriber's usage counters and charges for a period, or a prepaid bucket.",
        {
            "aid": shared("aid"),
            "sid": shared("sid"),
            "from": date("Start of the balance period."),
            "to": date("End of the balance period."),
            "connection_type": s("postpaid or prepaid.", enum=["postpaid", "prepaid"]),
            "current_plan": shared("db_ref", "The plan the balance belongs to."),
            "plan_description": s("Human name of the plan."),
            "start_period": s("Period the balance started in, e.g. default."),
            "period": s("Balance period, e.g. default."),
            "service_name": s("Service the balance belongs to, for service balances."),
            "priority": i("Order in which prepaid balances are used."),
            "charging_by": s("What a prepaid balance counts: usagev, cost or total_cost."),
            "charging_by_usaget": s("Usage type a prepaid balance applies to."),
            "pp_includes_name": s("Name of the prepaid bucket."),
            "pp_includes_external_id": i("External id of the prepaid bucket."),
            "service_provider": s("Service provider."),
            "balance": obj(
                "The counters.",
                {
                    "cost": money("Total cost in the period (postpaid) or money left (prepaid)."),
                    "totals": obj(
                        "Totals by usage type.",
                        values=obj(
                            "Totals of one usage type.",
                            {
                                "usagev": n("Usage volume."),
                                "cost": money("Cost."),
                                "count": i("Number of usage lines."),
                                "out_group": obj("Usage outside included groups.", {"usagev": n("Usage volume.")}),
                                "over_group": obj("Usage over included groups.", {"usagev": n("Usage volume.")}),
                            },
                        ),
                    ),
                    "groups": obj(
                        "Included usage groups, by group name.",
                        values=obj(
                            "One included group.",
                            {
                                "usagev": n("Usage volume used."),
                                "cost": money("Cost used."),
                                "count": i("Number of usage lines."),
                                "left": n("Volume left."),
                                "total": n("Volume included."),
                            },
                        ),
                    ),
                },
            ),
            "tx": obj("Pricing data of recent usage lines, by line stamp."),
        },
    ),
    "reports": (
        "A saved report of BillRun's report builder.",
        {
            "key": s("Report key."),
            "user": s("User who owns the report."),
            "entity": s("What the report lists, e.g. usage or subscription."),
            "type": i("Report type: 0 a list, 1 grouped."),
            "conditions": arr("Filters of the report.", obj("A filter.")),
            "columns": arr("Columns of the report.", obj("A column.")),
            "sorts": arr("Sort order of the report.", obj("A sort.")),
            "formats": arr("Value formats of the report.", obj("A format.")),
            **_revision("report"),
        },
    ),
    "suggestions": (
        "A rebalance suggestion: a credit or debit BillRun proposes after a retroactive price change.",
        {
            "recalculation_type": s("What was recalculated, e.g. rates."),
            "aid": shared("aid"),
            "sid": shared("sid"),
            "firstname": s("Subscriber's first name."),
            "lastname": s("Subscriber's last name."),
            "billrun_key": s("Billing cycle of the usage, e.g. 202401."),
            "min_urt_line": date("Time of the earliest usage line concerned."),
            "max_urt_line": date("Time of the latest usage line concerned."),
            "usagev": n("Usage volume concerned."),
            "key": s("Key of the rate concerned."),
            "status": s("Status of the suggestion, e.g. open, accept or reject."),
            "total_lines": i("Number of usage lines concerned."),
            "retroactive_changes_info": arr(
                "The price changes behind the suggestion.",
                obj(
                    "A price change.",
                    {
                        "audit_stamp": s("Audit trail entry of the change."),
                        "urt": date("When the change was made."),
                        "from": date("From when the change applies."),
                    },
                ),
            ),
            "old_charge": money("What was charged."),
            "new_charge": money("What should have been charged."),
            "amount": money("The difference (positive)."),
            "type": s("debit or credit.", enum=["debit", "credit"]),
            "stamp": s("Unique id of the suggestion."),
            "urt": date("When the suggestion was made."),
            "from": date("Start of the cycle concerned."),
            "to": date("End of the cycle concerned."),
        },
    ),
    "jobs_messages": (
        "A message of BillRun's jobs queue.",
        {
            "queue_name": s("Name of the queue."),
            "body": obj(
                "The job.",
                {
                    "type": s("Job type, e.g. cycle or generateInvoices."),
                    "config": obj("Settings of the job."),
                    "parent": s("md5 of the parent job."),
                },
            ),
            "md5": s("Id of the job message."),
            "done": or_string(b("Whether the job is done (cancelled jobs are done).")),
            "cancelled": or_string(b("Whether the job was cancelled.")),
            "cancel_time": date("When the job was cancelled."),
            "includeChildJobs": or_string(b("Whether the child jobs were cancelled with it.")),
        },
    ),
    "lines": (
        "A usage line (CDR) as BillRun rated it.",
        {
            "stamp": s("Unique line id (an md5)."),
            "type": s("Input processor type, e.g. ggsn or nsn."),
            "usaget": s("Usage type, e.g. call, sms or data."),
            "usagev": n("Usage volume in the unit of the usage type."),
            "usagev_unit": s("Unit of the volume, e.g. seconds or byte."),
            "urt": date("When the usage happened."),
            "aid": shared("aid"),
            "sid": shared("sid"),
            "plan": s("Subscriber's plan when rated."),
            "arate_key": s("Key of the rate applied."),
            "aprice": money("Price of the line."),
            "billrun": s("Billing cycle key, e.g. 202401."),
            "granted_usagev": n("Volume granted (prepaid)."),
            "granted_cost": money("Cost granted (prepaid)."),
            "process_time": date("When BillRun processed the line."),
        },
    ),
    "queue": (
        "An entry of BillRun's processing queue.",
        {
            "stamp": s("Id of the queued line."),
            "type": s("Input processor type."),
            "urt": date("When the usage happened."),
            "calc_name": s("Last calculator that ran, e.g. customer, rate or pricing."),
            "aid": shared("aid"),
            "sid": shared("sid"),
            "in_queue_since": date("When the line entered the queue."),
        },
    ),
}

_BILL_COMMON: dict[str, Schema] = {
    "aid": shared("aid"),
    "billrun_key": s("Billing cycle key, e.g. 202401."),
    "method": s("How the customer pays or paid, e.g. automatic, cash or cheque."),
    "amount": money("Amount (positive)."),
    "due": money("Amount due: negative for payments from the customer."),
    "paid": s("Payment status: 0 unpaid, 1 paid, 2 pending.", enum=["0", "1", "2"]),
    "total_paid": money("Amount paid so far."),
    "left_to_pay": money("Amount still to pay."),
    "left": money("Credit left to assign to invoices."),
    "urt": date("Time of the bill."),
    "due_date": date("When payment is due."),
    "confirmation_time": date("When the bill was confirmed."),
    "charge": obj("Charging constraints.", {"not_before": date("Earliest time to charge.")}),
    "payer_name": s("Name of the payer."),
    "note": s("Free note."),
    "uf": obj("User fields."),
}

DOCUMENT_FIELDS: dict[str, tuple[str, dict[str, Schema], tuple[str, ...]]] = {
    "payment": (
        "A payment (receipt) document of BillRun's bills collection.",
        {
            "type": s("Always rec for payments.", enum=["rec"]),
            **_BILL_COMMON,
            "dir": s("fc: from customer, tc: to customer (refunds).", enum=["fc", "tc"]),
            "txid": s("Payment transaction id, 13 zero-padded digits."),
            "waiting_for_confirmation": b("Whether the gateway has still to confirm the payment."),
            "pending": b("Whether the payment is pending."),
            "source": s("Where the payment came from, e.g. POS or web."),
            "pays": arr("Invoices and payments this payment covers.", shared("allocation")),
            "paid_by": arr("Payments that cover this one.", shared("allocation")),
            "gateway_details": obj(
                "The gateway transaction.",
                {
                    "name": s("Gateway name."),
                    "amount": money("Amount charged by the gateway."),
                    "currency": s("Currency code, e.g. USD."),
                    "instance_name": s("Gateway instance."),
                    "transferred_amount": money("Amount transferred."),
                },
            ),
            "payment_gateway": obj(
                "The gateway and its transaction id.",
                {
                    "name": s("Gateway name."),
                    "transactionId": s("Gateway transaction id."),
                },
            ),
            "vendor_response": obj(
                "The gateway's response.",
                {
                    "name": s("Gateway name."),
                    "status": s("Gateway status code."),
                },
            ),
            "rejected": b("Whether the payment was rejected."),
            "rejection_code": s("Gateway rejection code."),
            "original_txid": s("Transaction id of the payment this one corrects or rejects."),
            "cancelled": b("Whether the payment was cancelled."),
            "payment_method": or_string(
                obj(
                    "The card paid with, as CreditGuard reports it; a custom payment gateway's response file"
                    " may give it as text instead.",
                    {
                        "expiration_date": s("Card expiry, e.g. 0427."),
                        "last_four_digits": s("Last four digits of the card."),
                    },
                )
            ),
        },
        ("aid",),
    ),
    "invoice": (
        "An invoice document of BillRun's bills collection.",
        {
            "type": s("Always inv for invoices.", enum=["inv"]),
            "invoice_id": i("Invoice number."),
            **_BILL_COMMON,
            "invoice_type": s("Invoice type, e.g. regular."),
            "invoice_file": s("Path of the invoice PDF on the BillRun server."),
            "invoice_date": date("Date printed on the invoice."),
            "customer_status": s("Collection status of the customer, e.g. open."),
            "due_before_vat": money("Amount due before VAT."),
            "vatable_left_to_pay": money("VAT-able part of the amount left to pay."),
            "firstname": s("Customer's first name."),
            "lastname": s("Customer's last name."),
            "country_code": s("Customer's country code."),
            "bank_name": s("Customer's bank."),
            "BIC": s("Bank BIC."),
            "IBAN": s("Bank IBAN."),
            "RUM": s("SEPA mandate reference."),
            "bill_unit": s("Billing unit."),
            "billed": i("1 once the invoice was billed."),
            "tx": s("Transaction hash of the invoice."),
            "invoicing_day": i("Invoicing day of the account."),
            "suspend_debit": b("Whether direct debit is suspended."),
        },
        ("aid", "invoice_id"),
    ),
    "denial": (
        "A charge denied by the customer, from the CreditGuard denials file.",
        {
            "aid": shared("aid"),
            "amount": money("Denied amount."),
            "transaction_id": s("Gateway transaction id of the denied charge."),
            "stamp": s("Id of the denials file row."),
            "row_number": i("Row in the denials file."),
            "vendor_fields": obj(
                "Fields of the denials file.",
                {
                    "vendor_name": s("Always CreditGuard."),
                    "cg_clearing_by": s("Clearing company."),
                    "terminal_number": s("Terminal number."),
                    "supplier_num": s("Supplier number."),
                    "rikuz": s("Batch number."),
                    "shovar_num": s("Voucher number."),
                    "status": s("Status code."),
                    "addon_data": s("Extra data."),
                },
            ),
        },
        ("aid",),
    ),
    "billing_event": (
        "A billing event: a balance threshold or fraud rule that was reached.",
        {
            "event_code": s("Code of the configured event."),
            "event_description": s("Description of the configured event."),
            "event_type": s("balance or fraud.", enum=["balance", "fraud"]),
            "active": b("Whether the event is enabled."),
            "conditions": arr(
                "Conditions of the event.",
                obj(
                    "A condition.",
                    {
                        "type": s("Comparison, e.g. reached_percentage or reached_constant."),
                        "path": s("Balance field compared."),
                        "value": n("Threshold."),
                        "unit": s("Unit of the threshold."),
                        "usaget": s("Usage type."),
                        "property_type": s("Property compared, e.g. usagev."),
                    },
                ),
            ),
            "creation_time": date("When the event was raised."),
            "extra_params": obj(
                "What raised it.",
                {
                    "aid": shared("aid"),
                    "sid": shared("sid"),
                    "line_stamp": s("Stamp of the usage line that raised it."),
                    "row": obj(
                        "The usage line, abbreviated.",
                        {
                            "usagev": n("Usage volume."),
                            "urt": i("Time of the usage, Unix seconds."),
                            "usaget": s("Usage type."),
                            "stamp": s("Line stamp."),
                            "unit": s("Unit of the volume."),
                        },
                    ),
                },
            ),
            "before": n("Value at the condition path before the usage (balance events)."),
            "after": n("Value at the condition path after the usage (balance events)."),
            "based_on": s("Field the value is based on, e.g. usagev."),
            "group_total": n("Size of the included group."),
            "reached_constant": n("Threshold reached."),
            "reached_constant_percentage": n("Threshold reached, in percent."),
            "stamp": s("Unique id of the event (an md5)."),
        },
        (),
    ),
    "collection_step": (
        "A dunning step of the collection process.",
        {
            "process_name": s("Collection process, e.g. default."),
            "step_code": s("The step name; it is also the event's action."),
            "step_type": s("How the step acts, e.g. http, httpnoack, mail or sms."),
            "step_config": obj("The step's settings (custom parameters are in extra_params)."),
            "extra_params": obj("The account and the step's custom parameters.", {"aid": shared("aid")}),
            "stamp": s("Unique id of the step run."),
            "trigger_date": date("When the step was due."),
            "creation_time": date("When the step was created."),
        },
        ("step_code",),
    ),
    "collection_state_change": (
        "A change of collection state for a batch of accounts.",
        {
            "step_code": s("Always collection state change.", enum=["collection state change"]),
            "step_type": s("Always httpnoack."),
            "step_config": obj("Where the change is sent.", {"url": s("Target URL."), "method": s("HTTP method.")}),
            "extra_params": obj(
                "The change.",
                {
                    "state": s("The new state.", enum=["in_collection", "out_of_collection"]),
                    "aids": arr("Accounts that changed state (a batch, up to 500 by default).", shared("aid")),
                    "process_name": s("Collection process, e.g. default."),
                },
                required=("state", "aids"),
            ),
            "creation_time": date("When the change was made."),
        },
        ("extra_params",),
    ),
}

# bills.update carries a bill of either kind.
ENTITY_FIELDS["bills"] = (
    "A bill of BillRun's bills collection: an invoice (type inv) or a payment (type rec).",
    {
        **DOCUMENT_FIELDS["invoice"][1],
        **DOCUMENT_FIELDS["payment"][1],
        "type": s("inv (an invoice) or rec (a payment).", enum=["inv", "rec"]),
    },
)


def entity_ref(module: str) -> str:
    return f"../entities/{module}.json"


def document_ref(name: str) -> str:
    return f"../documents/{name}.json"


MODIFIED_USER = s(
    "Who made the change: the UI user name, the OAuth client id, or _3RD_PARTY_TOKEN_ for"
    " signed API calls and cron jobs."
)


def entity_change(module: str, required: tuple[str, ...]) -> Schema:
    """The payload of an audit-trail change of *module* (a login carries only ``modifiedUser``)."""
    if module not in ENTITY_FIELDS:
        return obj(
            "Who: BillRun sends no before or after.", {"modifiedUser": MODIFIED_USER}, required=("modifiedUser",)
        )
    return obj(
        "The change: the entity before and after it.",
        {
            "before": ref(entity_ref(module), "The entity before the change (absent on create)."),
            "after": ref(entity_ref(module), "The entity after the change (absent on delete)."),
            "modifiedUser": MODIFIED_USER,
        },
        required=required,
    )


PAYLOADS: dict[str, Schema] = {
    "payment_bill": obj(
        "The payment.", {"bill": ref(document_ref("payment"), "The payment document.")}, required=("bill",)
    ),
    "invoice_bill": obj(
        "The confirmed invoice.", {"bill": ref(document_ref("invoice"), "The invoice document.")}, required=("bill",)
    ),
    "denial_bill": obj("The denial.", {"bill": ref(document_ref("denial"), "The denied charge.")}, required=("bill",)),
    "payment_adjusted": obj(
        "The adjustment.",
        {
            "old": money("The payment's original amount."),
            "new": money("The adjusted amount (0 when the payment was only cancelled)."),
            "aid": shared("aid"),
        },
        required=("old", "new", "aid"),
    ),
    "balance_update": obj(
        "The usage line and the balance it changed.",
        {
            "before": ref(entity_ref("lines"), "The usage line being rated (not the old balance)."),
            "after": ref(entity_ref("balances"), "The balance after the update."),
        },
        required=("before", "after"),
    ),
    "balance_creation": obj(
        "Never sent by BillRun; accepted through the connector's own ingest API.",
        {
            "after": ref(entity_ref("balances"), "The balance that was created."),
        },
        required=("after",),
    ),
    "event_create": obj(
        "The billing event and the entity it is about.",
        {
            "event": ref(document_ref("billing_event"), "The billing event."),
            "before": ref(entity_ref("balances"), "The whole balance before the usage."),
            "after": ref(entity_ref("balances"), "The whole balance after the usage."),
        },
        required=("event",),
    ),
    "event_notify": obj(
        "BillRun's body carries no details (the event object cannot be form-encoded).",
        {
            "event": ref(document_ref("billing_event"), "The billing event, when the sender includes it."),
        },
    ),
    "collection_state": obj(
        "The state change.",
        {
            "step": ref(document_ref("collection_state_change"), "The collection state change."),
        },
        required=("step",),
    ),
    "collection_step": obj(
        "The step that ran.",
        {
            "step": ref(document_ref("collection_step"), "The dunning step."),
        },
        required=("step",),
    ),
}

ENTITY_REQUIRED: dict[str, tuple[str, ...]] = {
    "create": ("after", "modifiedUser"),
    "delete": ("before", "modifiedUser"),
    "reopen": ("after", "modifiedUser"),
}
# Types whose payload BillRun sends with fewer parts than their action's.
TYPE_REQUIRED: dict[str, tuple[str, ...]] = {
    "balances.update": ("after", "modifiedUser"),  # a first prepaid top-up has no before
}
CHANGE_REQUIRED = ("before", "after", "modifiedUser")


def change_required(module: str, action: str) -> tuple[str, ...]:
    """The parts of an audit-trail change BillRun always sends for *module* and *action*."""
    return TYPE_REQUIRED.get(f"{module}.{action}") or ENTITY_REQUIRED.get(action, CHANGE_REQUIRED)
