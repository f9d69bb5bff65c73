"""`fallback sync`: syncs connectors now and reports each outcome."""

import pytest
from typer.testing import CliRunner

from fallback.cli.app import app
from fallback.replica import editing
from fallback.replica.models import Record
from fallback.testing.factories import make_org

pytestmark = pytest.mark.django_db(transaction=True)
runner = CliRunner()

HEADER = "Account,Name\n"


@pytest.fixture
def exports(tmp_path):
    org = make_org("Harbour Plumbing")
    (tmp_path / "customers.csv").write_text(HEADER + "C1,Ann\nC2,Bob\n", encoding="utf-8")
    return editing.create_connector(
        org,
        name="Exports",
        kind="files",
        config={
            "folder": str(tmp_path),
            "streams": [
                {
                    "name": "customers",
                    "pattern": "customers*.csv",
                    "entity": "customer",
                    "key": "Account",
                    "fields": {"name": "Name"},
                }
            ],
        },
    )


def test_sync_of_one_connector_applies_and_reports_counts(exports):
    result = runner.invoke(app, ["sync", "exports", "--org", exports.org.slug])
    assert result.exit_code == 0, result.output
    assert "Applied" in result.output
    assert Record.objects.filter(connector=exports).count() == 2


def test_sync_without_a_name_syncs_every_enabled_connector(exports):
    result = runner.invoke(app, ["sync"])
    assert result.exit_code == 0, result.output
    assert "Exports" in result.output


def test_a_held_sync_exits_non_zero_and_says_why(exports, tmp_path):
    runner.invoke(app, ["sync", "exports"])
    (tmp_path / "customers.csv").write_text(HEADER, encoding="utf-8")
    result = runner.invoke(app, ["sync", "exports"])
    assert result.exit_code == 1
    assert "Held" in result.output
    assert "no records came back" in result.output


def test_unknown_connector_is_named(exports):
    result = runner.invoke(app, ["sync", "nope"])
    assert result.exit_code == 2
    assert "No connector nope" in result.output
