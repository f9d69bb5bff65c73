"""What is packed besides the database: the data folder's keys and uploads, and each file
set's files minus its exclusions; a missing path is a warning."""

from __future__ import annotations

import pytest

from fallback.vault import filesets
from fallback.vault.models import FileSet


def test_exclusions_match_the_path_in_the_set_or_the_name():
    assert filesets.excluded("templates/cache/x.html", ["templates/cache/*"])
    assert filesets.excluded("templates/a.tmp", ["*.tmp"])
    assert filesets.excluded("templates/cache", ["cache"])
    assert not filesets.excluded("templates/invoice.html", ["*.tmp", "cache"])


def test_a_set_packs_its_folders_and_files_under_its_name(tmp_path):
    templates = tmp_path / "templates"
    (templates / "cache").mkdir(parents=True)
    (templates / "invoice.html").write_text("<h1>Invoice</h1>")
    (templates / "cache" / "old.html").write_text("stale")
    company = tmp_path / "company.qbw"
    company.write_bytes(b"QBW")
    listing = filesets.set_entries(
        FileSet(
            name="office",
            paths=[str(templates), str(company), str(tmp_path / "gone")],
            excludes=["cache"],
        )
    )
    assert sorted(e.name for e in listing.entries) == [
        "files/office/company.qbw",
        "files/office/templates/invoice.html",
    ]
    assert listing.size == len("<h1>Invoice</h1>") + 3
    assert len(listing.warnings) == 1 and "gone does not exist" in listing.warnings[0]


def test_the_data_folder_gives_its_keys_and_uploads_only(tmp_path):
    (tmp_path / "secret_key").write_text("k")
    (tmp_path / "sealing.key").write_text("AGE-SECRET-KEY-1")
    (tmp_path / "fallback.sqlite3").write_text("the live database is copied otherwise")
    (tmp_path / "uploads" / "3").mkdir(parents=True)
    (tmp_path / "uploads" / "3" / "orders.csv").write_text("id\n")
    names = sorted(e.name for e in filesets.home_entries(tmp_path).entries)
    assert names == ["home/sealing.key", "home/secret_key", "home/uploads/3/orders.csv"]


@pytest.mark.parametrize(
    ("paths", "problem"),
    [
        (["relative/folder"], "give the full path"),
        (["/srv/a/templates", "/srv/b/templates"], "would both be kept as templates"),
    ],
)
def test_paths_are_checked(paths, problem):
    assert problem in filesets.check_paths(paths)[0]
