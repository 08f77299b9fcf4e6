"""Read a family's situation from what they typed: pure keyword rules, no I/O.

Used when the bot has asked a question (what kind of arrangement, what stage, who the complaint
is about) and the reply is free text rather than a button. Returns None when unsure, so the bot
asks again with buttons instead of guessing.
"""
from __future__ import annotations

import re
from typing import Optional, Sequence, Tuple

Rules = Sequence[Tuple[str, "re.Pattern[str]"]]


def _rules(*pairs: Tuple[str, str]) -> Rules:
    return [(value, re.compile(pattern, re.IGNORECASE)) for value, pattern in pairs]


# Order matters: the first matching rule wins, so more specific rules come first.
ARRANGEMENT_RULES = _rules(
    ("sgo", r"\bs\.?g\.?o\b|special guardian"),
    ("cao", r"\bc\.?a\.?o\b|child arrangements?|lives? with order|residence order"),
    ("kinship_foster", r"\bfoster|connected person|approved (?:as )?(?:a |kinship )?carers?|"
                       r"looked after by the (?:council|local authority)|in care with (?:me|us)"),
    ("informal", r"\binformal|no (?:court )?orders?|not? (?:any|a) (?:court )?order|"
                 r"private(?:ly)? (?:arrangement|agreed)|just (?:agreed|looking after)|"
                 r"family arrangement|agreed (?:it )?with (?:the |his |her )?(?:mum|dad|parents?)"),
    ("not_sure", r"\bnot sure|do ?n[o']?t know|no idea|unsure|dunno"),
)

STAGE_RULES = _rules(
    ("child_removed", r"\b(?:took|taken|removed|taking) (?:him|her|them|my|the|our)|"
                      r"(?:already|now) in (?:foster )?care|in foster care|placed with|"
                      r"police protection|section 20 now|s\.? ?20 now"),
    ("court", r"\bcourt|hearing|proceedings (?:have|has)? ?(?:started|issued)|judge|"
              r"\bico\b|interim care|care order application|children'?s guardian|cafcass"),
    ("pre_proceedings", r"letter before|pre[- ]?proceedings|\bplo\b|public law outline"),
    ("cp_conference", r"conference|child protection plan|\bcp plan|section 47|\bs\.? ?47\b|"
                      r"strategy (?:meeting|discussion)|core group"),
    ("sw_visits", r"social worker|\bsw\b|visit|assessment|child in need|\bcin\b|referral|"
                  r"just started|early days"),
    ("not_sure", r"\bnot sure|do ?n[o']?t know|no idea|unsure|dunno"),
)

COMPLAINT_RULES = _rules(
    ("solicitor", r"solicitor|lawyer|barrister|legal rep"),
    ("cafcass", r"cafcass|children'?s guardian|\bguardian\b|family court adviser"),
    ("court", r"\bjudge|magistrate|court'?s? (?:decision|order)|the court|\bcourt\b|appeal"),
    ("social_worker", r"social worker|\bsw\b|\bsocial\b(?! services)"),
    ("council", r"council|local authority|\bla\b|children'?s services|social services|"
                r"\bss\b|decision|manager|conference|service"),
)


def _first(rules: Rules, text: Optional[str]) -> Optional[str]:
    if not text:
        return None
    for value, pattern in rules:
        if pattern.search(text):
            return value
    return None


def arrangement_from_text(text: Optional[str]) -> Optional[str]:
    return _first(ARRANGEMENT_RULES, text)


def stage_from_text(text: Optional[str]) -> Optional[str]:
    return _first(STAGE_RULES, text)


def complaint_about_from_text(text: Optional[str]) -> Optional[str]:
    return _first(COMPLAINT_RULES, text)
