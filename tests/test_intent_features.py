"""The linear intent model (bot/nlu_components/intent_features.py) that the ensemble component runs and
scripts/choose_nlu.py cross-validated: TF-IDF n-grams plus the sentence embedding."""
import pytest

from bot.nlu_components.intent_features import LinearIntentModel, sentences

EXAMPLES = {
    "complaint_about_social_worker": ["I want to complain about our social worker", "the social worker was rude to me",
                                      "our social worker never returns calls", "unhappy with how the social worker treats us"],
    "legal_aid": ["can i get legal aid", "do i have to pay for a solicitor", "free lawyer for court",
                  "legal aid for grandparents"],
    "opening_hours": ["when are you open", "what time does the advice line open", "are you open on saturday",
                      "opening hours"],
}
TEXTS = [t for texts in EXAMPLES.values() for t in texts]
LABELS = [i for i, texts in EXAMPLES.items() for _ in texts]


@pytest.fixture(scope="module")
def with_encoder():
    return LinearIntentModel(C=50, encoder_weight=1.0).fit(TEXTS, LABELS)


def test_probabilities_cover_every_intent_and_sum_to_one(with_encoder):
    rows = with_encoder.predict_proba_dicts(["when do you open", ""])
    assert all(set(r) == set(EXAMPLES) for r in rows)
    assert all(sum(r.values()) == pytest.approx(1.0) for r in rows)
    assert max(rows[0], key=rows[0].get) == "opening_hours"


def test_the_embedding_understands_a_story_that_shares_no_words_with_the_examples(with_encoder):
    story = "she shouted at us on the doorstep in front of the neighbours and won't answer my emails"
    plain = LinearIntentModel(C=50).fit(TEXTS, LABELS)
    assert max(with_encoder.predict_proba_dicts([story])[0].items(), key=lambda kv: kv[1])[0] == \
        "complaint_about_social_worker"
    assert with_encoder.predict_proba_dicts([story])[0]["complaint_about_social_worker"] > \
        plain.predict_proba_dicts([story])[0]["complaint_about_social_worker"]


def test_state_round_trip_predicts_the_same(with_encoder):
    again = LinearIntentModel.from_state(with_encoder.state())
    texts = ["is a lawyer free for grandparents", "hi"]
    assert again.predict_proba(texts) == pytest.approx(with_encoder.predict_proba(texts))
    assert again.encoder_weight == 1.0 and again.C == 50


def test_sentences_keep_only_those_of_three_words_or_more():
    assert sentences("Hi. We have an SGO now. What money can we get?") == ["We have an SGO now.", "What money can we get?"]
    assert sentences("") == []
