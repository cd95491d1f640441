"""Decoding BillRun's PHP form bodies as PHP does, and normalising them by schema without ever failing.

tests/php/ proves the decoder against PHP's own parse_str; these tests pin the rules and the notes.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from connector.billrun import (
    MAX_DEPTH,
    BodyTooLarge,
    NestingTooDeep,
    UnknownDeliveryType,
    UnsupportedContentType,
    WireFormatError,
    decode_form,
    normalise,
    parse_delivery,
)
from connector.catalog import MAX_ACTION
from connector.php import MAX_NESTING

FORM = "application/x-www-form-urlencoded"


def fields(body: bytes) -> dict[str, Any]:
    decoded, notes = decode_form(body)
    assert notes == [], notes
    return decoded


def test_bracket_notation_spaces_and_percent_escapes() -> None:
    body = (
        b"module=subscribers&action=update&before%5Bservices%5D%5B0%5D%5Bname%5D=INTL+PACK"
        b"&before[address]=4%20Rothschild+Blvd%2C%20Tel%20Aviv&after[firstname]=%D7%93%D7%A0%D7%94"
    )
    assert fields(body) == {
        "module": "subscribers",
        "action": "update",
        "before": {"services": {"0": {"name": "INTL PACK"}}, "address": "4 Rothschild Blvd, Tel Aviv"},
        "after": {"firstname": "דנה"},
    }


def test_php_rules_for_appends_and_repeated_names() -> None:
    assert fields(b"a[]=x&a[]=y&a[5]=z&a[]=w") == {"a": {"0": "x", "1": "y", "5": "z", "6": "w"}}
    assert fields(b"a[-5]=x&a[]=y&b[ ]=z&b[\t]=w") == {"a": {"-5": "x", "-4": "y"}, "b": {"0": "z", "1": "w"}}
    assert fields(b"a=1&a[b]=2") == {"a": {"b": "2"}}
    assert fields(b"a[b]=2&a=1") == {"a": "1"}
    assert fields(b"a[b][c]=1&a[b]=2&a[b][d]=3") == {"a": {"b": {"d": "3"}}}
    assert fields(b"flag&empty=&&") == {"flag": "", "empty": ""}
    assert fields(b"") == {}


def test_keys_holding_brackets_decode_as_php_does() -> None:
    """A balance group named ``DATA [5GB]``: PHP ends a key at the first ``]`` and ignores what follows it."""
    body = b"after[balance][groups][DATA+%5B5GB%5D][usagev]=1&after[balance][groups][DATA+%5B5GB%5D][count]=2"
    assert fields(body) == {"after": {"balance": {"groups": {"DATA [5GB": "2"}}}}
    assert fields(b"a[b[c]]=1&a[b]x=2&c]d=3&e[f=4&g.h+i=5&++j=6") == {
        "a": {"b[c": "1", "b": "2"},
        "c]d": "3",
        "e_f": "4",
        "g_h_i": "5",
        "j": "6",
    }
    assert fields(b"a[x=1&a[y]=2") == {"a_x": "1", "a": {"y": "2"}}


def test_what_php_drops_is_dropped_and_said() -> None:
    decoded, notes = decode_form(b"=1&[x]=2&+=3&a%00b=4&c[d%00]=5&ok=6")
    assert decoded == {"a": "4", "c_d": "5", "ok": "6"}
    assert [note for note in notes if "without a name" in note] == [
        "field '=1' dropped: PHP ignores a field without a name",
        "field '[x]=2' dropped: PHP ignores a field without a name",
        "field '+=3' dropped: PHP ignores a field without a name",
    ]
    decoded, notes = decode_form(b"p[9223372036854775806]=a&p[]=b&p[]=c")
    assert decoded == {"p": {"9223372036854775806": "a", "9223372036854775807": "b"}}
    assert notes == ["field 'p[...][]' dropped: no array index is left after 9223372036854775807"]


def test_nesting_as_deep_as_php_allows() -> None:
    deepest = b"a" + b"[x]" * MAX_NESTING + b"=1"
    decoded = fields(deepest)
    for _ in range(MAX_NESTING + 1):
        decoded = decoded["a" if "a" in decoded else "x"]
    assert decoded == "1"
    # One level more: PHP drops the whole variable, including what came before; later fields stay.
    decoded, notes = decode_form(b"a[keep]=1&" + b"a" + b"[x]" * (MAX_NESTING + 1) + b"=2&b=3&a[again]=4")
    assert decoded == {"b": "3", "a": {"again": "4"}}
    assert notes == ["variable 'a' dropped: a field nests deeper than 64 levels, and PHP then drops the whole variable"]


def test_any_number_of_fields_within_the_size_limit() -> None:
    body = b"&".join(b"f%d=1" % n for n in range(30_000))
    assert len(fields(body)) == 30_000
    appended = fields(b"&".join([b"a[]=1"] * 30_000))["a"]  # appends stay linear
    assert len(appended) == 30_000 and appended["29999"] == "1"
    with pytest.raises(BodyTooLarge, match="limit"):
        decode_form(b"a=" + b"x" * 100, max_bytes=50)


def test_invalid_utf8_becomes_the_replacement_character_with_a_note() -> None:
    decoded, notes = decode_form(b"after[name]=Ann%ff&after[na%ed%a0%80me]=x")
    assert decoded == {"after": {"name": "Ann\ufffd", "na\ufffd\ufffd\ufffdme": "x"}}
    assert notes == [
        "a value of after 'Ann\ufffd': invalid UTF-8 replaced by U+FFFD",
        "field name 'after[na\ufffd\ufffd\ufffdme]': invalid UTF-8 replaced by U+FFFD",
    ]
    delivery = parse_delivery(b"module=accounts&action=create&after[firstname]=%ff&modifiedUser=crm", FORM)
    assert delivery.data["after"]["firstname"] == "\ufffd"
    assert delivery.notes == ("body: a value of after '\ufffd': invalid UTF-8 replaced by U+FFFD",)


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


def test_a_date_anywhere_becomes_iso_unless_an_object_is_wanted_there() -> None:
    when = {"sec": "1706659200", "usec": "0"}
    after = normalise("accounts.create", {"after": {"firstname": when, "payment_gateway": {"active": when}}})["after"]
    assert after["firstname"] == "2024-01-31T00:00:00Z"  # a string field: the date as ISO 8601
    assert after["payment_gateway"]["active"] == when  # an object field keeps its members


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


@pytest.mark.parametrize(
    "text",
    [
        "1e999",
        "-1e999",
        "NaN",
        "NAN",
        "INF",
        "-INF",
        "Infinity",
        "9223372036854775808",
        "-9223372036854775809",
        "9" * 5000,
    ],
)
def test_numbers_json_cannot_carry_stay_the_text(text: str) -> None:
    data = normalise("bills.afterPaymentAdjusted", {"old": text, "new": "1", "aid": text})
    assert data == {"old": text, "new": 1, "aid": text}
    json.dumps(data, allow_nan=False)  # strict JSON


def test_the_largest_integers_json_consumers_carry_are_numbers() -> None:
    data = normalise(
        "bills.afterPaymentAdjusted", {"old": "9223372036854775807", "new": "-9223372036854775808", "aid": "1"}
    )
    assert data == {"old": 9223372036854775807, "new": -9223372036854775808, "aid": 1}
    assert normalise("discounts.create", {"after": {"limit": "1.0E+20"}})["after"]["limit"] == 1e20  # PHP's way


def test_huge_list_indexes_never_fail() -> None:
    huge = "9" * 5000
    body = f"module=collection&action=in_collection&step[extra_params][aids][{huge}]=1&step[x][{huge}]=2".encode()
    delivery = parse_delivery(body, FORM)
    extra = delivery.data["step"]["extra_params"]
    assert extra["aids"] == {huge: "1"}  # not an index PHP knows: a map, which the schema flags
    assert delivery.data["step"]["x"] == {huge: "2"}
    step = parse_delivery(
        b"module=collection&action=in_collection&step[extra_params][aids][9223372036854775807]=7", FORM
    )
    assert step.data["step"]["extra_params"]["aids"] == [7]


def test_collection_state_change_has_a_list_of_accounts() -> None:
    body = (
        b"module=collection&action=in_collection&step[step_code]=collection+state+change"
        b"&step[step_type]=httpnoack&step[extra_params][state]=in_collection&step[extra_params][aids][0]=1"
        b"&step[extra_params][aids][1]=7&step[creation_time]=2024-02-01T10%3A00%3A00%2B00%3A00"
    )
    delivery = parse_delivery(body, FORM)
    assert delivery.type == "collection.in_collection" and delivery.notes == ()
    assert delivery.data["step"]["extra_params"]["aids"] == [1, 7]
    assert delivery.data["step"]["creation_time"] == "2024-02-01T10:00:00Z"


def test_custom_step_and_case_insensitive_names() -> None:
    delivery = parse_delivery(
        b"module=collection&action=send_reminder_sms&step[extra_params][aid]=5&step[step_code]=send_reminder_sms",
        f"{FORM}; charset=UTF-8",
    )
    assert delivery.type == "collection.send_reminder_sms"
    assert delivery.data["step"]["extra_params"]["aid"] == 5
    bills = parse_delivery(b"module=Bills&action=afterchargesuccess&bill[aid]=3", FORM)
    assert (bills.type, bills.data) == ("bills.afterChargeSuccess", {"bill": {"aid": 3}})


@pytest.mark.parametrize("step", ["Reminder (day 3)", "תזכורת SMS", "x" * MAX_ACTION, "50% off! #2, then: stop?"])
def test_every_step_name_is_a_type(step: str) -> None:
    body = "module=collection&action={}&step[step_code]={}".format(*[step] * 2)
    delivery = parse_delivery(body.replace("%", "%25").replace("#", "%23").encode(), FORM)
    assert (delivery.type, delivery.notes) == (f"collection.{step}", ())


def test_actions_no_type_can_carry_are_kept_and_said() -> None:
    long = parse_delivery(b"module=collection&action=" + b"y" * 300, FORM)
    assert long.type == "collection." + "y" * MAX_ACTION
    assert long.notes == (
        f"$.type: the action has 300 characters; its first {MAX_ACTION} name the type: {'y' * 300!r}",
    )
    control = parse_delivery(b"module=collection&action=Call%0Anow", FORM)
    assert control.type == "collection.Call\ufffdnow"
    assert control.notes == ("$.type: control characters of the action 'Call\\nnow' replaced by U+FFFD",)
    for action in ("trackchanges", "*"):  # a step may be named so: kept, delivered to the wildcards
        assert parse_delivery(f"module=collection&action={action}".encode(), FORM).type == f"collection.{action}"


def test_json_bodies() -> None:
    body = json.dumps(
        {
            "module": "subscribers",
            "action": "delete",
            "modifiedUser": "crm",
            "before": {"sid": 12, "aid": "1001", "from": {"sec": 1706659200, "usec": 0}},
        }
    ).encode()
    delivery = parse_delivery(body, "application/json")
    assert (delivery.type, delivery.data) == (
        "subscribers.delete",
        {"modifiedUser": "crm", "before": {"sid": 12, "aid": 1001, "from": "2024-01-31T00:00:00Z"}},
    )
    assert parse_delivery(b' {"module":"events","action":"notify"}', "").type == "events.notify"
    assert parse_delivery(b"module=events&action=notify", "") == parse_delivery(b"module=events&action=notify", FORM)


def test_json_numbers_and_lone_surrogates() -> None:
    body = b'{"module":"bills","action":"afterPaymentAdjusted","old":1e999,"new":NaN,"aid":99999999999999999999,"n\\ud800":"\\udfff"}'
    delivery = parse_delivery(body, "application/json")
    assert delivery.data == {"old": "1e999", "new": "NaN", "aid": "99999999999999999999", "n\ufffd": "\ufffd"}
    assert delivery.notes == ("body: 2 lone surrogates (\\ud800 to \\udfff) replaced by U+FFFD",)
    json.dumps(delivery.data, allow_nan=False).encode("utf-8")  # strict JSON, and UTF-8 to sign


@pytest.mark.parametrize(
    "body,content_type,error,message",
    [
        (b"module=no+thing&action=create", FORM, UnknownDeliveryType, "not a BillRun module name"),
        (b"module=a.b&action=create", FORM, UnknownDeliveryType, "not a BillRun module name"),
        (b"action=create", FORM, UnknownDeliveryType, "module and action"),
        (b"module=accounts&action=", FORM, UnknownDeliveryType, "module and action"),
        (b"module[x]=subscribers&action=create", FORM, UnknownDeliveryType, "module and action"),
        (b"[1, 2]", "application/json", WireFormatError, "must be an object"),
        (b"{not json", "application/json", WireFormatError, "not valid JSON"),
        (b'{"module": "x", "action": "\xff"}', "application/json", WireFormatError, "not valid JSON"),
        (b"[" * 100_000, "application/json", NestingTooDeep, "32"),
        (
            b'{"module": "subscribers", "a": ' + b"[" * (MAX_DEPTH + 8) + b"1" + b"]" * (MAX_DEPTH + 8) + b"}",
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
