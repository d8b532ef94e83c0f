"""Pure rules of money, durations, policy settings and terms: no database, no clock."""

import dataclasses
import re
from datetime import timedelta

import pytest

from core.durations import format_duration, parse_duration
from core.errors import Refused
from core.money import MAX_AMOUNT, check_amount, check_currency, exponent, fee, format_amount, parse_amount
from core.policy import GIB, Policy, ReviewWindow
from core.terms import Extra, LineItem
from tests.market import SERVICE


# ---- money ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(("amount", "bps", "expected"), [
    (5000, 1000, 500),
    (5005, 1000, 501),  # 500.5 rounds half up
    (5004, 1000, 500),  # 500.4 rounds down
    (5, 1000, 1),  # 0.5 rounds half up
    (4, 1000, 0),  # 0.4 rounds down
    (1, 5000, 1),  # 0.5 rounds half up
    (12345, 0, 0),  # no fee
    (10_000, 9999, 9999),
    (10**13, 1000, 10**12),  # large amounts stay exact integers
])
def test_the_fee_is_basis_points_rounded_half_up_to_the_minor_unit(amount: int, bps: int, expected: int) -> None:
    assert fee(amount, bps) == expected
    assert isinstance(fee(amount, bps), int)


@pytest.mark.parametrize(("text", "currency", "minor"), [
    ("12.50", "USD", 1250),
    ("12.5", "USD", 1250),
    ("25", "USD", 2500),
    ("1250.00", "USD", 125000),
    ("USD 12.50", "USD", 1250),
    ("12.50 USD", "USD", 1250),
    (" 7 ", "EUR", 700),
    ("1000", "JPY", 1000),
    ("1.234", "BHD", 1234),
    ("0.01", "USD", 1),
])
def test_amounts_are_read_into_integer_minor_units(text: str, currency: str, minor: int) -> None:
    parsed = parse_amount(text, currency)
    assert parsed == minor
    assert isinstance(parsed, int)


@pytest.mark.parametrize(("text", "currency", "reason"), [
    ("abc", "USD", "is not an amount"),
    ("", "USD", "is not an amount"),
    ("0", "USD", "more than zero"),
    ("-5", "USD", "more than zero"),
    ("NaN", "USD", "is not an amount"),
    ("Infinity", "USD", "is not an amount"),
    ("1.005", "USD", "USD has 2 decimal places"),
    ("1.5", "JPY", "JPY has 0 decimal places"),
    ("100000000000000", "USD", "more than gigroom handles"),
])
def test_a_wrong_amount_gets_a_clear_error(text: str, currency: str, reason: str) -> None:
    with pytest.raises(Refused, match=reason):
        parse_amount(text, currency)


@pytest.mark.parametrize("text", ["1,5", "1,50", "1,500.00", "1,500", "12,5 USD"])
def test_a_comma_is_never_read_as_a_thousands_separator(text: str) -> None:
    """'1,5' was read as 15.00. It is 1.50 in half the world, so a comma is refused, never dropped."""
    with pytest.raises(Refused, match="has a comma: write amounts with a point for decimals"):
        parse_amount(text, "USD")


@pytest.mark.parametrize("text", ["1e9", "1e-2", "1E3", "inf", "-inf", "nan", "sNaN", " 0x10", "1_000", "+5", ".5",
                                  "5.", "1 000", "١٢", "５", "12.50 EUR", "--5", "0b1"])
def test_only_plain_decimals_are_amounts(text: str) -> None:
    with pytest.raises(Refused, match=re.escape("is not an amount: write it like 25 or 25.50")):
        parse_amount(text, "USD")


def test_an_amount_over_the_community_maximum_is_refused_naming_the_maximum() -> None:
    check_amount(500_000, "USD", 5000)  # exactly the maximum is allowed
    with pytest.raises(Refused, match=re.escape("A tip of 5,000.01 USD is more than this community's maximum "
                                                "of 5,000.00 USD")):
        check_amount(500_001, "USD", 5000, "A tip")
    with pytest.raises(Refused, match="gigroom handles in one amount"):
        check_amount(10**30, "USD", 0, "A withdrawal")
    check_amount(MAX_AMOUNT, "USD", 0)
    check_amount(5000, "JPY", 5000)  # whole units of the amount's own currency
    with pytest.raises(Refused, match="maximum of 5,000 JPY"):
        check_amount(5001, "JPY", 5000)


@pytest.mark.parametrize(("text", "stored", "shown"), [("5000", 5000, "5000 USD"), ("5000 usd", 5000, "5000 USD"),
                                                        ("none", 0, "none"), ("0", 0, "none")])
def test_the_maximum_amount_is_a_policy_setting_in_whole_units_of_the_currency(text: str, stored: int,
                                                                               shown: str) -> None:
    policy = Policy().with_setting("max_amount", text)
    assert policy.max_amount == stored
    assert policy.describe()["max_amount"] == shown
    assert Policy().describe()["max_amount"] == "none"


@pytest.mark.parametrize(("text", "reason"), [("1,000", "is a whole number of USD"), ("1e9", "is a whole number"),
                                              ("12.5", "is a whole number"), ("-1", "is a whole number"),
                                              (str(10**30), "at most 100000000000 USD")])
def test_a_wrong_maximum_amount_is_refused(text: str, reason: str) -> None:
    with pytest.raises(Refused, match=reason):
        Policy().with_setting("max_amount", text)


def test_amounts_are_formatted_in_the_currency_s_own_decimal_places() -> None:
    assert format_amount(1250, "USD") == "12.50 USD"
    assert format_amount(123456789, "EUR") == "1,234,567.89 EUR"
    assert format_amount(1000, "JPY") == "1,000 JPY"
    assert format_amount(1234, "BHD") == "1.234 BHD"
    assert format_amount(5, "USD") == "0.05 USD"
    assert (exponent("usd"), exponent("jpy"), exponent("kwd")) == (2, 0, 3)


def test_a_currency_is_three_letters() -> None:
    assert check_currency(" eur ") == "EUR"
    for bad in ("US", "USDT", "U5D", "", "$"):
        with pytest.raises(Refused, match="is not a currency code"):
            check_currency(bad)


# ---- durations -----------------------------------------------------------------------------------
@pytest.mark.parametrize(("text", "delta"), [
    ("48h", timedelta(hours=48)),
    ("3d", timedelta(days=3)),
    ("1d12h", timedelta(days=1, hours=12)),
    ("1w", timedelta(weeks=1)),
    ("30m", timedelta(minutes=30)),
    ("90s", timedelta(seconds=90)),
    ("5", timedelta(days=5)),  # a bare number is days
    (" 2 D ", timedelta(days=2)),
    ("1d 6h 30m", timedelta(days=1, hours=6, minutes=30)),
])
def test_durations_are_read_as_people_write_them(text: str, delta: timedelta) -> None:
    assert parse_duration(text) == delta


@pytest.mark.parametrize("text", ["soon", "", "3x", "-1d", "1.5d", "d", "h3", "3d soon"])
def test_a_duration_that_is_not_one_gets_a_clear_error(text: str) -> None:
    with pytest.raises(Refused, match="is not a duration"):
        parse_duration(text)


@pytest.mark.parametrize("text", ["3651d", "99999999d", "999999999999w"])
def test_a_duration_too_long_for_any_timer_gets_a_clear_error(text: str) -> None:
    with pytest.raises(Refused, match=f"'{text}' is too long: a duration is at most 3650d"):
        parse_duration(text)
    with pytest.raises(Refused, match="is too long"):
        Policy().with_setting("review_window", text)
    assert parse_duration("3650d") == timedelta(days=3650)


def test_durations_are_written_back_in_the_same_form() -> None:
    assert format_duration(timedelta(0)) == "0m"
    assert format_duration(timedelta(hours=72)) == "3d"
    assert format_duration(timedelta(days=1, hours=12)) == "1d12h"
    assert format_duration(timedelta(days=1, minutes=30)) == "1d30m"
    assert format_duration(timedelta(seconds=45)) == "45s"
    assert format_duration(-timedelta(hours=1)) == "-1h"
    for delta in (timedelta(minutes=1), timedelta(hours=25), timedelta(days=9, hours=3, minutes=7)):
        assert parse_duration(format_duration(delta)) == delta


# ---- policy --------------------------------------------------------------------------------------
def test_the_default_policy_has_the_lifecycle_s_timers() -> None:
    policy = Policy()
    assert policy.review_window == timedelta(hours=72)  # 3 days exactly
    assert policy.review_window_starts is ReviewWindow.FROM_DELIVERY  # HostJane by default
    assert policy.time_request_window == timedelta(hours=48)
    assert policy.cancellation_window == timedelta(hours=48)
    assert policy.late_cancel_after == timedelta(hours=24)
    assert policy.final_work_window == timedelta(hours=24)
    assert policy.clearance == timedelta(days=5)
    assert policy.final_work_waits_for_review is True
    assert policy.max_file_bytes >= 5 * 10**9  # one file may be up to 5 GB
    assert policy.max_file_bytes == 5 * GIB


def test_every_timer_is_a_policy_setting() -> None:
    policy = Policy()
    timers = [f.name for f in dataclasses.fields(policy) if isinstance(getattr(policy, f.name), timedelta)]
    for name in ("acceptance_window", "due_reminder", "late_cancel_after", "time_request_window",
                 "review_window", "final_work_window", "cancellation_window", "clearance"):
        assert name in timers
        changed = policy.with_setting(name, "1d6h")
        assert getattr(changed, name) == timedelta(days=1, hours=6)


def test_a_policy_setting_is_read_from_its_text_form() -> None:
    policy = Policy()
    assert policy.with_setting("fee_bps", "1_250").fee_bps == 1250
    assert policy.with_setting("currency", "eur").currency == "EUR"
    assert policy.with_setting("final_work_waits_for_review", "No").final_work_waits_for_review is False
    assert policy.with_setting("final_work_waits_for_review", "on").final_work_waits_for_review is True
    fiverr = policy.with_setting("review_window_starts", "FROM_DUE_DATE")
    assert fiverr.review_window_starts is ReviewWindow.FROM_DUE_DATE
    assert policy.with_setting("admins", " ada, bob ,ada,, ").admins == ("ada", "bob")
    assert policy.with_setting("admins", "").admins == ()


def test_changing_a_setting_makes_a_new_policy_and_leaves_the_old_one_alone() -> None:
    policy = Policy()
    changed = policy.with_setting("review_window", "5d")
    assert changed.review_window == timedelta(days=5)
    assert policy.review_window == timedelta(hours=72)
    with pytest.raises(dataclasses.FrozenInstanceError):
        policy.fee_bps = 0  # type: ignore[misc]


@pytest.mark.parametrize(("name", "value", "reason"), [
    ("no_such_setting", "1", "There is no policy setting 'no_such_setting'"),
    ("fee_bps", "10000", "fee_bps is in basis points"),
    ("fee_bps", "-1", "fee_bps is in basis points"),
    ("fee_bps", "ten", "'fee_bps' is a whole number"),
    ("max_file_bytes", "0", "max_file_bytes must be at least 1"),
    ("review_window", "three days", "is not a duration"),
    ("final_work_waits_for_review", "maybe", "is yes or no"),
    ("review_window_starts", "whenever", "'review_window_starts' is one of: from_delivery, from_due_date"),
    ("currency", "dollars", "is not a currency code"),
])
def test_a_bad_policy_setting_is_refused_with_the_reason(name: str, value: str, reason: str) -> None:
    with pytest.raises(Refused, match=reason):
        Policy().with_setting(name, value)


def test_every_setting_reads_back_what_describe_writes() -> None:
    policy = Policy(admins=("ada", "bob"), fee_bps=750, max_amount=2500, review_window=timedelta(days=3, hours=6),
                    review_window_starts=ReviewWindow.FROM_DUE_DATE, final_work_waits_for_review=False)
    described = policy.describe()
    assert described["fee_bps"] == "750"
    assert described["review_window"] == "3d6h"
    assert described["final_work_waits_for_review"] == "no"
    assert described["admins"] == "ada,bob"
    rebuilt = Policy()
    for name, text in described.items():
        rebuilt = rebuilt.with_setting(name, text)
    assert rebuilt == policy


# ---- terms ---------------------------------------------------------------------------------------
def test_the_terms_itemise_the_base_service_and_the_chosen_extras() -> None:
    terms = SERVICE.terms(("nda", "rev"), fee_bps=1000)
    assert terms.items == (LineItem("Logo design", 5000), LineItem("Non-disclosure agreement", 1000),
                           LineItem("One more revision", 500))
    assert terms.total == 6500
    assert terms.currency == "USD"
    assert terms.fee == 650
    assert terms.net == 5850  # the seller's forecast net earnings
    assert terms.nda is True
    assert terms.deliveries == 3
    assert terms.delivery_days == 3
    assert terms.licence == "Commercial use"
    assert terms.questions == ("What is your brand called?",)
    assert terms.fee_bps == 1000


def test_without_the_nda_extra_no_nda_applies() -> None:
    terms = SERVICE.terms((), fee_bps=1000)
    assert terms.nda is False
    assert terms.items == (LineItem("Logo design", 5000),)
    assert terms.deliveries == 2


def test_faster_delivery_shortens_the_delivery_time_but_never_below_one_day() -> None:
    assert SERVICE.terms(("fast",), 1000).delivery_days == 1
    slow_to_fast = dataclasses.replace(SERVICE, delivery_days=1)
    assert slow_to_fast.terms(("fast",), 1000).delivery_days == 1


def test_an_extra_chosen_twice_is_bought_once() -> None:
    terms = SERVICE.terms(("rev", "rev"), 1000)
    assert terms.total == 5500
    assert terms.deliveries == 3


def test_an_unknown_extra_is_refused_naming_the_extras_offered() -> None:
    with pytest.raises(Refused, match="No extra called gold on this listing \\(extras: nda, fast, rev\\)"):
        SERVICE.terms(("gold",), 1000)
    bare = dataclasses.replace(SERVICE, extras=())
    with pytest.raises(Refused, match="extras: none"):
        bare.terms(("nda",), 1000)


def test_the_terms_are_frozen() -> None:
    terms = SERVICE.terms((), 1000)
    with pytest.raises(dataclasses.FrozenInstanceError):
        terms.delivery_days = 10  # type: ignore[misc]


def test_a_checked_service_is_trimmed_and_drops_blank_questions() -> None:
    service = dataclasses.replace(SERVICE, title="  Logo  ", description=" Nice ", questions=(" Name? ", "  "))
    checked = service.checked()
    assert (checked.title, checked.description, checked.questions) == ("Logo", "Nice", ("Name?",))


@pytest.mark.parametrize(("changes", "reason"), [
    ({"title": "   "}, "A listing needs a title"),
    ({"title": "x" * 81}, "A title is at most 80 characters; this one has 81"),
    ({"description": "x" * 5001}, "A description is at most 5000 characters"),
    ({"price": 0}, "The price must be more than zero"),
    ({"price": -100}, "The price must be more than zero"),
    ({"price": MAX_AMOUNT + 1}, "A price is more than gigroom handles in one amount"),
    ({"extras": (Extra("a", "A", MAX_AMOUNT + 1),)}, "A price is more than gigroom handles in one amount"),
    ({"delivery_days": 0}, "Delivery time is from 1 to 365 days"),
    ({"delivery_days": 366}, "Delivery time is from 1 to 365 days"),
    ({"deliveries": 0}, "The number of deliveries allowed is from 1 to 100"),
    ({"deliveries": 101}, "The number of deliveries allowed is from 1 to 100"),
    ({"extras": (Extra("a", "A", 1), Extra("a", "B", 2))}, "Two extras have the same code"),
    ({"extras": (Extra("a", "A", -1),)}, "The extra 'a' needs a code, a name and a price of zero or more"),
    ({"extras": (Extra("a", "", 1),)}, "The extra 'a' needs a code, a name"),
])
def test_a_bad_service_is_refused_with_the_reason(changes: dict[str, object], reason: str) -> None:
    with pytest.raises(Refused, match=reason):
        dataclasses.replace(SERVICE, **changes).checked()  # type: ignore[arg-type]
