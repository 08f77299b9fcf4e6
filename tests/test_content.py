"""The bot's words: complete, chat-sized, and never stating a number or link not in the sources."""
import re
from pathlib import Path

import pytest
import yaml

from actions.content_store import _filled, load_content
from actions.replies import FLOWS
from bot.service_hours import hours_words, load_policy

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
TOPICS = """kinship_care_options kinship_financial_support special_guardianship kinship_local_policy
kinship_foster_care child_arrangements_order care_proceedings_overview section_20 pre_proceedings_letter
interim_care_order legal_aid child_protection_conference family_group_conference child_in_need
contact_with_child complaint_about_social_worker complaints_procedure ombudsman speak_to_adviser
opening_hours out_of_scope emergency_risk""".split()
MAX_BUBBLE = 360


def _strings(node):
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for value in node.values():
            yield from _strings(value)
    elif isinstance(node, list):
        for value in node:
            yield from _strings(value)


def all_bot_text():
    """Every string of the content files as the family sees it (hours filled in), and domain.yml's responses."""
    hours = hours_words(load_policy())
    texts = []
    for name in ("answers.yml", "conversation.yml"):
        texts += list(_strings(_filled(yaml.safe_load((ROOT / "actions/content" / name).read_text()), hours)))
    domain = yaml.safe_load((ROOT / "domain.yml").read_text())
    texts += [v["text"] for variants in domain["responses"].values() for v in variants]
    return texts


def sources_text():
    files = [SHARED / "FACTS.md", *sorted((SHARED / "seeds").glob("*.txt"))]
    if not files[0].exists():
        pytest.skip("shared/ is not beside the repository")
    return re.sub(r"\s+", " ", " ".join(f.read_text(encoding="utf-8") for f in files)).lower()


CONTENT = load_content()


def test_every_topic_has_an_answer_and_a_valid_next_step():
    assert set(TOPICS) <= set(CONTENT.topics)
    for intent in TOPICS:
        topic = CONTENT.topics[intent]
        assert topic.answer, intent
        assert len(topic.title) <= 30, intent
        if topic.next_step:
            assert topic.next_step in CONTENT.next_steps, intent


def test_every_next_step_says_general_information_and_offers_a_person():
    for name, text in CONTENT.next_steps.items():
        assert "not legal advice" in text.lower(), name
        assert "0808 801 0366" in text, name


def test_every_flow_has_a_variant_for_every_option_the_bot_offers():
    for intent, flow in FLOWS.items():
        options = [b["value"] for b in CONTENT.say("questions", flow.slot)["buttons"]]
        for value in options:
            assert CONTENT.variant(flow.variants, value), (intent, value)


def test_bubbles_are_chat_sized():
    for text in all_bot_text():
        assert 0 < len(text) <= MAX_BUBBLE, text


def test_every_phone_number_figure_and_link_is_in_the_sources():
    sources = sources_text()
    for text in all_bot_text():
        for url in re.findall(r"(?:https?://|www\.)[^\s)\"]+|\b[\w.]+@[\w.]+\w\b|\bgov\.uk/[\w/-]+", text):
            assert url.rstrip(".,").lower() in sources, url
        for number in re.findall(r"\d[\d ,.]*\d|\d", text):
            number = number.strip(" ,.")
            assert number.lower() in sources, f"{number!r} in: {text}"


def test_no_superseded_or_conflicting_facts():
    joined = " ".join(all_bot_text()).lower()
    assert "renewed every 4 weeks" not in joined and "every four weeks" not in joined  # old ICO rule
    assert "£" not in joined  # amounts change every year and are unverified


def test_emergency_messages_lead_with_999_and_give_the_helplines():
    for kind in ("others", "self", "general"):
        first = CONTENT.say("emergency", kind)[0]
        assert "999" in first, kind
    assert "116 123" in " ".join(CONTENT.say("emergency", "self"))
    assert "0808 800 5000" in " ".join(CONTENT.say("emergency", "others"))
    assert "0800 1111" in " ".join(CONTENT.say("emergency", "others"))
