"""Training data quality gates: enough varied examples per topic, and a test set never trained on."""
import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
TOPICS = """kinship_care_options kinship_financial_support special_guardianship kinship_local_policy
kinship_foster_care child_arrangements_order care_proceedings_overview section_20 pre_proceedings_letter
interim_care_order legal_aid child_protection_conference family_group_conference child_in_need
contact_with_child complaint_about_social_worker complaints_procedure ombudsman speak_to_adviser
opening_hours out_of_scope emergency_risk""".split()


def examples(path):
    out = {}
    for block in yaml.safe_load(Path(path).read_text())["nlu"]:
        if "intent" in block:
            lines = [l[2:].strip() for l in block["examples"].strip().splitlines()]
            out.setdefault(block["intent"], []).extend(lines)
    return out


def plain(text):
    text = re.sub(r"\[([^\]]+)\]\([^)]+\)", r"\1", text)  # strip entity markup
    return re.sub(r"[^a-z0-9 ]", "", text.lower()).strip()


TRAIN = {}
for f in sorted((ROOT / "data/nlu").glob("*.yml")):
    for intent, lines in examples(f).items():
        TRAIN.setdefault(intent, []).extend(lines)
TEST = examples(ROOT / "tests/nlu_test.yml")


def test_each_topic_has_at_least_20_training_examples():
    for intent in TOPICS:
        assert len(TRAIN.get(intent, [])) >= 20, intent


def test_each_topic_has_at_least_8_test_examples():
    for intent in TOPICS:
        assert len(TEST.get(intent, [])) >= 8, intent


def test_test_set_is_never_trained_on():
    trained = {plain(t) for lines in TRAIN.values() for t in lines}
    leaked = [t for lines in TEST.values() for t in lines if plain(t) in trained]
    assert not leaked


def test_no_example_is_labelled_with_two_intents():
    seen = {}
    for intent, lines in TRAIN.items():
        for line in lines:
            key = plain(line)
            assert seen.setdefault(key, intent) == intent, (line, seen[key], intent)


def test_training_data_has_variety():
    for intent in TOPICS:
        lines = TRAIN[intent]
        lengths = [len(l.split()) for l in lines]
        assert min(lengths) <= 5 and max(lengths) >= 15, intent  # short and long messages
        assert len({l.split()[0].lower() for l in lines}) >= len(lines) // 3, intent  # not one template
