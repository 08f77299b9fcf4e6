"""What the bot says about the family's own council. Pure functions over the directory and content.

A council's links are shown only when the directory holds them (each with a source and a date);
otherwise the bot says plainly that we do not hold the link and what to ask the council for.
"""
from __future__ import annotations

import re
from typing import Any, Dict, List, Mapping, Optional

from actions.content_store import Content
from actions.reply_types import Bubble, Reply, payload
from bot.councils.directory import Council, Directory
from bot.councils.matcher import OUTSIDE, Match

# Which council information each topic needs.
COUNCIL_TOPICS = {
    "kinship_local_policy": "offer",
    "kinship_financial_support": "offer",
    "complaints_procedure": "complaints",
    "complaint_about_social_worker": "complaints",
    "council_contact": "contact",
}
DONT_KNOW = re.compile(r"\b(?:do ?n[o']?t know|not sure|no idea|unsure|dunno)\b", re.IGNORECASE)
# "why?", "what for?", "why do you need to know": the family asks why we want their area.
WHY_ASKED = re.compile(
    r"^\W*(?:but\s+|and\s+)?(?:why|what\s+for|how\s+come|what'?s\s+(?:that|it|this)\s+for|"
    r"why\s+(?:do|would|does)\s+(?:you|u|it|that)\s+(?:need|want|matter)\w*(?:\s+(?:to\s+know|that|it|this|my\s+\w+))*|"
    r"what\s+(?:does|has)\s+(?:that|it)\s+(?:matter|got\s+to\s+do\s+with\s+(?:it|anything))|"
    r"(?:why\s+)?(?:is|does)\s+(?:that|it)\s+matter)\W*$", re.IGNORECASE)
# No words at all ("??", "...", "hmm"): treated like "don't know".
NO_ANSWER = re.compile(r"^\W*(?:h+m+|u+m+|e+r+m*|eh)?\W*$", re.IGNORECASE)
# While the bot waits for a place, an answer this short is read as a place (or a non-answer) first.
SHORT_ANSWER_WORDS = 5
# Intents a short unplaceable answer to "where do you live?" usually gets: read it as a place attempt.
PLACE_LIKE_INTENTS = {"inform", "inform_council", "out_of_scope", "nlu_fallback", ""}
# Unplaceable answers before the bot stops asking and offers the council's name or a person instead.
PLACE_TRIES = 2
NATION_NAMES = {"wales": "Wales", "scotland": "Scotland", "northern_ireland": "Northern Ireland"}


def _say(content: Content, key: str, **values: Any) -> str:
    return content.say("council", key).format(**values)


def council_bubbles(content: Content, council: Council, need: str) -> List[Bubble]:
    """The council-specific part of an answer: links we hold, or what to ask for."""
    values = {"council": council.name, "website": council.website}
    if need == "offer":
        bubbles = [Bubble(_say(content, "offer_heading"))]
        offer = council.link("kinship_local_offer")
        policy = council.link("family_and_friends_policy")
        if offer:
            bubbles.append(Bubble(_say(content, "offer_link", url=offer.url, **values)))
        elif policy:
            bubbles.append(Bubble(_say(content, "policy_link", url=policy.url, **values)))
        else:
            bubbles.append(Bubble(_say(content, "offer_missing", **values)))
        bubbles.append(Bubble(_say(content, "lead_manager", **values)))
        return bubbles
    if need == "complaints":
        link = council.link("complaints")
        key = "complaints_link" if link else "complaints_missing"
        return [Bubble(_say(content, key, url=link.url if link else "", **values))]
    link = council.link("childrens_services_contact")
    key = "contact_link" if link else "contact_missing"
    return [Bubble(_say(content, key, url=link.url if link else "", **values)),
            Bubble(_say(content, "out_of_hours", **values))]


def council_menu(content: Content) -> List[Dict[str, str]]:
    titles = content.say("council", "buttons")
    return [
        {"title": titles["offer"], "payload": payload("kinship_local_policy")},
        {"title": titles["complain"], "payload": payload("complaints_procedure", {"complaint_about": "council"})},
        {"title": titles["contact"], "payload": payload("council_contact")},
    ]


def place_reply(content: Content, directory: Directory, match: Match, typed: Optional[str],
                slots: Mapping[str, Any]) -> Reply:
    """Answer a family who told us where they live (or tried to)."""
    typed = (typed or "").strip()[:60] or "that"
    if match.kind == "council":
        council = directory.by_name(match.council)
        bubbles = [Bubble(_say(content, "found", place=match.matched.title() if match.matched else typed,
                               council=council.name))]
        need = COUNCIL_TOPICS.get(slots.get("last_topic") or "")
        if need:
            bubbles.extend(council_bubbles(content, council, need))
        bubbles.append(Bubble(_say(content, "remembered", council=council.name), council_menu(content)))
        return Reply(bubbles, {"council": council.name, "pending_question": None, "place_tries": 0.0})
    if match.kind == "ambiguous":
        buttons = []
        for option in match.options:
            if option.startswith(OUTSIDE):
                nation = NATION_NAMES[option[len(OUTSIDE):]]
                buttons.append({"title": _say(content, "outside_option", nation=nation),
                                "payload": payload("inform_council", {"place": nation})})
            else:
                buttons.append({"title": option, "payload": payload("inform_council", {"place": option})})
        return Reply([Bubble(_say(content, "ambiguous", place=match.matched or typed), buttons)],
                     {"pending_question": "place", "place_tries": 0.0})
    if match.kind == "outside_england":
        nation = NATION_NAMES.get(match.nation or "", "That country")
        bubbles = [Bubble(_say(content, "outside_england", nation=nation))]
        key = "outside_wales" if match.nation == "wales" else "outside_other"
        bubbles.append(Bubble(_say(content, key, nation=nation)))
        bubbles.append(Bubble(_say(content, "danger")))
        return Reply(bubbles, {"council": None, "pending_question": None, "place_tries": 0.0})
    if match.kind == "postcode":
        key = "postcode"
    elif DONT_KNOW.search(typed) or NO_ANSWER.match(typed):
        key = "dont_know"
    else:
        key = "unknown"
    return _ask_place_again(content, key, typed, slots)


def _ask_place_again(content: Content, key: str, typed: str, slots: Mapping[str, Any]) -> Reply:
    """A second try ("which town is it near?"); after that, stop asking: name the council or a person."""
    tries = int(slots.get("place_tries") or 0) + 1
    if tries >= PLACE_TRIES:
        buttons = [{"title": content.say("buttons", "person"), "payload": payload("speak_to_adviser")}]
        return Reply([Bubble(_say(content, "give_up"), buttons)], {"pending_question": None, "place_tries": 0.0})
    return Reply([Bubble(_say(content, key, place=typed))], {"pending_question": "place", "place_tries": float(tries)})


def waiting_for_place(content: Content, text: Optional[str], intent: str,
                      slots: Mapping[str, Any]) -> Optional[Reply]:
    """The bot asked where the family lives and the message names no place we know: a short answer is
    read as an attempt at a place ("Little Snoring", "dunno", "??", "why?") unless the classifier is
    sure it is a question about a topic ("legal aid?"). None when no place question is pending, or
    the message is long enough (or clear enough) to be about something else."""
    typed = (text or "").strip()
    if slots.get("pending_question") != "place":
        return None
    if WHY_ASKED.match(typed):
        return Reply([Bubble(_say(content, "why")), Bubble(_say(content, "ask"))], {"pending_question": "place"})
    if len(typed.split()) > SHORT_ANSWER_WORDS:
        return None
    if DONT_KNOW.search(typed) or NO_ANSWER.match(typed):
        return _ask_place_again(content, "dont_know", typed, slots)
    if intent in PLACE_LIKE_INTENTS:
        return _ask_place_again(content, "unknown", typed[:60], slots)
    return None
