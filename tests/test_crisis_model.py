"""The safety net's learned half (bot/safety/crisis_model.py): trained on published warning-sign
guidance (data/crisis/warning_signs.tsv) and our intent examples, it reads meaning the pattern rules
have no words for, and it reads context (past, negated, hypothetical) the same way the rules do."""
import pytest

from bot.nlu_components.training_data import load_examples
from bot.safety.crisis import context_discount, is_crisis
from bot.safety.crisis_model import CrisisModel, pieces, read_warning_signs, readable_pieces, samples_from_intents


@pytest.fixture(scope="module")
def model():
    intents = [(e.text, e.intent, e.page or e.file) for e in load_examples()]
    return CrisisModel(encoder_weight=1.0, threshold=0.3).fit(read_warning_signs() + samples_from_intents(intents))


def test_warning_signs_are_traced_to_published_guidance_and_both_kinds_are_there():
    signs = read_warning_signs()
    assert sum(s.crisis for s in signs) >= 150 and sum(not s.crisis for s in signs) >= 100
    assert all(s.group.startswith(("https://", "http://")) for s in signs)


def test_the_model_reads_sentences_and_clauses_but_not_what_the_rules_discount():
    assert pieces("ok. we had court today, and I have nothing left to live for") == [
        "we had court today", "and I have nothing left to live for"]
    assert pieces("") == []
    story = "the council keep moving the date and the solicitor is useless. honestly I've had enough of living"
    assert "honestly I've had enough of living" in readable_pieces(story, context_discount)
    assert readable_pieces("when I was 15 I wanted to die", context_discount) == []  # past
    assert readable_pieces("years ago I took an overdose. now I want to end it all", context_discount) == [
        "now I want to end it all"]


@pytest.mark.parametrize("text", [
    "everyone would be better off if I just disappeared for good",
    "I've sorted out who gets the dog and written to each of the kids, I won't need anything after friday",
])
def test_it_hears_what_the_rules_have_no_words_for(model, text):
    assert not is_crisis(text)  # the rules alone miss these...
    assert model.is_crisis(text)  # ...the model, trained on the warning signs, does not


@pytest.mark.parametrize("text", [
    "what is a special guardianship order",
    "the social worker said the threshold for significant harm was met at the hearing",
    "years ago, before the kids, I took an overdose; I've been well for a long time",
])
def test_ordinary_and_past_messages_score_low(model, text):
    assert not model.is_crisis(text)


def test_a_story_with_one_dangerous_clause_is_read_clause_by_clause(model):
    story = ("we have the final hearing next week and the solicitor has been useless about the SGO "
             "assessment and the council keep moving the date. honestly I've had enough of living")
    assert model.score(story) >= model.score("we have the final hearing next week and the solicitor has been useless")
    assert model.is_crisis(story)


def test_state_round_trip_gives_the_same_scores(model):
    texts = ["I can't do this any more", "when is the advice line open"]
    again = CrisisModel.from_state(model.state())
    assert again.scores(texts) == pytest.approx(model.scores(texts))
    assert again.threshold == model.threshold
