"""The council matcher (bot/councils/matcher.py): pure, tested directly.

- Cases generated from the directory itself (official names, short names, districts, towns, in
  sentences, lower case and with a typo): every one must resolve to its council.
- Hand-written hard cases below: every one must pass.
- tests/data/council_hard_cases.yml, written independently of the alias data: the matcher must
  get at least 90% right (`make eval` prints the exact figure and the misses).
"""
import random
from pathlib import Path

import pytest
import yaml

from bot.councils.directory import load_directory
from bot.councils.matcher import COMMON_WORD_ALIASES, CouncilMatcher, normalise

DIRECTORY = load_directory()
MATCHER = CouncilMatcher(DIRECTORY)
TEMPLATES = ["I live in {}", "my council is {}", "we're in {} and the social worker keeps calling",
             "{}", "how do I complain to {}?", "we moved to {} last year"]


def _unique_aliases():
    ambiguous = {normalise(a.alias) for a in DIRECTORY.ambiguous} | {normalise(o.place) for o in DIRECTORY.outside_england}
    for council in DIRECTORY.councils:
        yield council.name, council.name
        for alias in council.aliases:
            key = normalise(alias.alias)
            if key not in ambiguous and MATCHER.index.get(key) == {council.name}:
                yield alias.alias, council.name


def _typo(word, rng):
    i = rng.randrange(1, len(word) - 2)
    return word[:i] + word[i + 1] + word[i] + word[i + 2:]


def generated_cases():
    rng = random.Random(20261122)
    cases, typos = [], []
    for alias, council in _unique_aliases():
        template = rng.choice(TEMPLATES)
        cases.append((template.format(alias), council))
        if rng.random() < 0.3:
            cases.append((template.format(alias.lower()), council))
        word = alias.split()[0]
        if len(alias.split()) == 1 and len(word) >= 8 and normalise(word) not in COMMON_WORD_ALIASES and rng.random() < 0.5:
            typos.append((f"I live near {_typo(word, rng)}", council))
    return cases, typos


GENERATED, TYPOS = generated_cases()


def test_enough_generated_cases():
    assert len(GENERATED) >= 300


@pytest.mark.parametrize("text,council", GENERATED, ids=[t for t, _ in GENERATED])
def test_generated_case(text, council):
    result = MATCHER.match(text)
    assert result.kind == "council" and result.council == council, result


def test_generated_typos_mostly_resolve():
    """Two letters swapped in a long place name. Some typos land nearer another real place
    ("Drochester" is nearer Rochester than Dorchester), so this is a rate, not every case."""
    right = sum(council in MATCHER.match(text).options for text, council in TYPOS)
    assert len(TYPOS) >= 50 and right / len(TYPOS) >= 0.9, f"{right}/{len(TYPOS)}"


HARD = [
    ("my council is Kirklees", "council", "Kirklees Council"),
    ("we're in brum", "council", "Birmingham City Council"),
    ("Leicestershire county council", "council", "Leicestershire County Council"),
    ("Leister", "council", "Leicester City Council"),
    ("I live in Harrogate, who do I contact?", "council", "North Yorkshire Council"),
    ("how do I complain to Leeds?", "council", "Leeds City Council"),
    ("actually it's Wakefield", "council", "Wakefield Metropolitan District Council"),
    ("we live near Crawley", "council", "West Sussex County Council"),
    ("Bath", "council", "Bath and North East Somerset Council"),
    ("mancheser", "council", "Manchester City Council"),
    ("the wirral", "council", "Wirral Council"),
    ("we live in Reading", "council", "Reading Borough Council"),
    ("kendal", "council", "Westmorland and Furness Council"),
    ("Carlisle", "council", "Cumberland Council"),
    ("Richmond", "ambiguous", None),
    ("Newcastle", "ambiguous", None),
    ("Newport", "ambiguous", None),
    ("Cardiff", "outside_england", None),
    ("we live in Glasgow", "outside_england", None),
    ("Belfast", "outside_england", None),
    ("LS6 2AB", "postcode", None),
    ("my postcode is M14", "postcode", None),
    ("I'm in a mess", "none", None),
    ("I was reading the letter from the council", "none", None),
    ("we buried my dad last week", "none", None),
    ("asdfgh", "none", None),
    ("", "none", None),
    ("   ", "none", None),
    ("help", "none", None),
    ("x" * 100000, "none", None),
    ("<script>alert('Leeds')</script>", "council", "Leeds City Council"),
]


@pytest.mark.parametrize("text,kind,council", HARD, ids=[t[:40] for t, _, _ in HARD])
def test_hard_case(text, kind, council):
    result = MATCHER.match(text)
    assert result.kind == kind, result
    if council:
        assert result.council == council


def test_ambiguous_offers_each_option():
    result = MATCHER.match("Newcastle")
    assert "Newcastle City Council" in result.options and "Staffordshire County Council" in result.options
    assert "outside:wales" in MATCHER.match("Newport").options


def test_independent_hard_cases_mostly_right():
    path = Path(__file__).parent / "data" / "council_hard_cases.yml"
    cases = yaml.safe_load(path.read_text())["cases"]
    right = sum(_is_right(MATCHER.match(c["text"]), c["expect"]) for c in cases)
    assert right / len(cases) >= 0.9, f"{right}/{len(cases)}"


def _is_right(result, expect):
    if expect in ("ambiguous", "postcode", "none"):
        return result.kind == expect
    if expect in ("wales", "scotland", "northern_ireland"):
        return result.kind == "outside_england" and result.nation == expect
    return result.kind == "council" and result.council == expect
