"""The council matcher (bot/councils/matcher.py): pure, tested directly.

- Cases generated from the directory itself (official names, short names, districts, towns, in
  sentences, lower case and with a typo): every one must resolve to its council.
- Hand-written hard cases below: every one must pass.
- tests/data/council_hard_cases.yml, written independently of the alias data: the matcher must
  get at least 90% right (`make eval` prints the exact figure and the misses).
"""
import random
import re
from pathlib import Path

import pytest
import yaml

from bot.councils.directory import load_directory
from bot.councils.matcher import COMMON_WORD_ALIASES, CouncilMatcher, Match, normalise

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
    ("LS6 2AB", "council", "Leeds City Council"),
    ("my postcode is M14", "council", "Manchester City Council"),
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


# -- the gazetteer in the matcher (bot/councils/gazetteer.py) -------------------------------------
# Places the directory does not name, "town, county", "near X", postcode districts and full postcodes.
# Generated cases are sampled (seeded) from the shipped gazetteer; each must resolve to its own council.

from bot.councils.gazetteer import load_gazetteer  # noqa: E402
from bot.councils.matcher import MIN_POSTCODE_SHARE, NO_MATCH  # noqa: E402

GAZ = load_gazetteer()
COUNCIL_BY_GSS = {c.gss_code: c.name for c in DIRECTORY.councils}
ANSWERING = CouncilMatcher(DIRECTORY, answer_postcodes=True)  # the default, named for the postcode tests
PLAIN = CouncilMatcher(DIRECTORY, answer_postcodes=False)
PLACE_TEMPLATES = ["I live in {}", "we're near {}", "{}", "my council is {}", "we moved to {} last year",
                   "we live just outside {}", "{} please", "nr {}", "we're based in {} now"]


def _gazetteer_only_keys():
    """Names only the gazetteer knows (not directory aliases), not everyday words nor names mostly meant
    otherwise (those have their own rules, tested below)."""
    return [k for k in sorted(GAZ.places) if k not in MATCHER.index
            and not any(p.everyday or p.famous for p in GAZ.places[k])]


def _holds_alias(key):
    words = key.split()
    return any(" ".join(words[i:j]) in MATCHER.index for i in range(len(words)) for j in range(i + 1, len(words) + 1))


def _top_council(key):
    return COUNCIL_BY_GSS[GAZ.places[key][0].gss_code]


def _display(key):
    place = GAZ.places[key][0]
    return key.title() if place.short_form else place.name


def gazetteer_cases():
    rng = random.Random(20261205)
    cases = []
    for key in rng.sample(_gazetteer_only_keys(), 520):
        cases.append((rng.choice(PLACE_TEMPLATES).format(_display(key)), _top_council(key)))
    # multi-word names, lower case, after a place word (those holding a directory alias are left out:
    # lower case, "hastings hill" reads as Hastings plus a word; "Hastings Hill" is the Sunderland suburb)
    multi = [k for k in _gazetteer_only_keys() if len(k.split()) >= 2 and not _holds_alias(k)]
    for key in rng.sample(multi, 80):
        cases.append((f"we live in {key}", _top_council(key)))
    return cases


GAZETTEER_CASES = gazetteer_cases()


def _right_place(result, council):
    """A place in one council: that council. A name in several: the question, that council first."""
    return (result.kind == "council" and result.council == council) or \
        (result.kind == "ambiguous" and result.options[:1] == (council,))


def test_enough_gazetteer_cases():
    assert len(GAZETTEER_CASES) >= 600
    assert len({t for t, _ in GAZETTEER_CASES}) >= 590


@pytest.mark.parametrize("text,council", GAZETTEER_CASES, ids=[t for t, _ in GAZETTEER_CASES])
def test_gazetteer_place(text, council):
    result = MATCHER.match(text)
    assert _right_place(result, council), result


def county_cases():
    """"Town, County": the town's name followed by a ceremonial county it is in."""
    rng = random.Random(7)
    ceremonial = [c for c in GAZ.counties.values() if c.kind == "ceremonial" and len(c.councils) > 1]
    cases = []
    for key in rng.sample([k for k in _gazetteer_only_keys() if len({p.gss_code for p in GAZ.places[k]}) == 1], 400):
        gss = GAZ.places[key][0].gss_code
        counties = [c for c in ceremonial if gss in c.councils]
        if counties:
            cases.append((f"{_display(key)}, {rng.choice(counties).name}", COUNCIL_BY_GSS[gss]))
        if len(cases) == 100:
            break
    return cases


COUNTY_CASES = county_cases()


@pytest.mark.parametrize("text,council", COUNTY_CASES, ids=[t for t, _ in COUNTY_CASES])
def test_town_then_county(text, council):
    result = MATCHER.match(text)
    assert result.kind == "council" and result.council == council, result


GAZETTEER_HARD = [
    # multi-word names are one place, not one of their words
    ("we live in Kirkby Lonsdale", "council", "Westmorland and Furness Council"),
    ("Ashby-de-la-Zouch", "council", "Leicestershire County Council"),
    ("we're in stow on the wold", "council", "Gloucestershire County Council"),
    ("I live in Bradford on Avon", "council", "Wiltshire Council"),
    ("Little Snoring", "council", "Norfolk County Council"),
    ("we're in Westward Ho!", "council", "Devon County Council"),
    # near X
    ("near Thirsk", "council", "North Yorkshire Council"),
    ("we're nr Ilkley", "council", "City of Bradford Metropolitan District Council"),
    # town, county: the town decides; the county narrows a name found in several councils
    ("ilkley, west yorks", "council", "City of Bradford Metropolitan District Council"),
    ("uxbridge middlesex", "council", "London Borough of Hillingdon"),
    ("Leeds, West Yorkshire", "council", "Leeds City Council"),
    ("Richmond, North Yorkshire", "council", "North Yorkshire Council"),
    ("Newcastle, Staffordshire", "council", "Staffordshire County Council"),
    ("Newport, Isle of Wight", "council", "Isle of Wight Council"),
    ("Chatham, Kent", "council", "Medway Council"),
    ("Maidstone, Kent", "council", "Kent County Council"),
    ("Acton, London", "council", "London Borough of Ealing"),
    ("Dublin, Suffolk", "council", "Suffolk County Council"),
    ("Bath, Somerset", "council", "Bath and North East Somerset Council"),
    ("we live in West Yorkshire, in Leeds", "council", "Leeds City Council"),
    # a county alone is still the county
    ("West Yorkshire", "ambiguous", None),
    ("Kent", "council", "Kent County Council"),
    ("Leicestershire county council", "council", "Leicestershire County Council"),
    # places in several councils: ask, best first; one place far bigger than the rest: that one
    ("we live in Henley", "ambiguous", "Oxfordshire County Council"),
    ("I live in Stanley", "ambiguous", "Durham County Council"),
    ("I live in Weston", "ambiguous", "North Somerset Council"),
    # everyday words that are towns: a capital and "live in" / "near" / "from" / a county
    ("we live in Street", "council", "Somerset Council"),
    ("we live in Sale", "council", "Trafford Metropolitan Borough Council"),
    ("Deal, Kent", "council", "Kent County Council"),
    ("I live in March", "council", "Cambridgeshire County Council"),
    ("Battle, East Sussex", "council", "East Sussex County Council"),
    # directory aliases keep their priority and their rules
    ("we live in Reading", "council", "Reading Borough Council"),
    ("York town centre", "council", "City of York Council"),
    ("Selby YO8 9XX", "council", "North Yorkshire Council"),
]


@pytest.mark.parametrize("text,kind,council", GAZETTEER_HARD, ids=[t for t, _, _ in GAZETTEER_HARD])
def test_gazetteer_hard_case(text, kind, council):
    result = MATCHER.match(text)
    assert result.kind == kind, result
    if council and kind == "council":
        assert result.council == council
    elif council:
        assert result.options[0] == council, result


ORDINARY = [
    "living on the street", "we're in court tomorrow", "since March we've been waiting", "I'm in a mess",
    "my son Stanley is 6", "his name is Stanley", "a letter from Paul", "I heard from Kelly yesterday",
    "we live in Dublin", "I live in New York", "I'm from Jamaica originally", "I'm in pain", "she's in hospital",
    "he is in prison", "we're in trouble with the school", "we live near the sea", "in the middle of nowhere",
    "brill thanks", "we live in hope", "the kids are in the bath", "I got his uniform in the sale",
    "my address is 12 Brook Street", "the school (St Mary's Primary) made the referral",
    "its 58 St John's Road not 85", "he was excluded from moorside high again", "how do I deal with this",
    "it's been a constant battle with the school", "we had to bury our dog", "I'm in Over my head",
]


@pytest.mark.parametrize("text", ORDINARY)
def test_ordinary_words_are_not_places(text):
    assert MATCHER.match(text).kind == "none", MATCHER.match(text)


# -- postcodes ------------------------------------------------------------------------------------

def _postcode_options(outward):
    district = GAZ.postcodes[outward]
    shares = [(COUNCIL_BY_GSS[g], s) for g, s in district.councils if s >= MIN_POSTCODE_SHARE]
    shares += [("outside:" + n, s) for n, s in district.outside if s >= MIN_POSTCODE_SHARE]
    return tuple(name for name, _ in sorted(shares, key=lambda item: -item[1]))


def postcode_cases():
    rng = random.Random(11)
    english = sorted(o for o, d in GAZ.postcodes.items() if d.councils and re.fullmatch(r"[A-Z]{1,2}\d[A-Z\d]?", o))
    boundary = [o for o in english if len(_postcode_options(o)) >= 2]
    single = [o for o in english if len(_postcode_options(o)) == 1]
    return rng.sample(boundary, 60), rng.sample(single, 40)


BOUNDARY_DISTRICTS, SINGLE_DISTRICTS = postcode_cases()


@pytest.mark.parametrize("outward", BOUNDARY_DISTRICTS)
def test_boundary_postcode_district_gives_the_candidates_ranked(outward):
    result = PLAIN.match(f"my postcode is {outward}")
    assert result.kind == "postcode" and result.source == "postcode" and result.matched == outward
    assert result.options == _postcode_options(outward)
    answered = ANSWERING.match(f"my postcode is {outward}")
    assert answered.kind == "ambiguous" and answered.options == _postcode_options(outward)


@pytest.mark.parametrize("outward", SINGLE_DISTRICTS)
def test_postcode_in_one_council_is_answered_directly(outward):
    council = _postcode_options(outward)[0]
    assert PLAIN.match(f"we're in {outward}").councils == (council,)
    answered = ANSWERING.match(f"we're in {outward}")
    assert answered.kind == "council" and answered.council == council and answered.source == "postcode"


@pytest.mark.parametrize("outward", BOUNDARY_DISTRICTS[:20] + SINGLE_DISTRICTS[:20])
def test_full_postcode_is_read_by_its_outward_code_and_not_kept(outward):
    text = f"our postcode is {outward} 9XQ"
    result = PLAIN.match(text)
    assert result.kind == "postcode" and result.postcode_district == outward and result.matched == outward
    assert result.options == _postcode_options(outward)
    assert "9XQ" not in repr(result) and "9XQ" not in repr(ANSWERING.match(text))


def test_postcode_examples():
    yo8 = ANSWERING.match("YO8 9XX")
    assert yo8.kind == "ambiguous" and yo8.options == ("North Yorkshire Council", "East Riding of Yorkshire Council")
    assert "9XX" not in repr(yo8)
    assert ANSWERING.match("DN5").council == "City of Doncaster Council"  # Barnsley's 0.3% is not offered
    cf10 = ANSWERING.match("postcode is CF10 3AT")
    assert cf10.kind == "outside_england" and cf10.nation == "wales"
    assert ANSWERING.match("ZZ9 9ZZ").kind == "postcode"  # not a district we know: ask for the town
    # answer_postcodes=False keeps kind "postcode" for callers that ask for the town, the answer alongside
    assert PLAIN.match("LS6 2AB") == Match("postcode", ("Leeds City Council",), matched="LS6", score=100.0,
                                              options=("Leeds City Council",), source="postcode",
                                              postcode_district="LS6")


def test_a_postcode_narrows_a_place_in_several_councils():
    result = PLAIN.match("Newport PO30 1UD")
    assert result.kind == "council" and result.council == "Isle of Wight Council"
    london = PLAIN.match("we are at Cannon Street Road, London E1 2LX")
    assert london.kind == "ambiguous" and set(london.options) <= {"London Borough of Tower Hamlets",
                                                                  "City of London Corporation"}


def test_reorganised_towns_in_sentences():
    from tests.test_gazetteer import REORGANISED_TOWNS
    for council, towns in REORGANISED_TOWNS.items():
        for town in towns:
            result = PLAIN.match(f"we live in {town}")
            assert _right_place(result, council) or (result.kind == "ambiguous" and council in result.options), \
                (town, result)


def test_matcher_without_gazetteer_is_the_directory_alone():
    plain = CouncilMatcher(DIRECTORY, gazetteer=None)
    assert plain.match("we live in Little Snoring") == NO_MATCH
    assert plain.match("we live in Harrogate").council == "North Yorkshire Council"
    assert plain.match("LS6 2AB").kind == "postcode" and plain.match("LS6 2AB").councils == ()


def test_match_result_is_backward_compatible():
    result = PLAIN.match("we live in Harrogate")
    assert (result.kind, result.councils, result.matched, result.source) == \
        ("council", ("North Yorkshire Council",), "harrogate", "alias")
    assert Match("none") == NO_MATCH and NO_MATCH.council is None
