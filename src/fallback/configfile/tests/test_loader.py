import re
import textwrap
from pathlib import Path

import pytest

from fallback.configfile.errors import ConfigInvalid
from fallback.configfile.loader import load_config
from fallback.configfile.registry import registry

VALID = """\
version: 1
organisation:
  slug: acme
  name: Acme Ltd
members:
  - email: ann@acme.test
    role: owner
"""

# Every registered section, in order: later apps add theirs.
KNOWN = ", ".join(["version", *(section.key for section in registry.sections())])


def problems(text, filename="acme.yaml"):
    with pytest.raises(ConfigInvalid) as caught:
        load_config(textwrap.dedent(text), filename)
    return [str(e) for e in caught.value.errors]


def test_valid_document_is_returned_with_its_sections():
    [document] = load_config(VALID, "acme.yaml")
    assert document.slug == "acme"
    assert document.file == "acme.yaml"
    assert list(document.sections) == ["organisation", "members"]
    assert document.sections["members"][0].email == "ann@acme.test"


def test_several_documents_are_returned_in_file_order():
    text = VALID + "---\n" + VALID.replace("acme", "beta")
    assert [d.slug for d in load_config(text, "all.yaml")] == ["acme", "beta"]


def test_unknown_key_reports_its_line():
    assert problems(
        """\
        version: 1
        organisation:
          slug: acme
          nmae: Acme
        """
    ) == [
        "acme.yaml:4: organisation.nmae: unknown key (known keys: slug, name, time_zone, "
        "currency, locale); did you mean 'name'?"
    ]


def test_unknown_section_reports_its_line():
    assert problems(
        """\
        version: 1
        organisation:
          slug: acme
        member:
          - email: ann@acme.test
        """
    ) == [f"acme.yaml:4: member: unknown section (known: {KNOWN}); did you mean 'members'?"]


def test_wrong_type_reports_its_line():
    assert problems(
        """\
        version: 1
        organisation:
          slug: acme
        members: ann@acme.test
        """
    ) == ["acme.yaml:4: members: must be a list (got 'ann@acme.test')"]


def test_wrong_enum_value_names_the_choices():
    assert problems(
        """\
        version: 1
        organisation:
          slug: acme
        members:
          - email: ann@acme.test
            role: owner
          - email: bob@acme.test
            role: boss
        """
    ) == ["acme.yaml:8: members[1].role: must be one of owner, manager, staff, viewer (got 'boss')"]


def test_duplicate_key_reports_its_line():
    assert problems(
        """\
        version: 1
        organisation:
          slug: acme
          name: Acme
          name: Acme Ltd
        """
    ) == ["acme.yaml:5: organisation.name: duplicate key (first given at line 4)"]


def test_bad_indentation_reports_its_line():
    assert problems(
        """\
        version: 1
        organisation:
          slug: acme
        name: Acme
          time_zone: Europe/London
        """
    ) == [
        "acme.yaml:5: YAML syntax: unexpected ':' here: check this line's indentation, "
        "or put a value that contains ': ' in quotes"
    ]


def test_every_problem_in_every_document_is_reported_in_line_order():
    assert problems(
        """\
        version: 1
        organisation:
          slug: acme
          currency: pounds
          time_zone: Mars/Olympus
        members:
          - email: not-an-email
            role: owner
          - role: staff
        ---
        version: 1
        organisation:
          slug: Beta Ltd
          locale: no
        """
    ) == [
        "acme.yaml:4: organisation.currency: 'pounds' is not an ISO 4217 currency code "
        "(three capitals: GBP)",
        "acme.yaml:5: organisation.time_zone: 'Mars/Olympus' is not a known time zone "
        "(use a name such as Europe/London)",
        "acme.yaml:7: members[0].email: is not a valid email address (got 'not-an-email')",
        "acme.yaml:9: members[1].email: is required",
        "acme.yaml:13: organisation.slug: must contain only letters, digits, hyphens and "
        "underscores (got 'Beta Ltd')",
        "acme.yaml:14: organisation.locale: must be text (got false); put it in quotes to "
        "mean the text",
    ]


def test_empty_file_is_an_error():
    assert problems("") == ["acme.yaml:1: the file is empty: start it with 'version: 1'"]
    assert problems("# nothing yet\n") == [
        "acme.yaml:1: the file is empty: start it with 'version: 1'"
    ]


def test_document_that_is_not_a_mapping_is_an_error():
    assert problems("- version: 1\n") == [
        f"acme.yaml:1: a document must be a mapping with the keys {KNOWN} (got a list)"
    ]


def test_missing_version_is_an_error():
    assert problems("organisation:\n  slug: acme\n") == [
        "acme.yaml:1: version: is required: start the document with 'version: 1'"
    ]


@pytest.mark.parametrize("version", ["2", "'1'", "true", "1.0"])
def test_other_versions_are_refused_and_the_rest_not_checked(version):
    [problem] = problems(f"organisation: 12\nversion: {version}\n")
    assert problem == (
        f"acme.yaml:2: version: must be 1, the format this Fallback reads (got {version})"
    )


def test_organisation_is_required():
    assert problems("version: 1\nmembers:\n  - {email: ann@acme.test, role: owner}\n") == [
        "acme.yaml:1: organisation: is required: it names the organisation to set up",
    ]


def test_slug_is_required():
    assert problems("version: 1\norganisation:\n  name: Acme\n") == [
        "acme.yaml:2: organisation.slug: is required"
    ]


def test_same_organisation_twice_is_an_error():
    assert problems(VALID + "---\n" + VALID) == [
        "acme.yaml:11: organisation.slug: 'acme' is already set up by the document at line 1; "
        "give each organisation one document"
    ]


def test_members_without_an_owner_are_refused():
    assert problems(
        """\
        version: 1
        organisation:
          slug: acme
        members:
          - email: ann@acme.test
            role: manager
        """
    ) == ["acme.yaml:4: members: must include at least one owner"]


def test_the_complete_example_in_the_docs_is_valid():
    docs = Path(__file__).resolve().parents[4] / "docs" / "CONFIG.md"
    example = re.search(r"```yaml\n(.*?)```", docs.read_text(encoding="utf-8"), re.S)
    assert example is not None
    documents = load_config(example.group(1), "CONFIG.md")
    assert [d.slug for d in documents] == ["acme", "beta-bakery"]
