"""Facts the bot once got wrong or stated too certainly (checked against shared/FACTS.md).

Each test reads the rendered content (actions.content_store.load_content, or the reply planner in
actions/replies.py) and fails if the old error comes back.
"""
import re
from pathlib import Path

import pytest
import yaml

from actions import replies
from actions.content_store import load_content
from actions.council_replies import council_bubbles
from bot.councils.directory import parse_directory

ROOT = Path(__file__).resolve().parent.parent
C = load_content()
EMPTY = {"misunderstood_count": 0.0}


def _strings(node):
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for value in node.values():
            yield from _strings(value)
    elif isinstance(node, list):
        for value in node:
            yield from _strings(value)


def every_text():
    """Every user-facing string: topic answers and 'more', variants and theirs, sub-answers (aspects), next steps,
    conversation, domain."""
    texts = []
    for topic in C.topics.values():
        texts += topic.answer + topic.more
    for variants in (C.variants, C.variants_more):
        for group in variants.values():
            for paragraphs in group.values():
                texts += paragraphs
    for aspect in C.aspects.values():
        texts += aspect.answer
    texts += list(C.next_steps.values())
    texts += list(_strings(C.conversation))
    domain = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))
    texts += [v["text"] for variants in domain["responses"].values() for v in variants]
    return texts


def sentences(texts):
    return [s for t in texts for s in re.split(r"(?<=[.!?])\s+", t) if s]


def stage_reply(stage):
    return replies.answer_topic(C, "inform", "", {"pending_question": "proceedings_stage", "proceedings_stage": stage})


def complaint_reply(who):
    return replies.answer_topic(C, "inform", "", {"pending_question": "complaint_about", "complaint_about": who})


def _says_appeal_now(text):
    text = text.lower()
    return "appeal" in text and "21 days" in text and "permission" in text and "solicitor immediately" in text


# 1. Final orders: appeals first (FACTS section 6: permission usually needed, 21 days, solicitor immediately).

def test_care_proceedings_more_leads_with_the_appeal_time_limit_before_describing_final_orders():
    texts = replies.tell_more(C, {"last_topic": "care_proceedings_overview"}).texts
    assert _says_appeal_now(texts[0]), texts[0]
    assert "final order" in texts[0].lower()
    first_care_order = next(i for i, t in enumerate(texts) if "care order" in t.lower())
    assert first_care_order > 0


def test_court_stage_answer_leads_with_the_appeal_time_limit():
    first = stage_reply("court").texts[0]
    assert _says_appeal_now(first) and "final order" in first.lower(), first
    free_text = replies.answer_topic(C, "care_proceedings_overview",
                                     "the final hearing was last month and they made a care order", EMPTY)
    assert _says_appeal_now(free_text.texts[0]), free_text.texts[0]


def test_child_removed_stage_mentions_the_appeal_time_limit_for_a_final_order():
    first = stage_reply("child_removed").texts[0]
    assert _says_appeal_now(first) and "final order" in first.lower(), first


def test_care_proceedings_first_reply_mentions_the_appeal_before_any_question_is_answered():
    # A family that has just had a final care order may not say "court" or "hearing": the general first
    # reply (shown before the stage question) must already carry the appeal, its permission and 21 days.
    reply = replies.answer_topic(C, "care_proceedings_overview", "they made a care order on my son", EMPTY)
    assert reply.slots["pending_question"] == "proceedings_stage"
    answer = C.topics["care_proceedings_overview"].answer
    assert reply.texts[: len(answer)] == answer
    assert any(_says_appeal_now(t) and "final order" in t.lower() for t in answer), answer


# 2. Special guardians cannot consent to adoption at all (FACTS section 3).

def test_special_guardians_can_never_agree_to_adoption():
    reply = replies.answer_topic(C, "special_guardianship", "what can a special guardian do", EMPTY)
    about_adoption = [s for s in sentences(reply.texts) if "adopt" in s.lower()]
    assert about_adoption, "the special guardianship answer must say special guardians can't agree to adoption"
    for sentence in about_adoption:
        assert "agreement" not in sentence and "permission" not in sentence, sentence
        assert "never" in sentence or "can't" in sentence or "cannot" in sentence, sentence
    surname = [s for s in sentences(reply.texts) if "surname" in s]
    assert surname and all("3 months" in s and "court's permission" in s for s in surname), surname


def test_no_answer_makes_adoption_depend_on_everyones_agreement():
    for sentence in sentences(every_text()):
        if "adopt" in sentence.lower():
            assert "everyone's agreement" not in sentence and "court's permission" not in sentence, sentence


# 3. A care order: the council gets PR and shares it with the parents, who keep theirs (FACTS sections 3, 6).

def test_care_order_parental_responsibility_is_shared_with_parents():
    texts = every_text()
    assert not any("care order gives the council parental responsibility" in t.lower() for t in texts)
    about_care_order_pr = [t for t in texts if "care order" in t.lower() and "parental responsibility" in t.lower()]
    assert about_care_order_pr
    for text in about_care_order_pr:
        assert "share" in text.lower(), text
    more = " ".join(replies.tell_more(C, {"last_topic": "care_proceedings_overview"}).texts)
    assert "Parents keep theirs and share it with the council" in more


# 4. Private fostering: under 16, or under 18 if disabled; the council must be told (FACTS section 3).

def test_private_fostering_covers_disabled_children_under_18_and_telling_the_council():
    more = replies.tell_more(C, {"last_topic": "kinship_care_options"}).texts
    fostering = " ".join(t for t in more if "private fostering" in t.lower())
    assert "under 16" in fostering and "under 18 if disabled" in fostering
    assert "council must be told" in fostering
    for text in every_text():
        if "private fostering" in text.lower() and "under 16" in text:
            assert "under 18 if disabled" in text, text


# 5. Guardian's Allowance: also when one parent has died and the other can't be found or is in prison
#    (FACTS section 4).

def test_guardians_allowance_is_not_only_when_both_parents_have_died():
    mentions = [t for t in every_text() if "guardian's allowance" in t.lower()]
    assert mentions
    for text in mentions:
        assert re.search(r"\bone\b", text), text  # "one has died"
        # One parent's death alone is not enough: the other must also be out of the picture.
        assert "one or both" not in text.lower(), text
        assert "can't be found" in text, text
    detailed = [
        " ".join(replies.tell_more(C, {"last_topic": "kinship_financial_support"}).texts),
        " ".join(replies.answer_topic(C, "inform", "", {"pending_question": "kinship_arrangement",
                                                        "kinship_arrangement": "informal"}).texts),
    ]
    for joined in detailed:
        assert "Guardian's Allowance" in joined
        assert "can't be found" in joined and "prison" in joined, joined


# 6. 12 months is the normal complaint limit; later complaints can be accepted (FACTS section 9).

def test_twelve_month_complaint_limit_is_not_stated_as_absolute():
    for text in every_text():
        if "12 months" in text:  # council complaints and the Ombudsman both accept some later ones
            assert "later" in text.lower(), text
    first = " ".join(replies.answer_topic(C, "complaints_procedure", "how do i complain", EMPTY).texts)
    assert "12 months" in first and "later complaint" in first
    for who in ("social_worker", "council"):
        joined = " ".join(complaint_reply(who).texts)
        assert "12 months" in joined and "later complaint" in joined, who
    social_worker = " ".join(replies.answer_topic(C, "complaint_about_social_worker", "my sw is rude", EMPTY).texts)
    assert "12 months" in social_worker and "later complaint" in social_worker


# 7. The 7-day emergency stop on contact is for a child in care under a care order; under section 20
#    parents can take the child home (FACTS sections 6, 8).

def test_seven_day_contact_rule_is_tied_to_care_orders_not_section_20():
    for text in every_text():
        if "7 days" in text:
            assert "care order" in text, text
            assert "section 20" not in text, text
    section_20 = C.topics["section_20"]
    for text in section_20.answer + section_20.more:
        assert "7 days" not in text and "notice" not in text.lower(), text
    assert any("take the child back at any time" in t for t in section_20.answer)
    contact = replies.tell_more(C, {"last_topic": "contact_with_child"}).texts
    assert any("section 20" in t and "at any time" in t for t in contact)


# 8. The council may decline a complaint that could prejudice court proceedings (regulation 8, FACTS section 9).

def test_complaints_answers_say_the_council_may_decline_during_court_proceedings():
    def says_it(texts):
        return any("may refuse" in t and "prejudice" in t and "court" in t for t in texts)

    assert says_it(replies.answer_topic(C, "complaints_procedure", "how do i complain", EMPTY).texts)
    for who in ("social_worker", "council"):
        assert says_it(complaint_reply(who).texts), who
    assert says_it(replies.tell_more(C, {"last_topic": "complaint_about_social_worker"}).texts)


# 9. NSPCC helpline hours wherever its number is given; Samaritans and Childline are 24/7 (FACTS section 2).

NSPCC_HOURS = ("Monday to Friday 8am to 10pm", "9am to 6pm at weekends", "help@nspcc.org.uk", "24 hours a day")


def _gives_nspcc_hours(text):
    return all(part in text for part in NSPCC_HOURS)


def test_nspcc_number_always_comes_with_its_hours_and_the_24_7_online_routes():
    with_number = [t for t in every_text() if "0808 800 5000" in t]
    assert with_number
    for text in with_number:
        assert _gives_nspcc_hours(text), text
    for kind in ("others", "general"):
        assert any("0808 800 5000" in t and _gives_nspcc_hours(t) for t in C.say("emergency", kind)), kind
    danger = replies.answer_topic(C, "emergency_risk", "i'm worried about a child", EMPTY).texts
    assert any("0808 800 5000" in t and _gives_nspcc_hours(t) for t in danger)


def test_samaritans_and_childline_are_said_to_be_open_all_the_time():
    for sentence in sentences(every_text()):
        for number in ("116 123", "0800 1111"):
            if number in sentence:
                assert re.search(r"any time|day or night|24 hours|24/7", sentence), sentence


def test_gateway_page_and_canned_reply_give_nspcc_hours_with_the_number():
    from bot.gateway.texts import load_texts

    page = (ROOT / "bot/gateway/templates/index.html").read_text(encoding="utf-8")
    items = [re.sub(r"<[^>]+>", "", li) for li in re.findall(r"<li>(.*?)</li>", page, re.S)]
    gateway_texts = items + [text for _, text in load_texts().canned]
    with_number = [t for t in gateway_texts if "0808 800 5000" in t]
    assert with_number
    for text in with_number:
        assert _gives_nspcc_hours(text), text


# 10. The 2024 guidance may not keep a named senior manager for kinship care (FACTS section 5: UNVERIFIED).

def test_council_reply_asks_who_leads_on_kinship_care_without_asserting_a_senior_manager():
    data = {"councils": [{"name": "Testshire Council", "type": "unitary", "region": "London",
                          "website": "https://www.testshire.gov.uk", "source": "s", "checked": "2026-11-22"}]}
    council = parse_directory(data).councils[0]
    joined = " ".join(b.text for b in council_bubbles(C, council, "offer"))
    assert "ask Testshire Council who leads on kinship care" in joined
    assert "senior manager" not in joined
    for text in every_text():
        if "kinship" in text.lower():
            assert "senior manager" not in text.lower(), text


# Questions families ask most that had no answer (issue 13, "Missing"). Each fact is in shared/FACTS.md
# or a seed page, and listed with its source in docs/sources.md; where the sources say nothing (emergency
# protection orders, police protection) the answer routes to a solicitor and states no detail.

SHARED = ROOT.parent / "shared"


def _source_text():
    files = [SHARED / "FACTS.md", *sorted((SHARED / "seeds").glob("*.txt"))]
    if not files[0].exists():
        pytest.skip("shared/ is not beside the repository")
    return re.sub(r"\s+", " ", " ".join(f.read_text(encoding="utf-8") for f in files))


def assert_sourced(*phrases):
    """The sources say it, in these words."""
    text = _source_text()
    for phrase in phrases:
        assert phrase in text, f"not in FACTS.md or the seeds: {phrase!r}"


def more_of(topic, **slots):
    return replies.tell_more(C, {"last_topic": topic, **slots}).texts


def sources_doc():
    return (ROOT / "docs/sources.md").read_text(encoding="utf-8")


def test_parents_keep_parental_responsibility_under_a_care_order_and_ico_routes_to_the_solicitor():
    assert_sourced("Under a care order the council has PR (shared with parents)",
                   "Care order: council gets PR and can limit how parents use theirs")
    for texts in (more_of("interim_care_order"), more_of("care_proceedings_overview", proceedings_stage="court")):
        about_pr = [t for t in texts if "parental responsibility" in t and "care order" in t]
        assert about_pr, texts
        text = about_pr[0]
        assert "Parents keep their parental responsibility under a care order" in text
        assert "share it with the council" in text and "limit" in text
        # FACTS does not say who holds PR under an interim order: the solicitor does.
        assert "Ask your solicitor what an interim care order means" in text
    assert "Parents keep parental responsibility under a care order" in sources_doc()


def test_police_protection_and_emergency_protection_orders_say_get_a_solicitor_today_and_nothing_unsourced():
    for texts in (more_of("care_proceedings_overview"), more_of("care_proceedings_overview", proceedings_stage="child_removed")):
        emergency = [t for t in texts if "police protection" in t and "emergency protection order" in t]
        assert emergency, texts
        assert "Get a solicitor today" in emergency[0]
        assert not re.search(r"\d", emergency[0]), "no durations or numbers: the sources give none"
    assert "police protection" in sources_doc().lower()


WHO_CAN_COMPLAIN = ("the child", "parental responsibility", "council foster carer", "special guardian",
                    "care leaver", "grandparents", "'sufficient interest'")


def test_who_can_complain_is_answered_wherever_complaints_go_on():
    assert_sourced("Who can complain: the child; a parent or person with PR; a council foster carer; special guardians;"
                   " care leavers; anyone the council decides has \"sufficient interest\" in the child's welfare.")
    for texts in (more_of("complaints_procedure"), more_of("complaints_procedure", complaint_about="council"),
                  more_of("complaints_procedure", complaint_about="social_worker")):
        who = [t for t in texts if t.startswith("Who can complain?")]
        assert who, texts
        assert all(part in who[0] for part in WHO_CAN_COMPLAIN), who[0]
        assert "if the council decides" in who[0]  # a grandparent is not automatically in: the council decides
    assert "sufficient interest" in sources_doc()


def test_complaining_while_the_case_is_in_court():
    assert_sourced("The council may decline to consider a complaint that could prejudice court proceedings (reg 8).",
                   'It cannot investigate "the start of court action or what happened in court"',
                   "Once proceedings end Cafcass can do less; complain while the case is live.")
    for texts in (more_of("complaints_procedure"), more_of("complaints_procedure", complaint_about="council"),
                  more_of("complaints_procedure", complaint_about="social_worker")):
        court = [t for t in texts if t.startswith("If there is a court case, tell your solicitor")]
        assert court, texts
        text = court[0]
        assert "may refuse" in text and "prejudice" in text
        assert "Ombudsman can't look at what happened in court" in text
        assert "Cafcass while the case is still going on" in text
    assert "Complaining while the case is in court" in sources_doc()


def test_school_support_pupil_premium_plus_virtual_school_head_and_who_does_not_get_it():
    assert_sourced("Previously looked-after children (left care through adoption, SGO or CAO) get Pupil Premium Plus"
                   " (Reception–Year 11) and a designated teacher; the Virtual School Head must give advice and"
                   " information to their carers. Carers must tell the school and show the order.",
                   "Kinship children who were never in care do not get Pupil Premium Plus")
    for topic in ("special_guardianship", "child_arrangements_order"):
        joined = " ".join(t for t in more_of(topic) if "school" in t.lower())
        for part in ("in care before", "Pupil Premium Plus", "Reception to Year 11", "designated teacher",
                     "Tell the school", "show", "Virtual School Head", "advice and information",
                     "never in care don't get Pupil Premium Plus"):
            assert part in joined, (topic, part)
        assert "£" not in joined  # the current rate is unverified
    assert "Pupil Premium Plus" in sources_doc()


def _money_mores():
    yield "topic", more_of("kinship_financial_support")
    for value in C.variants["kinship_financial_support"]:
        yield value, more_of("kinship_financial_support", kinship_arrangement=value)


def test_child_benefit_when_a_parent_still_claims_it():
    assert_sourced("only one person can get it; the person the child lives with has priority; a parent can keep"
                   " claiming for up to 8 weeks after the child moves if the carer does not claim",
                   "If someone else is already getting Child Benefit, the new claimant normally becomes entitled"
                   " 3 weeks after claiming.")
    for name, texts in _money_mores():
        if name == "kinship_foster":  # foster carers paid an allowance can't claim it at all
            assert not any("If a parent still gets Child Benefit" in t for t in texts)
            continue
        cb = [t for t in texts if t.startswith("If a parent still gets Child Benefit")]
        assert cb, name
        for part in ("you can still claim it", "lives with comes first", "3 weeks after you claim",
                     "up to 8 weeks after the child moves", "If you don't claim"):
            assert part in cb[0], (name, part)
    assert "Child Benefit when a parent still claims it" in sources_doc()


def test_kinship_leave_from_work_is_not_a_legal_right():
    assert_sourced("There is no statutory paid (or unpaid) employment leave for kinship carers. Government guidance"
                   " for employers exists; Kinship runs a \"Kinship Friendly Employer\" scheme.")
    for name, texts in [*_money_mores(), ("options", more_of("kinship_care_options"))]:
        leave = [t for t in texts if "kinship leave" in t]
        assert leave, name
        assert "no legal right to kinship leave from work, paid or unpaid" in leave[0]
        assert "Kinship Friendly Employer" in leave[0]
    for text in every_text():  # a proposed Bill is not law; no week counts
        if "kinship leave" in text:
            assert not re.search(r"\d", text), text
    assert "kinship leave" in sources_doc().lower()


def test_support_for_parents_after_a_child_is_removed():
    assert_sourced("with the right support following child removal, parents can stabilise, overcome trauma and"
                   " sustain lasting, positive change",
                   "can get legal and practical advice, build a support network and learn from other people’s"
                   " experiences", "Samaritans: 116 123")
    texts = more_of("care_proceedings_overview", proceedings_stage="child_removed")
    joined = " ".join(texts)
    for part in ("Family Rights Group says that with the right support after a child is removed",
                 "Ask the social worker what support the council can give you",
                 "online advice forums", "Samaritans free on 116 123, any time, day or night"):
        assert part in joined, part
    assert "support for parents after a child is removed" in sources_doc().lower()


# Issue 13, second part: sub-answers chosen by words in the message (`aspects` in answers.yml) and the
# nearest topics' Tell me more. FACTS.md or a seed where it says it; otherwise the public page listed in
# docs/sources.md (a test checks the page is listed there).

def asked(intent, text):
    return replies.answer_topic(C, intent, text, EMPTY).texts


def listed_in_sources(*urls):
    doc = sources_doc()
    for url in urls:
        assert url in doc, f"not in docs/sources.md: {url}"


def test_final_hearing_leads_with_the_appeal_and_sends_hearing_steps_to_the_solicitor():
    assert_sourced("At the end of care proceedings the court makes its final decision and order (or no order) — who the"
                   " child lives with and who they see. Hearing names and steps: ask the solicitor.",
                   "permission is usually needed; the general time limit to file an appeal notice is 21 days. Get a"
                   " solicitor immediately.")
    texts = asked("care_proceedings_overview", "what happens at the final hearing?")
    assert _says_appeal_now(texts[0]) and "final order" in texts[0]
    hearing = " ".join(texts[1:3])
    assert "final hearing is the last hearing" in hearing and "who the child will live with" in hearing
    assert "Ask your solicitor what will happen on the day" in hearing
    assert not re.search(r"\d", hearing), "no hearing steps or timings: the sources give none"
    assert any("final hearing is the last hearing" in t for t in more_of("care_proceedings_overview"))
    listed_in_sources("prepare-for-a-final-hearing")


def test_placement_order_lets_the_council_place_for_adoption_without_the_parents_agreement():
    assert_sourced("Placement order: authorises the council to place a child for adoption")
    first = asked("care_proceedings_overview", "what is a placement order")[0]
    assert first.startswith("A placement order is a court order.")
    assert "place a child with people who want to adopt them, even if the parents don't agree" in first
    assert any(t.startswith("A placement order is often made at the final hearing") for t in more_of("care_proceedings_overview"))
    listed_in_sources("what-is-the-effect-of-a-placement-order", "when-exactly-will-a-placement-order-be-made")


def test_parents_opposing_placement_or_adoption_get_legal_aid_whatever_their_income_with_a_merits_test():
    assert_sourced("parents/people with PR opposing placement or adoption order applications get means-free legal aid"
                   " (merits test still applies)")
    oppose = asked("legal_aid", "can i get legal aid to fight the adoption")[1]
    assert "can oppose it" in oppose and "whatever your income" in oppose and "merits test" in oppose
    assert "Get a solicitor now" in oppose
    more = [t for t in more_of("care_proceedings_overview") if "Parents can oppose it" in t]
    assert more and "whatever their income" in more[0] and "merits test still applies" in more[0]


def test_adoption_order_ends_the_birth_parents_parental_responsibility():
    assert_sourced("An adoption order ends the birth parents' PR")
    texts = asked("care_proceedings_overview", "they want my baby adopted")
    assert "An adoption order ends the birth parents' parental responsibility for good." in texts[2]
    assert "get advice first" in texts[2]


def test_consent_to_adoption_is_witnessed_by_cafcass_and_advice_comes_first():
    consent = [t for t in more_of("care_proceedings_overview") if "consent" in t]
    assert consent and "a Cafcass officer must see you sign the form" in consent[0]
    assert "Get advice before you sign" in consent[0]
    listed_in_sources("consent-to-adoption-and-applying-for-a-placement-order")


def test_opposing_an_adoption_order_needs_the_courts_permission():
    later = [t for t in more_of("care_proceedings_overview") if t.startswith("Later, the people caring for the child")]
    assert later, "the adoption order stage must be in Tell me more"
    text = later[0]
    assert "only oppose it with the court's permission" in text and "changed enough" in text
    assert "take them to a solicitor straight away" in text
    assert not re.search(r"\d", text), "no waiting period or time limit: FACTS.md has none for this"
    listed_in_sources("leave-to-oppose-an-adoption-order", "opposing-an-adoption-order", "received-adoption-papers")


def test_civil_legal_advice_is_for_people_who_qualify_and_gives_no_unverified_number():
    assert_sourced('Civil Legal Advice (CLA) covers "issues around a child being taken into care"; check eligibility'
                   " online first.", "CLA phone number **UNVERIFIED**")
    texts = asked("legal_aid", "what is civil legal advice")
    joined = " ".join(texts[:3])
    assert "people who qualify for legal aid" in joined and "child being taken into care" in joined
    assert "gov.uk/check-if-civil-legal-advice-can-help-you" in joined
    assert "parents get legal aid anyway" in joined  # parents in care proceedings need no check
    cla = [t for t in every_text() if "Civil Legal Advice" in t]
    assert len(cla) >= 2  # the sub-answer and legal aid's Tell me more
    for text in cla:
        assert not re.search(r"\b0\d{3}\b", text), "the CLA phone number is unverified"
    listed_in_sources("mindcharity.co.uk")


def test_staying_put_until_21_with_support_and_care_leavers_to_25():
    assert_sourced("is an arrangement that allows a looked-after child to continue to live with their foster"
                   " carer after their eighteenth birthday",
                   "provide advice and support (including financial) to the foster parent and young person to"
                   " facilitate the arrangement until the young person reaches 21",
                   "Every care leaver should have a pathway plan and the support of a personal adviser, up to the age"
                   " of 25")
    joined = " ".join(asked("kinship_foster_care", "what is staying put"))
    for part in ("after they turn 18", "Both of them must want it", "including with money, until the young person is 21",
                 "pathway plan", "personal adviser, up to age 25"):
        assert part in joined, part
    more = " ".join(more_of("kinship_foster_care"))
    assert "Staying put" in more and "until they are 21" in more and "up to age 25" in more
    assert "local offer for care leavers" in more
    listed_in_sources("p_stay_put.html")


def test_the_independent_reviewing_officer():
    assert_sourced("IROs should ensure children and young people are listened to")
    joined = " ".join(asked("kinship_foster_care", "who is the IRO"))
    for part in ("must give them an independent reviewing officer (IRO)", "runs the child's review meetings",
                 "care plan (the council's plan for the child)", "at least every 6 months",
                 "Ask the social worker how to contact the IRO"):
        assert part in joined, part
    assert any("independent reviewing officer (IRO)" in t for t in more_of("kinship_foster_care"))
    listed_in_sources("p_app_role_iro.html", "independent-reviewing-officers")


def test_practical_help_for_kinship_carers_from_seed_002():
    assert_sourced("Help to obtain suitable accommodation. Housing and social care departments should work together",
                   "Help with contact, including signposting to suitable contact centres and mediation services",
                   "Support groups for family and friends carers", "This includes one off help and ongoing support",
                   "Buttle UK grants exist")
    joined = " ".join(asked("kinship_local_policy", "can the council give me a one-off payment"))
    for part in ("one-off help or ongoing support", "Buttle UK", "support groups", "suitable housing",
                 "contact centres and mediation", "kinship local offer (the help it gives kinship families)"):
        assert part in joined, part
    assert "senior manager" not in joined  # the 2024 guidance may not keep one (FACTS.md §5)
    more = " ".join(more_of("kinship_local_policy"))
    assert "one-off money" in more and "Housing and social care teams should work together" in more
    assert any("contact centres and mediation" in t for t in more_of("contact_with_child"))


def test_viability_assessment_and_parallel_planning_are_one_line_each_and_offer_a_person():
    viability = asked("kinship_care_options", "what is a viability assessment")
    assert viability[0].startswith("A viability assessment is a first, short check on a relative or friend")
    assert "fuller assessment usually follows" in viability[0]
    assert any("viability assessment" in t for t in more_of("kinship_care_options"))
    parallel = asked("care_proceedings_overview", "what is parallel planning")
    assert parallel[0].startswith("Parallel planning (also called twin-track planning) means")
    assert "ask your solicitor or talk to our advisers" in parallel[1]
    for texts in (viability, parallel):
        assert texts[-1] == C.next_steps["advice"]
    listed_in_sources("kinship-assessment-guide-section-1-introduction", "viability-assessments-care-proceedings",
                      "ParentsForum/viewtopic.php?p=15061", "glossary/parallel-planning")
