"""An unreachable PostgreSQL skips the PostgreSQL run, or fails it when CI requires it."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ONE_TEST = (
    str(Path(__file__).resolve().parents[2] / "tests" / "test_home.py")
    + "::test_fallback_home_overrides_default"
)
NOWHERE = "postgresql://postgres@127.0.0.1:9/fallback"  # port 9 (discard): nothing listens


def run_pytest(**env_extra: str) -> subprocess.CompletedProcess[str]:
    env = {
        k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "FALLBACK_TEST_POSTGRES"}
    }
    env.update(env_extra)
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", ONE_TEST],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize("required", ["", "optional"])
def test_unreachable_postgres_skips_when_not_required(required):
    r = run_pytest(DATABASE_URL=NOWHERE, FALLBACK_TEST_POSTGRES=required)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "1 skipped" in r.stdout and "PostgreSQL unreachable" in r.stdout


def test_unreachable_postgres_fails_the_run_when_required():
    r = run_pytest(DATABASE_URL=NOWHERE, FALLBACK_TEST_POSTGRES="required")
    assert r.returncode != 0
    assert (
        "unreachable" in r.stdout + r.stderr
        and "FALLBACK_TEST_POSTGRES=required" in r.stdout + r.stderr
    )


def test_without_database_url_tests_run_on_sqlite():
    r = run_pytest()
    assert r.returncode == 0 and "1 passed" in r.stdout
    assert "skipped" not in r.stdout
