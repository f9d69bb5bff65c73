"""CSV/XLSX exports and kept plain files, synced from the connector's folder."""

import pytest

from fallback.replica import editing, history, keeping
from fallback.replica import sync as syncing
from fallback.replica.models import KeptFile, SyncStatus
from fallback.testing.factories import make_org

pytestmark = pytest.mark.django_db

HEADER = "Account;Name;Email;Balance\r\n"


@pytest.fixture
def org():
    return make_org("Harbour Plumbing")


def exports(org, folder, **extra):
    return editing.create_connector(
        org,
        name="Exports",
        kind="files",
        config={
            "folder": str(folder),
            "streams": [
                {
                    "name": "customers",
                    "pattern": "customers*.csv",
                    "entity": "customer",
                    "key": "Account",
                    "fields": {"name": "Name", "email": "Email", "balance": "Balance"},
                    **extra,
                }
            ],
        },
    )


def test_windows_1252_export_with_a_bom_is_read_with_its_accents(org, tmp_path):
    body = (
        HEADER + "C1;Café Müller;cafe@example.com;1.234,50\r\nC2;Zoë’s Flowers;z@example.com;0\r\n"
    )
    (tmp_path / "customers.csv").write_bytes(b"\xef\xbb\xbf" + body.encode("cp1252"))
    done = syncing.run(exports(org, tmp_path))
    assert done.status == SyncStatus.APPLIED, (done.error, done.hold_reasons)
    names = dict(history.current(org, "customer").values_list("key", "name"))
    assert names == {"C1": "Café Müller", "C2": "Zoë’s Flowers"}
    balance = history.current(org, "customer").get(key="C1").data["balance"]
    assert balance == "1234.50"


def test_a_bad_row_holds_the_sync_naming_its_line(org, tmp_path):
    body = (
        HEADER
        + "C1;Ann;a@example.com;1\r\nC2;Bob;b@example.com;2;surprise\r\nC3;Cy;c@example.com;3\r\n"
    )
    (tmp_path / "customers.csv").write_text(body, encoding="utf-8")
    done = syncing.run(exports(org, tmp_path))
    assert done.status == SyncStatus.HELD
    reasons = " ".join(done.hold_reasons)
    assert "line 3" in reasons
    assert history.current(org, "customer").count() == 0  # nothing applied


def test_the_newest_matching_export_is_read(org, tmp_path):
    import os

    old = tmp_path / "customers-2026-01.csv"
    new = tmp_path / "customers-2026-02.csv"
    old.write_text(HEADER + "C1;Old;o@example.com;1\r\n", encoding="utf-8")
    new.write_text(HEADER + "C1;New;n@example.com;1\r\n", encoding="utf-8")
    os.utime(old, (1_700_000_000, 1_700_000_000))
    syncing.run(exports(org, tmp_path))
    assert history.current(org, "customer").get().name == "New"


def test_no_matching_file_fails_and_says_which_pattern(org, tmp_path):
    done = syncing.run(exports(org, tmp_path))
    assert done.status == SyncStatus.FAILED
    assert "customers*.csv" in done.error


def test_uploaded_file_is_read_too(org, tmp_path):
    connector = exports(org, tmp_path / "nowhere")
    uploads = syncing.uploads_folder(connector)
    uploads.mkdir(parents=True)
    (uploads / "customers.csv").write_text(HEADER + "C9;Up;u@example.com;0\r\n", encoding="utf-8")
    done = syncing.run(connector)
    assert done.status == SyncStatus.APPLIED
    assert history.current(org, "customer").get().key == "C9"


def test_kept_files_keep_every_version(org, tmp_path):
    template = tmp_path / "quote-template.docx"
    template.write_bytes(b"version one")
    connector = editing.create_connector(
        org, name="Templates", kind="kept_files", config={"folder": str(tmp_path)}
    )
    syncing.run(connector)
    syncing.run(connector)  # unchanged: no new version
    template.write_bytes(b"version two")
    done = syncing.run(connector)
    assert (done.changed, done.created) == (1, 0)
    kept = KeptFile.objects.filter(connector=connector).order_by("valid_from", "pk")
    assert [keeping.content_of(k) for k in kept] == [b"version one", b"version two"]
    assert [k.ended for k in kept] == ["changed", ""]
    template.unlink()
    gone = syncing.run(connector)
    assert gone.retired == 1


def test_kept_file_over_the_size_limit_fails_clearly(org, tmp_path):
    (tmp_path / "big.bin").write_bytes(b"x" * (2 << 20))
    connector = editing.create_connector(
        org, name="Big", kind="kept_files", config={"folder": str(tmp_path), "max_size_mb": 1}
    )
    done = syncing.run(connector)
    assert done.status == SyncStatus.FAILED
    assert "larger than 1 MB" in done.error
