"""Redaction of personal data (bot/redact): the cases file, the recognizers, the API and the filter."""
from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bot.redact import KINDS, UNREDACTABLE, Span, find_personal_data, redact
from scripts.eval_redaction import CASES_FILE, evaluate, gold_spans, load_cases

ROOT = Path(__file__).resolve().parents[1]
CASES = load_cases(CASES_FILE)
DEV = [c for c in CASES if c.section == "dev"]
HOLDOUT = [c for c in CASES if c.section == "holdout"]


# --- the cases file ---
def test_cases_file_is_big_enough_and_well_formed():
    assert len(CASES) >= 100
    assert len(HOLDOUT) >= 30
    ids = [c.id for c in CASES]
    assert len(ids) == len(set(ids)), "case ids must be unique"
    kinds = {span.kind for case in CASES for span in case.gold}
    assert kinds == set(KINDS), f"every kind needs cases; missing {set(KINDS) - kinds}"
    unchanged = [c for c in CASES if c.text == c.expected]
    assert len(unchanged) >= 30, "plenty of messages with no personal data must come out unchanged"


def test_gold_spans_line_up_with_the_text():
    spans = gold_spans("my son Jayden, 07700 900123", "my son [NAME], [PHONE]")
    assert [(s.kind, s.start, s.end) for s in spans] == [("NAME", 7, 13), ("PHONE", 15, 27)]
    with pytest.raises(ValueError):
        gold_spans("my son Jayden", "my daughter [NAME]")


@pytest.mark.parametrize("case", DEV, ids=[c.id for c in DEV])
def test_dev_case_redacted_exactly(case):
    assert redact(case.text) == case.expected


def test_holdout_does_not_collapse():
    # The holdout is never tuned on; this only catches a change that breaks redaction wholesale.
    result = evaluate(HOLDOUT)
    overall = result.tallies["ALL"]
    assert overall.recall() >= 0.85, result.misses
    assert overall.precision() >= 0.9, result.wrong


def test_redacting_twice_changes_nothing_more():
    for case in CASES:
        once = redact(case.text)
        assert redact(once) == once, case.id


# --- names ---
@pytest.mark.parametrize(
    "text, expected",
    [
        ("my granddaughter's name is Olivia-Grace Thompson", "my granddaughter's name is [NAME]"),
        ("MY NAME IS TRACEY", "MY NAME IS [NAME]"),
        ("I spoke with Kerry and Paul", "I spoke with [NAME] and [NAME]"),
        ("the sw (Anna) said no", "the sw ([NAME]) said no"),
        ("mr khan the solicitor said wait", "mr [NAME] the solicitor said wait"),
        ("HHJ Thompson made the order", "HHJ [NAME] made the order"),
        ("Kind regards, Sharon", "Kind regards, [NAME]"),
        ("Will, my grandson, is 9", "[NAME], my grandson, is 9"),
        ("April is 6 and Summer is 9", "[NAME] is 6 and [NAME] is 9"),
        ("my son Preston is 4", "my son [NAME] is 4"),  # a place name, but in a name slot
        ("Can Sharon's nan have the kids?", "Can [NAME]'s nan have the kids?"),
        ("my brother in law Darren wont help", "my brother in law [NAME] wont help"),
        ("Jayden (7), Tyler (5) and baby Ava are all with me", "[NAME] (7), [NAME] (5) and baby [NAME] are all with me"),
        ("I’m Sharon and my grandson’s called Jayden", "I’m [NAME] and my grandson’s called [NAME]"),
    ],
)
def test_names(text, expected):
    assert redact(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "I went to Court today and the Judge was horrible",
        "We have a Child Arrangements Order",
        "My Grandson Is Autistic And The School Wont Help",
        "Contact with Mum is on Tuesdays",
        "I am Desperate for help",
        "I called Childline",
        "The PLO letter said Pre-Proceedings",
        "the foster carer wont let me speak to my daughter",
        "child arrangment order for my nephew",
        "thank youuu",
        "Oh My God",
        "I live in Ashby de la Zouch",
        "Will they take my other kids as well?",
        "Im Polish and my English is not good",
        "Children's Services at Kirklees are useless, so is Barnsley",
        "the council, Derby City, want to do an assessment",
        "Hi, this is Kirklees calling",
        "I am Leeds based",
        "June is 3 weeks away",
        "May is busy for us",
    ],
)
def test_not_names(text):
    assert redact(text) == text


def test_council_directory_places_are_never_redacted():
    from bot.councils.directory import load_directory

    directory = load_directory()
    places = {c.name for c in directory.councils} | {a.alias for c in directory.councils for a in c.aliases}
    changed = [p for p in sorted(places) if redact(f"I live in {p} and {p} council won't help") != f"I live in {p} and {p} council won't help"]
    assert changed == []


# --- the pattern recognizers ---
@pytest.mark.parametrize(
    "text",
    [
        "07911 123456", "07911123456", "+44 7911 123456", "+447911123456", "0044 7911 123456",
        "(0113) 496 0555", "0113-496-0555", "020 7946 0321", "+44 (0)7911 123 456", "01632 960123",
        "+48 601 234 567",
    ],
)
def test_phone_numbers(text):
    assert redact(f"ring me on {text} please") == "ring me on [PHONE] please"


@pytest.mark.parametrize(
    "text",
    [
        "I rang 0808 801 0366 but no answer",  # freephone advice line
        "Call 0300 123 7034 for Cafcass",  # 03: organisations
        "ring 999 if in danger",
        "it cost £12,345.67",
        "the hearing is at 10:30 on 14.03.2025",
        "I have 2 children aged 3 and 5",
    ],
)
def test_not_phone_numbers(text):
    assert redact(text) == text


@pytest.mark.parametrize(
    "text, expected",
    [
        ("NI AB123456C", "NI [NI_NUMBER]"),
        ("my ni is ab 12 34 56 c", "my ni is [NI_NUMBER]"),
        ("national insurance JT 44 55 66", "national insurance [NI_NUMBER]"),  # no suffix, but said so
        ("code GB123456A", "code GB123456A"),  # GB: never issued
        ("code DA123456A", "code DA123456A"),  # D never a first letter
        ("code AO123456A", "code AO123456A"),  # O never a second letter
        ("code AB123456E", "code AB123456E"),  # suffix only A-D
        ("code AB123456", "code AB123456"),  # no suffix and nothing says NI
    ],
)
def test_ni_numbers(text, expected):
    assert redact(text) == expected


@pytest.mark.parametrize(
    "text, expected",
    [
        ("LS6 2AB", "[POSTCODE]"),
        ("ls62ab", "[POSTCODE]"),
        ("EC1A 1BB", "[POSTCODE]"),
        ("my postcode is m14", "my postcode is [POSTCODE]"),
        ("we're in the B23 area", "we're in the [POSTCODE] area"),
        ("XX1 1AA", "XX1 1AA"),  # no such area
        ("see you b4 3pm", "see you b4 3pm"),
        ("they want me to sign an s20", "they want me to sign an s20"),
        ("is the M62 closed", "is the M62 closed"),
        ("I got a C100 form", "I got a C100 form"),
        ("the S20 agreement", "the S20 agreement"),
    ],
)
def test_postcodes(text, expected):
    assert redact(text) == expected


@pytest.mark.parametrize(
    "text, expected",
    [
        ("email sharon.bell72@hotmail.co.uk", "email [EMAIL]"),
        ("email 'k.o'brien@outlook.com'", "email '[EMAIL]'"),
        ("sharon dot bell at gmail dot com", "[EMAIL]"),
        ("meet @ the centre at 3", "meet @ the centre at 3"),
    ],
)
def test_emails(text, expected):
    assert redact(text) == expected


@pytest.mark.parametrize(
    "text, expected",
    [
        ("flat 4, 22 king st", "[ADDRESS]"),
        ("12-14 Mill Hill Road", "[ADDRESS]"),
        ("Is 9 Park Road still the contact centre?", "Is [ADDRESS] still the contact centre?"),
        ("I have 3 Court dates", "I have 3 Court dates"),
        ("we live 20 minutes walk away", "we live 20 minutes walk away"),
        ("we waited 3 hours at Leeds Combined Court", "we waited 3 hours at Leeds Combined Court"),
        ("I've had 2 Family Court hearings", "I've had 2 Family Court hearings"),
    ],
)
def test_addresses(text, expected):
    assert redact(text) == expected


@pytest.mark.parametrize(
    "text, expected",
    [
        ("DOB: 5/6/17", "DOB: [DATE_OF_BIRTH]"),
        ("b. 12.3.2015", "b. [DATE_OF_BIRTH]"),
        ("12/03/2016 is her birthday", "[DATE_OF_BIRTH] is her birthday"),
        ("he turns 6 on 4th July", "he turns 6 on [DATE_OF_BIRTH]"),
        ("She's been in care since 01/09/2023", "She's been in care since 01/09/2023"),
        ("ICO granted 12/03/2024, final hearing in June", "ICO granted 12/03/2024, final hearing in June"),
        ("I was born in 1975 and I'm 49", "I was born in 1975 and I'm 49"),
    ],
)
def test_dates_of_birth(text, expected):
    assert redact(text) == expected


# --- the API ---
def test_find_personal_data_gives_spans_in_the_original_text():
    text = "Mrs Okafor rang 07911 123456"
    spans = find_personal_data(text)
    assert spans == sorted(spans)
    assert [(s.kind, text[s.start:s.end]) for s in spans] == [("NAME", "Okafor"), ("PHONE", "07911 123456")]
    assert all(isinstance(s, Span) and 0.5 <= s.score <= 1.0 for s in spans)


def test_invisible_characters_do_not_hide_personal_data():
    text = "my son Jay\u200bden, ring 07911\u200b123\u00a0456 \u202eok"
    spans = find_personal_data(text)
    assert [s.kind for s in spans] == ["NAME", "PHONE"]
    assert text[spans[0].start:spans[0].end] == "Jay\u200bden"
    assert redact(text) == "my son [NAME], ring [PHONE] \u202eok"


def test_threshold_is_adjustable():
    text = "we live in Ashby de la Zouch"  # an unknown word after "in" scores below the default
    assert find_personal_data(text) == []
    guesses = find_personal_data(text, threshold=0.4)
    assert [text[s.start:s.end] for s in guesses] == ["Ashby", "Zouch"]
    assert all(s.kind == "NAME" and s.score < 0.5 for s in guesses)


@pytest.mark.parametrize(
    "text",
    ["", " ", "\n", "\x00\x00", "😀😀😀", "مرحبا ابني جايدن", "\u200f\u200e\u202b", "[NAME]", "@@@ ### 111", "a" * 5000],
)
def test_odd_input_does_not_crash(text):
    assert isinstance(redact(text), str)
    assert isinstance(find_personal_data(text), list)


def test_emoji_and_right_to_left_text_survive_around_redactions():
    assert redact("my son Jayden 😢💔 ابني") == "my son [NAME] 😢💔 ابني"


def test_huge_message():
    text = ("my son Jayden was taken, ring me on 07911 123456. " * 2100)[:100_000]
    started = time.perf_counter()
    out = redact(text)
    assert time.perf_counter() - started < 10
    assert "Jayden" not in out and "07911" not in out
    assert out.count("[PHONE]") >= 1900


def test_fails_closed(monkeypatch):
    import bot.redact.recognizers as recognizers

    def broken(text):
        raise RuntimeError("boom")

    monkeypatch.setattr(recognizers, "analyse", broken)
    assert redact("my son Jayden") == UNREDACTABLE
    assert redact(b"bytes are not text") == UNREDACTABLE  # type: ignore[arg-type]


def test_pipeline_is_loaded_once_without_a_model():
    from bot.redact.nlp import get_nlp

    nlp = get_nlp()
    assert nlp is get_nlp()
    assert "ner" not in nlp.pipe_names
    assert [t.text for t in nlp.make_doc("Kerry-Ann Okonkwo-Smith")] == ["Kerry-Ann", "Okonkwo-Smith"]


def test_blank_pipeline_fallback_reads_installed_tables(tmp_path):
    from bot.redact.nlp import _load

    nlp = _load(tmp_path / "no-pipeline-here")
    table = nlp.get_pipe("lemmatizer").lookups.get_table("lemma_lookup")
    assert "rose" in table and len(table) > 10_000


def test_fast_enough_for_a_staff_export():
    texts = [c.text for c in CASES]
    redact(texts[0])
    started = time.perf_counter()
    for _ in range(3):
        for text in texts:
            redact(text)
    per_message_ms = (time.perf_counter() - started) * 1000 / (3 * len(texts))
    assert per_message_ms < 5


# --- the filter: python -m bot.redact ---
def _run_filter(data: bytes) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run(
        [sys.executable, "-m", "bot.redact"], input=data, capture_output=True, cwd=ROOT, env=env, timeout=120
    )


def test_filter_is_line_for_line_on_odd_input():
    lines = [
        b"my son Jayden was taken into care",
        b"",
        b"ring me on 07911 123456",
        b"no personal data here, just section 20",
        b"nul\x00bytes Jayden\x00",
        b"bad utf-8 \xff\xfe\xc3 here",
        "rtl \u202eJayden\u202c and zero\u200bwidth".encode(),
        "line\u2028separator and form\x0cfeed and vertical\x0btab".encode(),
        "emoji 😀💔🏳️‍🌈 my son Tyler 😢".encode(),
        b"   ",
        b"crlf line Mrs Okafor\r",
        ("a very long line with my son Jayden " * 3000)[:100_000].encode(),
        b"",
    ]
    data = b"\n".join(lines) + b"\n"
    done = _run_filter(data)
    assert done.returncode == 0, done.stderr.decode(errors="replace")
    out = done.stdout
    assert out.endswith(b"\n")
    out_lines = out[:-1].split(b"\n")
    assert len(out_lines) == len(lines)
    decoded = out.decode("utf-8")  # output is valid UTF-8
    assert len(decoded.splitlines()) == len(lines)  # no reader sees extra line breaks
    assert out_lines[0] == b"my son [NAME] was taken into care"
    assert out_lines[1] == b""
    assert out_lines[2] == b"ring me on [PHONE]"
    assert out_lines[3] == lines[3]
    assert b"Jayden" not in out and b"Tyler" not in out and b"Okafor" not in out and b"07911" not in out
    assert out_lines[4] == b"nul\x00bytes [NAME]\x00"
    assert out_lines[5] == "bad utf-8 \ufffd\ufffd\ufffd here".encode()
    assert out_lines[9] == b"   "
    assert out_lines[10] == b"crlf line Mrs [NAME]\r"
    assert out_lines[11].count(b"[NAME]") > 2000
    assert out_lines[12] == b""


def test_filter_keeps_a_missing_final_newline_and_empty_input():
    done = _run_filter(b"first Mrs Okafor\nlast Dr Patel")
    assert done.returncode == 0, done.stderr.decode(errors="replace")
    assert done.stdout == b"first Mrs [NAME]\nlast Dr [NAME]"
    done = _run_filter(b"")
    assert done.returncode == 0 and done.stdout == b""


# --- rules added for issue 15 (second dev set: tests/data/redaction_dev2.yml) ---
DEV2 = load_cases(ROOT / "tests" / "data" / "redaction_dev2.yml")
DEV2_KNOWN_MISSES = {"d2-117"}  # "my ex, Jordan Pike": a title-case name after "my ex,"


@pytest.mark.parametrize("case", DEV2, ids=[c.id for c in DEV2])
def test_dev2_case_redacted_exactly(case):
    if case.id in DEV2_KNOWN_MISSES:
        pytest.xfail("a known miss of the rules, kept in the dev set so it stays counted")
    assert redact(case.text) == case.expected


@pytest.mark.parametrize(
    "text, expected",
    [
        # a first name from the list after "spoke to" / "talking to"
        ("i spoke to sandra from the kinship team", "i spoke to [NAME] from the kinship team"),
        ("been talking to Jack about it", "been talking to [NAME] about it"),
        # a first name from the list, then "and her/his <relative>"
        ("tia and her brother are with their gran", "[NAME] and her brother are with their gran"),
        ("jack and his sister moved in", "[NAME] and his sister moved in"),
    ],
)
def test_name_position_cues(text, expected):
    assert redact(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "i spoke to someone from the kinship team",
        "we talked to the school about it",
        "faith and her family matter most to me",
        "the rose garden and her dad's allotment",
        "i need to speak to a solicitor",
    ],
)
def test_name_position_cues_left_alone(text):
    assert redact(text) == text


@pytest.mark.parametrize(
    "text, expected",
    [
        ("his NHS number is 943 476 5919 if the hospital asks", "his NHS number is [REFERENCE] if the hospital asks"),
        ("nhs no: 9434765919", "nhs no: [REFERENCE]"),
        ("our council reference is KC/2024/08812, they sent a letter",
         "our council reference is [REFERENCE], they sent a letter"),
        ("reference number for the SGO support plan is 4471-2290",
         "reference number for the SGO support plan is [REFERENCE]"),
        ("the case number on the letter: ZW25P00871", "the case number on the letter: [REFERENCE]"),
    ],
)
def test_reference_cues(text, expected):
    assert redact(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "the reference number for the form is on the letter",
        "what does case number mean",
        "reference for the school is 2 pages long",
        "call the council on 0800 123 456 about it",
    ],
)
def test_reference_cues_left_alone(text):
    assert redact(text) == text


@pytest.mark.parametrize(
    "text, expected",
    [
        ("dob 12/09/2017 and 01/02/2021", "dob [DATE_OF_BIRTH] and [DATE_OF_BIRTH]"),
        ("born 3/4/19, 5/6/20 & 7/8/21", "born [DATE_OF_BIRTH], [DATE_OF_BIRTH] & [DATE_OF_BIRTH]"),
    ],
)
def test_listed_dates_of_birth(text, expected):
    assert redact(text) == expected


def test_dates_listed_after_a_hearing_are_left_alone():
    text = "hearings on 12/09/2025 and 01/02/2026"
    assert redact(text) == text


@pytest.mark.parametrize(
    "text, expected",
    [
        ("he shouted at amelia again", "he shouted at [NAME] again"),
        ("she was screaming at Jack", "she was screaming at [NAME]"),
    ],
)
def test_name_after_shouted_at(text, expected):
    assert redact(text) == expected


@pytest.mark.parametrize("text", ["he shouted at me", "she was screaming at the telly", "he shouted at the social worker"])
def test_shouted_at_left_alone(text):
    assert redact(text) == text


@pytest.mark.parametrize(
    "text, expected",
    [
        ("we're in flat 2 above the chip shop", "we're in [ADDRESS] above the chip shop"),
        ("I live in Flat 4b now", "I live in [ADDRESS] now"),
    ],
)
def test_flat_number_after_address_cue(text, expected):
    assert redact(text) == expected


@pytest.mark.parametrize("text", ["the flat 2 doors down is empty", "a 2 bed flat would do", "flat 3 times a week"])
def test_flat_number_without_cue_left_alone(text):
    assert redact(text) == text


@pytest.mark.parametrize(
    "text, expected",
    [
        ("my grandson attends The Priory School in year 9", "my grandson attends [SCHOOL] in year 9"),
        ("he was excluded from Harris Academy Peckham last week", "he was excluded from [SCHOOL] last week"),
    ],
)
def test_school_name_with_the_and_place(text, expected):
    assert redact(text) == expected


@pytest.mark.parametrize("text", ["the school in Peckham is good", "The school rang me", "a new academy in Leeds"])
def test_school_the_and_place_left_alone(text):
    assert redact(text) == text


@pytest.mark.parametrize(
    "text, expected",
    [
        ("the LA ref is CYP 00923", "the LA ref is [REFERENCE]"),
        ("complaint ref: CF 10442 please", "complaint ref: [REFERENCE] please"),
    ],
)
def test_reference_with_a_letter_prefix(text, expected):
    assert redact(text) == expected


@pytest.mark.parametrize("text", ["the ref is ABC", "ref SGO meeting on monday", "reference LA 1"])
def test_letter_prefix_without_a_number_left_alone(text):
    assert redact(text) == text


@pytest.mark.parametrize("text", ["my grandson born 2017 is autistic", "I was born in 1975"])
def test_a_birth_year_alone_is_left_alone(text):
    # The shipped policy: a year alone does not identify anyone.
    assert redact(text) == text


@pytest.mark.parametrize(
    "text, expected",
    [
        ("contact with lacey is every other saturday", "contact with [NAME] is every other saturday"),
        ("i am worried about freddie, he wont eat", "i am worried about [NAME], he wont eat"),
        ("we've got connor and his little brother", "we've got [NAME] and his little brother"),
    ],
)
def test_plain_first_name_after_person_preposition(text, expected):
    assert redact(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "contact with grace and kindness",  # an everyday word, not a plain first name
        "i am worried about the hearing",
        "we've got faith in the process",
        "looking after the rose bushes",
        "i saw april showers",
    ],
)
def test_person_preposition_left_alone(text):
    assert redact(text) == text
