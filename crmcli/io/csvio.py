"""CSV in and out: encoding and delimiter detection on read, formula neutralizing and BOM on write."""
from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from crmcli.errors import InvalidRecord, UsageError

DELIMITERS = ",;\t|"
ENCODINGS = ("utf-8-sig", "gb18030", "latin-1")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass
class Table:
    """A sheet of cells: the header row and the data rows, each with its row number in the file."""

    name: str
    headers: list[str]
    rows: list[tuple[int, list[Any]]] = field(default_factory=list)
    encoding: str | None = None
    delimiter: str | None = None


def decode(data: bytes, encoding: str | None = None, what: str = "") -> tuple[str, str]:
    """Text of the file and the encoding used: the given one, else utf-8-sig, gb18030, latin-1 (strictly)."""
    if encoding:
        enc = "utf-8-sig" if encoding.lower().replace("_", "-") in ("utf-8", "utf8") else encoding
        try:
            return data.decode(enc), enc
        except LookupError:
            raise UsageError(f"--encoding {encoding!r}: unknown encoding (try utf-8, gb18030, latin-1)") from None
        except UnicodeDecodeError as exc:
            raise InvalidRecord(f"{what}: not {encoding} text (byte {exc.start}); try another --encoding") from None
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16"), "utf-16"
    for enc in ENCODINGS:
        try:
            return data.decode(enc), enc
        except UnicodeDecodeError:
            continue
    raise AssertionError("latin-1 decodes anything")  # pragma: no cover


def sniff_delimiter(text: str) -> str:
    sample = text[:64 * 1024]
    first = sample.split("\n", 1)[0]
    try:
        found = csv.Sniffer().sniff(sample, delimiters=DELIMITERS).delimiter
        if found in first or len(first) < 2:
            return found
    except csv.Error:
        pass
    counts = {d: _count_outside_quotes(first, d) for d in DELIMITERS}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def _count_outside_quotes(line: str, delim: str) -> int:
    n, quoted = 0, False
    for ch in line:
        if ch == '"':
            quoted = not quoted
        elif ch == delim and not quoted:
            n += 1
    return n


def read_csv(path: Path, encoding: str | None = None) -> Table:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise UsageError(f"{path}: cannot read it ({exc.strerror or exc})") from None
    text, used = decode(data, encoding, str(path))
    delim = sniff_delimiter(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delim)
    table = Table(path.name, [], encoding=used, delimiter=delim)
    # Row numbers as a spreadsheet shows them: one per record, blank rows included (a quoted
    # cell spanning lines is still one row), so an error names the row the user sees.
    row = 0
    try:
        for record in reader:
            row += 1
            if not table.headers:
                if any(c.strip() for c in record):
                    table.headers = [c.strip() for c in record]
                continue
            if not any(c.strip() for c in record):
                continue
            table.rows.append((row, list(record)))
    except csv.Error as exc:
        raise InvalidRecord(f"{path.name}:line {reader.line_num}: unreadable CSV ({exc}); fix the quoting") from None
    return table


def neutralize(value: Any) -> Any:
    """Text a spreadsheet would run as a formula gets a leading ' (import strips it again).

    Text that already starts with quotes before a formula character (``'=x``) gets one more, so that
    ``unneutralize(neutralize(v)) == v`` for every string.
    """
    if isinstance(value, str) and value.lstrip("'").startswith(_FORMULA_START):
        return "'" + value
    return value


def unneutralize(value: Any) -> Any:
    """The inverse of ``neutralize``: one leading ' off text whose quotes precede a formula character."""
    if isinstance(value, str) and value.startswith("'") and value.lstrip("'").startswith(_FORMULA_START):
        return value[1:]
    return value


def cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (list, tuple)):
        return ",".join(str(v) for v in value)
    return str(value)


def write_csv(out: Path | io.StringIO, columns: Sequence[str], rows: Iterable[dict], *, bom: bool = False) -> None:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n" if bom else "\n")
    writer.writerow(list(columns))
    for row in rows:
        writer.writerow([neutralize(cell_text(row.get(c))) for c in columns])
    text = buf.getvalue()
    if isinstance(out, io.StringIO):
        out.write(text)
    else:
        out.write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8"))
