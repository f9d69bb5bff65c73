"""Reading CSV and XLSX exports: encodings, delimiters, quoting, line numbers, bad rows."""

from __future__ import annotations

import io
import pickle
import tracemalloc
import zipfile
from datetime import date, datetime, time
from pathlib import Path

import openpyxl
import pytest

from fallback.replica.tabular import BadRows, Table, TabularError, open_table


def read(table: Table) -> list[tuple[int, dict[str, str]]]:
    return list(table.rows())


def read_with_bad(table: Table) -> tuple[list[tuple[int, dict[str, str]]], BadRows]:
    """The good rows yielded before BadRows, and BadRows itself."""
    good: list[tuple[int, dict[str, str]]] = []
    with pytest.raises(BadRows) as raised:
        for item in table.rows():
            good.append(item)
    return good, raised.value


def csv_table(text: str | bytes, name: str = "customers.csv", **kwargs: str) -> Table:
    data = text.encode("utf-8") if isinstance(text, str) else text
    return open_table(data, name, **kwargs)


class NonSeekable(io.RawIOBase):
    """An upload stream that can only be read forward."""

    def __init__(self, data: bytes) -> None:
        self._data = io.BytesIO(data)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray) -> int:  # type: ignore[override]
        chunk = self._data.read(min(len(buffer), 7))  # small pieces, like a socket
        buffer[: len(chunk)] = chunk
        return len(chunk)


# --- encodings ------------------------------------------------------------------------


def test_windows_1252_file_is_read_with_accents() -> None:
    data = "Name;Note\r\nCafé Élodie;€ 5 ‚quoted‚ it’s\r\n".encode("cp1252")
    table = csv_table(data)
    assert table.encoding == "cp1252"
    assert read(table) == [(2, {"Name": "Café Élodie", "Note": "€ 5 ‚quoted‚ it’s"})]


def test_utf8_bom_is_not_part_of_the_first_column_name() -> None:
    table = csv_table("\ufeffName,City\r\nZoë,Zürich\r\n".encode())
    assert table.encoding == "utf-8-sig"
    assert table.columns == ["Name", "City"]
    assert read(table) == [(2, {"Name": "Zoë", "City": "Zürich"})]


def test_cp1252_file_starting_with_utf8_bom_bytes_is_read_as_cp1252() -> None:
    # Some exporters write a UTF-8 BOM and then the data in Windows-1252.
    data = b"\xef\xbb\xbf" + "Name,City\nCafé,Orléans\n".encode("cp1252")
    table = csv_table(data)
    assert table.encoding == "cp1252"
    assert table.columns == ["Name", "City"]
    assert read(table) == [(2, {"Name": "Café", "City": "Orléans"})]


def test_accent_after_the_first_megabyte_still_makes_the_file_cp1252() -> None:
    ascii_rows = "plain,x\n" * 150_000  # 1.2 MB of ASCII
    data = ("Name,Code\n" + ascii_rows + "Müller,y\n").encode("cp1252")
    table = csv_table(data)
    assert table.encoding == "cp1252"
    assert read(table)[-1] == (150_002, {"Name": "Müller", "Code": "y"})


def test_plain_ascii_file_is_utf8() -> None:
    assert csv_table("a,b\n1,2\n").encoding == "utf-8"


def test_mostly_utf8_file_with_a_damaged_byte_reports_that_row_instead_of_mojibake() -> None:
    rows = "".join(f"Zoë {i},Zürich\n" for i in range(20)).encode()
    data = b"Name,City\n" + rows + b"Caf\xe9,Paris\n" + b"Ren\xc3\xa9e,Lyon\n"
    table = csv_table(data)
    assert table.encoding == "utf-8"
    good, bad = read_with_bad(table)
    assert good[0] == (2, {"Name": "Zoë 0", "City": "Zürich"})
    assert good[-1] == (23, {"Name": "Renée", "City": "Lyon"})
    assert [(e.line, e.column) for e in bad.errors] == [(22, "Name")]
    assert "0xE9" in bad.errors[0].message


def test_forced_encoding_reports_undecodable_bytes_with_line_number() -> None:
    data = "Name,City\nAnna,Paris\nRené,Lyon\nBob,Nice\n".encode("cp1252")
    table = csv_table(data, encoding="utf-8")
    assert table.encoding == "utf-8"
    good, bad = read_with_bad(table)
    assert [line for line, _ in good] == [2, 4]
    [error] = bad.errors
    assert (error.line, error.column) == (3, "Name")
    assert "not valid utf-8 (0xE9)" in error.message


def test_header_that_cannot_be_decoded_is_an_error() -> None:
    with pytest.raises(TabularError) as raised:
        csv_table("Société,Ville\nA,B\n".encode("cp1252"), encoding="utf-8")
    assert raised.value.line == 1
    assert "not valid utf-8 (0xE9 0xE9)" in raised.value.message


def test_explicit_utf8_still_drops_the_bom() -> None:
    table = csv_table("\ufeffName\nAnn\n".encode(), encoding="utf-8")
    assert table.columns == ["Name"]


def test_explicit_encoding_wins_over_detection() -> None:
    data = "Name\nÀ bientôt\n".encode("cp1252")
    table = csv_table(data, encoding="latin-1")
    assert table.encoding == "iso8859-1"
    assert read(table) == [(2, {"Name": "À bientôt"})]


def test_unknown_encoding_is_an_error() -> None:
    with pytest.raises(TabularError, match="unknown encoding 'klingon'"):
        csv_table("a\n1\n", encoding="klingon")
    with pytest.raises(TabularError, match="'base64' is not a text encoding"):
        csv_table("a\n1\n", encoding="base64")


def test_utf16_with_bom_from_excel_unicode_text_is_read() -> None:
    data = "\ufeffName\tCity\r\nZoë\tKöln\r\n".encode("utf-16-le")
    table = csv_table(data, name="export.txt")
    assert (table.encoding, table.delimiter) == ("utf-16", "\t")
    assert read(table) == [(2, {"Name": "Zoë", "City": "Köln"})]


def test_utf16_without_bom_is_recognised_by_its_zero_bytes() -> None:
    data = "Name,City\nZoë,Köln\n".encode("utf-16-be")
    table = csv_table(data)
    assert table.encoding == "utf-16-be"
    assert read(table) == [(2, {"Name": "Zoë", "City": "Köln"})]


def test_dos_code_page_850_export_is_told_apart_from_windows_1252() -> None:
    text = "Nom;Ville\n" + "".join(
        f"Hélène {i};Besançon, crème brûlée à côté\nJürgen Müller;Köln Straße\n" for i in range(30)
    )
    table = csv_table(text.encode("cp850"))
    assert table.encoding == "cp850"
    assert read(table)[0] == (2, {"Nom": "Hélène 0", "Ville": "Besançon, crème brûlée à côté"})


def test_windows_1252_with_typographic_quotes_is_not_taken_for_code_page_850() -> None:
    text = "Name;Note\n" + "Smith’s shop;“Best” – open daily…\n" * 10
    assert csv_table(text.encode("cp1252")).encoding == "cp1252"


def test_binary_file_is_refused() -> None:
    with pytest.raises(TabularError, match="does not look like a CSV"):
        csv_table(bytes(range(256)) * 20, name="photo.csv")


# --- delimiters -----------------------------------------------------------------------


def test_semicolon_delimited_file_is_sniffed() -> None:
    # European export: decimal commas must not fool the sniffer.
    table = csv_table("Article;Price;Stock\nA-1;12,50;3\nB-2;1,99;10\n")
    assert table.delimiter == ";"
    assert read(table)[0] == (2, {"Article": "A-1", "Price": "12,50", "Stock": "3"})


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_each_supported_delimiter_is_sniffed(delimiter: str) -> None:
    text = delimiter.join(["id", "name", "city"]) + "\n" + delimiter.join(["1", "Ann", "Oslo"])
    table = csv_table(text + "\n", name="export.txt")
    assert table.delimiter == delimiter
    assert table.columns == ["id", "name", "city"]


def test_delimiters_inside_quotes_do_not_mislead_the_sniffer() -> None:
    text = (
        '"Name; first";"Address, street";Zip\n'
        '"Doe, J.";"1 Main St, Apt 2";100\n'
        '"Roe, K.";"2 High St, Flat 3";200\n'
    )
    table = csv_table(text)
    assert table.delimiter == ";"
    assert table.columns == ["Name; first", "Address, street", "Zip"]
    assert read(table)[1] == (
        3,
        {"Name; first": "Roe, K.", "Address, street": "2 High St, Flat 3", "Zip": "200"},
    )


def test_explicit_delimiter_wins_over_sniffing() -> None:
    table = csv_table("a;b,c\n1;2,3\n", delimiter=";")
    assert table.columns == ["a", "b,c"]
    assert read(table) == [(2, {"a": "1", "b,c": "2,3"})]


def test_single_column_file_does_not_split_values() -> None:
    table = csv_table("Full name\nDoe, John\nRoe; Kate\n")
    assert table.columns == ["Full name"]
    assert [values for _, values in read(table)] == [
        {"Full name": "Doe, John"},
        {"Full name": "Roe; Kate"},
    ]


# --- records and line numbers ---------------------------------------------------------


def test_quoted_newline_keeps_line_numbers_right() -> None:
    text = (
        "id,note\n"  # 1
        '1,"first line\n'  # 2
        "second line\r\n"  # 3
        'third line"\n'  # 4
        "2,plain\n"  # 5
        "3,too,many\n"  # 6
    )
    good, bad = read_with_bad(csv_table(text))
    assert good == [
        (2, {"id": "1", "note": "first line\nsecond line\r\nthird line"}),
        (5, {"id": "2", "note": "plain"}),
    ]
    assert [e.line for e in bad.errors] == [6]


def test_quoted_fields_keep_delimiters_and_doubled_quotes() -> None:
    table = csv_table('name,quote\n"Doe, John","He said ""hi"", then left"\n')
    assert read(table) == [(2, {"name": "Doe, John", "quote": 'He said "hi", then left'})]


@pytest.mark.parametrize("newline", ["\r\n", "\n", "\r"])
def test_crlf_lf_and_cr_line_endings_give_the_same_rows_and_lines(newline: str) -> None:
    text = newline.join(["a,b", "1,2", "", "3,4", ""])
    assert read(csv_table(text)) == [(2, {"a": "1", "b": "2"}), (4, {"a": "3", "b": "4"})]


def test_blank_rows_in_the_middle_and_at_the_end_are_skipped_silently() -> None:
    text = "\n\na,b,c\n1,2,3\n\n,,\n  \n4,5,6\n\n\n\n"
    table = csv_table(text)
    assert table.header_line == 3
    assert read(table) == [(4, {"a": "1", "b": "2", "c": "3"}), (8, {"a": "4", "b": "5", "c": "6"})]


def test_trailing_delimiters_from_excel_are_accepted() -> None:
    table = csv_table("a;b;;\n1;2;;\n3;4;;;;\n")
    assert table.columns == ["a", "b"]
    assert read(table) == [(2, {"a": "1", "b": "2"}), (3, {"a": "3", "b": "4"})]


def test_row_with_extra_field_is_reported_with_its_line_number() -> None:
    text = "id,name,city\n1,Ann,Oslo\n2,Bob,Rome,oops\n3,Cid,Nice\n"
    good, bad = read_with_bad(csv_table(text))
    assert [line for line, _ in good] == [2, 4]  # the rows after the bad one are still read
    [error] = bad.errors
    assert str(error) == "customers.csv, line 3: expected 3 fields (as in the header), found 4"
    assert (bad.good_rows, bad.count, bad.omitted) == (2, 1, 0)


def test_row_with_missing_field_is_reported_with_its_line_number() -> None:
    good, bad = read_with_bad(csv_table("id,name,city\n1,Ann\n2,Bob,Rome\n"))
    assert [line for line, _ in good] == [3]
    assert [(e.line, e.message) for e in bad.errors] == [
        (2, "expected 3 fields (as in the header), found 2")
    ]


def test_nul_byte_makes_the_row_bad() -> None:
    good, bad = read_with_bad(csv_table(b"id,name\n1,An\x00n\n2,Bob\n"))
    assert [line for line, _ in good] == [3]
    assert [(e.line, e.column) for e in bad.errors] == [(2, "name")]
    assert "NUL" in bad.errors[0].message


def test_unclosed_quote_is_reported_not_swallowed() -> None:
    good, bad = read_with_bad(csv_table('id,name\n1,Ann\n2,"Bob\n3,Cid\n4,Dan\n'))
    assert [line for line, _ in good] == [2]
    [error] = bad.errors
    assert error.line == 3
    assert "never closed" in error.message


def test_text_after_a_closing_quote_is_reported() -> None:
    good, bad = read_with_bad(csv_table('id,name\n1,"Bob" Smith\n2,Cid\n'))
    assert [line for line, _ in good] == [3]
    assert [e.line for e in bad.errors] == [2]
    assert "malformed quotes" in bad.errors[0].message


def test_bad_rows_are_listed_up_to_the_limit_and_the_rest_counted() -> None:
    text = "a,b\n" + "1,2,3\n" * 60 + "4,5\n"
    good, bad = read_with_bad(csv_table(text))
    assert good == [(62, {"a": "4", "b": "5"})]
    assert len(bad.errors) == 50
    assert (bad.omitted, bad.count) == (10, 60)
    assert bad.errors[-1].line == 51
    summary = str(bad)
    assert summary.splitlines()[0] == "customers.csv: 60 rows could not be read (1 read fine):"
    assert "  line 2: expected 2 fields (as in the header), found 3" in summary
    assert summary.endswith("... and 10 more")


def test_the_error_limit_can_be_changed() -> None:
    table = csv_table("a,b\n" + "1\n" * 5)
    with pytest.raises(BadRows) as raised:
        list(table.rows(max_errors=2))
    assert (len(raised.value.errors), raised.value.omitted) == (2, 3)


def test_values_are_kept_exactly_as_in_the_file() -> None:
    table = csv_table('code,name,note\n007, Ann ,"  padded  "\n')
    assert read(table) == [(2, {"code": "007", "name": " Ann ", "note": "  padded  "})]


def test_errors_survive_pickling() -> None:
    error = TabularError("a.csv", 3, "broken", "City")
    copy = pickle.loads(pickle.dumps(error))
    assert (copy.source, copy.line, copy.column, str(copy)) == (
        "a.csv",
        3,
        "City",
        "a.csv, line 3, column 'City': broken",
    )


# --- header -------------------------------------------------------------------------------


def test_duplicate_header_names_are_an_error_naming_both_positions() -> None:
    with pytest.raises(TabularError) as raised:
        csv_table("id,Email,name,Email\n1,a,b,c\n")
    assert raised.value.line == 1
    assert raised.value.message == "column 4 'Email' has the same name as column 2"


def test_column_without_a_name_is_an_error_naming_its_position() -> None:
    with pytest.raises(TabularError) as raised:
        csv_table("id,name,,city\n1,Ann,x,Oslo\n")
    assert str(raised.value).startswith("customers.csv, line 1: column 3 has no name")


def test_column_without_a_name_is_fine_when_the_whole_column_is_empty() -> None:
    table = csv_table("id,,city\n1,,Oslo\n2,,Rome\n")
    assert table.columns == ["id", "city"]
    assert read(table) == [(2, {"id": "1", "city": "Oslo"}), (3, {"id": "2", "city": "Rome"})]


def test_value_under_a_nameless_column_far_down_the_file_is_a_bad_row() -> None:
    text = "id,,city\n" + "1,,Oslo\n" * 100 + "2,x,Rome\n"
    good, bad = read_with_bad(csv_table(text))
    assert len(good) == 100
    assert [e.line for e in bad.errors] == [102]
    assert "column 2 has no name" in bad.errors[0].message


def test_header_names_are_stripped() -> None:
    assert csv_table(" id ;\tname \nx;y\n").columns == ["id", "name"]


@pytest.mark.parametrize("data", [b"", b"\r\n\r\n", b"  \n"])
def test_file_without_a_header_is_an_error(data: bytes) -> None:
    with pytest.raises(TabularError, match="header"):
        csv_table(data)


def test_header_only_file_has_no_rows() -> None:
    table = csv_table("id,name\n")
    assert table.columns == ["id", "name"]
    assert read(table) == []


# --- sources and streaming ----------------------------------------------------------------


def test_path_bytes_and_streams_give_the_same_rows(tmp_path: Path) -> None:
    data = "id;name\r\n1;Zoë\r\n2;Ann\r\n".encode()
    path = tmp_path / "export.csv"
    path.write_bytes(data)
    offset_stream = io.BytesIO(b"junk" + data)
    offset_stream.seek(4)
    expected = [(2, {"id": "1", "name": "Zoë"}), (3, {"id": "2", "name": "Ann"})]
    for source in [path, data, offset_stream, NonSeekable(data)]:
        with open_table(source, "export.csv") as table:  # type: ignore[arg-type]
            assert read(table) == expected
            assert read(table) == expected  # and again
    assert not offset_stream.closed  # the caller's stream is the caller's


def test_rows_are_streamed_not_loaded_at_once(tmp_path: Path) -> None:
    path = tmp_path / "big.csv"
    with path.open("w", encoding="utf-8", newline="") as f:
        f.write("id,name,city,note\n")
        for i in range(30_000):
            f.write(f"{i},Name {i},Zürich,some note for this row\n")
    assert path.stat().st_size > 1_400_000
    table = open_table(path, "big.csv")
    tracemalloc.start()
    try:
        count = sum(1 for _ in table.rows())
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert count == 30_000
    assert peak < 300_000  # a few buffers, not the file


# --- format -------------------------------------------------------------------------------


def test_old_xls_file_is_refused_with_advice() -> None:
    ole = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504)
    with pytest.raises(TabularError) as raised:
        open_table(ole, "prices.xls")
    assert "old Excel .xls" in raised.value.message
    assert ".xlsx or as CSV" in raised.value.message


def test_xls_named_file_with_other_content_is_refused_too() -> None:
    with pytest.raises(TabularError, match=r"\.xlsx or as CSV"):
        open_table(b"<html><table></table></html>", "report.xls")


def test_file_named_xlsx_that_is_not_a_workbook_is_an_error() -> None:
    with pytest.raises(TabularError, match="not an Excel workbook"):
        open_table(b"a,b\n1,2\n", "prices.xlsx")


def test_damaged_workbook_is_an_error() -> None:
    with pytest.raises(TabularError, match="cannot be opened as an Excel workbook"):
        open_table(b"PK\x03\x04 not really a zip", "prices.xlsx")


# --- xlsx ---------------------------------------------------------------------------------


def xlsx(*sheets: tuple[str, list[list[object]]]) -> bytes:
    wb = openpyxl.Workbook()
    wb.remove(wb.active)  # type: ignore[arg-type]
    for title, rows in sheets:
        ws = wb.create_sheet(title)
        for r, row in enumerate(rows, start=1):
            for c, value in enumerate(row, start=1):
                if value is not None:
                    ws.cell(row=r, column=c, value=value)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def test_xlsx_values_become_text_as_excel_shows_them() -> None:
    data = xlsx(
        (
            "Prices",
            [
                ["sku", "qty", "price", "whole", "big", "since", "at", "opens", "active", "note"],
                [
                    "007",
                    12,
                    0.1 + 0.2,
                    12.0,
                    1e20,
                    datetime(2024, 3, 31),
                    datetime(2024, 3, 31, 14, 5),
                    time(9, 30),
                    True,
                    None,
                ],
                ["A 1 ", -3, 1234.5678, -0.0, 0.000123, date(2024, 1, 2), None, None, False, "x"],
            ],
        )
    )
    table = open_table(data, "prices.xlsx")
    assert (table.format, table.encoding, table.delimiter, table.sheet) == (
        "xlsx",
        None,
        None,
        "Prices",
    )
    assert read(table) == [
        (
            2,
            {
                "sku": "007",
                "qty": "12",
                "price": "0.3",
                "whole": "12",
                "big": "100000000000000000000",
                "since": "2024-03-31",
                "at": "2024-03-31T14:05:00",
                "opens": "09:30:00",
                "active": "true",
                "note": "",
            },
        ),
        (
            3,
            {
                "sku": "A 1 ",
                "qty": "-3",
                "price": "1234.5678",
                "whole": "0",
                "big": "0.000123",
                "since": "2024-01-02",
                "at": "",
                "opens": "",
                "active": "false",
                "note": "x",
            },
        ),
    ]


def test_xlsx_line_numbers_are_excel_row_numbers() -> None:
    rows: list[list[object]] = [[], [" id ", "name"], ["1", "Ann"], [], [], ["2", "Bob"], []]
    table = open_table(xlsx(("Sheet1", rows)), "list.xlsx")
    assert table.header_line == 2
    assert table.columns == ["id", "name"]
    assert read(table) == [(3, {"id": "1", "name": "Ann"}), (6, {"id": "2", "name": "Bob"})]


def test_xlsx_first_sheet_by_default_and_another_by_name() -> None:
    data = xlsx(("Customers", [["name"], ["Ann"]]), ("Products", [["sku"], ["P-1"]]))
    assert read(open_table(data, "crm.xlsx")) == [(2, {"name": "Ann"})]
    table = open_table(data, "crm.xlsx", sheet="Products")
    assert table.sheet == "Products"
    assert read(table) == [(2, {"sku": "P-1"})]


def test_xlsx_unknown_sheet_is_an_error_listing_the_sheets() -> None:
    data = xlsx(("Customers", [["name"]]), ("Products", [["sku"]]))
    with pytest.raises(TabularError) as raised:
        open_table(data, "crm.xlsx", sheet="Orders")
    assert raised.value.message == (
        "there is no sheet 'Orders'; the workbook has 'Customers', 'Products'"
    )


def test_xlsx_value_outside_the_named_columns_is_reported_with_its_row() -> None:
    rows: list[list[object]] = [["id", "name"], [1, "Ann"], [2, "Bob", None, "stray"], [3, "Cid"]]
    good, bad = read_with_bad(open_table(xlsx(("Sheet1", rows)), "list.xlsx"))
    assert [line for line, _ in good] == [2, 4]
    [error] = bad.errors
    assert (error.line, error.column) == (3, "D")
    assert str(error).startswith("list.xlsx, row 3, column 'D': a value in a column without a name")


def test_xlsx_short_rows_are_padded() -> None:
    rows: list[list[object]] = [["id", "name", "city"], [1]]
    assert read(open_table(xlsx(("S", rows)), "a.xlsx")) == [
        (2, {"id": "1", "name": "", "city": ""})
    ]


def test_xlsx_duplicate_header_is_an_error_naming_columns_by_letter() -> None:
    with pytest.raises(TabularError) as raised:
        open_table(xlsx(("S", [["id", "name", "id"]])), "a.xlsx")
    assert str(raised.value) == "a.xlsx, row 1: column C 'id' has the same name as column A"


def test_xlsx_is_recognised_by_content_whatever_its_name() -> None:
    table = open_table(xlsx(("S", [["id"], [1]])), "upload")
    assert table.format == "xlsx"
    assert read(table) == [(2, {"id": "1"})]


def test_xlsx_with_a_wrong_stored_size_loses_no_rows() -> None:
    rows: list[list[object]] = [["id"], [1], [2], [3]]
    source = zipfile.ZipFile(io.BytesIO(xlsx(("S", rows))))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for item in source.infolist():
            content = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                assert b'<dimension ref="A1:A4"' in content
                content = content.replace(b'ref="A1:A4"', b'ref="A1:A2"')
            target.writestr(item, content)
    assert [line for line, _ in read(open_table(out.getvalue(), "a.xlsx"))] == [2, 3, 4]
