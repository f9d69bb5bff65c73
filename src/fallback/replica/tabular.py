"""Read CSV and XLSX exports into rows, the way a careful bookkeeper would want.

A small business exports its customers, products or price lists from its CRM or accounting
system as CSV or XLSX and drops the file in a folder or uploads it. `open_table` works out
what the file is and checks its header; `Table.rows` then streams the rows as
``(line number, {column: value})``. Nothing is skipped silently: every row that cannot be
read is reported with the line number the user's editor (or Excel) shows, in one `BadRows`
raised after the last good row.

The rules, in the order they are applied:

Format
    Content first where it is unambiguous: a ZIP file is an Excel workbook (also when it is
    named ``.csv``), an OLE2 file is an old ``.xls`` or a password-protected workbook and is
    refused with a message saying to save it as .xlsx or CSV. Otherwise the extension
    decides (``.xlsx``/``.xlsm`` must then be a workbook, ``.xls``/``.ods``/``.numbers`` are
    refused); everything else (``.csv``, ``.tsv``, ``.txt``, no extension) is delimited text.

Encoding (delimited text)
    An explicit ``encoding=`` wins. Otherwise: a BOM (UTF-8, UTF-16 LE/BE, UTF-32); UTF-16
    without a BOM (recognised by its zero bytes); strict UTF-8 over the *whole* file (a
    streaming pre-pass, so an accent on line 90,000 is not missed); otherwise Windows-1252.
    Two refinements, both to avoid silent mojibake:

    - A file that is mostly valid UTF-8 with a few invalid bytes (judged on its first
      10,000 non-ASCII characters) is read as UTF-8 and the rows with the invalid bytes are
      reported, instead of turning every accent in the file into ``Ã©``.
    - When a non-UTF-8 file has bytes 0x80-0x9F (where Windows-1252 has punctuation but the
      DOS code page 850 has accented letters), charset-normalizer, restricted to exactly
      those two code pages, breaks the tie. It never picks anything else, so plain Western
      text is not "detected" as Cyrillic or Mac Icelandic.

    A UTF-8 BOM in front of bytes that are not UTF-8 (some exporters write a BOM and then
    the data in the database's Windows-1252) is dropped and the rest read as Windows-1252.
    `Table.encoding` names the encoding used: ``utf-8``, ``utf-8-sig`` (UTF-8 with a BOM),
    ``utf-16``, ``cp1252``, ``cp850``... Bytes that cannot be decoded (possible only when
    the encoding was given, or in the mixed case above) make their row a bad row.

Delimiter
    An explicit ``delimiter=`` wins. Otherwise each of ``,`` ``;`` tab ``|`` is tried on the
    first records (the csv parser does the counting, so delimiters inside quotes do not
    count): the header must split into at least two columns and at least 90% of the sampled
    rows must have as many fields as the header; among those, the one giving the most
    columns wins. With no candidate the file has one column.

Records
    Standard CSV quoting (fields in double quotes, ``""`` for a quote, delimiters and line
    breaks inside quotes). CRLF, LF and CR line endings. Malformed quoting (``"Bob" Smith``,
    a quote never closed) is reported, not guessed at. The line number of a row is the line
    where its record starts, counting the lines inside quoted fields.

Header
    The first non-empty row. Names are stripped of surrounding whitespace and of a stray BOM.
    A column without a name is an error ("column 4 has no name") unless the whole column is
    empty (Excel's trailing delimiters); duplicate names are an error naming both positions.
    Header problems raise `TabularError` from `open_table`.

Rows
    Values are kept exactly as in the file: no stripping, no type conversion. (A leading
    zero in an article number or a trailing space in a code may matter; the caller maps and
    converts.) Rows in which every field is empty or blank are not data and are skipped
    silently, wherever they are. A row with more fields than the header is accepted when the
    extra fields are all empty (trailing delimiters); otherwise more or fewer fields, a value
    under a column without a name, undecodable bytes and NUL characters make the row bad.

XLSX
    Read with openpyxl in read-only mode, computed values of formulas (a formula that was
    never calculated, e.g. in a file written by a script and never opened in Excel, reads as
    empty). The first worksheet unless ``sheet=`` names another. Line numbers are Excel row
    numbers. Values become text the way Excel shows them: integers as ``12``, other numbers
    with at most 15 significant digits (Excel's precision, so ``0.1+0.2`` is ``0.3``) and no
    exponent or trailing ``.0``; dates as ``2024-03-31`` (a date-time at midnight is a date),
    date-times as ``2024-03-31T14:05:00``, times as ``14:05:00``; booleans as
    ``true``/``false``; empty cells as ``""``. Short rows are padded with ``""``; a value
    right of the last named column is a bad row.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import tempfile
import warnings
from collections.abc import Callable, Generator, Iterator, Sequence
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path, PurePath
from typing import IO, Any, BinaryIO, Final

__all__ = ["DEFAULT_MAX_ERRORS", "BadRows", "Table", "TabularError", "open_table"]

DEFAULT_MAX_ERRORS: Final = 50

DELIMITERS: Final = (",", ";", "\t", "|")
XLSX_EXTENSIONS: Final = frozenset({".xlsx", ".xlsm"})

_CHUNK: Final = 1 << 20  # bytes per read in the encoding pre-pass
_SAMPLE_CHARS: Final = 256 * 1024  # decoded text looked at for the delimiter and the header
_SAMPLE_RECORDS: Final = 50
_CONSISTENT: Final = 0.9  # share of sampled rows that must match the header's field count
_SPOOL_IN_MEMORY: Final = 16 << 20  # a non-seekable upload larger than this goes to disk
_PREVIEW: Final = 40
_EVIDENCE_ENOUGH: Final = 10_000  # non-ASCII characters seen before deciding UTF-8 or not

_ZIP_MAGIC: Final = b"PK\x03\x04"
_ZIP_EMPTY_MAGIC: Final = b"PK\x05\x06"
_OLE_MAGIC: Final = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"

# (bytes, name reported, codec used after skipping the BOM), longest first.
_BOMS: Final = (
    (codecs.BOM_UTF32_LE, "utf-32", "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32", "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8-sig", "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16", "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16", "utf-16-be"),
)

# Undecodable bytes are turned into lone surrogates U+DC00..U+DCFF (byte value + 0xDC00) so
# that the row holding them can be found and reported; no valid decoding produces these.
_MARK_ERRORS: Final = "fallback-tabular-mark"
_BAD_CHARS: Final = re.compile("[\x00\udc00-\udcff]")
_MARKS: Final = re.compile("[\udc00-\udcff]")
_C1_BYTES: Final = re.compile(b"[\x80-\x9f]")
# Bytes that do not occur in text (tab, line breaks, form feed and Ctrl-Z excepted).
_CONTROL_BYTES: Final = bytes(set(range(32)) - {9, 10, 11, 12, 13, 26})


def _mark_undecodable(exc: UnicodeError) -> tuple[str, int]:
    if not isinstance(exc, UnicodeDecodeError):
        raise exc
    bad = exc.object[exc.start : exc.end]
    return "".join(chr(0xDC00 + b) for b in bad), exc.end


codecs.register_error(_MARK_ERRORS, _mark_undecodable)


# --- errors -------------------------------------------------------------------------------


class TabularError(ValueError):
    """One problem with a file: where (source, line, column) and what."""

    def __init__(
        self,
        source: str,
        line: int | None,
        message: str,
        column: str | None = None,
        sheet: str | None = None,
        unit: str = "line",
    ) -> None:
        super().__init__(source, line, message, column)
        self.source = source
        self.line = line
        self.column = column
        self.message = message
        self.sheet = sheet
        self.unit = unit  # "line" for text files, "row" for spreadsheets

    def __reduce__(self) -> tuple[Any, ...]:
        args = (self.source, self.line, self.message, self.column, self.sheet, self.unit)
        return (type(self), args)

    @property
    def where(self) -> str:
        """``line 17, column 'City'`` (without the file name); empty when it is the file."""
        parts = []
        if self.sheet is not None:
            parts.append(f"sheet {self.sheet!r}")
        if self.line is not None:
            parts.append(f"{self.unit} {self.line}")
        if self.column is not None:
            parts.append(f"column {self.column!r}")
        return ", ".join(parts)

    def __str__(self) -> str:
        where = self.where
        return (
            f"{self.source}, {where}: {self.message}" if where else f"{self.source}: {self.message}"
        )


class BadRows(ValueError):
    """Rows that could not be read, raised by `Table.rows` after the last good row."""

    def __init__(
        self, source: str, errors: list[TabularError], omitted: int = 0, good_rows: int = 0
    ) -> None:
        super().__init__(source, errors, omitted, good_rows)
        self.source = source
        self.errors = errors  # the first ones, up to the limit
        self.omitted = omitted  # how many more bad rows there were beyond the limit
        self.good_rows = good_rows  # how many rows were read (and yielded) fine

    @property
    def count(self) -> int:
        """The number of bad rows, listed or not."""
        return len(self.errors) + self.omitted

    def __str__(self) -> str:
        n = self.count
        lines = [
            f"{self.source}: {n} row{'s' if n != 1 else ''} could not be read "
            f"({self.good_rows} read fine):"
        ]
        lines += [f"  {e.where}: {e.message}" if e.where else f"  {e.message}" for e in self.errors]
        if self.omitted:
            lines.append(f"  ... and {self.omitted} more")
        return "\n".join(lines)


# --- the byte source ----------------------------------------------------------------------


class _Source:
    """The file's bytes, readable again from the start: a path, bytes, or a stream."""

    def __init__(self, data: Path | bytes | BinaryIO) -> None:
        self.path: Path | None = None
        self.data: bytes | None = None
        self.stream: IO[bytes] | None = None
        self.start = 0
        self.owned = False
        if isinstance(data, Path):
            self.path = data
        elif isinstance(data, bytes | bytearray | memoryview):
            self.data = bytes(data)
        elif isinstance(data, io.IOBase) and data.seekable():
            self.stream = data
            self.start = data.tell()
        else:
            self.stream = _spool(data)
            self.owned = True

    @contextmanager
    def open(self) -> Iterator[IO[bytes]]:
        if self.path is not None:
            with self.path.open("rb") as f:
                yield f
        elif self.data is not None:
            yield io.BytesIO(self.data)
        else:
            assert self.stream is not None
            if self.stream.closed:
                raise ValueError("the table's file has been closed")
            self.stream.seek(self.start)
            yield self.stream

    def head(self, n: int) -> bytes:
        with self.open() as f:
            return _read_exactly(f, n)

    def close(self) -> None:
        if self.owned and self.stream is not None:
            self.stream.close()


def _read_exactly(f: IO[bytes], n: int) -> bytes:
    parts: list[bytes] = []
    while n > 0:
        chunk = f.read(n)
        if not chunk:
            break
        if not isinstance(chunk, bytes | bytearray):
            raise TypeError("open_table needs the file opened in binary mode ('rb')")
        parts.append(bytes(chunk))
        n -= len(chunk)
    return b"".join(parts)


def _spool(stream: BinaryIO) -> IO[bytes]:
    """Copy a non-seekable stream (an upload) to memory, or to disk when it is large."""
    spool: IO[bytes] = io.BytesIO()
    while chunk := stream.read(_CHUNK):
        if not isinstance(chunk, bytes | bytearray):
            raise TypeError("open_table needs the file opened in binary mode ('rb')")
        spool.write(chunk)
        if isinstance(spool, io.BytesIO) and spool.tell() > _SPOOL_IN_MEMORY:
            on_disk = tempfile.TemporaryFile()  # noqa: SIM115 (owned by the Table)
            on_disk.write(spool.getbuffer())
            spool = on_disk
    spool.seek(0)
    return spool


# --- the table ----------------------------------------------------------------------------


@dataclass(eq=False)
class Table:
    """A CSV or XLSX file whose header has been read and checked. Iterate with `rows`."""

    source: str
    format: str  # "csv" or "xlsx"
    encoding: str | None  # the encoding used for delimited text; None for xlsx
    delimiter: str | None  # None for xlsx
    columns: list[str]  # the header's names, stripped, without unnamed empty columns
    header_line: int = 1  # where the header is (after any empty lines before it)
    sheet: str | None = None  # the worksheet read, for xlsx
    _reader: _CsvReader | _XlsxReader = field(repr=False, kw_only=True)

    def rows(self, *, max_errors: int = DEFAULT_MAX_ERRORS) -> Iterator[tuple[int, dict[str, str]]]:
        """Stream ``(line number, {column: value})`` for every good row, in file order.

        Bad rows are not yielded; they are collected (the first `max_errors` in full, the
        rest counted) and raised as `BadRows` once the whole file has been read. A problem
        that stops the reading altogether (e.g. a damaged workbook) raises `TabularError`.
        """
        return self._reader.rows(self, max_errors)

    def close(self) -> None:
        """Release the file (an open workbook, a spooled upload). Safe to call twice."""
        self._reader.close()

    def __enter__(self) -> Table:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def open_table(
    data: Path | bytes | BinaryIO,
    source: str,
    *,
    sheet: str | None = None,
    encoding: str | None = None,
    delimiter: str | None = None,
) -> Table:
    """Open an export, detect what it is and check its header.

    `data` is a path, the file's bytes, or a binary stream (read from its current position;
    a seekable stream is not closed, a non-seekable one is copied first). `source` is the
    name the user knows the file by: its extension helps to tell the format and it starts
    every message. Raises `TabularError` when the file cannot be read as a table at all
    (unsupported format, empty, unknown sheet, header problems). OSError from reading a path
    is not caught. `sheet` applies to workbooks only, `encoding` and `delimiter` to text.

    The whole of a text file is read once here (to settle the encoding, in 1 MB pieces);
    `Table.rows` reads it again as it goes. A Path is opened anew for each reading.
    """
    src = _Source(data)
    try:
        fmt = _detect_format(src, source)
        if fmt == "xlsx":
            return _open_xlsx(src, source, sheet)
        return _open_csv(src, source, encoding, delimiter)
    except BaseException:
        src.close()
        raise


def _detect_format(src: _Source, source: str) -> str:
    head = src.head(8)
    ext = PurePath(source).suffix.lower()
    if not head:
        raise TabularError(source, None, "the file is empty; a header row is required")
    refuse = "save it from the spreadsheet program as .xlsx or as CSV and try again"
    if head.startswith((_ZIP_MAGIC, _ZIP_EMPTY_MAGIC)):
        if ext in {".ods", ".numbers"}:
            raise TabularError(source, None, f"{ext} spreadsheets cannot be read; {refuse}")
        return "xlsx"
    if head.startswith(_OLE_MAGIC):
        what = (
            "this is an old Excel .xls file"
            if ext == ".xls"
            else "this is an old Excel .xls file or a password-protected workbook"
        )
        raise TabularError(source, None, f"{what}, which cannot be read; {refuse}")
    if ext == ".xls":
        raise TabularError(
            source, None, f".xls files cannot be read (this one is not even a real one); {refuse}"
        )
    if ext in XLSX_EXTENSIONS:
        raise TabularError(source, None, f"the file is named {ext} but is not an Excel workbook")
    if ext in {".ods", ".numbers"}:
        raise TabularError(source, None, f"{ext} spreadsheets cannot be read; {refuse}")
    return "csv"


# --- delimited text: encoding -------------------------------------------------------------


@dataclass(frozen=True)
class _Encoding:
    name: str  # as reported
    codec: str  # what is decoded with, after skipping `skip` bytes
    skip: int
    clean: bool  # the whole file decodes without errors and has no NUL


def _choose_encoding(src: _Source, source: str, explicit: str | None) -> _Encoding:
    head = src.head(4096)
    if explicit is not None:
        try:
            info = codecs.lookup(explicit)
        except LookupError:
            raise TabularError(source, None, f"unknown encoding {explicit!r}") from None
        if not _is_text_encoding(info):
            raise TabularError(source, None, f"{explicit!r} is not a text encoding")
        skip = (
            len(codecs.BOM_UTF8) if info.name == "utf-8" and head.startswith(codecs.BOM_UTF8) else 0
        )
        return _Encoding(info.name, info.name, skip, _decodes_cleanly(src, info.name, skip))

    for bom, name, codec in _BOMS:
        if head.startswith(bom):
            if codec != "utf-8":
                return _Encoding(name, codec, len(bom), _decodes_cleanly(src, codec, len(bom)))
            skip = len(bom)
            break
    else:
        skip = 0
        utf16 = _utf16_without_bom(head)
        if utf16:
            return _Encoding(utf16, utf16, 0, _decodes_cleanly(src, utf16, 0))
        if len(head) - len(head.translate(None, _CONTROL_BYTES)) > len(head) // 20:
            raise TabularError(
                source, None, "this does not look like a CSV file or a workbook (binary data)"
            )

    utf8, has_nul = _utf8_pass(src, skip)
    if utf8:
        return _Encoding("utf-8-sig" if skip else "utf-8", "utf-8", skip, not has_nul)
    valid, invalid, c1, samples = _utf8_evidence(src, skip)
    if valid and valid >= invalid:
        # UTF-8 with a few damaged bytes: read as UTF-8, report the damaged rows.
        return _Encoding("utf-8-sig" if skip else "utf-8", "utf-8", skip, False)
    codec = "cp1252"
    if c1 and _looks_like_cp850(samples):
        codec = "cp850"
    return _Encoding(codec, codec, skip, _decodes_cleanly(src, codec, skip))


def _is_text_encoding(info: codecs.CodecInfo) -> bool:
    try:
        return isinstance(info.decode(b"")[0], str)
    except Exception:  # e.g. rot13, which decodes text, not bytes
        return False


def _utf16_without_bom(head: bytes) -> str | None:
    half = len(head) // 2
    if half < 2:
        return None
    even, odd = head[0 : 2 * half : 2].count(0), head[1 : 2 * half : 2].count(0)
    if odd > 0.4 * half and even < 0.05 * half:
        return "utf-16-le"
    if even > 0.4 * half and odd < 0.05 * half:
        return "utf-16-be"
    return None


def _decodes_cleanly(src: _Source, codec: str, skip: int) -> bool:
    """Whether the whole file decodes with `codec` and has no NUL character."""
    decoder = codecs.getincrementaldecoder(codec)("strict")
    with src.open() as f:
        f.read(skip)
        try:
            while chunk := f.read(_CHUNK):
                if "\x00" in decoder.decode(chunk):
                    return False
            decoder.decode(b"", True)
        except UnicodeDecodeError:
            return False
    return True


def _utf8_pass(src: _Source, skip: int) -> tuple[bool, bool]:
    """(the whole file is valid UTF-8, it has a NUL byte)."""
    decoder = codecs.getincrementaldecoder("utf-8")("strict")
    has_nul = False
    with src.open() as f:
        f.read(skip)
        try:
            while chunk := f.read(_CHUNK):
                has_nul = has_nul or b"\x00" in chunk
                decoder.decode(chunk)
            decoder.decode(b"", True)
        except UnicodeDecodeError:
            return False, has_nul
    return True, has_nul


def _utf8_evidence(src: _Source, skip: int) -> tuple[int, int, bool, list[bytes]]:
    """Count valid non-ASCII UTF-8 characters and invalid bytes (until there are plenty).

    Also: whether bytes 0x80-0x9F occur, and up to 64 KB of lines with non-ASCII bytes (for
    the Windows-1252 / code page 850 tie-breaker).
    """
    decoder = codecs.getincrementaldecoder("utf-8")("surrogateescape")
    valid = invalid = sampled = 0
    c1 = False
    samples: list[bytes] = []
    with src.open() as f:
        f.read(skip)
        while True:
            chunk = f.read(_CHUNK)
            text = decoder.decode(chunk, not chunk)
            if not text.isascii():
                bad = len(_MARKS.findall(text))
                non_ascii = len(text) - len(text.encode("ascii", "ignore"))
                valid += non_ascii - bad
                invalid += bad
                c1 = c1 or _C1_BYTES.search(chunk) is not None
                if sampled < 65536:
                    for line in chunk.splitlines():
                        if not line.isascii():
                            samples.append(line)
                            sampled += len(line)
                            if sampled >= 65536:
                                break
            if not chunk or valid + invalid >= _EVIDENCE_ENOUGH:
                break
    return valid, invalid, c1, samples


def _looks_like_cp850(samples: list[bytes]) -> bool:
    from charset_normalizer import from_bytes

    best = from_bytes(b"\n".join(samples), cp_isolation=["cp1252", "cp850"]).best()
    return best is not None and best.encoding == "cp850"


# --- delimited text: records --------------------------------------------------------------


def _records(
    lines: Iterator[str] | io.StringIO, delimiter: str
) -> Iterator[tuple[int, list[str] | csv.Error]]:
    """(start line, fields or the parse error) for every record, blank lines included."""
    reader = csv.reader(lines, delimiter=delimiter, quotechar='"', doublequote=True, strict=True)
    end = 0
    while True:
        try:
            for row in reader:
                yield end + 1, row
                end = reader.line_num
            return
        except csv.Error as exc:
            yield end + 1, exc
            end = reader.line_num


def _is_blank(row: list[str]) -> bool:
    return not any(v.strip() for v in row)


def _sample_records(
    sample: str, at_eof: bool, delimiter: str
) -> list[tuple[int, list[str] | csv.Error]]:
    """The first records of the sample, without blank ones and without a cut-off last one."""
    records: list[tuple[int, list[str] | csv.Error]] = []
    for line, row in _records(io.StringIO(sample, newline=""), delimiter):
        if isinstance(row, list) and _is_blank(row):
            continue
        records.append((line, row))
        if len(records) > _SAMPLE_RECORDS:
            break
    if not at_eof and len(records) > 1:
        records.pop()  # may be cut off by the end of the sample
    return records


def _effective_width(row: list[str], width: int) -> int:
    """The field count, not counting empty fields beyond `width` (trailing delimiters)."""
    n = len(row)
    while n > width and row[n - 1] == "":
        n -= 1
    return n


def _sniff_delimiter(sample: str, at_eof: bool, source: str) -> str:
    order = list(DELIMITERS)
    if PurePath(source).suffix.lower() in {".tsv", ".tab"}:
        order.remove("\t")
        order.insert(0, "\t")
    scored: list[tuple[bool, float, float, int]] = []
    for priority, d in enumerate(order):
        if d not in sample:
            continue
        records = _sample_records(sample, at_eof, d)
        if not records or not isinstance(records[0][1], list):
            continue
        width = len(records[0][1])
        if width < 2:
            continue
        rows = [r for _, r in records[1:]]
        fits = sum(1 for r in rows if isinstance(r, list) and _effective_width(r, width) == width)
        share = fits / len(rows) if rows else 1.0
        good = share >= _CONSISTENT
        # Consistent candidates: the most columns; otherwise the most consistent.
        scored.append((good, width if good else share, share, -priority))
    if scored:
        return order[-max(scored)[3]]
    # One column: a delimiter that does not occur at all, so that no value gets split.
    for d in order:
        if d not in sample:
            return d
    return order[0]


def _open_text(f: IO[bytes], enc: _Encoding) -> io.TextIOWrapper:
    f.read(enc.skip)
    errors = "strict" if enc.clean else _MARK_ERRORS
    return io.TextIOWrapper(f, encoding=enc.codec, errors=errors, newline="")


def _check_header(
    source: str,
    cells: list[str],
    label: Callable[[int], str],
    *,
    line: int,
    data_rows: Sequence[tuple[int, list[str]]],
    encoding: str = "",
    sheet: str | None = None,
    unit: str = "line",
) -> tuple[list[str], list[int]]:
    """(names, their positions) or TabularError listing every problem with the header."""
    names = [c.strip().lstrip("\ufeff").strip() for c in cells]
    problems: list[str] = []
    first_at: dict[str, int] = {}
    for i, name in enumerate(names):
        if name and name in first_at:
            problems.append(
                f"column {label(i)} {name!r} has the same name as column {label(first_at[name])}"
            )
        elif name:
            first_at[name] = i
    for i, name in enumerate(names):
        if name:
            continue
        used = next((ln for ln, r in data_rows if i < len(r) and r[i] != ""), None)
        if used is not None:
            problems.append(f"column {label(i)} has no name (but {unit} {used} has a value in it)")
    bad = next((name for name in names if _BAD_CHARS.search(name)), None)
    if bad is not None:
        problems.append(f"the header cannot be read: {_undecodable_message(bad, encoding)}")
    if problems:
        raise TabularError(source, line, "; ".join(problems), sheet=sheet, unit=unit)
    positions = [i for i, name in enumerate(names) if name]
    return [names[i] for i in positions], positions


def _open_csv(src: _Source, source: str, encoding: str | None, delimiter: str | None) -> Table:
    if delimiter is not None and len(delimiter) != 1:
        raise TabularError(source, None, f"the delimiter must be one character, not {delimiter!r}")
    enc = _choose_encoding(src, source, encoding)
    with src.open() as f:
        text = _open_text(f, enc)
        try:
            sample = text.read(_SAMPLE_CHARS)
            at_eof = not text.read(1)
        except UnicodeDecodeError:
            raise TabularError(source, None, f"the file cannot be read as {enc.name}") from None
        finally:
            text.detach()
    if delimiter is None:
        delimiter = _sniff_delimiter(sample, at_eof, source)
    records = _sample_records(sample, at_eof, delimiter)
    if not records:
        if at_eof:
            raise TabularError(source, None, "the file has no header row (it is empty)")
        raise TabularError(source, None, "no complete header row in the first 256 KB")
    header_line, header = records[0]
    if isinstance(header, csv.Error):
        raise TabularError(
            source, header_line, f"the header row cannot be read: {_csv_message(header)}"
        )
    data_rows = [(ln, r) for ln, r in records[1:] if isinstance(r, list)]
    columns, positions = _check_header(
        source,
        header,
        lambda i: str(i + 1),
        line=header_line,
        data_rows=data_rows,
        encoding=enc.name,
    )
    reader = _CsvReader(src, enc, delimiter, len(header), positions)
    return Table(
        source,
        "csv",
        enc.name,
        delimiter,
        columns,
        header_line=header_line,
        _reader=reader,
    )


def _csv_message(exc: csv.Error) -> str:
    text = str(exc)
    if "unexpected end of data" in text:
        return "a quote opened in this row is never closed"
    if "field larger than field limit" in text:
        return (
            f"a field is longer than {csv.field_size_limit()} characters; "
            "probably a quote that is never closed"
        )
    if "expected after" in text:
        return f"malformed quotes: a closing quote must be followed by the delimiter ({text})"
    return f"malformed row ({text})"


def _undecodable_message(value: str, encoding: str) -> str:
    if "\x00" in value and not _MARKS.search(value):
        return "contains a NUL character (the file may be damaged)"
    found = " ".join(f"0x{ord(c) - 0xDC00:02X}" for c in _MARKS.findall(value)[:8])
    return (
        f"contains bytes that are not valid {encoding} ({found}); is the file in another encoding?"
    )


def _preview(value: str) -> str:
    return repr(value if len(value) <= _PREVIEW else value[: _PREVIEW - 1] + "…")


class _CsvReader:
    def __init__(
        self, src: _Source, enc: _Encoding, delimiter: str, width: int, positions: list[int]
    ) -> None:
        self.src = src
        self.enc = enc
        self.delimiter = delimiter
        self.width = width  # fields in the header, unnamed ones included
        self.positions = positions  # of the named columns
        self.unnamed = [i for i in range(width) if i not in set(positions)]

    def close(self) -> None:
        self.src.close()

    def rows(self, table: Table, max_errors: int) -> Iterator[tuple[int, dict[str, str]]]:
        source, columns, width, positions = table.source, table.columns, self.width, self.positions
        unnamed, check_chars = self.unnamed, not self.enc.clean
        simple = not unnamed
        errors: list[TabularError] = []
        omitted = good = 0

        def bad(line: int, message: str, column: str | None = None) -> None:
            nonlocal omitted
            if len(errors) < max_errors:
                errors.append(TabularError(source, line, message, column))
            else:
                omitted += 1

        with self.src.open() as f:
            text = _open_text(f, self.enc)
            try:
                header_seen = False
                for line, row in _records(text, self.delimiter):
                    if isinstance(row, csv.Error):
                        bad(line, _csv_message(row))
                        continue
                    n = len(row)
                    if not n or (not row[0].strip() and _is_blank(row)):
                        continue
                    if not header_seen:
                        header_seen = True
                        continue
                    if n != width:
                        if n > width and not any(row[width:]):
                            row = row[:width]
                        else:
                            bad(line, f"expected {width} fields (as in the header), found {n}")
                            continue
                    if check_chars and _BAD_CHARS.search("".join(row)):
                        i = next(i for i, v in enumerate(row) if _BAD_CHARS.search(v))
                        name = columns[positions.index(i)] if i in positions else None
                        bad(line, _undecodable_message(row[i], self.enc.name), name)
                        continue
                    if simple:
                        values = dict(zip(columns, row, strict=True))
                    else:
                        used = next((i for i in unnamed if row[i] != ""), None)
                        if used is not None:
                            bad(
                                line,
                                f"column {used + 1} has no name in the header, "
                                f"but this row has a value in it: {_preview(row[used])}",
                            )
                            continue
                        values = {c: row[i] for c, i in zip(columns, positions, strict=True)}
                    good += 1
                    yield line, values
            except UnicodeDecodeError:
                raise TabularError(
                    source, None, "the file changed while it was being read; read it again"
                ) from None
            finally:
                text.detach()
        if errors:
            raise BadRows(source, errors, omitted, good)


# --- xlsx -----------------------------------------------------------------------------------


def _number_text(value: float) -> str:
    """A float as Excel shows it: at most 15 significant digits, no exponent, no ``.0``."""
    if value != value or value in (float("inf"), float("-inf")):
        return str(value)
    d = Decimal(format(value, ".15g"))
    if d == 0:
        return "0"
    text = format(d, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _number_text(value)
    if isinstance(value, Decimal):
        return _number_text(float(value))
    if isinstance(value, datetime):
        if value.time() == time(0) and value.tzinfo is None:
            return value.date().isoformat()
        return value.isoformat()
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, timedelta):
        seconds = int(value.total_seconds())
        sign, seconds = ("-", -seconds) if seconds < 0 else ("", seconds)
        return f"{sign}{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"
    return str(value)


def _column_letter(i: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(i + 1)


class _XlsxReader:
    def __init__(self, src: _Source, source: str) -> None:
        self.src = src
        self.source = source
        self.pending: Any = None  # the workbook opened by open_table, used by the first rows()
        self.pending_file: IO[bytes] | None = None
        self.sheet = ""
        self.sheet_label: str | None = None
        self.header_row = 1
        self.width = 0
        self.positions: list[int] = []

    def load(self) -> tuple[Any, IO[bytes] | None]:
        """(an openpyxl read-only workbook, the file to close with it)."""
        from openpyxl import load_workbook

        f: IO[bytes]
        owned: IO[bytes] | None = None
        if self.src.path is not None:
            f = owned = self.src.path.open("rb")
        elif self.src.data is not None:
            f = io.BytesIO(self.src.data)
        else:
            assert self.src.stream is not None
            f = self.src.stream
            f.seek(self.src.start)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                wb = load_workbook(f, read_only=True, data_only=True, keep_links=False)
        except Exception as exc:
            if owned is not None:
                owned.close()
            raise TabularError(
                self.source, None, f"the file cannot be opened as an Excel workbook ({exc})"
            ) from None
        return wb, owned

    def close(self) -> None:
        if self.pending is not None:
            self.pending.close()
            self.pending = None
        if self.pending_file is not None:
            self.pending_file.close()
            self.pending_file = None
        self.src.close()

    def values(self, wb: Any) -> Generator[tuple[int, tuple[object, ...]], None, None]:
        ws = wb[self.sheet]
        ws.reset_dimensions()  # the stored size can be wrong; never stop early because of it
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield from enumerate(ws.iter_rows(values_only=True), start=1)

    def rows(self, table: Table, max_errors: int) -> Iterator[tuple[int, dict[str, str]]]:
        source, columns, width, positions = table.source, table.columns, self.width, self.positions
        named = set(positions)
        errors: list[TabularError] = []
        omitted = good = 0
        if self.pending is not None:
            wb, f = self.pending, self.pending_file
            self.pending = self.pending_file = None
        else:
            wb, f = self.load()
        try:
            for line, raw in self.values(wb):
                if line <= self.header_row:
                    continue
                cells = [v if type(v) is str else _cell_text(v) for v in raw]
                if _is_blank(cells):
                    continue
                stray = next((i for i, v in enumerate(cells) if v != "" and i not in named), None)
                if stray is not None:
                    if len(errors) < max_errors:
                        errors.append(
                            TabularError(
                                source,
                                line,
                                f"a value in a column without a name in the header: "
                                f"{_preview(cells[stray])}",
                                _column_letter(stray),
                                sheet=self.sheet_label,
                                unit="row",
                            )
                        )
                    else:
                        omitted += 1
                    continue
                if len(cells) < width:
                    cells.extend([""] * (width - len(cells)))
                good += 1
                yield line, {c: cells[i] for c, i in zip(columns, positions, strict=True)}
        except TabularError:
            raise
        except Exception as exc:
            raise TabularError(
                source, None, f"the workbook is damaged and could not be read to the end ({exc})"
            ) from None
        finally:
            wb.close()
            if f is not None:
                f.close()
        if errors:
            raise BadRows(source, errors, omitted, good)


def _open_xlsx(src: _Source, source: str, sheet: str | None) -> Table:
    reader = _XlsxReader(src, source)
    wb, f = reader.load()
    try:
        names = [ws.title for ws in wb.worksheets]
        if not names:
            raise TabularError(source, None, "the workbook has no worksheets")
        if sheet is None:
            sheet = names[0]
        elif sheet not in names:
            listed = ", ".join(repr(n) for n in names)
            raise TabularError(
                source, None, f"there is no sheet {sheet!r}; the workbook has {listed}"
            )
        reader.sheet = sheet
        reader.sheet_label = sheet if len(names) > 1 else None
        header: list[str] | None = None
        data_rows: list[tuple[int, list[str]]] = []
        with closing(reader.values(wb)) as values:
            for line, raw in values:
                cells = [_cell_text(v) for v in raw]
                if _is_blank(cells):
                    continue
                if header is None:
                    header, reader.header_row = cells, line
                    continue
                data_rows.append((line, cells))
                if len(data_rows) >= _SAMPLE_RECORDS:
                    break
        if header is None:
            raise TabularError(
                source,
                None,
                "the sheet is empty; a header row is required",
                sheet=reader.sheet_label,
                unit="row",
            )
        columns, positions = _check_header(
            source,
            header,
            _column_letter,
            sheet=reader.sheet_label,
            unit="row",
            line=reader.header_row,
            data_rows=data_rows,
        )
        reader.width = len(header)
        reader.positions = positions
    except BaseException:
        wb.close()
        if f is not None:
            f.close()
        raise
    reader.pending, reader.pending_file = wb, f
    return Table(
        source,
        "xlsx",
        None,
        None,
        columns,
        header_line=reader.header_row,
        sheet=sheet,
        _reader=reader,
    )
