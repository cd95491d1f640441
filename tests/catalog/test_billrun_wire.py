"""Decoding BillRun's PHP form bodies and normalising them by schema."""

from __future__ import annotations

import json

import pytest

from connector.billrun import (
    MAX_DEPTH,
    MAX_FIELDS,
    BodyTooLarge,
    MalformedFieldName,
    NestingTooDeep,
    TooManyFields,
    UnknownDeliveryType,
    UnsupportedContentType,
    WireFormatError,
    decode_form,
    normalise,
    parse_delivery,
)

FORM = "application/x-www-form-urlencoded"


def test_bracket_notation_spaces_and_percent_escapes() -> None:
    body = (
        b"module=subscribers&action=update&before%5Bservices%5D%5B0%5D%5Bname%5D=INTL+PACK"
        b"&before[address]=4%20Rothschild+Blvd%2C%20Tel%20Aviv&after[firstname]=%D7%93%D7%A0%D7%94"
    )
    assert decode_form(body) == {
        "module": "subscribers",
        "action": "update",
        "before": {"services": {"0": {"name": "INTL PACK"}}, "address": "4 Rothschild Blvd, Tel Aviv"},
        "after": {"firstname": "דנה"},
    }


def test_php_rules_for_appends_and_repeated_names() -> None:
    assert decode_form(b"a[]=x&a[]=y&a[5]=z&a[]=w") == {"a": {"0": "x", "1": "y", "5": "z", "6": "w"}}
    assert decode_form(b"a=1&a[b]=2") == {"a": {"b": "2"}}
    assert decode_form(b"a[b]=2&a=1") == {"a": "1"}
    assert decode_form(b"flag&empty=") == {"flag": "", "empty": ""}
    assert decode_form(b"") == {}


@pytest.mark.parametrize(
    "body", [b"before[aid=1", b"before]aid[=1", b"before[aid]x=1", b"[aid]=1", b"=1", b"a[b[c]]=1"]
)
def test_malformed_names_are_rejected(body: bytes) -> None:
    with pytest.raises(MalformedFieldName, match="malformed"):
        decode_form(body)


def test_limits() -> None:
    deep = "a" + "[x]" * MAX_DEPTH + "=1"
    with pytest.raises(NestingTooDeep, match="32"):
        decode_form(deep.encode())
    assert decode_form(("a" + "[x]" * (MAX_DEPTH - 1) + "=1").encode())
    with pytest.raises(TooManyFields, match="10000"):
        decode_form(b"&".join(b"f%d=1" % n for n in range(MAX_FIELDS + 1)))
    assert len(decode_form(b"&".join(b"f%d=1" % n for n in range(MAX_FIELDS)))) == MAX_FIELDS
    with pytest.raises(BodyTooLarge, match="limit"):
        decode_form(b"a=" + b"x" * 100, max_bytes=50)
    with pytest.raises(WireFormatError, match="UTF-8"):
        decode_form(b"a=%ff%fe")


def test_appending_many_items_stays_linear() -> None:
    body = b"&".join([b"a[]=1"] * MAX_FIELDS)
    assert len(decode_form(body)["a"]) == MAX_FIELDS


def test_schema_driven_types() -> None:
    raw = {
        "after": {
            "aid": "1001",
            "sid": "12",
            "in_collection": "0",
            "invoice_detailed": "1",
            "invoicing_day": "1",
            "from": {"sec": "1706659200", "usec": "0"},
            "to": {"sec": "6408441600", "usec": "250000"},
            "services": {"1": {"name": "B", "service_id": "7"}, "0": {"name": "A", "quantity": "2"}},
            "custom_field": {"0": "kept", "1": "as sent"},
            "zip_code": "0610010",
            "payment_gateway": {"active": {"name": "CreditGuard", "generate_token_time": "2024-01-31T11:12:44+02:00"}},
        },
        "modifiedUser": "admin",
    }
    after = normalise("accounts.create", raw)["after"]
    assert after["aid"] == 1001 and after["sid"] == "12"  # sid is not an account field: passed as sent
    assert after["in_collection"] is False and after["invoice_detailed"] is True and after["invoicing_day"] == 1
    assert after["from"] == "2024-01-31T00:00:00Z"
    assert after["to"] == "2173-01-27T18:40:00.250000Z"
    assert after["services"] == [{"name": "A", "quantity": 2}, {"name": "B", "service_id": 7}]
    assert after["custom_field"] == ["kept", "as sent"]  # undeclared, but PHP's way of writing a list
    assert after["zip_code"] == "0610010"
    assert after["payment_gateway"]["active"]["generate_token_time"] == "2024-01-31T09:12:44Z"


def test_values_that_do_not_fit_are_left_for_the_validator() -> None:
    data = normalise("bills.afterPaymentAdjusted", {"old": "a lot", "new": "80.5", "aid": "12.5"})
    assert data == {"old": "a lot", "new": 80.5, "aid": "12.5"}
    rate = normalise(
        "rates.create",
        {
            "after": {"rates": {"call": {"BASE": {"rate": {"0": {"from": "0", "to": "UNLIMITED", "price": "0.12"}}}}}},
            "modifiedUser": "admin",
        },
    )
    step = rate["after"]["rates"]["call"]["BASE"]["rate"][0]
    assert step == {"from": 0, "to": "UNLIMITED", "price": 0.12}
    payment = normalise(
        "bills.afterChargeSuccess",
        {
            "bill": {
                "aid": "1",
                "txid": "0000000000042",
                "pays": {"0": {"type": "rec", "id": "0000000000042"}, "1": {"type": "inv", "id": "101"}},
            }
        },
    )
    assert payment["bill"]["txid"] == "0000000000042"
    assert payment["bill"]["pays"] == [{"type": "rec", "id": "0000000000042"}, {"type": "inv", "id": 101}]
    dates = normalise("subscribers.create", {"after": {"from": {"sec": "99999999999999999"}, "to": "soon"}})
    assert dates["after"] == {"from": {"sec": "99999999999999999"}, "to": "soon"}


def test_collection_state_change_has_a_list_of_accounts() -> None:
    body = (
        b"module=collection&action=in_collection&step[step_code]=collection+state+change"
        b"&step[step_type]=httpnoack&step[extra_params][state]=in_collection&step[extra_params][aids][0]=1"
        b"&step[extra_params][aids][1]=7&step[creation_time]=2024-02-01T10%3A00%3A00%2B00%3A00"
    )
    type_name, data = parse_delivery(body, FORM)
    assert type_name == "collection.in_collection"
    assert data["step"]["extra_params"]["aids"] == [1, 7]
    assert data["step"]["creation_time"] == "2024-02-01T10:00:00Z"


def test_custom_step_and_case_insensitive_names() -> None:
    type_name, data = parse_delivery(
        b"module=collection&action=send_reminder_sms&step[extra_params][aid]=5&step[step_code]=send_reminder_sms",
        f"{FORM}; charset=UTF-8",
    )
    assert type_name == "collection.send_reminder_sms"
    assert data["step"]["extra_params"]["aid"] == 5
    assert parse_delivery(b"module=Bills&action=afterchargesuccess&bill[aid]=3", FORM) == (
        "bills.afterChargeSuccess",
        {"bill": {"aid": 3}},
    )


def test_json_bodies() -> None:
    body = json.dumps(
        {
            "module": "subscribers",
            "action": "delete",
            "modifiedUser": "crm",
            "before": {"sid": 12, "aid": "1001", "from": {"sec": 1706659200, "usec": 0}},
        }
    ).encode()
    assert parse_delivery(body, "application/json") == (
        "subscribers.delete",
        {"modifiedUser": "crm", "before": {"sid": 12, "aid": 1001, "from": "2024-01-31T00:00:00Z"}},
    )
    assert parse_delivery(b' {"module":"events","action":"notify"}', "")[0] == "events.notify"
    assert parse_delivery(b"module=events&action=notify", "") == ("events.notify", {})


@pytest.mark.parametrize(
    "body,content_type,error,message",
    [
        (b"module=subscribers&action=trackchanges", FORM, UnknownDeliveryType, "names a group of events"),
        (b"module=collection&action=*", FORM, UnknownDeliveryType, "names a group of events"),
        (b"module=no+thing&action=create", FORM, UnknownDeliveryType, "do not name a BillRun event"),
        (b"module=accounts&action=" + b"x" * 256, FORM, UnknownDeliveryType, "do not name a BillRun event"),
        (b"action=create", FORM, UnknownDeliveryType, "module and action"),
        (b"module[x]=subscribers&action=create", FORM, UnknownDeliveryType, "module and action"),
        (b"[1, 2]", "application/json", WireFormatError, "must be an object"),
        (b"{not json", "application/json", WireFormatError, "not valid JSON"),
        (b"[" * 100_000, "application/json", NestingTooDeep, "32"),
        (
            b'{"module": "subscribers", "a": ' + b"[" * 40 + b"1" + b"]" * 40 + b"}",
            "application/json",
            NestingTooDeep,
            "32",
        ),
        (b"<xml/>", "text/xml", UnsupportedContentType, "text/xml"),
    ],
)
def test_bad_deliveries_get_clear_errors(body: bytes, content_type: str, error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=message):
        parse_delivery(body, content_type)


def test_json_bodies_have_the_same_size_limit() -> None:
    with pytest.raises(BodyTooLarge):
        parse_delivery(
            b'{"module": "events", "action": "notify", "pad": "' + b"x" * 200 + b'"}', "application/json", max_bytes=100
        )


def test_normalise_unknown_type() -> None:
    """A type the catalog does not know is typed by its module's schema, else by *'s; undeclared
    members are normalised generically."""
    raw = {
        "after": {
            "sid": "5",
            "when": {"sec": "1706659200", "usec": "250000"},
            "tags": {"0": "a", "1": "b"},
            "sparse": {"0": "a", "2": "c"},
            "note": "12",
        }
    }
    assert normalise("subscribers.rename", raw)["after"] == {
        "sid": "5",
        "when": "2024-01-31T00:00:00.250000Z",
        "tags": ["a", "b"],
        "sparse": {"0": "a", "2": "c"},
        "note": "12",
    }
    assert normalise("warehouse.restock", {"at": {"sec": "0"}}) == {"at": "1970-01-01T00:00:00Z"}
    with pytest.raises(UnknownDeliveryType):
        normalise("no module", {})
