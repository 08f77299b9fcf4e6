"""One-off import of ../shared/councils.tsv and councils_aliases.tsv into bot/councils/councils.yml.

Kept for provenance: after the import, staff edit bot/councils/councils.yml directly and run
`make validate-data`. Running this again overwrites that file (it refuses unless --force).
"""
from __future__ import annotations

import csv
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bot.councils.directory import DIRECTORY_FILE as OUT, write_raw  # noqa: E402

SHARED = ROOT.parent / "shared"
CHECKED = "2026-11-22"  # the date shared/COUNCILS-SOURCES.md says the list was checked

# Places outside England that families in England may name (principal councils and big towns).
# England-only service: the bot explains this and signposts.
OUTSIDE_ENGLAND = {
    "wales": """Wales; Cardiff; Swansea; Newport; Wrexham; Bridgend; Caerphilly; Carmarthenshire; Carmarthen;
        Ceredigion; Aberystwyth; Conwy; Denbighshire; Rhyl; Flintshire; Gwynedd; Bangor; Anglesey; Isle of Anglesey;
        Merthyr Tydfil; Monmouthshire; Neath Port Talbot; Neath; Port Talbot; Pembrokeshire; Powys; Rhondda Cynon Taf;
        Rhondda; Pontypridd; Torfaen; Pontypool; Cwmbran; Vale of Glamorgan; Blaenau Gwent; Ebbw Vale; Llanelli;
        Haverfordwest; Brecon; Llandudno""",
    "scotland": """Scotland; Glasgow; Edinburgh; Aberdeen; Aberdeenshire; Dundee; Inverness; Highland; Stirling; Perth;
        Perth and Kinross; Fife; Kirkcaldy; Dunfermline; Falkirk; Paisley; Renfrewshire; East Renfrewshire; Inverclyde;
        Greenock; North Lanarkshire; South Lanarkshire; Motherwell; Hamilton; East Kilbride; Livingston; West Lothian;
        Midlothian; East Lothian; Moray; Argyll and Bute; Dumfries; Dumfries and Galloway; Scottish Borders;
        Ayr; South Ayrshire; North Ayrshire; East Ayrshire; Kilmarnock; Clackmannanshire; Orkney; Shetland;
        Western Isles; Na h-Eileanan Siar; East Dunbartonshire; West Dunbartonshire; Dumbarton""",
    "northern_ireland": """Northern Ireland; Belfast; Derry; Londonderry; Newry; Lisburn; Armagh; Antrim; Ballymena;
        Bangor County Down; Craigavon; Omagh; Enniskillen; Coleraine; Newtownabbey; Carrickfergus; Larne""",
}


def read_tsv(path: Path):
    with open(path, encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


def build() -> dict:
    councils = []
    by_name = {}
    for row in read_tsv(SHARED / "councils.tsv"):
        entry = {
            "name": row["name"],
            "type": row["type"],
            "region": row["region"],
            "gss_code": row["gss_code"] or None,
            "dfe_la_code": row.get("dfe_la_code") or None,
            "website": row["website"],
            "website_source": row.get("website_source") or row["source"],
            "source": row["source"],
            "checked": CHECKED,
            "notes": row["notes"] or None,
            # Links to the council's own pages, each {url, source, checked}. None collected yet:
            # never fill one in without a source and the date it was checked.
            "links": {},
            "aliases": [],
        }
        councils.append(entry)
        by_name[row["name"]] = entry
    ambiguous = {}
    for row in read_tsv(SHARED / "councils_aliases.tsv"):
        if row["kind"] == "ambiguous":
            group = ambiguous.setdefault(row["alias"].lower(), {"alias": row["alias"], "councils": [], "note": row["note"] or None})
            group["councils"].append(row["council"])
        else:
            alias = {"alias": row["alias"], "kind": row["kind"]}
            if row["note"]:
                alias["note"] = row["note"]
            by_name[row["council"]]["aliases"].append(alias)
    outside = [
        {"place": place.strip(), "nation": nation}
        for nation, places in OUTSIDE_ENGLAND.items()
        for place in places.replace("\n", " ").split(";")
        if place.strip()
    ]
    return {
        "checked": CHECKED,
        "sources": "See ../shared/COUNCILS-SOURCES.md for how this list was built and checked.",
        "councils": councils,
        "ambiguous": sorted(ambiguous.values(), key=lambda g: g["alias"].lower()),
        "outside_england": outside,
    }


if __name__ == "__main__":
    if OUT.exists() and "--force" not in sys.argv:
        sys.exit(f"{OUT} exists; staff edit it directly. Use --force to re-import from ../shared/.")
    data = build()
    write_raw(data, OUT)
    print(f"wrote {OUT}: {len(data['councils'])} councils, {len(data['ambiguous'])} ambiguous names, "
          f"{len(data['outside_england'])} places outside England")
