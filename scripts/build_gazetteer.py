"""Build the council gazetteer shipped in bot/councils/gazetteer/ from open data (OGL v3).

    python scripts/build_gazetteer.py [--raw var/gazetteer_raw] [--out bot/councils/gazetteer]

Reads the raw extracts (kept out of git, see bot/councils/gazetteer/README.md for where each one
comes from and how to put them in --raw) and writes:

  places.tsv.gz              every English populated place in OS Open Names, keyed by the matcher's
                             normalised form, with the council that runs children's services there
  postcode_districts.tsv.gz  outward code -> council(s) with the share of the district's postcodes,
                             plus the share outside England where the district crosses the border
  counties.tsv               county names ("West Yorks", "Middlesex") -> the councils inside them,
                             used to read "town, county" and to narrow a town found in several places
  manifest.json              sources, commits, counts and input checksums

Every district (LAD) is mapped to today's upper-tier council through its GSS code, with the
2019-2023 reorganisations applied (checked against an explicit table below); the build fails
loudly if any output code is not a gss_code in bot/councils/councils.yml. Nothing is downloaded.
"""
from __future__ import annotations

import argparse
import collections
import csv
import gzip
import hashlib
import io
import json
import re
import sys
import zipfile
from pathlib import Path
from typing import Dict, Iterable, List, Set, Tuple

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.councils.directory import load_directory  # noqa: E402
from bot.councils.text import normalise  # noqa: E402

RAW = ROOT / "var" / "gazetteer_raw"
OUT = ROOT / "bot" / "councils" / "gazetteer"

OS_ZIP = "gb_populated_places_all_BNG_csv.zip"
LA_CODES = "la_all_codes.csv"
MSOA_LA = "msoa_la.csv"
LIEUTENANCY = "lieutenancy_areas_england.csv"
POSTCODE_DIR = "src/Postcode"

SOURCES = {
    "os_open_names": {
        "what": "OS Open Names populated places (City, Town, Village, Hamlet, Suburban Area, Other Settlement), "
                "GB CSV extract packaged by Alasdair Rae",
        "repository": "https://github.com/alasdairrae/gb-places",
        "commit": "b7a702b4dea28862464d1c4346e4cbd93782a861",
        "path": "csv-zip/gb_populated_places_all_BNG_csv.zip",
        "release": "OS Open Names 2017 data (admin names predate April 2018), packaged 13 May 2019",
        "licence": "Open Government Licence v3.0",
        "attribution": "Contains OS data © Crown copyright and database right 2017. "
                       "Contains Royal Mail data © Royal Mail copyright and database right 2017. "
                       "Contains National Statistics data © Crown copyright and database right 2017.",
    },
    "ons_postcode_msoa": {
        "what": "ONS Postcode to OA to LSOA to MSOA to LAD (November 2020) lookup, English postcodes -> MSOA 2011, "
                "one file per outward code (PHE Postcode to MSOA package)",
        "repository": "https://github.com/PHECovidPHP/Postcodes",
        "commit": "4204b623d156534033d33e3cfea3c844cfe9c1f3",
        "path": "src/Postcode/*.php",
        "release": "ONS November 2020 (PCD_OA_LSOA_MSOA_LAD_NOV20_UK_LU.csv)",
        "licence": "Open Government Licence v3.0 (data); package code MIT",
        "attribution": "Source: Office for National Statistics licensed under the Open Government Licence v.3.0. "
                       "Contains OS data © Crown copyright and database right 2020. "
                       "Contains Royal Mail data © Royal Mail copyright and database right 2020.",
    },
    "ons_area_lookups": {
        "what": "ONS area lookups compiled by David Kane: every LAD since 2011 -> current LAD and upper tier "
                "(la_all_codes.csv), MSOA 2011/2021 -> current LAD and upper tier (msoa_la.csv), "
                "LAD -> lieutenancy area (misc/lieutenancy_areas_england.csv)",
        "repository": "https://github.com/drkane/geo-lookups",
        "commit": "e20a072d5fc0918437abaa3622be63f40b71d9dd",
        "path": "la_all_codes.csv, msoa_la.csv, misc/lieutenancy_areas_england.csv",
        "release": "updated 5 June 2026 (Sheffield and Barnsley codes of May 2025)",
        "licence": "Open Government Licence v3.0",
        "attribution": "Source: Office for National Statistics licensed under the Open Government Licence v.3.0. "
                       "Contains OS data © Crown copyright and database right 2026.",
    },
}

# OS Open Names settlement types, most populous first. OS Open Names carries no population, so a
# place's rank is its type, then the area of its mapped extent (a bigger village outranks a smaller one).
TYPES = {"City": "C", "Town": "T", "Village": "V", "Suburban Area": "S", "Hamlet": "H", "Other Settlement": "O"}

# District names in the OS extract that ONS has since renamed (same GSS code).
RENAMED = {"shepway": "folkestone and hythe"}

# The 2019-2023 reorganisations, written out so the build checks the lookup tables against them:
# former district or unitary -> the council that runs children's services there now.
REORGANISED = {
    # Dorset and BCP, 1 April 2019
    "E06000028": "E06000058", "E06000029": "E06000058", "E07000048": "E06000058",  # Bournemouth, Poole, Christchurch
    "E07000049": "E06000059", "E07000050": "E06000059", "E07000051": "E06000059",  # East/North Dorset, Purbeck
    "E07000052": "E06000059", "E07000053": "E06000059",  # West Dorset, Weymouth and Portland
    # Buckinghamshire, 1 April 2020
    "E07000004": "E06000060", "E07000005": "E06000060", "E07000006": "E06000060", "E07000007": "E06000060",
    # North and West Northamptonshire, 1 April 2021
    "E07000150": "E06000061", "E07000152": "E06000061", "E07000153": "E06000061", "E07000156": "E06000061",
    "E07000151": "E06000062", "E07000154": "E06000062", "E07000155": "E06000062",
    # Cumberland / Westmorland and Furness, 1 April 2023
    "E07000026": "E06000063", "E07000028": "E06000063", "E07000029": "E06000063",  # Allerdale, Carlisle, Copeland
    "E07000027": "E06000064", "E07000030": "E06000064", "E07000031": "E06000064",  # Barrow, Eden, South Lakeland
    # North Yorkshire, 1 April 2023
    "E07000163": "E06000065", "E07000164": "E06000065", "E07000165": "E06000065", "E07000166": "E06000065",
    "E07000167": "E06000065", "E07000168": "E06000065", "E07000169": "E06000065",
    # Somerset, 1 April 2023 (Taunton Deane and West Somerset had merged in 2019)
    "E07000187": "E06000066", "E07000188": "E06000066", "E07000189": "E06000066", "E07000190": "E06000066",
    "E07000191": "E06000066", "E07000246": "E06000066",
}

# County words people add after a town ("Ilkley, West Yorks", "Uxbridge, Middlesex"). Ceremonial counties
# come from the lieutenancy file; these are the extra historic counties and abbreviations, each defined by
# ceremonial counties or council GSS codes. An empty list means "a county, but no council to narrow to".
EXTRA_COUNTIES: Dict[str, Tuple[str, List[str]]] = {
    # historic counties and former administrative counties
    # Middlesex: the London boroughs north of the Thames from Hillingdon to Tower Hamlets, Spelthorne
    # (Surrey) and Potters Bar (Hertfordshire)
    "Middlesex": ("historic", ["E09000001", "E09000003", "E09000005", "E09000007", "E09000009", "E09000010",
                              "E09000012", "E09000013", "E09000014", "E09000015", "E09000017", "E09000018",
                              "E09000019", "E09000020", "E09000027", "E09000030", "E09000033", "E10000030",
                              "E10000015"]),
    "Avon": ("historic", ["E06000022", "E06000023", "E06000024", "E06000025"]),
    "Cleveland": ("historic", ["E06000001", "E06000002", "E06000003", "E06000004"]),
    "Humberside": ("historic", ["E06000010", "E06000011", "E06000012", "E06000013"]),
    "Cumberland": ("historic", ["E06000063", "E06000064"]),
    "Westmorland": ("historic", ["E06000064"]),
    "Huntingdonshire": ("historic", ["E10000003"]),
    "Yorkshire": ("historic", ["@North Yorkshire", "@West Yorkshire", "@South Yorkshire", "@East Riding of Yorkshire"]),
    "Hereford and Worcester": ("historic", ["E06000019", "E10000034"]),
    "Sussex": ("historic", ["@East Sussex", "@West Sussex"]),
    "Durham": ("ceremonial", ["@County Durham"]),
    "Co Durham": ("abbreviation", ["@County Durham"]),
    # usual abbreviations
    "Beds": ("abbreviation", ["@Bedfordshire"]), "Berks": ("abbreviation", ["@Berkshire"]),
    "Bucks": ("abbreviation", ["@Buckinghamshire"]), "Cambs": ("abbreviation", ["@Cambridgeshire"]),
    "Derbys": ("abbreviation", ["@Derbyshire"]), "Glos": ("abbreviation", ["@Gloucestershire"]),
    "Gloucs": ("abbreviation", ["@Gloucestershire"]), "Hants": ("abbreviation", ["@Hampshire"]),
    "Herts": ("abbreviation", ["@Hertfordshire"]), "Lancs": ("abbreviation", ["@Lancashire"]),
    "Leics": ("abbreviation", ["@Leicestershire"]), "Lincs": ("abbreviation", ["@Lincolnshire"]),
    "Northants": ("abbreviation", ["@Northamptonshire"]), "Notts": ("abbreviation", ["@Nottinghamshire"]),
    "Oxon": ("abbreviation", ["@Oxfordshire"]), "Salop": ("abbreviation", ["@Shropshire"]),
    "Staffs": ("abbreviation", ["@Staffordshire"]), "Warks": ("abbreviation", ["@Warwickshire"]),
    "Wilts": ("abbreviation", ["@Wiltshire"]), "Worcs": ("abbreviation", ["@Worcestershire"]),
    "Northumb": ("abbreviation", ["@Northumberland"]), "Yorks": ("abbreviation", ["@North Yorkshire", "@West Yorkshire",
                                                                               "@South Yorkshire", "@East Riding of Yorkshire"]),
    "N Yorks": ("abbreviation", ["@North Yorkshire"]), "North Yorks": ("abbreviation", ["@North Yorkshire"]),
    "W Yorks": ("abbreviation", ["@West Yorkshire"]), "West Yorks": ("abbreviation", ["@West Yorkshire"]),
    "S Yorks": ("abbreviation", ["@South Yorkshire"]), "South Yorks": ("abbreviation", ["@South Yorkshire"]),
    "E Yorks": ("abbreviation", ["@East Riding of Yorkshire"]), "East Yorks": ("abbreviation", ["@East Riding of Yorkshire"]),
    "East Yorkshire": ("abbreviation", ["@East Riding of Yorkshire"]),
    "E Sussex": ("abbreviation", ["@East Sussex"]), "W Sussex": ("abbreviation", ["@West Sussex"]),
    "Gtr Manchester": ("abbreviation", ["@Greater Manchester"]), "Gt Manchester": ("abbreviation", ["@Greater Manchester"]),
    "Manchester": ("ceremonial", ["@Greater Manchester"]),
    "London": ("ceremonial", ["@Greater London"]),
    "IOW": ("abbreviation", ["@Isle of Wight"]),
}

# Connectors of compound names: "Weston-super-Mare" is also called "Weston", "Burton upon Trent" "Burton".
SHORT_FORM = re.compile(r"^(?P<head>[a-z]{4,}(?: [a-z]{3,})?) (?:on|upon|under|in|le|by|super|de|next|cum|en|sub)\b")

# Everyday-word test (built with spaCy's English lexeme probabilities, a build-time dependency only):
# a place name whose every word is at least this common in lower case is flagged "c", and the matcher
# then needs a capital letter and a place cue before it ("we live in Street", not "on the street").
COMMON_LOGPROB = -12.5
COMMON_LOGPROB_IF_LOWER_MORE_USED = -14.5
# A hamlet or village (no town of that name in England) whose name is a frequent proper noun in English
# text is nearly always meant as something else: a person ("Paul", "Kelly") or a place abroad ("Dublin",
# "Toronto", "California"). Flagged "f": the matcher reads it only with a county after it ("Dublin, Suffolk").
FAMOUS_LOGPROB = -13.3
FAMOUS_PHRASES = {"new york", "new zealand", "new england", "nova scotia", "new jersey", "costa rica"}


def fail(message: str) -> None:
    raise SystemExit(f"build_gazetteer: {message}")


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    if path.is_dir():
        for child in sorted(path.rglob("*")):
            if child.is_file():
                digest.update(child.name.encode())
                digest.update(child.read_bytes())
    else:
        digest.update(path.read_bytes())
    return digest.hexdigest()


def read_csv(path: Path) -> List[Dict[str, str]]:
    if not path.exists():
        fail(f"missing raw file {path} (see bot/councils/gazetteer/README.md, 'Refresh')")
    with open(path, encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def district_key(name: str) -> str:
    key = normalise(name.replace(",", " "))
    key = re.sub(r"\b(?:city and county of the city of|city and county of|city of|county of|the)\b", " ", key)
    key = " ".join(key.split())
    return RENAMED.get(key, key)


class Codes:
    """LAD code -> current children's-services council (upper tier), from ONS lookups."""

    def __init__(self, raw: Path, councils: Set[str]) -> None:
        self.councils = councils
        rows = [r for r in read_csv(raw / LA_CODES) if r["LADCD"].startswith("E")]
        self.upper: Dict[str, str] = {}
        self.by_name: Dict[str, Set[str]] = collections.defaultdict(set)
        for row in rows:
            self.upper[row["LADCD"]] = row["UTLACD"]
            self.by_name[district_key(row["LADNM"])].add(row["UTLACD"])
        for old, new in REORGANISED.items():
            if self.upper.get(old) != new:
                fail(f"reorganisation check: {old} maps to {self.upper.get(old)} in {LA_CODES}, expected {new}")
        self.check(self.upper.values(), LA_CODES)

    def check(self, codes: Iterable[str], where: str) -> None:
        unknown = sorted(set(codes) - self.councils)
        if unknown:
            fail(f"{where}: codes not in councils.yml gss_code: {', '.join(unknown)}")

    def for_district(self, name: str) -> str:
        found = self.by_name.get(district_key(name))
        if not found:
            fail(f"OS district/unitary name {name!r} matches no ONS LAD name; add it to RENAMED")
        if len(found) > 1:
            fail(f"OS district/unitary name {name!r} matches LADs in several councils: {sorted(found)}")
        return next(iter(found))


def common_word_test():
    try:
        import spacy_lookups_data
    except ImportError:  # pragma: no cover - the venv has it (spaCy is in requirements)
        fail("spacy-lookups-data is needed at build time for the everyday-word flag")
    path = Path(spacy_lookups_data.__file__).parent / "data" / "en_lexeme_prob.json.gz"
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        prob = json.load(handle)

    def is_common(key: str) -> bool:
        for word in key.split():
            lower = prob.get(word, -30.0)
            title = prob.get(word.title(), -30.0)
            if not (lower > COMMON_LOGPROB or (lower > COMMON_LOGPROB_IF_LOWER_MORE_USED and lower >= title)):
                return False
        return True

    def is_famous(key: str) -> bool:
        return key in FAMOUS_PHRASES or (" " not in key and prob.get(key.title(), -30.0) > FAMOUS_LOGPROB)

    return is_common, is_famous


def read_places(raw: Path, codes: Codes):
    path = raw / OS_ZIP
    if not path.exists():
        fail(f"missing raw file {path}")
    with zipfile.ZipFile(path) as archive:
        name = next(n for n in archive.namelist() if n.endswith(".csv"))
        with archive.open(name) as handle:
            rows = list(csv.DictReader(io.TextIOWrapper(handle, encoding="utf-8-sig")))
    england = []
    postcode_nations: Dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    for row in rows:
        if row["TYPE"] != "populatedPlace":
            continue
        nation = {"England": "england", "Wales": "wales", "Scotland": "scotland"}.get(row["COUNTRY"])
        if row["POSTCODE_DISTRICT"] and nation:
            postcode_nations[row["POSTCODE_DISTRICT"].upper()][nation] += 1
        if nation != "england":
            continue
        council = codes.for_district(row["DISTRICT_BOROUGH"] or row["COUNTY_UNITARY"])
        width = float(row["MBRXMAX"] or 0) - float(row["MBRXMIN"] or 0)
        height = float(row["MBRYMAX"] or 0) - float(row["MBRYMIN"] or 0)
        england.append({
            "name": row["NAME1"].strip(),
            "type": TYPES[row["LOCAL_TYPE"]],
            "extent": max(0, int(round(width * height / 10_000))),  # hectares of the bounding box
            "gss": council,
        })
    return rows, england, postcode_nations


def place_rows(england, is_common, is_famous) -> List[Tuple[str, str, str, str, int, str]]:
    """(key, display name, gss, type, extent, flags), one row per key and council, best rank kept."""
    order = "CTVSHO"
    best: Dict[Tuple[str, str], Tuple[str, str, int, str]] = {}

    def offer(key: str, name: str, gss: str, kind: str, extent: int, flags: str) -> None:
        if not key or len(key) < 2:
            return
        current = best.get((key, gss))
        candidate = (name, kind, extent, flags)
        if current is None or (order.index(kind), "s" in flags, -extent) < (order.index(current[1]), "s" in current[3], -current[2]):
            best[(key, gss)] = candidate

    for place in england:
        key = normalise(place["name"])
        offer(key, place["name"], place["gss"], place["type"], place["extent"], "")
        short = SHORT_FORM.match(key)
        if short and short.group("head") != key:
            offer(short.group("head"), place["name"], place["gss"], place["type"], place["extent"], "s")
    towns = {key for (key, _), (_, kind, _, _) in best.items() if kind in "CT"}
    rows = []
    for (key, gss), (name, kind, extent, flags) in best.items():
        if is_common(key):
            flags += "c"
        elif key not in towns and is_famous(key):
            flags += "f"
        rows.append((key, name, gss, kind, extent, flags))
    rows.sort(key=lambda r: (r[0], order.index(r[3]), -r[4], r[2]))
    return rows


def postcode_rows(raw: Path, codes: Codes, postcode_nations) -> List[Tuple[str, str, str]]:
    msoa_upper: Dict[str, str] = {}
    for row in read_csv(raw / MSOA_LA):
        code = row["MSOA11CD"]
        if code.startswith("E02"):
            if msoa_upper.setdefault(code, row["UTLACD"]) != row["UTLACD"]:
                fail(f"MSOA {code} maps to two upper-tier councils in {MSOA_LA}")
    codes.check(msoa_upper.values(), MSOA_LA)
    directory = raw / POSTCODE_DIR
    if not directory.is_dir():
        fail(f"missing raw directory {directory}")
    entry = re.compile(r"'([0-9][A-Z]{2})'\s*=>\s*'(E02\d{6})'")
    counts: Dict[str, collections.Counter] = {}
    for path in sorted(directory.glob("*.php")):
        outward = path.stem.upper()
        if not re.fullmatch(r"[A-Z]{1,2}\d[A-Z\d]?", outward):
            continue
        counter = collections.Counter()
        for _inward, msoa in entry.findall(path.read_text(encoding="utf-8")):
            if msoa not in msoa_upper:
                fail(f"{path.name}: MSOA {msoa} not in {MSOA_LA}")
            counter[msoa_upper[msoa]] += 1
        if counter:
            counts[outward] = counter
    rows = []
    for outward in sorted(set(counts) | set(postcode_nations)):
        english = counts.get(outward, collections.Counter())
        places = postcode_nations.get(outward, collections.Counter())
        outside_places = places["wales"] + places["scotland"]
        if not english:
            if not outside_places:
                continue
            outside_share = 1.0
        elif outside_places:
            outside_share = outside_places / (outside_places + places["england"]) if places["england"] else 0.5
        else:
            outside_share = 0.0
        total = sum(english.values())
        inside = [(gss, (1 - outside_share) * n / total) for gss, n in english.items()]
        inside.sort(key=lambda item: (-item[1], item[0]))
        outside = []
        for nation in ("wales", "scotland"):
            if places[nation]:
                outside.append((nation, outside_share * places[nation] / outside_places))
        rows.append((outward,
                     ",".join(f"{gss}:{share:.4f}" for gss, share in inside),
                     ",".join(f"{nation}:{share:.4f}" for nation, share in outside)))
    return rows


def county_rows(raw: Path, codes: Codes) -> List[Tuple[str, str, str, str]]:
    ceremonial: Dict[str, Set[str]] = collections.defaultdict(set)
    for row in read_csv(raw / LIEUTENANCY):
        if row["LADCD"].startswith("E") and row["LIEUTENANCY_AREA_1997"]:
            ceremonial[row["LIEUTENANCY_AREA_1997"]].add(codes.upper.get(row["LADCD"], row["UTLACD"]))
    counties: Dict[str, Tuple[str, str, Set[str]]] = {}
    for name, members in ceremonial.items():
        counties[normalise(name)] = (name, "ceremonial", set(members))
    for name, (kind, members) in EXTRA_COUNTIES.items():
        resolved: Set[str] = set()
        for member in members:
            if member.startswith("@"):
                if member[1:] not in ceremonial:
                    fail(f"EXTRA_COUNTIES {name!r}: no ceremonial county {member[1:]!r}")
                resolved |= ceremonial[member[1:]]
            else:
                resolved.add(member)
        key = normalise(name)
        if key in counties and counties[key][1] == "ceremonial":
            continue
        counties[key] = (name, kind, resolved)
    rows = []
    for key, (name, kind, members) in sorted(counties.items()):
        codes.check(members, f"county {name}")
        rows.append((key, name, kind, ",".join(sorted(members))))
    return rows


def write_gz(path: Path, header: Tuple[str, ...], rows: Iterable[Tuple]) -> None:
    text = io.StringIO()
    writer = csv.writer(text, delimiter="\t", lineterminator="\n", quoting=csv.QUOTE_NONE, escapechar="\\")
    writer.writerow(header)
    writer.writerows(rows)
    with open(path, "wb") as raw_handle:
        with gzip.GzipFile(filename="", mode="wb", fileobj=raw_handle, mtime=0, compresslevel=9) as handle:
            handle.write(text.getvalue().encode("utf-8"))


def main(argv: List[str] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--raw", type=Path, default=RAW)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)

    directory = load_directory()
    councils = {c.gss_code for c in directory.councils if c.gss_code}
    if len(councils) != len(directory.councils):
        fail("every council in councils.yml needs a gss_code")
    codes = Codes(args.raw, councils)
    is_common, is_famous = common_word_test()

    all_rows, england, postcode_nations = read_places(args.raw, codes)
    places = place_rows(england, is_common, is_famous)
    codes.check((r[2] for r in places), "places")
    postcodes = postcode_rows(args.raw, codes, postcode_nations)
    codes.check((part.split(":")[0] for r in postcodes for part in r[1].split(",") if part), "postcode districts")
    counties = county_rows(args.raw, codes)

    args.out.mkdir(parents=True, exist_ok=True)
    write_gz(args.out / "places.tsv.gz", ("key", "name", "gss", "type", "extent_ha", "flags"), places)
    write_gz(args.out / "postcode_districts.tsv.gz", ("outward", "councils", "outside"), postcodes)
    with open(args.out / "counties.tsv", "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, delimiter="\t", lineterminator="\n")
        writer.writerow(("key", "name", "kind", "councils"))
        writer.writerows(counties)

    english_postcodes = [r for r in postcodes if r[1]]
    manifest = {
        "sources": SOURCES,
        "inputs_sha256": {name: sha256(args.raw / name) for name in (OS_ZIP, LA_CODES, MSOA_LA, LIEUTENANCY, POSTCODE_DIR)},
        "counts": {
            "os_populated_places_gb": sum(1 for r in all_rows if r["TYPE"] == "populatedPlace"),
            "english_places": len(england),
            "english_places_by_type": dict(sorted(collections.Counter(p["type"] for p in england).items())),
            "place_keys": len({r[0] for r in places}),
            "place_rows": len(places),
            "short_form_rows": sum("s" in r[5] for r in places),
            "everyday_word_keys": len({r[0] for r in places if "c" in r[5]}),
            "famous_elsewhere_keys": len({r[0] for r in places if "f" in r[5]}),
            "keys_in_several_councils": sum(1 for n in collections.Counter(r[0] for r in places).values() if n > 1),
            "postcode_districts": len(postcodes),
            "postcode_districts_in_england": len(english_postcodes),
            "postcode_districts_in_several_councils": sum(1 for r in english_postcodes if "," in r[1]),
            "postcode_districts_crossing_the_border": sum(1 for r in english_postcodes if r[2]),
            "counties": len(counties),
            "councils_with_places": len({r[2] for r in places}),
        },
        "reorganisations_checked": len(REORGANISED),
    }
    (args.out / "manifest.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(json.dumps(manifest["counts"], indent=2))
    missing = councils - {r[2] for r in places}
    if missing:
        print(f"note: councils with no OS populated place: {', '.join(sorted(missing))}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
