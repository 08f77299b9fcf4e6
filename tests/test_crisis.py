"""The emergency safety net (bot/safety/crisis.py): pure, so tested directly.

These hand-written cases are the detector's unit tests. Its recall and false-alarm rate on two
larger independent sets (tests/data/safety_cases*.yml) are printed by `make eval`.
"""
import pytest

from bot.safety.crisis import assess, is_crisis, is_figure_of_speech, normalise

CRISIS = [
    "hes hitting her rn",
    "he is hitting the baby right now",
    "i want to kill myself",
    "ive taken all my tablets",
    "im gona end it all tonight",
    "help he's got a knife",
    "my baby is not breathing",
    "my daughter has gone missing",
    "he says he is going to kill us",
    "i cnt go on anymore",
    "we have court next week and honestly i just want to die",
    "everyone would be better off without me",
    "i wont be here tomorrow",
    "i'm thinking of sucide",
    "taken 20 paracetamol",
    "my 14 yr old says shes going to kill herself tonight",
    "he is at the door banging on the window",
    "I CANT DO THIS ANYMORE IM GOING TO KILL MYSELF",
    "my ex has just punched my son and he's still in the house",
    "she's got him by the throat",
    "we're hiding upstairs, he's smashing the door",
    "can't find my 3 year old anywhere",
    "Hi, I wanted to ask about the PLO meeting on Thursday. To be honest I've swallowed a load of pills, I don't know why I'm asking",
    "i keep cutting myself tonight and it wont stop bleeding",
    "gonna jump off the bridge",
    "a man just grabbed my granddaughter outside school",
    "my ex just texted he's coming round tonight to kill me",
]

NOT_CRISIS = [
    "the social worker said there is a risk of significant harm",
    "this process is killing me",
    "he hit her years ago and that's why they're involved",
    "i self harmed as a teenager will they hold it against me",
    "my son tried to kill himself two years ago and is doing well now",
    "i'm dying to see my grandson",
    "i could kill my sister for reporting us",
    "what happens if a child is in danger",
    "what is an emergency protection order",
    "how do they decide if a child is at risk",
    "my partner was violent but he's in prison now",
    "would they take my baby if i told them i felt suicidal last year",
    "i am dead tired of all this",
    "the threshold document says likely to suffer significant harm",
    "i would never hurt myself, i just want my kids home",
    "im going to kill my solicitor he never answers lol",
    "what is the threshold for an interim care order",
    "I nearly died when I read the letter",
    "can the police take a child in an emergency",
    "they took my baby at the hospital under an interim care order",
    "social services took my kids last week, can I get them back",
    "the police took my son under police protection on friday",
    "",
    "   ",
]


@pytest.mark.parametrize("text", CRISIS)
def test_danger_now_is_caught(text):
    assert is_crisis(text), normalise(text)


@pytest.mark.parametrize("text", NOT_CRISIS)
def test_idioms_past_events_and_legal_terms_are_not(text):
    result = assess(text)
    assert not result.is_crisis, (result.matched_clause, result.pattern)


def test_kind_tells_self_harm_from_danger_to_others():
    assert assess("i want to kill myself").kind == "self"
    assert assess("he is hitting the baby right now").kind == "others"
    assert assess("what is a care order").kind is None


def test_figure_of_speech_is_recognised_for_overruling_the_classifier():
    assert is_figure_of_speech("this process is killing me")
    assert is_figure_of_speech("the report says risk of significant harm")
    assert not is_figure_of_speech("i want to kill myself")
    assert not is_figure_of_speech("what is a special guardianship order")


def test_normalise_expands_text_speak_and_fixes_misspelt_keywords():
    assert normalise("im gona kil myslf") == "i am going to kill myself"
    assert "suicide" in normalise("thinking about sucide")
    assert normalise("helppppp") == "helpp"


def test_crisis_buried_in_a_very_long_message_is_still_found():
    padding = "We have the final hearing next month and the guardian's report is unfair. " * 200
    assert is_crisis(padding + "I have taken an overdose.")


def test_hostile_and_odd_input_does_not_crash():
    for text in ["\x00\x01", "<script>alert(1)</script>", "\u202e\u200bkill", "🙂" * 1000, "a" * 100_000]:
        assess(text)
