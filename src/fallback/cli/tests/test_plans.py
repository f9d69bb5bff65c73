"""`fallback binder ORG -o FILE.pdf`: the grab binder written to a file and recorded as taken,
and clear refusals of a wrong file name, a missing folder, an unknown organisation or one
with no plan."""

import pytest
from typer.testing import CliRunner

from fallback.cli.app import app
from fallback.plans import binder, editing
from fallback.plans.models import BinderCopy, Plan
from fallback.testing.factories import make_org, make_user

pytestmark = pytest.mark.django_db(transaction=True)
runner = CliRunner()


@pytest.fixture
def org(settings, tmp_path):
    settings.FALLBACK_HOME = tmp_path / "home"
    owner = make_user("ann@harbour.test")
    org = make_org("Harbour Plumbing", owner=owner)
    editing.start(org, owner)
    return org


def test_the_binder_is_written_and_recorded(org, tmp_path):
    target = tmp_path / "binder.pdf"
    result = runner.invoke(app, ["binder", org.slug, "-o", str(target)])
    assert result.exit_code == 0, result.output
    assert target.read_bytes().startswith(b"%PDF-")
    copy = BinderCopy.objects.get(org=org)
    assert (copy.kind, copy.via, copy.by_label) == ("downloaded", "cli", "command line")
    assert f"binder {copy.fingerprint[:8].upper()}" in result.output
    assert binder.status(Plan.objects.get(org=org)).up_to_date


def test_another_extension_is_refused_and_nothing_written(org, tmp_path):
    target = tmp_path / "binder.docx"
    result = runner.invoke(app, ["binder", org.slug, "-o", str(target)])
    assert result.exit_code == 2
    assert "written as a .pdf, not .docx" in result.output
    assert not target.exists() and not BinderCopy.objects.exists()


def test_a_missing_folder_says_so(org, tmp_path):
    result = runner.invoke(app, ["binder", org.slug, "-o", str(tmp_path / "no" / "b.pdf")])
    assert result.exit_code == 2 and "does not exist" in result.output


def test_an_unknown_organisation_is_named_with_the_known_ones(org, tmp_path):
    result = runner.invoke(app, ["binder", "acme", "-o", str(tmp_path / "b.pdf")])
    assert result.exit_code == 2
    assert "No organisation acme. There are: harbour-plumbing." in result.output


def test_an_organisation_without_a_plan_is_told_to_start_one(tmp_path):
    other = make_org("Bare Ltd")
    result = runner.invoke(app, ["binder", other.slug, "-o", str(tmp_path / "b.pdf")])
    assert result.exit_code == 2 and "has no continuity plan yet" in result.output
