"""Mappings: paths, templates, literals, alternatives, lines, and clear errors."""

import pytest

from fallback.replica.mapping import MappingError, compile_value, parse

SHOPIFY_CUSTOMER = {
    "id": 207119551,
    "email": "bob@example.com",
    "first_name": "Bob",
    "last_name": "Norman",
    "default_address": {"company": "", "city": "Ottawa", "zip": "K2P 1L4"},
    "note_attributes": [
        {"name": "gift", "value": "no"},
        {"name": "due_date", "value": "2026-12-01"},
    ],
    "total_spent": "199.65",
    "state": "enabled",
    "line_items": [{"sku": "A-1", "quantity": 2, "price": "9.5"}],
}


def test_nested_path_reads_inside_objects():
    assert compile_value("default_address.city")(SHOPIFY_CUSTOMER) == "Ottawa"


def test_missing_path_gives_none_not_an_error():
    assert compile_value("default_address.nowhere.deeper")(SHOPIFY_CUSTOMER) is None


def test_list_position_and_selector_find_the_element():
    assert compile_value("line_items.0.sku")(SHOPIFY_CUSTOMER) == "A-1"
    assert compile_value("note_attributes[name=due_date].value")(SHOPIFY_CUSTOMER) == "2026-12-01"


def test_template_joins_parts_and_drops_empty_ones():
    get = compile_value("{first_name} {middle_name} {last_name}")
    assert get(SHOPIFY_CUSTOMER) == "Bob Norman"


def test_first_non_empty_alternative_wins():
    get = compile_value(["default_address.company", "{first_name} {last_name}"])
    assert get(SHOPIFY_CUSTOMER) == "Bob Norman"


def test_literal_value():
    assert compile_value("=EUR")(SHOPIFY_CUSTOMER) == "EUR"


def test_jsonpath_for_odd_shapes():
    get = compile_value("$.note_attributes[?@.name == 'gift'].value")
    assert get(SHOPIFY_CUSTOMER) == "no"


def test_malformed_jsonpath_is_a_clear_error():
    with pytest.raises(MappingError, match="not a valid JSONPath"):
        compile_value("$.note_attributes[?@.name ==")


def test_mapping_coerces_to_canonical_types():
    mapping = parse(
        {
            "entity": "customer",
            "key": "id",
            "fields": {
                "name": ["default_address.company", "{first_name} {last_name}"],
                "balance": "total_spent",
                "active": "state",
                "postcode": "default_address.zip",
            },
        }
    )
    key, data, problems = mapping.apply(SHOPIFY_CUSTOMER)
    assert key == "207119551"
    assert data == {
        "name": "Bob Norman",
        "balance": "199.65",
        "active": True,
        "postcode": "K2P 1L4",
    }
    assert problems == []


def test_lines_are_mapped_line_by_line():
    mapping = parse(
        {
            "entity": "order",
            "key": "id",
            "fields": {
                "lines": {
                    "path": "line_items",
                    "fields": {"sku": "sku", "quantity": "quantity", "unit_price": "price"},
                }
            },
        }
    )
    _, data, _ = mapping.apply(SHOPIFY_CUSTOMER)
    assert data["lines"] == [{"sku": "A-1", "quantity": "2", "unit_price": "9.50"}]


def test_bad_value_becomes_none_and_is_reported():
    mapping = parse({"entity": "product", "key": "id", "fields": {"price": "email"}})
    _, data, problems = mapping.apply(SHOPIFY_CUSTOMER)
    assert data["price"] is None
    assert problems == ["price: expected a number, got 'bob@example.com'"]


def test_record_without_key_has_no_key():
    mapping = parse({"entity": "customer", "key": "customer_id", "fields": {"name": "email"}})
    key, _, _ = mapping.apply(SHOPIFY_CUSTOMER)
    assert key is None


def test_generic_record_without_fields_keeps_everything():
    mapping = parse({"entity": "record", "key": "id"})
    _, data, _ = mapping.apply({"id": 1, "colour": "red"})
    assert data == {"id": 1, "colour": "red"}


def test_every_problem_in_a_mapping_is_listed_with_its_place():
    with pytest.raises(MappingError) as caught:
        parse(
            {
                "entity": "customer",
                "fields": {"nmae": "name", "email": "$.[", "lines": "x"},
                "extra": 1,
            },
            "mapping.customers",
        )
    places = [where for where, _ in caught.value.problems]
    assert "mapping.customers.extra" in places
    assert "mapping.customers.key" in places
    assert "mapping.customers.fields.nmae" in places
    assert "mapping.customers.fields.email" in places
    assert "mapping.customers.fields.lines" in places
    assert "customer has no field 'nmae'" in str(caught.value)


def test_unknown_entity_names_the_known_ones():
    with pytest.raises(MappingError, match=r"unknown record type 'client'.*customer"):
        parse({"entity": "client", "key": "id"})


def test_generated_mapping_gives_what_the_rules_say():
    from fallback.replica.connectors.shopify import STREAMS
    from fallback.replica.mapping import _map_fields

    odd = {**SHOPIFY_CUSTOMER, "state": "maybe", "default_address": "not an object"}
    for stream in STREAMS.values():
        mapping = parse(stream.mapping)
        for record in (SHOPIFY_CUSTOMER, odd, {}, {"id": 5, "line_items": "x"}):
            slow_problems: list[str] = []
            fast_problems: list[str] = []
            assert mapping.map_fields(record, fast_problems, [0] * 64) == _map_fields(
                mapping.rules, record, slow_problems
            )
            assert fast_problems == slow_problems
