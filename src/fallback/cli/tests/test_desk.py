"""`fallback desk …`: the price list and the blank forms written to files, the search index
rebuilt, and clear refusals of an unknown organisation or a wrong file name."""

import pytest
from typer.testing import CliRunner

from fallback.cli.app import app
from fallback.desk import printing
from fallback.desk.models import SearchEntry
from fallback.desk.tests.conftest import put_records
from fallback.testing.factories import make_org

pytestmark = pytest.mark.django_db(transaction=True)
runner = CliRunner()


@pytest.fixture
def org():
    org = make_org("Harbour Plumbing")
    put_records(
        org,
        "product",
        [
            {"key": "P1", "name": "Copper pipe", "sku": "CP-15", "price": "8.45"},
            {"key": "P2", "name": "Boiler", "sku": "B-9", "price": "1000"},
        ],
    )
    return org


def test_price_list_as_csv(org, tmp_path):
    target = tmp_path / "prices.csv"
    result = runner.invoke(app, ["desk", "price-list", org.slug, "-o", str(target)])
    assert result.exit_code == 0, result.output
    assert "prices as of" in result.output
    lines = target.read_bytes().decode("utf-8-sig").splitlines()
    assert lines[0].startswith("sku,name,unit,price_excl_tax")
    assert [line.split(",")[1] for line in lines[1:]] == ["Boiler", "Copper pipe"]


def test_price_list_as_pdf(org, tmp_path):
    target = tmp_path / "prices.PDF"
    result = runner.invoke(app, ["desk", "price-list", org.slug, "--output", str(target)])
    assert result.exit_code == 0, result.output
    assert target.read_bytes().startswith(b"%PDF-")


def test_price_list_refuses_another_extension_and_writes_nothing(org, tmp_path):
    target = tmp_path / "prices.xlsx"
    result = runner.invoke(app, ["desk", "price-list", org.slug, "-o", str(target)])
    assert result.exit_code == 2
    assert "written as .pdf or .csv, not .xlsx" in result.output
    assert not target.exists()


def test_price_list_into_a_missing_folder_says_so(org, tmp_path):
    target = tmp_path / "nope" / "prices.csv"
    result = runner.invoke(app, ["desk", "price-list", org.slug, "-o", str(target)])
    assert result.exit_code == 2
    assert "does not exist" in result.output


def test_an_unknown_organisation_is_named_with_the_known_ones(org, tmp_path):
    result = runner.invoke(app, ["desk", "price-list", "acme", "-o", str(tmp_path / "p.csv")])
    assert result.exit_code == 2
    assert "No organisation acme. There are: harbour-plumbing." in result.output
    assert not (tmp_path / "p.csv").exists()


def test_blank_forms_writes_every_form_into_the_folder(org, tmp_path):
    folder = tmp_path / "binder" / "forms"
    result = runner.invoke(app, ["desk", "blank-forms", org.slug, "-o", str(folder)])
    assert result.exit_code == 0, result.output
    written = sorted(p.name for p in folder.iterdir())
    assert written == sorted(
        f"harbour-plumbing-blank-{kind.replace('_', '-')}.pdf" for kind in printing.BLANK_FORMS
    )
    assert all((folder / name).read_bytes().startswith(b"%PDF-") for name in written)


def test_blank_forms_refuses_a_file_for_a_folder(org, tmp_path):
    target = tmp_path / "forms.pdf"
    target.write_bytes(b"mine")
    result = runner.invoke(app, ["desk", "blank-forms", org.slug, "-o", str(target)])
    assert result.exit_code == 2
    assert "is a file" in result.output
    assert target.read_bytes() == b"mine"


def test_reindex_rebuilds_one_organisations_search_index(org):
    SearchEntry.objects.filter(org=org).delete()
    result = runner.invoke(app, ["desk", "reindex", org.slug])
    assert result.exit_code == 0, result.output
    assert "harbour-plumbing" in result.output and "2" in result.output
    assert SearchEntry.objects.filter(org=org).count() == 2


def test_reindex_without_a_name_rebuilds_every_organisation(org):
    other = make_org("Bravo")
    put_records(other, "customer", [{"key": "C1", "name": "Smith"}])
    SearchEntry.objects.all().delete()
    result = runner.invoke(app, ["desk", "reindex"])
    assert result.exit_code == 0, result.output
    assert SearchEntry.objects.filter(org=org).count() == 2
    assert SearchEntry.objects.filter(org=other).count() == 1


def test_reindex_of_an_unknown_organisation_fails_clearly(org):
    result = runner.invoke(app, ["desk", "reindex", "nope"])
    assert result.exit_code == 2
    assert "No organisation nope" in result.output
