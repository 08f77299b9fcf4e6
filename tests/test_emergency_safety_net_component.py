"""The Rasa pipeline component that applies the safety net after the intent classifier."""
from rasa.shared.nlu.training_data.message import Message

from bot.nlu_components.emergency_safety_net import EmergencySafetyNet


def parsed(text, ranking):
    message = Message(data={"text": text})
    message.set("intent", dict(ranking[0]))
    message.set("intent_ranking", [dict(r) for r in ranking])
    return message


def run(message):
    EmergencySafetyNet({"fallback_threshold": 0.5}).process([message])
    return message


def test_crisis_overrides_an_unsure_classifier():
    m = run(parsed("we have court on monday and ive taken all my tablets",
                   [{"name": "nlu_fallback", "confidence": 0.5}, {"name": "care_proceedings_overview", "confidence": 0.4}]))
    assert m.get("intent") == {"name": "emergency_risk", "confidence": 1.0}
    assert m.get("intent_ranking")[0]["name"] == "emergency_risk"
    assert m.get("safety_net")["override"] is True
    assert m.get("safety_net")["kind"] == "self"
    assert m.get("safety_net")["classifier_intent"] == "nlu_fallback"
    assert m.get("safety_net")["classifier_confidence"] == 0.5


def test_idiom_guessed_as_emergency_is_overruled_to_the_next_intent():
    m = run(parsed("this whole care proceedings process is killing me, how long does it take",
                   [{"name": "emergency_risk", "confidence": 0.6}, {"name": "care_proceedings_overview", "confidence": 0.35}]))
    assert m.get("intent")["name"] == "nlu_fallback"  # next best is too unsure to answer confidently
    m = run(parsed("this process is killing me, how long do care proceedings take",
                   [{"name": "emergency_risk", "confidence": 0.4}, {"name": "care_proceedings_overview", "confidence": 0.55}]))
    assert m.get("intent")["name"] == "care_proceedings_overview"
    assert all(r["name"] != "emergency_risk" for r in m.get("intent_ranking"))


def test_ordinary_message_is_left_alone():
    ranking = [{"name": "section_20", "confidence": 0.9}]
    m = run(parsed("what is section 20", ranking))
    assert m.get("intent") == ranking[0]
    assert m.get("safety_net") == {"override": False}


def test_classifier_emergency_without_idiom_is_kept():
    ranking = [{"name": "emergency_risk", "confidence": 0.8}, {"name": "greet", "confidence": 0.1}]
    m = run(parsed("something awful is happening please", ranking))
    assert m.get("intent")["name"] == "emergency_risk"


def test_button_payloads_are_not_rewritten():
    ranking = [{"name": "inform", "confidence": 1.0}]
    m = run(parsed('/inform{"proceedings_stage":"child_removed"}', ranking))
    assert m.get("intent")["name"] == "inform"


# --- with the crisis model trained, persisted and loaded through Rasa's model storage ----------------

import pytest  # noqa: E402
from rasa.engine.graph import ExecutionContext, GraphSchema  # noqa: E402
from rasa.engine.storage.local_model_storage import LocalModelStorage  # noqa: E402
from rasa.engine.storage.resource import Resource  # noqa: E402
from rasa.shared.nlu.training_data.training_data import TrainingData  # noqa: E402

EXAMPLES = {
    "emergency_risk": ["my child is in danger right now", "i want to end my life", "he is hitting her now"],
    "section_20": ["what is section 20", "they want me to sign a s20", "can i take my child back from section 20"],
    "greet": ["hello", "hi there", "good morning"],
}


@pytest.fixture(scope="module")
def trained_net(tmp_path_factory):
    storage = LocalModelStorage(tmp_path_factory.mktemp("net"))
    context = ExecutionContext(GraphSchema({}), "test")
    resource = Resource("safety_net")
    config = {"fallback_threshold": 0.5, "threshold": 0.3, "encoder_weight": 1.0}
    net = EmergencySafetyNet.create(config, storage, resource, context)
    net.train(TrainingData([Message(data={"text": t, "intent": i}) for i, ts in EXAMPLES.items() for t in ts]))
    return EmergencySafetyNet.load(config, storage, resource, context)


def test_the_trained_model_catches_what_the_rules_miss(trained_net):
    m = parsed("everyone would be better off if I just disappeared for good",
               [{"name": "nlu_fallback", "confidence": 0.4}, {"name": "greet", "confidence": 0.2}])
    trained_net.process([m])
    assert m.get("intent")["name"] == "emergency_risk"
    assert m.get("safety_net")["by"] == "model" and m.get("safety_net")["score"] >= 0.3


def test_the_trained_model_overrules_a_weak_emergency_guess_on_an_ordinary_question(trained_net):
    m = parsed("can i take my child back from section 20 tomorrow",
               [{"name": "emergency_risk", "confidence": 0.45}, {"name": "section_20", "confidence": 0.4}])
    trained_net.process([m])
    assert m.get("intent")["name"] in ("section_20", "nlu_fallback")
    assert m.get("safety_net")["classifier_intent"] == "emergency_risk"
    assert m.get("safety_net")["score"] < 0.25


def test_an_ordinary_message_carries_its_score_and_is_left_alone(trained_net):
    m = parsed("what is section 20", [{"name": "section_20", "confidence": 0.9}])
    trained_net.process([m])
    assert m.get("intent")["name"] == "section_20"
    assert m.get("safety_net")["override"] is False and m.get("safety_net")["score"] < 0.3
