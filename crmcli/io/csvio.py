"""CSV in and out: encoding and delimiter detection on read, formula neutralizing and BOM on write.

Encodings: a BOM or valid UTF-8 is taken as such; anything else goes to charset-normalizer, and a guess is
taken only when one common encoding fits clearly (GB18030 wins ties when the bytes are GB2312 pairs, as the
GBK files of our users are); otherwise the import is refused with an ``--encoding`` hint.
"""
from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from crmcli.errors import InvalidRecord, UsageError

DELIMITERS = ",;\t|"
# Common encodings, most preferred first, with the codec names charset-normalizer may give for the same text.
FAMILIES: tuple[tuple[str, frozenset[str]], ...] = (
    ("gb18030", frozenset({"gb18030", "gbk", "gb2312", "hz"})),
    ("cp1252", frozenset({"cp1252", "latin_1", "iso8859_15"})),
    ("big5", frozenset({"big5", "cp950", "big5hkscs"})),
    ("shift_jis", frozenset({"cp932", "shift_jis", "shift_jis_2004", "shift_jisx0213"})),
    ("euc_kr", frozenset({"cp949", "euc_kr"})),
    ("euc_jp", frozenset({"euc_jp", "euc_jis_2004", "euc_jisx0213"})),
    ("cp1251", frozenset({"cp1251", "koi8_r", "iso8859_5"})),
    ("cp1250", frozenset({"cp1250", "iso8859_2"})),
)
CODEC = {"shift_jis": "cp932", "euc_kr": "cp949"}  # the Windows supersets decode what the plain codecs would
TIE = 0.05  # mess ratios this close fit equally well
UNSURE = 0.2  # a best fit messier than this is no fit
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass
class Table:
    """A sheet of cells: the header row and the data rows, each with its row number in the file."""

    name: str
    headers: list[str]
    rows: list[tuple[int, list[Any]]] = field(default_factory=list)
    encoding: str | None = None
    delimiter: str | None = None
    confidence: float | None = None  # when the encoding was detected (not UTF-8, not given): 0..1
    zone: str | None = None  # a crm-written workbook: the zone its naive date-times are in


def decode(data: bytes, encoding: str | None = None, what: str = "") -> tuple[str, str]:
    """Text of the file and the encoding used (see ``detect``)."""
    text, used, _ = decode_detected(data, encoding, what)
    return text, used


def decode_detected(data: bytes, encoding: str | None = None, what: str = "") -> tuple[str, str, float | None]:
    """Text, encoding and, when it was guessed, the confidence: the given encoding, else a BOM, else UTF-8,
    else what ``detect`` finds."""
    if encoding:
        enc = "utf-8-sig" if encoding.lower().replace("_", "-") in ("utf-8", "utf8") else encoding
        try:
            return data.decode(enc), enc, None
        except LookupError:
            raise UsageError(f"--encoding {encoding!r}: unknown encoding (try utf-8, gb18030, cp1252, big5, "
                             "shift_jis)") from None
        except UnicodeDecodeError as exc:
            raise InvalidRecord(f"{what}: not {encoding} text (byte {exc.start}); try another --encoding") from None
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16"), "utf-16", None
    try:
        return data.decode("utf-8-sig"), "utf-8-sig", None
    except UnicodeDecodeError:
        pass
    enc, confidence = detect(data, what)
    return data.decode(CODEC.get(enc, enc)), enc, confidence


def _family(names: list[str]) -> str | None:
    found = {n.lower() for n in names}
    return next((family for family, codecs in FAMILIES if found & codecs), None)


def _gb2312_pairs(data: bytes) -> bool:
    """Every byte above ASCII is half of a GB2312 pair (both bytes A1-FE), as in simplified Chinese GBK text."""
    i, n = 0, len(data)
    while i < n:
        b = data[i]
        if b < 0x80:
            i += 1
            continue
        if not (0xA1 <= b <= 0xFE and i + 1 < n and 0xA1 <= data[i + 1] <= 0xFE):
            return False
        i += 2
    return True


def detect(data: bytes, what: str = "") -> tuple[str, float]:
    """The encoding of text that is not UTF-8, with a confidence (1 - charset-normalizer's mess ratio).

    Refuses (exit 4, with the ``--encoding`` to pass) when no common encoding fits or two fit equally."""
    from charset_normalizer import from_bytes  # only for files that are not UTF-8

    matches = [m for m in from_bytes(data)
               if b"\x00" in data or not m.encoding.startswith(("utf_16", "utf_32"))]
    hint = "pass --encoding (e.g. --encoding gb18030, cp1252, big5 or shift_jis)"
    if not matches:
        raise InvalidRecord(f"{what}: cannot tell the text encoding (not UTF-8, and no common encoding fits); "
                            f"{hint}, or save the file as UTF-8")
    best = min(m.chaos for m in matches)
    fits: dict[str, float] = {}
    for m in matches:
        family = _family(m.could_be_from_charset)
        if m.chaos <= best + TIE and family is not None:
            fits[family] = min(fits.get(family, 1.0), m.chaos)
    if "gb18030" in fits and _gb2312_pairs(data):
        chosen = "gb18030"  # GBK files are everyday input here; GB2312 pairs decode the same in EUC-KR/EUC-JP
    elif len(fits) == 1:
        chosen = next(iter(fits))
    elif not fits:
        raise InvalidRecord(f"{what}: cannot tell the text encoding (closest: {matches[0].encoding}, which is "
                            f"rarely used); {hint}, or save the file as UTF-8")
    else:
        names = [family for family, _ in FAMILIES if family in fits]  # most common first
        raise InvalidRecord(f"{what}: cannot tell the text encoding: {', '.join(names[:-1])} or {names[-1]} fit "
                            f"equally well (too little text to tell); pass --encoding {names[0]} (or another of "
                            "them) and check the preview with --dry-run, or save the file as UTF-8")
    confidence = round(1.0 - fits[chosen], 2)
    if fits[chosen] > UNSURE:
        raise InvalidRecord(f"{what}: unsure of the text encoding (best guess {chosen}, confidence "
                            f"{confidence:.0%}); {hint}, or save the file as UTF-8")
    return chosen, confidence


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
    text, used, confidence = decode_detected(data, encoding, path.name)
    delim = sniff_delimiter(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delim)
    table = Table(path.name, [], encoding=used, delimiter=delim, confidence=confidence)
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


def write_csv(out: Path | IO[str], columns: Sequence[str], rows: Iterable[dict], *, bom: bool = False) -> None:
    """A header and the rows; to a text stream row by row (the BOM is the caller's), or to a file at once."""
    buf = io.StringIO() if isinstance(out, Path) else out
    writer = csv.writer(buf, lineterminator="\r\n" if bom else "\n")
    writer.writerow(list(columns))
    for row in rows:
        writer.writerow([neutralize(cell_text(row.get(c))) for c in columns])
    if isinstance(out, Path) and isinstance(buf, io.StringIO):
        out.write_bytes((b"\xef\xbb\xbf" if bom else b"") + buf.getvalue().encode("utf-8"))
