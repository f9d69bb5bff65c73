import os
import sqlite3
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from fallback.accounts.models import Membership, Organisation, User
from fallback.audit.models import AuditEvent
from fallback.cli.app import app

pytestmark = pytest.mark.django_db
runner = CliRunner()
GOOD = "correct horse battery staple"


def test_init_creates_org_and_owner_from_flags():
    r = runner.invoke(
        app,
        [
            "init",
            "--org",
            "Acme Ltd",
            "--email",
            "Ann@Acme.test",
            "--password",
            GOOD,
            "--name",
            "Ann Smith",
        ],
    )
    assert r.exit_code == 0, r.output
    m = Membership.objects.select_related("user", "org").get()
    assert (m.org.name, m.user.email, m.role) == ("Acme Ltd", "ann@acme.test", "owner")
    assert m.user.check_password(GOOD) and m.user.get_full_name() == "Ann Smith"
    assert AuditEvent.objects.filter(via="cli", action="organisation.created").exists()


def test_init_makes_the_first_person_the_installation_administrator():
    # The vault's Backups page is theirs; a second owner set up later is not one.
    args = ["init", "--password", GOOD]
    runner.invoke(app, [*args, "--org", "Acme", "--email", "ann@acme.test"])
    runner.invoke(app, [*args, "--org", "Bravo", "--email", "bob@bravo.test"])
    admins = User.objects.filter(is_superuser=True).values_list("email", flat=True)
    assert list(admins) == ["ann@acme.test"]


def test_init_refuses_weak_password_and_creates_nothing():
    r = runner.invoke(
        app, ["init", "--org", "Acme", "--email", "a@acme.test", "--password", "12345"]
    )
    assert r.exit_code == 2
    assert "Password" in r.output
    assert not Organisation.objects.exists() and not User.objects.exists()


def test_init_without_terminal_needs_all_flags():
    r = runner.invoke(app, ["init", "--org", "Acme"], input="")
    assert r.exit_code == 2
    assert "--email" in r.output


def test_init_twice_changes_nothing():
    runner.invoke(app, ["init", "--org", "Acme", "--email", "a@acme.test", "--password", GOOD])
    r = runner.invoke(app, ["init"])
    assert r.exit_code == 0 and "Already initialised" in r.output
    assert Organisation.objects.count() == 1


def test_passwd_sets_password_and_clears_forced_change():
    user = User.objects.create_user("b@acme.test", "x", must_change_password=True)
    r = runner.invoke(app, ["passwd", "b@acme.test", "--password-stdin"], input=GOOD + "\n")
    assert r.exit_code == 0, r.output
    user.refresh_from_db()
    assert user.check_password(GOOD) and not user.must_change_password


def test_passwd_for_unknown_user_is_exit_2():
    r = runner.invoke(app, ["passwd", "nobody@acme.test", "--password-stdin"], input=GOOD + "\n")
    assert r.exit_code == 2


@pytest.mark.real_password_hashing
def test_demo_no_serve_prepares_given_home_and_prints_a_working_login(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "FALLBACK_HOME"}}
    home = tmp_path / "demo"
    out = subprocess.run(
        [sys.executable, "-m", "fallback", "--home", str(home), "demo", "--no-serve"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    assert "demo@fallback.test" in out
    password = out.split("Password:")[1].split()[0]
    with sqlite3.connect(home / "fallback.sqlite3") as db:
        orgs = [r[0] for r in db.execute("SELECT slug FROM accounts_organisation ORDER BY slug")]
        hashed = db.execute(
            "SELECT password FROM accounts_user WHERE email='demo@fallback.test'"
        ).fetchone()[0]
    assert orgs == ["bluebell-florists", "hartley-plumbing"]
    from django.contrib.auth.hashers import check_password

    assert check_password(password, hashed)
    # Again on the same folder: same login, nothing duplicated.
    again = subprocess.run(
        [sys.executable, "-m", "fallback", "--home", str(home), "demo", "--no-serve"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    assert password in again
    with sqlite3.connect(home / "fallback.sqlite3") as db:
        assert db.execute("SELECT count(*) FROM accounts_organisation").fetchone()[0] == 2
