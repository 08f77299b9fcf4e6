"""Where the training and evaluation data came from: every public example traceable to its page, and
no page (or message) feeding both training and an evaluation set."""
import csv
import re
from collections import Counter

from bot.nlu_components.training_data import (
    ROOT,
    load_examples,
    normalise_url,
    read_sources,
    read_tsv_pages,
)
from bot.safety.crisis_model import read_warning_signs
from scripts.eval_nlu import load_case_set, load_test_set

TOPICS = """kinship_care_options kinship_financial_support special_guardianship kinship_local_policy
kinship_foster_care child_arrangements_order care_proceedings_overview section_20 pre_proceedings_letter
interim_care_order legal_aid child_protection_conference family_group_conference child_in_need
contact_with_child complaint_about_social_worker complaints_procedure ombudsman speak_to_adviser
opening_hours out_of_scope council_contact""".split()


def plain(text):
    return re.sub(r"[^a-z0-9 ]", "", text.lower()).strip()


def eval_pages():
    pages = set(read_tsv_pages(ROOT / "tests" / "nlu_wild_sources.tsv"))
    with (ROOT / "tests" / "crisis_wild.tsv").open(newline="") as handle:
        rows = csv.DictReader([l for l in handle if not l.startswith("#")], delimiter="\t")
        pages |= {normalise_url(r["source_url"]) for r in rows}
    return pages


def test_every_public_example_has_its_page():
    examples = load_examples()  # raises if data/nlu_sources.tsv and data/nlu/public_*.yml disagree
    public = [e for e in examples if e.file.startswith("public_")]
    assert len(public) >= 800
    assert all(e.page for e in public)
    assert sum(int(r["examples"]) for r in read_sources()) == len(public)
    assert max(Counter(e.page for e in public).values()) <= 4  # no page dominates


def test_no_page_feeds_both_training_and_evaluation():
    training = {normalise_url(r["page"]) for r in read_sources()}
    training |= {normalise_url(s.group) for s in read_warning_signs()}
    assert not training & eval_pages()


def test_url_identity_ignores_scheme_www_tracking_and_slashes():
    assert normalise_url("https://www.frg.org.uk/FandFCForum/viewtopic.php?t=5410&sid=abc") == \
        normalise_url("http://frg.org.uk/FandFCForum/viewtopic.php?t=5410")
    assert normalise_url("https://a.org/x/?utm_source=y") == normalise_url("a.org/x")
    assert normalise_url("https://a.org/viewtopic.php?t=1") != normalise_url("https://a.org/viewtopic.php?t=2")


def test_no_evaluation_message_is_trained_on():
    trained = {plain(e.text) for e in load_examples()} | {plain(s.text) for s in read_warning_signs()}
    # (tests/test_training_data.py checks the dev set; the blind set shares one-word replies such as "yes".)
    for name in ("nlu_wild.yml",):
        leaked = [t for t, _ in load_test_set(ROOT / "tests" / name) if plain(t) in trained]
        assert not leaked, (name, leaked[:3])
    cases = load_case_set(ROOT / "tests" / "crisis_wild.tsv")
    assert not [t for t in cases["crisis"] + cases["not_crisis"] if plain(t) in trained]


def test_the_wild_set_is_large_and_covers_every_topic_with_a_source_for_each_message():
    pairs = load_test_set(ROOT / "tests" / "nlu_wild.yml")
    counts = Counter(i for _, i in pairs)
    assert len(pairs) >= 400
    assert {t: counts[t] for t in TOPICS if counts[t] < 15} == {}
    with (ROOT / "tests" / "nlu_wild_sources.tsv").open(newline="") as handle:
        sourced = {(r["intent"], r["text"]) for r in csv.DictReader(handle, delimiter="\t") if r["source_url"]}
    assert {(i, t) for t, i in pairs} <= sourced


def test_the_wild_crisis_set_has_enough_of_each():
    cases = load_case_set(ROOT / "tests" / "crisis_wild.tsv")
    assert len(cases["crisis"]) >= 80 and len(cases["not_crisis"]) >= 80
