import re
import textwrap

import pytest
from typer.testing import CliRunner

from fallback.accounts.models import Membership, Organisation, User
from fallback.audit.models import AuditEvent
from fallback.cli.app import app

pytestmark = pytest.mark.django_db
runner = CliRunner()

ACME = """\
version: 1
organisation:
  slug: acme
  name: Acme Ltd
  currency: EUR
members:
  - email: ann@acme.test
    role: owner
    name: Ann Archer
  - email: bob@acme.test
    role: staff
"""
BETA = """\
version: 1
organisation:
  slug: beta
  name: Beta
members:
  - email: ann@acme.test
    role: owner
"""
FILE_LINE = re.compile(r"^acme\.yaml:\d+: ")


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def write(tmp_path, monkeypatch):
    # Run from the folder so messages name the file as typed: acme.yaml:LINE.
    monkeypatch.chdir(tmp_path)

    def write(text, name="acme.yaml"):
        (tmp_path / name).write_text(textwrap.dedent(text), encoding="utf-8")
        return name

    return write


def state():
    return (
        list(Organisation.objects.order_by("slug").values_list("slug", "name", "currency")),
        list(Membership.objects.order_by("pk").values_list("org__slug", "user__email", "role")),
        User.objects.count(),
        AuditEvent.objects.count(),
    )


def apply(*args):
    return runner.invoke(app, ["apply", *args])


def test_apply_creates_the_organisation_and_says_what_changed(write):
    result = apply(write(ACME))
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        "acme  + organisation 'Acme Ltd' (Europe/London, EUR, en-GB)",
        "acme  + member ann@acme.test as owner (new account)",
        "acme  + member bob@acme.test as staff (new account)",
        "Applied 3 changes to 1 organisation.",
        "! ann@acme.test has a new account without a password: set one with "
        "`fallback passwd ann@acme.test`",
        "! bob@acme.test has a new account without a password: set one with "
        "`fallback passwd bob@acme.test`",
    ]
    assert members_of_acme() == [("ann@acme.test", "owner"), ("bob@acme.test", "staff")]
    assert set(AuditEvent.objects.values_list("via", flat=True)) == {"cli"}


def members_of_acme():
    return sorted(Membership.objects.filter(org__slug="acme").values_list("user__email", "role"))


def test_apply_then_update(write):
    apply(write(ACME))
    result = apply(write(ACME.replace("Acme Ltd", "Acme Limited").replace("staff", "manager")))
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[:3] == [
        "acme  ~ name: 'Acme Ltd' → 'Acme Limited'",
        "acme  ~ member bob@acme.test: staff → manager",
        "Applied 2 changes to 1 organisation.",
    ]


def test_apply_twice_says_no_changes(write):
    apply(write(ACME))
    before = state()
    result = apply("acme.yaml")
    assert result.exit_code == 0
    assert result.stdout == "No changes: the database already matches acme.yaml.\n"
    assert state() == before


def test_multi_document_file_sets_up_each_organisation(write):
    result = apply(write(ACME + "---\n" + BETA))
    assert result.exit_code == 0, result.output
    assert "Applied 5 changes to 2 organisations." in result.stdout
    assert sorted(Organisation.objects.values_list("slug", flat=True)) == ["acme", "beta"]
    assert User.objects.count() == 2


BAD = {
    "bad_indentation": (
        ACME.replace("  name: Acme Ltd", " name: Acme Ltd"),
        "acme.yaml:4: YAML syntax: this line is not indented in line with the lines above it",
    ),
    "unknown_key": (
        ACME.replace("  currency: EUR", "  currency: EUR\n  colour: red"),
        "acme.yaml:6: organisation.colour: unknown key (known keys: slug, name, time_zone, "
        "currency, locale)",
    ),
    "wrong_type": (
        ACME.replace("  name: Acme Ltd", "  name: [Acme]"),
        "acme.yaml:4: organisation.name: must be text (got a list)",
    ),
    "duplicate_key": (
        ACME.replace("  currency: EUR", "  currency: EUR\n  name: Acme"),
        "acme.yaml:6: organisation.name: duplicate key (first given at line 4)",
    ),
    "wrong_enum_value": (
        ACME.replace("role: staff", "role: boss"),
        "acme.yaml:11: members[1].role: must be one of owner, manager, staff, viewer (got 'boss')",
    ),
}


@pytest.mark.parametrize("case", list(BAD))
def test_bad_input_reports_file_and_line_exits_2_and_changes_nothing(write, case):
    apply(write(BETA, "beta.yaml"))
    before = state()
    text, message = BAD[case]
    result = apply(write(text))
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [message, "acme.yaml: 1 problem; nothing was changed."]
    assert result.stdout == ""
    assert state() == before


def test_every_problem_is_reported_one_line_each(write):
    text = (
        ACME.replace("currency: EUR", "currency: euro")
        .replace("role: staff", "role: boss")
        .replace("  name: Ann Archer\n", "  name: Ann Archer\n    phone: 123\n")
    )
    result = apply(write(text))
    assert result.exit_code == 2
    lines = result.stderr.splitlines()
    assert [line.split(": ")[0] for line in lines[:-1]] == [
        "acme.yaml:5",
        "acme.yaml:10",
        "acme.yaml:12",
    ]
    assert all(FILE_LINE.match(line) for line in lines[:-1])
    assert lines[-1] == "acme.yaml: 3 problems; nothing was changed."


def test_removing_the_last_owner_is_refused_and_nothing_is_applied(write):
    apply(write(ACME))
    before = state()
    text = BETA + "---\n" + ACME.replace("role: owner", "role: manager")
    result = apply(write(text))
    assert result.exit_code == 2
    assert result.stderr.splitlines()[0] == (
        "acme.yaml:14: members: must include at least one owner"
    )
    assert state() == before


def test_declarative_members_removes_those_not_listed(write):
    apply(write(ACME))
    result = apply(write(ACME.replace("  - email: bob@acme.test\n    role: staff\n", "")))
    assert result.exit_code == 0, result.output
    assert "acme  - member bob@acme.test (was staff)" in result.stdout
    assert members_of_acme() == [("ann@acme.test", "owner")]


def test_dry_run_prints_the_plan_and_changes_nothing(write):
    apply(write(ACME))
    before = state()
    result = apply(write(ACME.replace("role: staff", "role: viewer")), "--dry-run")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        "acme  ~ member bob@acme.test: staff → viewer",
        "Dry run: 1 change to 1 organisation would be made; nothing was changed.",
    ]
    assert state() == before


def test_dry_run_still_reports_bad_input(write):
    result = apply(write(ACME.replace("role: staff", "role: boss")), "--dry-run")
    assert result.exit_code == 2
    assert result.stderr.startswith("acme.yaml:11: members[1].role:")


def test_missing_file_is_bad_input(write):
    result = apply("nope.yaml")
    assert result.exit_code == 2
    assert result.stderr.startswith("nope.yaml: cannot read it:")


def test_file_that_is_not_utf8_reports_the_line(write, tmp_path):
    (tmp_path / "latin.yaml").write_bytes(b"version: 1\norganisation:\n  name: Caf\xe9\n")
    result = apply("latin.yaml")
    assert result.exit_code == 2
    assert result.stderr == "latin.yaml:3: the file is not UTF-8 text\n"


def test_apply_reads_standard_input_with_a_dash():
    result = runner.invoke(app, ["apply", "-"], input="version: 1\norganisation: [x]\n")
    assert result.exit_code == 2
    assert result.stderr.splitlines()[0] == (
        "<stdin>:2: organisation: must be a mapping of keys to values (got a list)"
    )


def test_export_writes_every_organisation_to_standard_output(write):
    apply(write(BETA + "---\n" + ACME))
    result = runner.invoke(app, ["export"])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("version: 1\norganisation:\n  slug: acme\n")
    assert "\n---\nversion: 1\norganisation:\n  slug: beta\n" in result.stdout


def test_export_only_the_organisations_asked_for(write):
    apply(write(BETA + "---\n" + ACME))
    result = runner.invoke(app, ["export", "--org", "beta"])
    assert result.exit_code == 0
    assert "slug: beta" in result.stdout
    assert "slug: acme" not in result.stdout


def test_export_of_an_unknown_organisation_is_bad_input():
    result = runner.invoke(app, ["export", "--org", "nope"])
    assert result.exit_code == 2
    assert result.stderr == "No organisation has the slug 'nope'.\n"


def test_round_trip_export_apply_export_is_identical_and_records_nothing(write, tmp_path):
    apply(write(ACME + "---\n" + BETA))
    first = runner.invoke(app, ["export", "-o", "export.yaml"])
    assert first.exit_code == 0, first.output
    assert first.stderr == "Wrote 2 organisations to export.yaml.\n"
    exported = (tmp_path / "export.yaml").read_text(encoding="utf-8")

    events = AuditEvent.objects.count()
    again = apply("export.yaml")
    assert again.exit_code == 0, again.output
    assert again.stdout == "No changes: the database already matches export.yaml.\n"
    assert AuditEvent.objects.count() == events

    second = runner.invoke(app, ["export"])
    assert second.stdout == exported
