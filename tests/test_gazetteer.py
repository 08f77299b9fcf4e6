"""The gazetteer (bot/councils/gazetteer.py and its data in bot/councils/gazetteer/): open data on
England's places and postcode districts, mapped to today's children's-services councils.

- The shipped data: compact, every code a council in councils.yml, no abolished council, the 2019-2023
  reorganisations applied, counts as the manifest says.
- Look-ups: ranking, postcode districts with shares, normalisation shared with the matcher, and no I/O
  once loaded.
- The build script's own checks (its reorganisation table agrees with councils.yml).
"""
import builtins
import gzip
import importlib.util
import json
import random
from pathlib import Path

import pytest

from bot.councils import gazetteer as gaz_module
from bot.councils.directory import load_directory
from bot.councils.gazetteer import (DATA_DIR, councils_for_place, councils_for_postcode_district, load_gazetteer,
                                    outward_code)
from bot.councils.matcher import normalise

ROOT = Path(__file__).resolve().parents[1]
G = load_gazetteer()
DIRECTORY = load_directory()
GSS = {c.gss_code: c.name for c in DIRECTORY.councils}
MANIFEST = json.loads((DATA_DIR / "manifest.json").read_text())

# Councils abolished by the 2019-2023 reorganisations (and earlier codes a stale lookup might carry).
ABOLISHED = {
    "E10000009": "Dorset County Council", "E06000028": "Bournemouth", "E06000029": "Poole",
    "E10000002": "Buckinghamshire County Council", "E10000021": "Northamptonshire County Council",
    "E10000006": "Cumbria County Council", "E10000023": "North Yorkshire County Council",
    "E10000027": "Somerset County Council", "E08000016": "Barnsley (pre-2025 code)",
    "E08000019": "Sheffield (pre-2025 code)",
}

# Towns in every district that was merged away in 2019-2023, and the council that runs children's services there now.
REORGANISED_TOWNS = {
    "Bournemouth, Christchurch and Poole Council": ["Bournemouth", "Poole", "Christchurch", "Highcliffe", "Broadstone"],
    "Dorset Council": ["Wimborne Minster", "Ferndown", "Swanage", "Wareham", "Weymouth", "Dorchester",
                       "Bridport", "Sherborne", "Blandford Forum", "Shaftesbury", "Lyme Regis"],
    "Buckinghamshire Council": ["Aylesbury", "Buckingham", "Amersham", "Chesham", "Beaconsfield", "Gerrards Cross",
                                "High Wycombe", "Marlow", "Princes Risborough"],
    "North Northamptonshire Council": ["Corby", "Kettering", "Rushden", "Oundle", "Thrapston", "Wellingborough",
                                       "Desborough", "Raunds"],
    "West Northamptonshire Council": ["Daventry", "Brixworth", "Northampton", "Towcester", "Brackley"],
    "Cumberland Council": ["Workington", "Maryport", "Cockermouth", "Keswick", "Wigton", "Carlisle", "Brampton",
                           "Whitehaven", "Cleator Moor", "Egremont", "Millom"],
    "Westmorland and Furness Council": ["Barrow-in-Furness", "Dalton-in-Furness", "Penrith", "Appleby-in-Westmorland",
                                        "Kirkby Stephen", "Kendal", "Ulverston", "Windermere", "Kirkby Lonsdale",
                                        "Grange-over-Sands", "Sedbergh"],
    "North Yorkshire Council": ["Skipton", "Settle", "Northallerton", "Thirsk", "Bedale", "Harrogate", "Ripon",
                                "Knaresborough", "Leyburn", "Catterick Garrison", "Malton", "Pickering", "Helmsley",
                                "Scarborough", "Whitby", "Filey", "Selby", "Tadcaster", "Sherburn in Elmet"],
    "Somerset Council": ["Wells", "Frome", "Shepton Mallet", "Glastonbury", "Bridgwater", "Burnham-on-Sea",
                         "Yeovil", "Chard", "Crewkerne", "Taunton", "Wellington", "Minehead", "Watchet"],
}


def _council(code):
    return GSS[code]


# -- the data ---------------------------------------------------------------------------------------

def test_shipped_files_are_compact():
    files = [DATA_DIR / name for name in ("places.tsv.gz", "postcode_districts.tsv.gz", "counties.tsv",
                                          "manifest.json", "README.md")]
    assert all(f.exists() for f in files)
    assert sum(f.stat().st_size for f in files) < 5_000_000


def test_counts_match_the_manifest_and_cover_england():
    counts = MANIFEST["counts"]
    assert counts["english_places"] >= 30_000
    assert len(G.places) == counts["place_keys"]
    assert sum(len(v) for v in G.places.values()) == counts["place_rows"]
    assert len(G.postcodes) == counts["postcode_districts"]
    assert counts["postcode_districts_in_england"] >= 2_200
    assert counts["councils_with_places"] == 153
    assert {p.gss_code for places in G.places.values() for p in places} == set(GSS)


def test_manifest_records_sources_licence_and_release():
    for source in MANIFEST["sources"].values():
        assert source["repository"].startswith("https://github.com/") and len(source["commit"]) == 40
        assert "Open Government Licence" in source["licence"] and source["release"] and source["attribution"]
    readme = (DATA_DIR / "README.md").read_text()
    for text in ("Contains OS data © Crown copyright and database right",
                 "Source: Office for National Statistics licensed under the Open Government Licence v.3.0",
                 "Contains Royal Mail data", "scripts/build_gazetteer.py"):
        assert text in readme


def test_every_code_is_a_council_in_the_directory():
    codes = {p.gss_code for places in G.places.values() for p in places}
    codes |= {gss for d in G.postcodes.values() for gss, _ in d.councils}
    codes |= {gss for county in G.counties.values() for gss in county.councils}
    assert codes <= set(GSS)
    assert not codes & set(ABOLISHED)


def test_keys_are_normalised_as_the_matcher_normalises():
    for key, places in G.places.items():
        assert key == normalise(key)
        assert all(p.short_form or normalise(p.name) == key for p in places)


@pytest.mark.parametrize("council", sorted(REORGANISED_TOWNS))
def test_reorganised_areas_map_to_todays_council(council):
    for town in REORGANISED_TOWNS[council]:
        found = councils_for_place(town)
        assert found, town
        assert _council(found[0][0]) == council, (town, found[:3])


def test_reorganised_councils_hold_their_places():
    counts = {}
    for places in G.places.values():
        for p in places:
            counts[_council(p.gss_code)] = counts.get(_council(p.gss_code), 0) + 1
    for council in REORGANISED_TOWNS:
        assert counts[council] >= 90, (council, counts[council])


# -- places -----------------------------------------------------------------------------------------

def test_multi_word_names_are_one_place():
    assert councils_for_place("Kirkby Lonsdale")[0][0] == "E06000064"
    assert councils_for_place("Ashby-de-la-Zouch")[0][:2] == ("E10000018", "Ashby-de-la-Zouch")
    assert councils_for_place("stow on the wold")[0][0] == "E10000013"
    assert councils_for_place("Ilkley")[0][0] == "E08000032"  # Bradford
    assert councils_for_place("Uxbridge")[0][0] == "E09000017"  # Hillingdon
    assert councils_for_place("Westward Ho!")[0][0] == "E10000008"  # Devon


def test_names_in_several_councils_are_ranked_best_first():
    newport = councils_for_place("Newport")
    assert len(newport) >= 5
    assert newport[0][0] == "E06000046"  # Isle of Wight's town before the villages
    ranks = [rank for _, _, rank in newport]
    assert ranks == sorted(ranks, reverse=True)
    assert len({code for code, _, _ in newport}) == len(newport)  # one entry per council


def test_short_forms_point_at_the_full_name():
    weston = G.places_named("Weston")
    assert weston[0].name.lower().startswith("weston-super-mare") and weston[0].short_form
    assert not any(p.short_form for p in G.places_named("Weston-super-Mare"))


def test_everyday_and_famous_names_are_flagged():
    assert all(p.everyday for p in G.places_named("Street"))
    assert all(p.everyday for p in G.places_named("Sale"))
    assert all(p.famous for p in G.places_named("Dublin"))
    assert not any(p.everyday or p.famous for p in G.places_named("Thirsk"))


def test_unknown_names_give_nothing():
    assert councils_for_place("Narnia") == [] and councils_for_place("") == []


# -- postcode districts -----------------------------------------------------------------------------

@pytest.mark.parametrize("text,outward", [("YO8 9XX", "YO8"), ("yo89xx", "YO8"), ("yo8", "YO8"), ("SW1A 1AA", "SW1A"),
                                          ("EC1V 9HX", "EC1V"), (" dn5 ", "DN5"), ("M1", "M1")])
def test_outward_code(text, outward):
    assert outward_code(text) == outward


@pytest.mark.parametrize("text", ["Leeds", "12345", "YO8 9X", "", "LS6 2AB extra"])
def test_not_a_postcode(text):
    assert outward_code(text) is None


def test_postcode_district_shares():
    yo8 = councils_for_postcode_district("YO8")
    assert [_council(c) for c, _ in yo8] == ["North Yorkshire Council", "East Riding of Yorkshire Council"]
    assert yo8[0][1] > 0.9 and abs(sum(s for _, s in yo8) - 1) < 0.001
    assert councils_for_postcode_district("YO8 9XX") == yo8  # a full postcode is read by its outward code
    assert [_council(c) for c, _ in councils_for_postcode_district("LS6")] == ["Leeds City Council"]
    assert councils_for_postcode_district("ZZ99") == []


def test_every_english_district_adds_up():
    for district in G.postcodes.values():
        total = sum(s for _, s in district.councils) + sum(s for _, s in district.outside)
        assert abs(total - 1) < 0.01, district
        shares = [s for _, s in district.councils]
        assert shares == sorted(shares, reverse=True)


def test_districts_across_the_border_say_so():
    assert G.postcode_district("CF10").outside == (("wales", 1.0),)
    np16 = G.postcode_district("NP16")
    assert [c for c, _ in np16.councils] == ["E10000013"] and np16.outside[0][0] == "wales"
    assert any(n == "scotland" for n, _ in G.postcode_district("TD15").outside)


def test_boundary_districts_exist_in_numbers():
    split = [d for d in G.postcodes.values() if len([s for _, s in d.councils if s >= 0.02]) >= 2]
    assert len(split) >= 150


# -- counties ---------------------------------------------------------------------------------------

def test_counties_and_their_councils():
    assert {_council(c) for c in G.county("West Yorks").councils} == {
        "Leeds City Council", "City of Bradford Metropolitan District Council", "Kirklees Council",
        "Calderdale Metropolitan Borough Council", "Wakefield Metropolitan District Council"}
    assert "London Borough of Hillingdon" in {_council(c) for c in G.county("Middlesex").councils}
    assert {_council(c) for c in G.county("Kent").councils} == {"Kent County Council", "Medway Council"}
    assert G.county("Narnia") is None


# -- loading once, no I/O at call time --------------------------------------------------------------

def test_loaded_once_and_pure_after(monkeypatch):
    assert load_gazetteer() is G

    def no_io(*args, **kwargs):
        raise AssertionError("I/O at look-up time")

    monkeypatch.setattr(builtins, "open", no_io)
    monkeypatch.setattr(gzip, "open", no_io)
    assert councils_for_place("Thirsk")[0][0] == "E06000065"
    assert councils_for_postcode_district("DN5")[0][0] == "E08000017"


def test_generated_places_resolve_to_their_council():
    """500 places sampled (seeded) straight from the data: the look-up returns their council first
    (or among the equals, for names shared by places of one rank)."""
    rng = random.Random(20261205)
    keys = sorted(G.places)
    for key in rng.sample(keys, 500):
        places = G.places[key]
        found = councils_for_place(places[0].name)
        assert found[0][2] == max(p.rank for p in places)
        assert places[0].gss_code in {code for code, _, rank in found if rank == found[0][2]}


# -- the build --------------------------------------------------------------------------------------

def _build_module():
    spec = importlib.util.spec_from_file_location("build_gazetteer", ROOT / "scripts" / "build_gazetteer.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_build_reorganisation_table_points_at_councils_in_the_directory():
    build = _build_module()
    assert set(build.REORGANISED.values()) <= set(GSS)
    assert {GSS[c] for c in build.REORGANISED.values()} == set(REORGANISED_TOWNS)
    assert not set(build.REORGANISED.values()) & set(ABOLISHED)
    assert build.district_key("Kingston upon Hull, City of") == build.district_key("City of Kingston upon Hull")
    assert build.district_key("Shepway") == "folkestone and hythe"


def test_build_fails_loudly_on_a_code_outside_the_directory():
    build = _build_module()
    codes = build.Codes.__new__(build.Codes)
    codes.councils = set(GSS)
    with pytest.raises(SystemExit, match="not in councils.yml"):
        codes.check(["E10000006"], "test")


def test_data_module_paths():
    assert gaz_module.DATA_DIR == Path(gaz_module.__file__).with_name("gazetteer")
