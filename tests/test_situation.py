import pytest

from actions.situation import arrangement_from_text, complaint_about_from_text, stage_from_text


@pytest.mark.parametrize("text,expected", [
    ("I'm her special guardian", "sgo"),
    ("we got an SGO last year", "sgo"),
    ("there's a child arrangements order", "cao"),
    ("it used to be called a residence order", "cao"),
    ("we're approved foster carers for him", "kinship_foster"),
    ("the council said I'm a connected person", "kinship_foster"),
    ("its just informal, no court order", "informal"),
    ("we just agreed it with her mum", "informal"),
    ("not sure tbh", "not_sure"),
    ("", None),
    ("banana", None),
])
def test_arrangement(text, expected):
    assert arrangement_from_text(text) == expected


@pytest.mark.parametrize("text,expected", [
    ("they've already taken him into care", "child_removed"),
    ("she's in foster care now", "child_removed"),
    ("we've got court papers", "court"),
    ("the first hearing is on friday", "court"),
    ("we got the letter before proceedings", "pre_proceedings"),
    ("PLO meeting next week", "pre_proceedings"),
    ("there's a child protection conference on monday", "cp_conference"),
    ("the social worker has just started visiting", "sw_visits"),
    ("no idea what stage", "not_sure"),
    (None, None),
])
def test_stage(text, expected):
    assert stage_from_text(text) == expected


@pytest.mark.parametrize("text,expected", [
    ("it's about my solicitor", "solicitor"),
    ("the Cafcass officer", "cafcass"),
    ("the children's guardian was biased", "cafcass"),
    ("the judge got it wrong", "court"),
    ("the social worker", "social_worker"),
    ("the council's decision to stop paying us", "council"),
    ("social services", "council"),
    ("hmm", None),
])
def test_complaint_about(text, expected):
    assert complaint_about_from_text(text) == expected
