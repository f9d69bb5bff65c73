"""The search box: prefixes, several words, typos, ranking, kinds and organisations."""

import pytest

from fallback.desk import search
from fallback.desk.tests.conftest import put_records
from fallback.testing.factories import make_org

pytestmark = pytest.mark.django_db


@pytest.fixture
def org():
    org = make_org("Harbour Plumbing")
    put_records(
        org,
        "customer",
        [
            {"key": "C1", "name": "Smith Plumbing", "city": "Leeds", "email": "ops@smith.test"},
            {"key": "C2", "name": "Smithson Builders", "city": "York"},
            {"key": "C3", "name": "Blacksmith Forge", "city": "Hull"},
            {"key": "C4", "name": "Jones & Daughters", "phone": "0113 496 0000"},
        ],
    )
    put_records(
        org,
        "product",
        [
            {"key": "P1", "name": "Copper pipe 15mm", "sku": "CP-15", "price": "4.50"},
            {"key": "P2", "name": "Brass elbow 15mm", "sku": "BE-15", "price": "1.20"},
        ],
    )
    put_records(org, "order", [{"key": "O1", "number": "SO-1042", "customer_name": "Jones"}])
    return org


def titles(hits):
    return [h.title for h in hits]


def test_prefix_of_a_name_finds_it_first(org):
    assert titles(search.search(org.pk, "smi"))[:2] == ["Smith Plumbing", "Smithson Builders"]


def test_every_word_must_match(org):
    assert titles(search.search(org.pk, "smi plumb")) == ["Smith Plumbing"]


def test_substring_inside_a_word_is_found_after_prefixes(org):
    assert titles(search.search(org.pk, "smith"))[-1] == "Blacksmith Forge"


def test_swapped_letters_find_the_word_meant(org):
    hits = search.search(org.pk, "smtih plumbing")
    assert hits[0].title == "Smith Plumbing"
    assert hits[0].fuzzy


def test_a_missing_letter_is_forgiven(org):
    assert "Blacksmith Forge" in titles(search.search(org.pk, "blaksmith"))


def test_exact_hits_come_before_typo_hits(org):
    hits = search.search(org.pk, "brass")
    assert hits and not hits[0].fuzzy and hits[0].title == "Brass elbow 15mm"


def test_short_words_match_word_starts(org):
    assert titles(search.search(org.pk, "cp")) == ["Copper pipe 15mm"]


def test_sku_email_phone_and_order_number_are_searchable(org):
    assert titles(search.search(org.pk, "be-15")) == ["Brass elbow 15mm"]
    assert titles(search.search(org.pk, "ops@smith")) == ["Smith Plumbing"]
    assert titles(search.search(org.pk, "496")) == ["Jones & Daughters"]
    assert search.search(org.pk, "so-1042")[0].entity == "order"


def test_kinds_narrow_the_search(org):
    assert {h.entity for h in search.search(org.pk, "15", entities=("product",))} == {"product"}
    assert search.search(org.pk, "smith", entities=("product",)) == []


def test_another_organisations_records_are_never_found(org):
    other = make_org("Other Co")
    put_records(other, "customer", [{"key": "X1", "name": "Smith Secret"}])
    assert "Smith Secret" not in titles(search.search(org.pk, "smith"))
    assert titles(search.search(other.pk, "smith")) == ["Smith Secret"]


def test_quotes_and_operators_in_the_query_are_plain_text(org):
    for query in ['"smith', "smith OR jones", "smi*", "NEAR(a b)", "%_", "\\"]:
        search.search(org.pk, query)  # no error


def test_empty_query_finds_nothing(org):
    assert search.search(org.pk, "  ") == []


def test_distance_counts_a_swap_as_one_edit():
    assert search.distance("smtih", "smith") == 1
    assert search.distance("smith", "smiths") == 1
    assert search.distance("smith", "smooth") == 2
