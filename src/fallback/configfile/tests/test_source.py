import textwrap

import pytest

from fallback.configfile import source
from fallback.configfile.source import read_documents


def read(text):
    return read_documents(textwrap.dedent(text), "f.yaml")


def messages(text):
    return [str(e) for e in read(text)[1]]


def test_values_and_keys_keep_their_lines():
    docs, errors = read(
        """\
        version: 1
        organisation:
          slug: acme
        members:
          - email: a@x.test
            role: owner
        """
    )
    assert errors == []
    [doc] = docs
    assert doc.data["members"][0]["role"] == "owner"
    assert doc.line == 1
    assert doc.locator.line(("organisation", "slug")) == 3
    assert doc.locator.line(("members",)) == 4
    assert doc.locator.line(("members", 0)) == 5
    assert doc.locator.line(("members", 0, "role")) == 6


def test_a_missing_key_points_at_its_parent():
    [doc], _ = read(
        """\
        version: 1
        organisation:
          name: Acme
        """
    )
    assert doc.locator.line(("organisation", "slug")) == 2
    assert doc.locator.line(("nowhere", 3, "deep")) == 1


def test_duplicate_key_reports_its_line_and_the_first():
    assert messages(
        """\
        organisation:
          name: A
          slug: a
          name: B
        """
    ) == ["f.yaml:4: organisation.name: duplicate key (first given at line 2)"]


def test_duplicate_key_keeps_the_first_value():
    [doc], _ = read("a: 1\na: 2\n")
    assert doc.data == {"a": 1}


def test_bad_indentation_reports_the_line():
    assert messages(
        """\
        organisation:
          slug: acme
         name: Acme
        """
    ) == ["f.yaml:3: YAML syntax: this line is not indented in line with the lines above it"]


def test_value_indented_too_far_reports_the_line():
    [error] = messages("organisation:\n  slug: acme\n    name: Acme\n")
    assert error.startswith("f.yaml:3: YAML syntax: unexpected ':' here")


def test_tab_indentation_is_explained():
    assert messages("organisation:\n\tslug: acme\n") == [
        "f.yaml:2: YAML syntax: a tab character where YAML only allows spaces: indent with spaces"
    ]


def test_forbidden_character_reports_its_line():
    [error] = messages("a: 1\nb: \x07\n")
    assert error.startswith("f.yaml:2: YAML syntax: the character '\\x07' is not allowed")


def test_syntax_error_keeps_problems_found_in_earlier_documents():
    assert messages("a: 1\na: 2\n---\nb: [1\n") == [
        "f.yaml:2: a: duplicate key (first given at line 1)",
        "f.yaml:5: YAML syntax: expected ',' or ']', but got '<stream end>' "
        "(while parsing a flow sequence)",
    ]


def test_documents_have_their_own_start_lines_and_empty_ones_are_skipped():
    docs, errors = read("---\na: 1\n---\n# nothing\n---\nb: 2\n")
    assert errors == []
    assert [(d.data, d.line) for d in docs] == [({"a": 1}, 2), ({"b": 2}, 6)]


def test_a_file_of_comments_has_no_documents():
    assert read("# just a comment\n") == ([], [])


def test_keys_must_be_text():
    assert messages("organisation:\n  on: 1\n  2: x\n") == [
        "f.yaml:2: organisation: the key on must be text (put it in quotes)",
        "f.yaml:3: organisation: the key 2 must be text (put it in quotes)",
    ]


def test_merge_keys_are_refused():
    [error] = messages("base: &b {x: 1}\nother:\n  <<: *b\n")
    assert error == "f.yaml:3: other: merge keys (<<) are not supported; write the keys out"


def test_custom_tags_are_refused():
    assert messages("a: !secret x\n") == ["f.yaml:1: a: the tag !secret is not supported"]


def test_impossible_date_is_reported_not_crashed_on():
    [error] = messages("a: 2025-02-30\n")
    assert error.startswith("f.yaml:1: a: '2025-02-30' cannot be read")


def test_recursive_alias_is_reported():
    [error] = messages("a: &x [1, *x]\n")
    assert error == "f.yaml:1: a[1]: an alias refers to itself"


def test_alias_expansion_is_bounded(monkeypatch):
    monkeypatch.setattr(source, "MAX_VALUES", 50)
    text = "a: &a [1, 2, 3, 4, 5, 6, 7, 8]\nb: &b [*a, *a, *a, *a]\nc: [*b, *b, *b, *b]\n"
    assert messages(text) == ["f.yaml:3: the document expands to more than 50 values"]


def test_aliases_are_expanded_like_safe_load():
    [doc], errors = read("a: &x {k: v}\nb: *x\n")
    assert errors == []
    assert doc.data == {"a": {"k": "v"}, "b": {"k": "v"}}


@pytest.mark.parametrize(
    ("text", "value"),
    [("a: 1", 1), ("a: yes", True), ("a: ~", None), ("a: '1'", "1"), ("a: 1.5", 1.5)],
)
def test_scalars_are_read_as_yaml_safe_load_reads_them(text, value):
    [doc], _ = read(text)
    assert doc.data["a"] == value
