import pytest
from typer.testing import CliRunner

from fallback.cli.app import app
from fallback.runtime import heartbeat

pytestmark = pytest.mark.django_db
runner = CliRunner()


def test_doctor_fails_with_fix_when_no_worker_is_alive():
    r = runner.invoke(app, ["doctor"])
    assert r.exit_code == 1
    assert "no worker" in r.output and "fallback worker" in r.output


def test_doctor_passes_when_a_worker_beats():
    heartbeat.beat("w", "worker")
    r = runner.invoke(app, ["doctor"])
    assert r.exit_code == 0, r.output
    assert "Database" in r.output and "Migrations" in r.output and "Clock" in r.output
