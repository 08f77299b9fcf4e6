"""Build bot/redact/data/first_names.txt.gz from the ONS baby names spreadsheets.

Usage: python scripts/build_first_names.py SOURCE_DIR [--out PATH] [--min-count N]

SOURCE_DIR holds the Office for National Statistics' "Baby names in England and Wales" workbooks as
published (one for boys and one for girls per year, .xls up to 2018 and .xlsx from 2019, plus the
"Top 100 baby names ... historical data" workbook). The file names only need a year (1996-2099) and
"boy"/"girl" in them, or "historic" for the top-100 file. bot/redact/data/README.md says where the
files were taken from and how to refresh the list.

From each yearly workbook the full list is read (the table of every name given to at least 3 babies
that year: rank, name, count); from the historic workbook every name in a top 100 (1904-2024, every
ten years). A name's count is the number of babies given it in all the yearly lists together, boys
and girls, any spelling of case merged. Names below --min-count (default 5 births in all years) and
not in a historic top 100 are left out, which drops one-off spellings and keeps the file small.

A third column, "w", marks a name that is also an everyday English word ("grace", "rose", "hope",
"jack", "rain"): one the redactor's dictionary knows (bot/redact/lexicon.py) and that is written in
lower case at least a third as often as capitalised, by the word frequencies of spacy-lookups-data
(en_lexeme_prob). "laura" or "peter" are in the dictionary too, but nearly always capitalised: names.
The redactor takes a marked name for a name only where the sentence says a name stands there.

Only the standard library is used: .xlsx is read as the zip of XML it is, and .xls (BIFF8 in an OLE2
compound file) by the small reader below, which knows just enough of the format for these tables.
"""
from __future__ import annotations

import argparse
import gzip
import re
import struct
import sys
import unicodedata
import xml.etree.ElementTree as ET
import zipfile
from collections import Counter
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bot" / "redact" / "data" / "first_names.txt.gz"

Rows = List[List[object]]  # one sheet: rows of cell values (str, float or None)

HEADER = """\
# First names given to babies born in England and Wales, lower case, with the number of babies
# given each name in the yearly full lists read (0: only in a historic top 100), and "w" when the
# name is also an everyday English word (worked out here, not by ONS). Tab-separated.
# Source: Office for National Statistics licensed under the Open Government Licence v.3.0
# https://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/
# Built by scripts/build_first_names.py; see bot/redact/data/README.md.
"""


# --- .xlsx ---
_NS = {
    "m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
    "r": "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
}


def _column(ref: str) -> int:
    number = 0
    for char in re.match(r"[A-Z]+", ref).group(0):
        number = number * 26 + ord(char) - 64
    return number - 1


def read_xlsx(path: Path) -> Dict[str, Rows]:
    book = zipfile.ZipFile(path)
    text_tag = "{%s}t" % _NS["m"]
    shared: List[str] = []
    if "xl/sharedStrings.xml" in book.namelist():
        for item in ET.fromstring(book.read("xl/sharedStrings.xml")).findall("m:si", _NS):
            shared.append("".join(t.text or "" for t in item.iter(text_tag)))
    rels = {r.get("Id"): r.get("Target") for r in ET.fromstring(book.read("xl/_rels/workbook.xml.rels"))}
    workbook = ET.fromstring(book.read("xl/workbook.xml"))
    sheets: Dict[str, Rows] = {}
    for sheet in workbook.find("m:sheets", _NS):
        target = rels[sheet.get("{%s}id" % _NS["r"])].lstrip("/")
        if not target.startswith("xl/"):
            target = "xl/" + target
        rows: Rows = []
        for row in ET.fromstring(book.read(target)).iter("{%s}row" % _NS["m"]):
            cells: Dict[int, object] = {}
            for cell in row.findall("m:c", _NS):
                kind = cell.get("t")
                value = cell.find("m:v", _NS)
                if kind == "s":
                    cells[_column(cell.get("r"))] = shared[int(value.text)]
                elif kind == "inlineStr":
                    cells[_column(cell.get("r"))] = "".join(t.text or "" for t in cell.iter(text_tag))
                elif value is not None and value.text is not None:
                    cells[_column(cell.get("r"))] = _number_or_text(value.text)
            rows.append([cells.get(i) for i in range(max(cells) + 1)] if cells else [])
        sheets[sheet.get("name")] = rows
    return sheets


def _number_or_text(text: str) -> object:
    try:
        return float(text)
    except ValueError:
        return text


# --- .xls: an OLE2 compound file holding a BIFF8 "Workbook" stream ---
_OLE_MAGIC = bytes.fromhex("d0cf11e0a1b11ae1")
_END_OF_CHAIN = 0xFFFFFFFE


def _ole_stream(data: bytes, wanted: Sequence[str] = ("Workbook", "Book")) -> bytes:
    if data[:8] != _OLE_MAGIC:
        raise ValueError("not an OLE2 compound file")
    sector_size = 1 << struct.unpack_from("<H", data, 0x1E)[0]
    fat_sectors = struct.unpack_from("<I", data, 0x2C)[0]
    first_dir = struct.unpack_from("<I", data, 0x30)[0]
    cutoff = struct.unpack_from("<I", data, 0x38)[0]
    first_difat, difat_count = struct.unpack_from("<II", data, 0x44)

    def sector(n: int) -> bytes:
        return data[(n + 1) * sector_size:(n + 2) * sector_size]

    difat = list(struct.unpack_from("<109I", data, 0x4C))
    next_difat = first_difat
    for _ in range(difat_count):
        block = sector(next_difat)
        entries = struct.unpack("<%dI" % (sector_size // 4), block)
        difat.extend(entries[:-1])
        next_difat = entries[-1]
    fat: List[int] = []
    for n in difat[:fat_sectors]:
        fat.extend(struct.unpack("<%dI" % (sector_size // 4), sector(n)))

    def chain(start: int) -> bytes:
        parts = []
        seen = set()
        while start != _END_OF_CHAIN and start < len(fat) and start not in seen:
            seen.add(start)
            parts.append(sector(start))
            start = fat[start]
        return b"".join(parts)

    directory = chain(first_dir)
    for offset in range(0, len(directory), 128):
        entry = directory[offset:offset + 128]
        name_length = struct.unpack_from("<H", entry, 64)[0]
        name = entry[:max(0, name_length - 2)].decode("utf-16-le", errors="replace")
        kind = entry[66]
        start, size = struct.unpack_from("<II", entry, 116)
        if kind == 2 and name in wanted:
            if size < cutoff:
                raise ValueError("workbook stream in the mini stream: not supported")
            return chain(start)[:size]
    raise ValueError("no Workbook stream")


def _records(stream: bytes) -> Iterable[Tuple[int, int, bytes]]:
    offset = 0
    while offset + 4 <= len(stream):
        kind, length = struct.unpack_from("<HH", stream, offset)
        yield offset, kind, stream[offset + 4:offset + 4 + length]
        offset += 4 + length


class _Pieces:
    """Reads across an SST record and its CONTINUE records, where a string's characters may be cut
    and restart with a new options byte."""

    def __init__(self, pieces: List[bytes]):
        self.pieces = pieces
        self.index = 0
        self.pos = 0

    def _ensure(self) -> None:
        while self.index < len(self.pieces) and self.pos >= len(self.pieces[self.index]):
            self.index += 1
            self.pos = 0

    def take(self, count: int) -> bytes:
        out = b""
        while count > 0:
            self._ensure()
            piece = self.pieces[self.index]
            chunk = piece[self.pos:self.pos + count]
            out += chunk
            self.pos += len(chunk)
            count -= len(chunk)
        return out

    def chars(self, count: int, wide: bool) -> str:
        out = []
        while count > 0:
            if self.pos >= len(self.pieces[self.index]):
                self.index += 1
                self.pos = 0
                wide = bool(self.pieces[self.index][0] & 1)  # a new options byte at a CONTINUE
                self.pos = 1
            piece = self.pieces[self.index]
            width = 2 if wide else 1
            available = (len(piece) - self.pos) // width
            n = min(count, available)
            raw = piece[self.pos:self.pos + n * width]
            out.append(raw.decode("utf-16-le") if wide else raw.decode("latin-1"))
            self.pos += n * width
            count -= n
        return "".join(out)


def _sst(pieces: List[bytes]) -> List[str]:
    reader = _Pieces(pieces)
    _, unique = struct.unpack("<II", reader.take(8))
    strings = []
    for _ in range(unique):
        length = struct.unpack("<H", reader.take(2))[0]
        options = reader.take(1)[0]
        runs = struct.unpack("<H", reader.take(2))[0] if options & 0x08 else 0
        extra = struct.unpack("<I", reader.take(4))[0] if options & 0x04 else 0
        strings.append(reader.chars(length, bool(options & 0x01)))
        reader.take(4 * runs + extra)
    return strings


def _rk(value: int) -> float:
    if value & 0x02:
        number = float(value >> 2 if not value & 0x80000000 else (value >> 2) - (1 << 30))
    else:
        number = struct.unpack("<d", struct.pack("<Q", (value & 0xFFFFFFFC) << 32))[0]
    return number / 100 if value & 0x01 else number


def read_xls(path: Path) -> Dict[str, Rows]:
    stream = _ole_stream(path.read_bytes())
    sheet_offsets: List[Tuple[int, str]] = []
    strings: List[str] = []
    sst_pieces: Optional[List[bytes]] = None
    for offset, kind, body in _records(stream):
        if kind == 0x0085:  # BOUNDSHEET
            position = struct.unpack_from("<I", body, 0)[0]
            length, options = body[6], body[7]
            raw = body[8:8 + length * (2 if options & 1 else 1)]
            sheet_offsets.append((position, raw.decode("utf-16-le" if options & 1 else "latin-1")))
        elif kind == 0x00FC:  # SST
            sst_pieces = [body]
        elif kind == 0x003C and sst_pieces is not None:  # CONTINUE of the SST
            sst_pieces.append(body)
        elif sst_pieces is not None:
            strings = _sst(sst_pieces)
            sst_pieces = None
        if kind == 0x000A and sheet_offsets and offset > sheet_offsets[0][0]:
            break  # end of the workbook globals
    sheets: Dict[str, Rows] = {}
    for position, name in sheet_offsets:
        cells: Dict[Tuple[int, int], object] = {}
        for _, kind, body in _records(stream[position:]):
            if kind == 0x000A:  # EOF of this sheet
                break
            if kind == 0x00FD:  # LABELSST
                row, col, _, index = struct.unpack_from("<HHHI", body)
                cells[row, col] = strings[index] if index < len(strings) else None
            elif kind == 0x0203:  # NUMBER
                row, col, _, number = struct.unpack_from("<HHHd", body)
                cells[row, col] = number
            elif kind == 0x027E:  # RK
                row, col, _, value = struct.unpack_from("<HHHI", body)
                cells[row, col] = _rk(value)
            elif kind == 0x00BD:  # MULRK
                row, first = struct.unpack_from("<HH", body)
                count = (len(body) - 6) // 6
                for k in range(count):
                    value = struct.unpack_from("<I", body, 4 + 6 * k + 2)[0]
                    cells[row, first + k] = _rk(value)
            elif kind == 0x0204:  # LABEL (old-style inline string)
                row, col, _, length = struct.unpack_from("<HHHH", body)
                options = body[8]
                raw = body[9:9 + length * (2 if options & 1 else 1)]
                cells[row, col] = raw.decode("utf-16-le" if options & 1 else "latin-1")
        if cells:
            height = max(r for r, _ in cells) + 1
            width = max(c for _, c in cells) + 1
            rows: Rows = [[cells.get((r, c)) for c in range(width)] for r in range(height)]
        else:
            rows = []
        sheets[name] = rows
    return sheets


def read_workbook(path: Path) -> Dict[str, Rows]:
    return read_xlsx(path) if path.suffix.lower() == ".xlsx" else read_xls(path)


# --- the tables ---
def _label(value: object) -> str:
    return re.sub(r"[\d\s,]+$", "", str(value or "")).strip().lower()  # "Count3" -> "count"


def _as_count(value: object) -> Optional[int]:
    if isinstance(value, float):
        return int(value)
    if isinstance(value, str) and value.strip().replace(",", "").isdigit():
        return int(value.strip().replace(",", ""))
    return None


def full_list(sheets: Dict[str, Rows]) -> Dict[str, int]:
    """The longest name/count table in the workbook: every name given that year, with its count."""
    best: Dict[str, int] = {}
    for rows in sheets.values():
        found: Dict[str, int] = {}
        columns: List[Tuple[int, int]] = []  # (name column, count column) pairs under a header
        for row in rows:
            labels = [_label(v) for v in row]
            pairs = [(i, i + 1) for i, label in enumerate(labels[:-1]) if label == "name" and labels[i + 1] == "count"]
            if pairs:
                columns = pairs
                continue
            for name_col, count_col in columns:
                if count_col >= len(row):
                    continue
                name, count = row[name_col], _as_count(row[count_col])
                if isinstance(name, str) and name.strip() and count is not None:
                    key = normalise(name)
                    if key:
                        found[key] = found.get(key, 0) + count
        if len(found) > len(best):
            best = found
    return best


def historic_names(sheets: Dict[str, Rows]) -> set:
    """Every name in the top-100 tables (a "Rank" column, then one column per year)."""
    names = set()
    for rows in sheets.values():
        in_table = False
        for row in rows:
            if row and _label(row[0]) == "rank" and any(re.fullmatch(r"(?:19|20)\d\d(?:\.0)?", str(v or "")) for v in row[1:]):
                in_table = True
                continue
            if in_table and row and _as_count(row[0]) is not None:
                for value in row[1:]:
                    if isinstance(value, str):
                        key = normalise(value)
                        if key:
                            names.add(key)
    return names


def normalise(name: str) -> str:
    """Lower case, NFC; only names made of letters with inner hyphens or apostrophes are kept."""
    text = unicodedata.normalize("NFC", name.strip()).lower().replace("\u2019", "'")
    if not re.fullmatch(r"[^\W\d_]+(?:['-][^\W\d_]+)*", text):
        return ""
    return text


def build(source: Path, min_count: int) -> Tuple[Counter, set, List[str]]:
    counts: Counter = Counter()
    historic: set = set()
    years: List[str] = []
    for path in sorted(source.iterdir()):
        if path.suffix.lower() not in (".xls", ".xlsx"):
            continue
        lower = path.name.lower()
        sheets = read_workbook(path)
        if "historic" in lower:
            names = historic_names(sheets)
            historic |= names
            print(f"{path.name}: {len(names)} names in historic top 100s", file=sys.stderr)
            continue
        year = re.search(r"(19|20)\d\d", lower)
        if not year or not re.search(r"boy|girl", lower):
            print(f"{path.name}: skipped (no year or sex in the name)", file=sys.stderr)
            continue
        names = full_list(sheets)
        if not names:
            raise SystemExit(f"{path.name}: no name/count table found")
        counts.update(names)
        years.append(year.group(0))
        print(f"{path.name}: {len(names)} names, {sum(names.values())} babies", file=sys.stderr)
    return counts, historic, sorted(set(years))


# A name is an everyday word when its lower-case form is at least this share (as a natural log) of
# its capitalised form in running text: exp(-1.1) is about a third.
WORD_LOG_RATIO = -1.1


def everyday_words(names: Iterable[str]) -> set:
    """The names that are also everyday English words (see the module docstring)."""
    sys.path.insert(0, str(ROOT))
    sys.modules.setdefault("tensorflow", None)  # type: ignore[arg-type]
    import json

    import spacy_lookups_data

    from bot.redact.lexicon import get_lexicon

    lexicon = get_lexicon()
    path = Path(spacy_lookups_data.__file__).parent / "data" / "en_lexeme_prob.json.gz"
    with gzip.open(path, "rt", encoding="utf8") as handle:
        prob = json.load(handle)
    words = set()
    for name in names:
        if "-" in name or "'" in name:
            continue
        if not (lexicon.is_word(name) or lexicon.is_non_noun(name)):
            continue
        lower = prob.get(name, -20.0)
        capital = prob.get(name[:1].upper() + name[1:], -20.0)
        if lower - capital >= WORD_LOG_RATIO:
            words.add(name)
    return words


def main(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", type=Path)
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--min-count", type=int, default=5)
    args = parser.parse_args(argv[1:])
    counts, historic, years = build(args.source, args.min_count)
    kept = {name: count for name, count in counts.items() if count >= args.min_count}
    for name in historic:
        kept.setdefault(name, counts.get(name, 0))
    ordered = sorted(kept.items(), key=lambda item: (-item[1], item[0]))
    words = everyday_words(kept)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    lines = [HEADER, f"# Yearly full lists: {years[0]}-{years[-1]} ({len(years)} years); historic top 100s 1904-2024.\n"]
    lines.extend(f"{name}\t{count}{chr(9) + 'w' if name in words else ''}\n" for name, count in ordered)
    # mtime=0: the same lists give the same bytes.
    with open(args.out, "wb") as raw, gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=9) as out:
        out.write("".join(lines).encode("utf-8"))
    print(f"{len(ordered)} names ({len(counts)} read, {len(historic)} historic, {len(words)} everyday words) -> {args.out} "
          f"({args.out.stat().st_size} bytes)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
