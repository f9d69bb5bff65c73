from datetime import UTC, datetime

import pytest

from fallback.accounts.membership import create_organisation
from fallback.comms import rendering
from fallback.comms.models import CommsSettings
from fallback.comms.rendering import compose, render, short_text, when
from fallback.testing.factories import make_org

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


def test_known_variables_are_filled_and_unknown_ones_left_and_reported():
    result = render(
        "Call {{ phone }} or {{phnoe}}; {{ business }}.",
        {"phone": "01632 960123", "business": "Hartley"},
    )
    assert result.text == "Call 01632 960123 or {{phnoe}}; Hartley."
    assert result.unknown == ["phnoe"] and result.empty == []


def test_a_known_variable_without_a_value_is_reported_empty():
    result = render("Next update by {{ next_update_by }}.", {"next_update_by": ""})
    assert result.empty == ["next_update_by"]


def test_no_template_engine_is_reached_from_the_words():
    values = {"business": "{% load x %}{{ secret }}"}
    result = render(
        "{% debug %} {{ settings.SECRET_KEY }} {{ business|upper }} {{ business }}", values
    )
    # Only bare names are variables; everything else stays as typed, values are not re-read.
    assert (
        result.text
        == "{% debug %} {{ settings.SECRET_KEY }} {{ business|upper }} {% load x %}{{ secret }}"
    )


def test_a_value_starting_a_sentence_gets_a_capital():
    values = {"systems": "one of our systems"}
    assert render(
        "{{ systems }} is down. {{ systems }} again; see {{ systems }}.", values
    ).text == ("One of our systems is down. One of our systems again; see one of our systems.")
    assert render("{{ backup_email }}", {"backup_email": "help@x.example"}).text == "help@x.example"


def test_compose_keeps_the_order_of_the_five_laws_and_skips_empty_parts():
    parts = {
        "subject": " Down ",
        "notify": "N.",
        "explain": "",
        "solve": "S.",
        "predict": "P.",
        "apologise": "A.",
    }
    message = compose(parts, {})
    assert message.subject == "Down" and message.body == "N.\n\nS.\n\nP.\n\nA.\n"


def test_the_short_text_runs_the_parts_together():
    parts = {"notify": "Dear Jo,\n\nIt is down.", "solve": "Call 01632 960123."}
    assert short_text(parts, {}, is_exercise=False) == "Dear Jo, It is down. Call 01632 960123."
    assert short_text(parts, {}, is_exercise=True).startswith("EXERCISE")


@pytest.mark.django_db
def test_moments_are_said_on_the_organisation_s_clock():
    org = create_organisation("Hartley", time_zone="Europe/London")
    assert when(datetime(2026, 3, 2, 10, 5, tzinfo=UTC), org, NOW) == "10:05 today"
    assert when(datetime(2026, 3, 1, 16, 30, tzinfo=UTC), org, NOW) == "16:30 yesterday"
    assert when(datetime(2026, 3, 3, 9, 0, tzinfo=UTC), org, NOW) == "09:00 tomorrow"
    assert when(datetime(2026, 2, 20, 9, 0, tzinfo=UTC), org, NOW) == "09:00 on Friday 20 February"
    assert rendering.default_next_update(org, NOW) == "14:00 today"


@pytest.mark.django_db
def test_alternate_routes_say_every_way_to_reach_the_business():
    org = make_org("Hartley")
    settings = CommsSettings(
        org=org,
        phone_numbers="01632 960123\n07700 900123",
        backup_email="help@b.example",
        status_url="https://status.example",
    )
    assert rendering.alternate_routes(settings) == (
        "call us on 01632 960123 or 07700 900123, email help@b.example "
        "or see https://status.example for the latest"
    )
