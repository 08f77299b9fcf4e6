"""The soft-voting ensemble component (bot/nlu_components/linear_intent_ensemble.py): DIET's ranking
averaged with a TF-IDF logistic regression, trained and persisted through Rasa's model storage."""
from pathlib import Path

import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.nlu_components.linear_intent_ensemble import LinearIntentEnsemble, blend

EXAMPLES = {
    "section_20": ["what is section 20", "they want me to sign a s20", "voluntary accommodation form",
                   "social worker asked us to sign section 20 papers"],
    "legal_aid": ["can i get legal aid", "do i have to pay for a solicitor", "free lawyer for court",
                  "legal aid for grandparents"],
    "greet": ["hello", "hi there", "good morning", "hiya"],
}


def test_blend_averages_and_ranks_and_counts_missing_intents_as_zero():
    ranked = blend({"a": 0.8, "b": 0.2}, {"a": 0.1, "b": 0.8, "c": 0.1}, weight=0.5)
    assert [r["name"] for r in ranked] == ["b", "a", "c"]
    assert [r["confidence"] for r in ranked] == pytest.approx([0.5, 0.45, 0.05])
    assert blend({"a": 1.0}, {"a": 0.0, "b": 1.0}, weight=0.75)[0] == {"name": "a", "confidence": 0.75}


@pytest.fixture
def storage(tmp_path: Path):
    return LocalModelStorage(tmp_path)


def parsed(text, ranking):
    message = Message(data={"text": text})
    message.set("intent", dict(ranking[0]))
    message.set("intent_ranking", [dict(r) for r in ranking])
    return message


def trained(storage):
    context = ExecutionContext(GraphSchema({}), "test")
    resource = Resource("linear")
    component = LinearIntentEnsemble.create({}, storage, resource, context)
    data = TrainingData([Message(data={"text": t, "intent": i}) for i, texts in EXAMPLES.items() for t in texts])
    component.train(data)
    return LinearIntentEnsemble.load({}, storage, resource, context)


def test_trained_persisted_and_loaded_it_corrects_an_unsure_neural_guess(storage):
    component = trained(storage)
    message = parsed("do I need to pay a solicitor for legal aid",
                     [{"name": "greet", "confidence": 0.45}, {"name": "legal_aid", "confidence": 0.40},
                      {"name": "section_20", "confidence": 0.15}])
    component.process([message])
    assert message.get("intent")["name"] == "legal_aid"
    ranking = message.get("intent_ranking")
    assert sum(r["confidence"] for r in ranking) == pytest.approx(1.0)
    assert ranking == sorted(ranking, key=lambda r: -r["confidence"])


def test_a_confident_agreement_stays_confident(storage):
    component = trained(storage)
    message = parsed("what is section 20", [{"name": "section_20", "confidence": 0.97},
                                            {"name": "legal_aid", "confidence": 0.02}, {"name": "greet", "confidence": 0.01}])
    component.process([message])
    assert message.get("intent")["name"] == "section_20" and message.get("intent")["confidence"] > 0.6


def test_without_a_trained_model_diet_alone_decides(storage):
    context = ExecutionContext(GraphSchema({}), "test")
    component = LinearIntentEnsemble.load({}, storage, Resource("never-trained"), context)
    message = parsed("hello", [{"name": "greet", "confidence": 0.9}, {"name": "legal_aid", "confidence": 0.1}])
    component.process([message])
    assert message.get("intent") == {"name": "greet", "confidence": 0.9}
