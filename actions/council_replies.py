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
        return Reply(bubbles, {"council": council.name, "pending_question": None})
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
                     {"pending_question": "place"})
    if match.kind == "outside_england":
        nation = NATION_NAMES.get(match.nation or "", "That country")
        bubbles = [Bubble(_say(content, "outside_england", nation=nation))]
        key = "outside_wales" if match.nation == "wales" else "outside_other"
        bubbles.append(Bubble(_say(content, key, nation=nation)))
        bubbles.append(Bubble(_say(content, "danger")))
        return Reply(bubbles, {"council": None, "pending_question": None})
    if match.kind == "postcode":
        return Reply([Bubble(_say(content, "postcode"))], {"pending_question": "place"})
    key = "dont_know" if DONT_KNOW.search(typed) else "unknown"
    return Reply([Bubble(_say(content, key, place=typed))], {"pending_question": "place"})
