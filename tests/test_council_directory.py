"""The council directory file and its validator (`make validate-data`)."""
import copy

from bot.councils.directory import load_directory, read_raw
from bot.councils.validate import report, validate

RAW = read_raw()


def test_shipped_directory_is_valid():
    assert validate(RAW) == []


def test_directory_covers_every_english_council_with_childrens_services():
    directory = load_directory()
    names = {c.name for c in directory.councils}
    assert len(names) == 153
    for council in ("Cumberland Council", "Westmorland and Furness Council", "North Yorkshire Council",
                    "Somerset Council", "City of London Corporation", "Council of the Isles of Scilly"):
        assert council in names, council
    assert "Cumbria County Council" not in names  # abolished 1 April 2023


def test_no_link_without_a_source_and_date():
    for council in load_directory().councils:
        for link in council.links.values():
            assert link.url.startswith("https://") and link.source and link.checked


def _bad(mutate):
    data = copy.deepcopy(RAW)
    mutate(data)
    return validate(data)


def test_validator_catches_duplicate_names():
    errors = _bad(lambda d: d["councils"].append(copy.deepcopy(d["councils"][0])))
    assert any("duplicate council name" in e for e in errors)


def test_validator_catches_bad_and_unsourced_links():
    def add_links(d):
        d["councils"][0]["links"] = {
            "kinship_local_offer": {"url": "http://example.org/offer", "source": "x", "checked": "2026-11-22"},
            "complaints": {"url": "https://example.org/c", "source": "", "checked": "yesterday"},
        }
    errors = _bad(add_links)
    assert any("not a well-formed https URL" in e for e in errors)
    assert any("no source" in e for e in errors)
    assert any("not a date" in e for e in errors)


def test_validator_refuses_staff_procedures_manuals_as_family_links():
    def add_manual(d):
        d["councils"][0]["links"] = {"kinship_local_offer": {
            "url": "https://kentchildcare.proceduresonline.com/p_fam_friend_care.html",
            "source": "https://kentchildcare.proceduresonline.com/p_fam_friend_care.html", "checked": "2026-12-05"}}
    assert any("staff procedures manual" in e for e in _bad(add_manual))


def test_link_coverage_from_the_2026_12_05_research():
    from bot.councils.directory import read_raw
    councils = read_raw()["councils"]
    have = {kind: sum(kind in (c.get("links") or {}) for c in councils)
            for kind in ("kinship_local_offer", "complaints", "childrens_services_contact")}
    assert have["kinship_local_offer"] >= 40 and have["complaints"] >= 80 and have["childrens_services_contact"] >= 70


def test_validator_catches_an_alias_pointing_at_two_councils():
    def clash(d):
        d["councils"][1]["aliases"].append({"alias": d["councils"][0]["aliases"][0]["alias"], "kind": "town"})
    assert any("points at 2 councils" in e for e in _bad(clash))


def test_validator_catches_missing_fields_and_unknown_councils_in_ambiguous():
    def break_it(d):
        d["councils"][0]["website"] = ""
        d["ambiguous"].append({"alias": "Nowhere", "councils": ["Atlantis Council"]})
    errors = _bad(break_it)
    assert any("missing website" in e for e in errors)
    assert any("unknown council 'Atlantis Council'" in e for e in errors)


def test_report_says_which_councils_lack_links():
    lines = report(RAW)
    assert lines[0].startswith("153 councils")
    assert any(line.startswith("kinship_local_offer:") and "still lack it" in line for line in lines)
