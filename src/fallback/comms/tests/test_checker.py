"""The checker: one test per rule, on plain words (no database)."""

import pytest

from fallback.comms import checker
from fallback.comms.checker import Situation, check, sms_segments
from fallback.comms.defaults import CUSTOMERS, STAFF, SUPPLIERS
from fallback.comms.models import Phase

GOOD = {
    "subject": "Our order system is down: how to reach us",
    "notify": "Dear {{ customer_name }},\n\nSince {{ since }}, {{ systems }} has not been working.",
    "explain": "The fault is at a provider we rely on, not in your account.",
    "solve": "Your orders stand. To reach us now, call 01632 960123 or email help@backup.example.",
    "predict": "Expected back: {{ expected_return }}. Next update by {{ next_update_by }}.",
    "apologise": "We are sorry for the trouble this causes you.",
}
VALUES = {
    "customer_name": "Sam Taylor",
    "since": "10:05 today",
    "systems": "CloudCRM",
    "expected_return": "by 3pm",
    "next_update_by": "12:30 today",
    "business": "Hartley Supplies",
    "phone": "01632 960123",
    "backup_email": "help@backup.example",
    "status_url": "",
    "alternate_routes": "call us on 01632 960123 or email help@backup.example",
    "incident": "CRM down",
}
EMAIL_DOWN = Situation(email_down=True, usual_email="office@hartley.example")


def codes(findings):
    return [(f.code, f.part) for f in findings]


def test_good_words_have_no_findings():
    assert check(GOOD, VALUES, EMAIL_DOWN) == []


@pytest.mark.parametrize("part", ["notify", "explain", "solve", "predict", "apologise"])
def test_each_missing_law_is_named_by_its_part(part):
    words = {**GOOD, part: ""}
    found = check(words, VALUES, Situation())
    assert ("missing", part) in codes(found)
    finding = next(f for f in found if f.code == "missing")
    assert finding.part_label.lower() == part and finding.part_label in finding.message


def test_a_law_of_one_or_two_words_has_no_substance():
    found = check({**GOOD, "explain": "Problem."}, VALUES, Situation())
    assert ("missing", "explain") in codes(found)


def test_an_apologise_part_that_does_not_apologise_is_missing():
    found = check({**GOOD, "apologise": "Thank you for your patience."}, VALUES, Situation())
    assert ("missing", "apologise") in codes(found)


def test_email_only_route_while_email_is_down_is_flagged_in_solve():
    words = {**GOOD, "solve": "Your orders still stand. Email us at office@hartley.example."}
    found = check(words, VALUES, EMAIL_DOWN)
    assert ("no_alternate_route", "solve") in codes(found)
    assert "phone number or another email" in next(
        f.message for f in found if f.code == "no_alternate_route"
    )


def test_email_down_is_fine_with_a_phone_number():
    words = {**GOOD, "solve": "Your orders still stand: call us on 01632 960123."}
    assert check(words, VALUES, EMAIL_DOWN) == []


def test_email_down_is_fine_with_an_address_on_another_domain():
    words = {**GOOD, "solve": "Your orders still stand: write to hartley@backup-mail.example."}
    assert check(words, VALUES, EMAIL_DOWN) == []


def test_the_same_email_route_is_fine_when_email_is_not_down():
    words = {**GOOD, "solve": "Your orders still stand. Email us at office@hartley.example."}
    assert check(words, VALUES, Situation(usual_email="office@hartley.example")) == []


def test_phone_down_needs_an_email_address_or_another_number():
    situation = Situation(phone_down=True, usual_phone="01632 960999")
    words = {**GOOD, "solve": "Your orders still stand: call us on 01632 960999 as usual."}
    assert ("no_alternate_route", "solve") in codes(check(words, VALUES, situation))
    words = {**GOOD, "solve": "Your orders still stand: email help@backup.example."}
    assert check(words, VALUES, situation) == []


def test_replies_to_the_down_mail_are_flagged():
    situation = Situation(
        email_down=True, usual_email="office@hartley.example", reply_to="office@hartley.example"
    )
    assert ("replies_to_down_route", "message") in codes(check(GOOD, VALUES, situation))


def test_no_next_update_time_is_flagged_in_predict_for_a_first_notice_and_an_update():
    words = {**GOOD, "predict": "We expect it back soon and will keep working on it."}
    for phase in (Phase.FIRST_NOTICE, Phase.UPDATE):
        assert ("no_next_update", "predict") in codes(check(words, VALUES, Situation(phase=phase)))
    # A resolved notice promises no further update.
    assert check(words, VALUES, Situation(phase=Phase.RESOLVED)) == []


def test_next_update_without_a_time_is_still_flagged():
    words = {**GOOD, "predict": "We will send a next update when we know more."}
    assert ("no_next_update", "predict") in codes(check(words, VALUES, Situation()))


def test_more_than_one_apology_is_grovelling_and_names_where():
    words = {
        **GOOD,
        "notify": "We are so sorry to tell you that {{ systems }} is down since {{ since }}.",
        "apologise": "We sincerely apologise. Please forgive us.",
    }
    found = check(words, VALUES, Situation())
    grovel = next(f for f in found if f.code == "grovelling")
    assert grovel.part == "notify"
    assert "3 apologies" in grovel.message and "Notify" in grovel.message


def test_one_apology_in_the_apologise_part_is_not_grovelling():
    assert "grovelling" not in [f.code for f in check(GOOD, VALUES, Situation())]


def test_a_message_far_longer_than_needed_is_flagged():
    words = {**GOOD, "explain": "The provider had trouble with its servers. " * 40}
    found = check(words, VALUES, Situation())
    assert ("too_long", "message") in codes(found)


def test_an_sms_of_more_than_three_segments_is_flagged():
    words = {**GOOD, "explain": "The provider had trouble. " * 25}
    assert ("sms_too_long", "message") in codes(check(words, VALUES, Situation(channels=["sms"])))
    assert "sms_too_long" not in [f.code for f in check(GOOD, VALUES, Situation(channels=["sms"]))]


def test_sms_segments_count_gsm_and_unicode():
    assert sms_segments("a" * 160) == 1
    assert sms_segments("a" * 161) == 2
    assert sms_segments("a" * 459) == 3
    assert sms_segments("€" * 81) == 2  # extension characters take two
    assert sms_segments("ü" * 70) == 1  # ü is in the GSM alphabet
    assert sms_segments("ą" * 71) == 2  # ą is not: Unicode, 70 a message


def test_an_unknown_variable_must_be_fixed_and_is_named():
    words = {**GOOD, "solve": "Call us on {{ phnoe }} or email help@backup.example."}
    found = check(words, VALUES, Situation())
    unknown = next(f for f in found if f.code == "unknown_variable")
    assert unknown.part == "solve" and unknown.must_fix and "{{ phnoe }}" in unknown.message


def test_an_empty_variable_must_be_fixed():
    found = check(GOOD, {**VALUES, "next_update_by": ""}, Situation())
    empty = next(f for f in found if f.code == "empty_variable")
    assert empty.part == "predict" and empty.must_fix and "next_update_by" in empty.message


def test_a_placeholder_left_in_must_be_fixed():
    words = {**GOOD, "explain": "What happened: [the cause, in plain words]."}
    found = check(words, VALUES, Situation())
    assert [f.code for f in found if f.must_fix] == ["placeholder"]


def test_blocking_lets_acknowledged_findings_through_but_never_must_fix_ones():
    words = {
        **GOOD,
        "predict": "We are working on it with the provider.",
        "solve": "{{ nope }} x y",
    }
    found = check(words, VALUES, Situation())
    keys = [f.key for f in found]
    left = checker.blocking(found, keys)
    assert [f.code for f in left] == ["unknown_variable"]


@pytest.mark.parametrize(
    "wording", [CUSTOMERS, SUPPLIERS, STAFF], ids=["customers", "suppliers", "staff"]
)
@pytest.mark.parametrize("phase", Phase.values)
def test_the_default_templates_pass_the_checker_once_their_gaps_are_filled(wording, phase):
    words = wording[phase]
    parts = {name: getattr(words, name) for name in ("subject", *checker.PARTS)}
    for name in parts:
        parts[name] = checker.PLACEHOLDER.sub("the provider's database failed", parts[name])
    situation = Situation(phase=phase, channels=["email", "sms"], email_down=True)
    found = check(parts, VALUES, situation)
    assert found == [], [f.message for f in found]
