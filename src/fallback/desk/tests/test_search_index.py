"""The search index follows the replica: a sync's new versions are found, closed ones not."""

import pytest
from django_tasks_db.models import DBTaskResult

from fallback.desk import search, search_index, tasks
from fallback.desk.models import SearchEntry, SearchWord
from fallback.desk.tests.conftest import put_records
from fallback.replica import editing
from fallback.replica import sync as syncing
from fallback.testing.factories import make_org

pytestmark = pytest.mark.django_db

HEADER = "Account;Name;City\r\n"


@pytest.fixture
def org():
    return make_org("Harbour Plumbing")


def exports(org, folder):
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
                    "fields": {"name": "Name", "city": "City"},
                }
            ],
        },
    )


def sync_and_index(connector, capture):
    """A sync, then the index task it enqueued once it committed, run as a worker would."""
    with capture(execute=True):
        syncing.run(connector)
    queued = DBTaskResult.objects.filter(task_path=tasks.index_applied.module_path)
    assert queued.count() == 1
    for job in queued:
        tasks.index_applied.call(*job.args_kwargs["args"], **job.args_kwargs["kwargs"])
    queued.delete()


def test_a_sync_keeps_the_index_in_step_with_the_replica(
    org, tmp_path, django_capture_on_commit_callbacks
):
    connector = exports(org, tmp_path)
    (tmp_path / "customers.csv").write_text(
        HEADER + "C1;Smith Plumbing;Leeds\r\nC2;Jones Ltd;York\r\n", encoding="utf-8"
    )
    sync_and_index(connector, django_capture_on_commit_callbacks)
    assert [h.title for h in search.search(org.pk, "smith")] == ["Smith Plumbing"]

    (tmp_path / "customers.csv").write_text(
        HEADER + "C1;Smith & Sons Plumbing;Leeds\r\nC3;Brown Bros;Hull\r\n", encoding="utf-8"
    )
    # C1 renamed, C2 gone (full sweep), C3 new
    sync_and_index(connector, django_capture_on_commit_callbacks)
    assert [h.title for h in search.search(org.pk, "smith")] == ["Smith & Sons Plumbing"]
    assert search.search(org.pk, "jones") == []
    assert [h.title for h in search.search(org.pk, "brown")] == ["Brown Bros"]
    assert SearchEntry.objects.filter(org=org).count() == 2


def test_told_twice_the_index_has_each_record_once(org):
    records = put_records(org, "customer", [{"key": "C1", "name": "Smith Plumbing"}])
    search_index.on_applied(records[0].connector_id, records[0].valid_from)
    assert SearchEntry.objects.filter(org=org).count() == 1


def test_generic_records_are_not_indexed(org):
    put_records(org, "record", [{"key": "R1", "name": "Smith memo"}])
    assert search.search(org.pk, "smith") == []


def test_title_words_get_their_deletions_once(org):
    put_records(org, "customer", [{"key": "C1", "name": "Smith"}, {"key": "C2", "name": "Smith"}])
    variants = set(
        SearchWord.objects.filter(org=org, word="smith").values_list("variant", flat=True)
    )
    assert variants == {"smith", "mith", "sith", "smth", "smih", "smit"}


def test_rebuild_makes_the_same_index(org):
    put_records(org, "customer", [{"key": "C1", "name": "Smith Plumbing", "city": "Leeds"}])
    before = list(SearchEntry.objects.filter(org=org).values_list("record_id", "title", "text"))
    assert search_index.rebuild(org.pk) == 1
    after = list(SearchEntry.objects.filter(org=org).values_list("record_id", "title", "text"))
    assert before == after
    assert search.search(org.pk, "smtih")[0].title == "Smith Plumbing"


def test_a_held_sync_enqueues_no_indexing(org, tmp_path, django_capture_on_commit_callbacks):
    connector = exports(org, tmp_path)
    (tmp_path / "customers.csv").write_text(HEADER, encoding="utf-8")  # empty: held
    with django_capture_on_commit_callbacks(execute=True):
        syncing.run(connector)
    assert not DBTaskResult.objects.filter(task_path=tasks.index_applied.module_path).exists()
