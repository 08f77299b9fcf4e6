"""Emergency safety net: does a message say that someone is in danger now?

Pure functions, no I/O. The NLU pipeline runs this after the classifier
(bot/nlu_components/emergency_safety_net.py) so that a crisis message gets emergency
signposting even when the model is unsure, and so that idioms ("this process is killing me"),
legal terms ("risk of significant harm") and past, settled events do not.

How it decides, clause by clause:
1. normalise: lower case, straight quotes, text-speak and common misspellings mapped to words,
   long misspelt keywords corrected with rapidfuzz;
2. a clause is a *danger* clause if one of the danger patterns matches it;
3. a danger clause is *discounted* if it is about the past ("two years ago", "as a teenager"),
   negated ("I would never hurt myself"), hypothetical or general ("what happens if a child is
   in danger"), unless it also says now ("right now", "tonight").
A message is a crisis if any clause is an undiscounted danger clause.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import List, Optional, Tuple

from rapidfuzz import fuzz, process

# --- normalisation -------------------------------------------------------------------------

# Whole-token replacements: text-speak and misspellings seen in real chats.
_TOKEN_MAP = {
    "im": "i am", "i'm": "i am", "iam": "i am", "ive": "i have", "i've": "i have",
    "i'll": "i will", "i'd": "i would",
    "u": "you", "ur": "your", "r": "are", "rn": "right now", "atm": "at the moment",
    "pls": "please", "plz": "please", "plse": "please",
    "cant": "cannot", "can't": "cannot", "cnt": "cannot", "carnt": "cannot", "cannt": "cannot",
    "dont": "do not", "don't": "do not", "wont": "will not", "won't": "will not",
    "wouldnt": "would not", "wouldn't": "would not", "isnt": "is not", "isn't": "is not",
    "doesnt": "does not", "doesn't": "does not", "didnt": "did not", "didn't": "did not",
    "hes": "he is", "he's": "he is", "shes": "she is", "she's": "she is",
    "theyre": "they are", "they're": "they are", "its": "it is", "it's": "it is",
    "thats": "that is", "that's": "that is", "whos": "who is", "who's": "who is",
    "gonna": "going to", "gona": "going to", "gunna": "going to", "gna": "going to",
    "goin": "going", "gonnna": "going to", "wanna": "want to", "wana": "want to",
    "gotta": "got to", "kil": "kill", "kll": "kill", "kilt": "kill", "killin": "killing",
    "myslf": "myself", "meself": "myself", "mysef": "myself", "himslf": "himself",
    "kms": "kill myself", "unalive": "kill", "unaliving": "killing",
    "od": "overdose", "oded": "overdosed", "od'd": "overdosed", 
    "tabs": "tablets", "meds": "medication", "pils": "pills", "tablts": "tablets",
    "nife": "knife", "kinfe": "knife", "knif": "knife", "knifes": "knives", "knive": "knife", "kniffe": "knife",
    "2nite": "tonight", "2night": "tonight", "tonite": "tonight", "2day": "today",
    "nw": "now", "noww": "now", "hurtin": "hurting", "hittin": "hitting",
    "beatin": "beating", "breathin": "breathing", "tryin": "trying", "sum1": "someone",
    "some1": "someone", "any1": "anyone", "every1": "everyone", "b4": "before",
    "bk": "back", "n": "and", "wiv": "with", "wid": "with",
    "he'll": "he will", "she'll": "she will", "they'll": "they will", "hell": "hell",
    "he'd": "he would", "she'd": "she would", "they'd": "they would",
    "tryna": "trying to", "tryin2": "trying to", "thru": "through", "som1": "someone",
    "dnt": "do not", "wnt": "want", "wnna": "want to", "lyf": "life", "ded": "dead",
}

# Long keywords whose misspellings are corrected by fuzzy matching (only tokens of 6+ letters
# that are not already a known word here, so "skill" never becomes "kill").
_FUZZY_KEYWORDS = [
    "suicide", "suicidal", "overdose", "overdosed", "strangling", "strangled", "choking",
    "breathing", "unconscious", "unresponsive", "stabbing", "threatening", "tablets",
    "paracetamol", "attacking", "punching", "battering", "hanging", "bleeding", "yourself",
    "myself", "herself", "himself", "themselves", "tonight", "knife",
]
_SAFE_WORDS = {
    "suited", "suitable", "settle", "settled", "strange", "stranger", "thinking", "though",
    "through", "breakfast", "tablet", "choice", "choose", "chosen", "shelter", "selfish",
    "hearing", "hearings", "meeting", "meetings", "threshold", "thresholds", "nothing",
    "knowledge", "tonnes", "toilet", "together", "tomorrow", "suicides", "attached", "attend",
    "attending", "attendance", "standing", "stalking", "breathe", "breathes", "younger",
    "yourselves", "hitting", "kitchen", "killer", "killers",
}

_QUOTES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u201c": '"', "\u201d": '"', "`": "'"})
_REPEATS = re.compile(r"([a-z])\1{2,}")  # "helppp" -> "help", "nowww" -> "now"
_TOKEN = re.compile(r"[a-z0-9']+|[^a-z0-9'\s]")


def _fix_token(token: str) -> str:
    if token in _TOKEN_MAP:
        return _TOKEN_MAP[token]
    if len(token) >= 6 and token not in _SAFE_WORDS and token not in _FUZZY_KEYWORDS:
        best = process.extractOne(token, _FUZZY_KEYWORDS, scorer=fuzz.ratio, score_cutoff=84)
        if best:
            return best[0]
    return token


def normalise(text: str) -> str:
    """Lower-case, straighten quotes, collapse letter floods and expand text-speak."""
    text = (text or "").translate(_QUOTES).lower()
    text = _REPEATS.sub(r"\1\1", text)
    tokens = [_fix_token(t) for t in _TOKEN.findall(text)]
    out = " ".join(tokens)
    return re.sub(r"\s+([,.!?;:])", r"\1", out)


# Clauses: sentences, and "but"/"and now" joins that often carry the crisis at the end.
_CLAUSE_SPLIT = re.compile(r"[.!?;\n]+|,\s*(?:but|and|so)\s+|\s+but\s+")


def clauses(normalised: str) -> List[str]:
    return [c.strip(" ,") for c in _CLAUSE_SPLIT.split(normalised) if c and c.strip(" ,")]


# --- danger patterns -----------------------------------------------------------------------

_SELF = r"(?:myself|my self)"
_CHILD = (
    r"(?:baby|babies|toddler|son|daughter|kids?|child|children|grandson|granddaughter|"
    r"grandchild(?:ren)?|grandkids?|niece|nephew|boy|girl|little one|twins|teenager|youngest|eldest|"
    r"(?:little |baby |big )?(?:brother|sister)|"
    r"\d+ ?(?:yr|year|yo|y/o)s?(?: old)?)"
)
_PERSON = (
    r"(?:him|her|them|me|us|my (?:\w+ ){0,2}(?:baby|babies|son|daughter|kids?|child|children|"
    r"grandson|granddaughter|grandchild(?:ren)?|niece|nephew|boy|girl|little one|partner|mum|"
    r"mother|wife|husband|sister|brother)|the (?:baby|kids|children|child|little one)|"
    r"(?:the|my) (?:twins|toddler)|[a-z]+'s (?:baby|son|daughter|kid))"
)
_NOW = r"(?:right now|now|at the moment|as we speak|tonight|today|this minute|currently)"
_VIOLENCE = (
    r"(?:hitting|beating|punching|kicking|stamping|strangling|choking|stabbing|attacking|hurting|"
    r"battering|smacking|slapping|shaking|throwing|dragging|grabbing|smashing|strangling|"
    r"burning|biting|pushing|threatening|screaming at|whacking|belting|laying into|pinning|"
    r"shoving|bashing|thumping|booting|going for|coming at)"
)
_VIOLENCE_PAST = (
    r"(?:hit|punched|kicked|stamped on|strangled|choked|stabbed|attacked|hurt|battered|slapped|"
    r"shook|threw|thrown|dragged|grabbed|burned|burnt|bit|pushed|smashed|shoved|whacked|belted|"
    r"pinned|thumped|bashed|booted|snatched|bundled|forced (?:his|her|their) way in)"
)
_DRUGS = (
    r"(?:pills|tablets|overdose|paracetamol|medication|painkillers|sertraline|codeine|insulin|"
    r"antidepressants|bleach|everything in the (?:\w+ )?(?:cupboard|cabinet|drawer)|everything)"
)

_SELF_HARM = [
    rf"\b(?:kill|killing|hurt|hurting|harm|harming|cut|cutting|hang|hanging|drown|starve|top|"
    rf"topping|cut|cutting) {_SELF}\b",
    r"\bcut(?:ting)? (?:myself|himself|herself|themselves|again|my (?:arms?|wrists?|legs?))\b",
    r"\b(?:end|ending|take|taking) (?:my (?:own )?life|it all|my own life)\b",
    r"\b(?:want|wanted|going|plan|planning|ready|about|decided|try|trying) to (?:die|end it|be dead|"
    r"not (?:be here|wake up|exist))\b",
    r"\bsuicid(?:e|al)\b",
    r"\b(?:do not|cannot|no longer) (?:want to )?(?:live|be alive|be here|go on|carry on|keep going)"
    r"(?: any ?more| anymore)?\b",
    r"\b(?:better off|be better) (?:without me|if i (?:was|were) (?:not here|gone|dead)|"
    r"if i (?:just )?(?:was not|were not|wasnt) here|if i died)\b",
    r"\bno (?:reason|point) (?:to live|in living|living|going on|being here|carrying on|"
    r"anymore|any more)\b",
    r"\b(?:will not|wont) be (?:here|alive|around) (?:tomorrow|much longer|by the morning|"
    r"in the morning|next week|to)\b",
    rf"\b(?:taken|took|swallowed|necked|downed|had) (?:[\w']+ ){{0,4}}{_DRUGS}\b",
    rf"\b(?:going to|will|about to|want to) (?:take|swallow|neck) (?:[\w']+ ){{0,3}}{_DRUGS}\b",
    r"\b(?:going to|about to|want to|ready to) (?:jump|do it|step in front|walk in front)\b",
    r"\b(?:doing it|do it) (?:tonight|today|now|right now)\b",
    r"\bin front of (?:a|the) (?:\w+ )?(?:train|bus|lorry|car)\b",
    r"\b(?:engine running|railway line|on the (?:bridge|roof|ledge|edge|platform))\b",
    r"\b(?:written|wrote|left) (?:the |a |my )?(?:note|letters?|goodbye)\b",
    r"\boverdosed?\b",
    r"\b(?:pills|tablets|rope|knife|blade|razor)s? (?:are )?(?:lined up|ready|in front of me|"
    r"in my hand|next to me)\b",
    r"\b(?:jump|jumping) (?:off|from|in front of)\b",
    r"\bcannot keep (?:myself|me|him|her|them) safe\b",
    r"\b(?:said|saying) my goodbyes\b",
    r"\b(?:is|are|keeps?) (?:self harming|self-harming|cutting (?:himself|herself|themselves))\b",
    r"\b(?:he|she|they|my \w+) (?:says|said|is saying|keeps saying|texted|messaged) "
    r"(?:he|she|they) (?:is going to|will|wants? to) (?:kill|hurt) (?:himself|herself|themselves)\b",
    r"\b(?:kill|hurt|harm) (?:himself|herself|themselves)\b",
    r"\bnot (?:want|wanting) to wake up\b",
    r"\b(?:going to|gonna|want to|about to) end (?:things|everything|my life|it)\b",
    r"\b(?:this is|it is) my (?:last|final) message\b|\btell (?:my|the) (?:\w+ )?(?:kids|children|"
    r"family|grandkids|son|daughter) (?:i|that i) love(?:d)? them\b",
    r"\b(?:tied|tying|put|putting) (?:something|a \w+|a rope|a belt|a cord) (?:round|around) "
    r"(?:my|her|his|their) neck\b",
    r"\bthreatening to (?:kill|hang|hurt|stab|cut|drown|burn|jump|overdose|set fire)\b",
    r"\b(?:set fire|setting fire|burn the house|burn us)\b",
]

_HARM_NOW = [
    # someone is hurting a person right now
    rf"\b(?:is|are|keeps?|started|start|been) (?:\w+ )?(?:hitting|beating|punching|kicking|"
    rf"strangling|choking|stabbing|attacking|hurting|battering|smacking|shaking|throwing) {_PERSON}",
    rf"\b(?:hitting|beating|punching|kicking|strangling|choking|stabbing|attacking|hurting|"
    rf"battering|shaking) {_PERSON} {_NOW}\b",
    rf"\b{_NOW},? (?:he|she|they) (?:is|are) (?:hitting|beating|hurting|attacking)\b",
    rf"\b(?:he|she|they) (?:is|are|keeps?) {_VIOLENCE}\b",
    rf"\b{_VIOLENCE} (?:my|her|him|them|me|us|the|our|into)\b",
    r"\b(?:being|getting) (?:jumped|hit|beaten|battered|attacked|stabbed|strangled|kicked)\b",
    r"\b(?:got|has) (?:me|her|him|them|us) pinned\b|\bpinned (?:me|her|him|them|us)\b",
    r"\bcoming at (?:me|us|him|her|them) with\b",
    r"\b(?:climbing|climbed|forced (?:his|her|their) way|broken|breaking|got) in (?:through|the|thru|via)\b|"
    r"\bforced (?:his|her|their) way in\b",
    r"\b(?:on (?:his|her|their) way|coming (?:round|over|here)(?: \w+)?) to (?:kill|hurt|get|take|stab)\b",
    # a child snatched now ("they took my baby" is how parents describe a removal by the council,
    # so plain "took" only counts with a stranger as the subject)
    rf"\b(?:snatched|grabbed|bundled|got hold of|kidnapped|abducted) (?:my|the|our|his|her) "
    rf"(?:\w+ )?{_CHILD}\b",
    rf"\b(?:a man|a woman|someone|somebody|a stranger|some man|some woman|a gang) (?:has |just )*"
    rf"(?:took|taken|grabbed|snatched) (?:my|the|our|his|her) (?:\w+ )?{_CHILD}\b",
    rf"\b(?:pulling|dragging|carrying) (?:him|her|them|my|the) (?:\w+ )?(?:towards|to|into) "
    rf"(?:(?:his|her|their|a|the) )?(?:car|van|taxi)\b",
    rf"\b(?:has |have )?just {_VIOLENCE_PAST}\b",
    rf"\b{_VIOLENCE_PAST} (?:\w+ ){{0,3}}and (?:he|she|they) (?:is|are) still (?:here|in the house|there)\b",
    r"\bby the (?:throat|neck|hair)\b|\bhands? (?:round|around) (?:my|her|his|their) (?:neck|throat)\b",
    r"\b(?:kicking|smashing|breaking) (?:the |my |our )?(?:door|window)s?\b",
    r"\b(?:hiding|locked) (?:in|from|upstairs|in the \w+)\b",
    r"\bcoming (?:for|after) (?:me|us|them|her|him)\b",
    r"\blocked (?:[\w']+ ){1,4}in\b",
    r"\b(?:driving|drove|run|ran|running) off with (?:him|her|them|the|my)\b",
    r"\bdrunk and driving\b|\bdrink driving with\b",
    # threats to kill or hurt
    r"\b(?:going to|threatening to|threatened to|threatens to|says (?:he|she|they) will|"
    r"said (?:he|she|they) will|will|wants to|gonna|is going to) (?:kill|stab|hurt|strangle|"
    r"burn|shoot|snatch|take) (?:me|us|him|her|them|my|the|everyone|himself|herself)\b",
    r"\b(?:has|got|with|holding|is holding|waving|pulled) (?:a |the |his |her )?(?:knife|gun|"
    r"weapon|blade|machete|hammer|bat)\b",
    # the child's life is at risk now
    r"\b(?:not breathing|stopped breathing|will not wake|cannot wake|unconscious|unresponsive|"
    r"not waking(?: up)?|not responding|is not responding|"
    r"turning blue|having a fit|is bleeding|bleeding (?:badly|heavily|a lot))\b",
    # someone is trying to get at them now
    r"\b(?:at the door|banging on the (?:door|window)|trying to (?:get in|break in|kick the door)|"
    r"outside (?:the|my) (?:house|door|window) (?:now|right now)|broken in|breaking in)\b",
    r"\block(?:ed)? (?:me|us|him|her|them|the kids|the children) in\b",
    # a child missing now
    r"\b(?:is|has gone|has been|went|gone) missing\b",
    r"\b(?:run|ran) (?:away|off) (?:tonight|today|this (?:morning|evening|afternoon)|"
    r"and (?:i|we) cannot find)\b",
    r"\b(?:has not|hasn't|did not|never) (?:come|came) (?:home|back)\b.*\b(?:tonight|hours|"
    r"last night|since|yesterday)\b",
    rf"\bcannot find (?:my|the|her|him|them|our) ?(?:\w+ )?{_CHILD}?\b",
    rf"\b{_CHILD} (?:has )?(?:wandered off|run off|ran off)\b",
    r"\bnobody knows where (?:he|she|they) (?:is|are)\b",
    r"\b(?:has not|hasn't|not|never) (?:come|came|got|gotten) (?:home|back)\b",
    r"\bnot in (?:her|his|their) (?:cot|bed|room|pram)\b",
    r"\bnever see (?:her|him|them|the kids|the children) again\b",
    # a child's medical emergency now
    r"\b(?:is |are )?(?:choking|fitting|having a (?:fit|seizure)|seizure|convulsing)\b",
    r"\b(?:gone|going|turned|turning) (?:blue|purple|grey|floppy)\b|\blips (?:are )?(?:going |gone )?"
    r"(?:blue|purple)\b|\bfloppy\b",
    r"\b(?:not|is not|is not|isnt|stopped) (?:moving|responding|coming round|waking up)\b",
    r"\b(?:drunk|drank|swallowed|eaten|ate|took|taken|had) (?:[\w']+ ){0,4}(?:bleach|battery|batteries|"
    r"methadone|calpol|medicine|detergent|capsules?|tablets|pills|paracetamol|cleaner|vodka)\b",
    r"\b(?:going|gone) (?:really |very )?(?:sleepy|drowsy)\b.*\b(?:pills|tablets|drunk|swallowed|taken)\b|"
    r"\b(?:pills|tablets|drunk|swallowed|taken)\b.*\b(?:going|gone) (?:really |very )?(?:sleepy|drowsy)\b",
    # in danger now
    r"\b(?:he|she|they|we|i|my \w+|the (?:baby|kids|children|child)) (?:is|are|am) in "
    r"(?:danger|immediate danger|serious danger)\b",
    r"\b(?:scared|afraid|frightened|terrified) (?:he|she|they) (?:will|is going to|are going to) "
    r"(?:kill|hurt|stab)\b",
    r"\b(?:help|call (?:the )?police|call 999|ring 999)\b.*\b(?:now|quick|please|hurry)\b.*"
    r"\b(?:hurt|hitting|knife|kill|attack|danger|blood|bleeding)\b",
    r"\b(?:being|been|getting) (?:hit|beaten|attacked|strangled|stabbed|abused|raped|hurt) "
    rf"{_NOW}\b",
    r"\b(?:he|she|they) (?:is|are) (?:sexually )?(?:abusing|raping|touching) (?:her|him|them|my)\b",
]

# Warning signs named in published guidance (Samaritans, Papyrus, NSPCC, NHS; data/crisis/README.md),
# written as concepts rather than phrases: indirect statements, plans and means, goodbyes, burden.
_ME_GONE = r"(?:i (?:am|was|were) (?:not here|gone|dead)|i (?:was|were) not (?:here|around|alive)|i (?:am|was) not around|i die|i died|i am not in it)"
_SELF_HARM += [
    rf"(?:better|happier|easier|fine|ok|okay|off) (?:\w+ ){{0,3}}(?:without me|(?:once|when|if) {_ME_GONE})\b",
    rf"\b(?:world|everyone|they|family|kids|children) (?:\w+ ){{0,4}}without me(?: in it| around| here)?\b",
    r"\b(?:a |such a )?(?:burden|weight (?:round|around) (?:\w+ )?neck) (?:to|on|for) (?:everyone|my|them|you)\b|\bi am (?:just )?(?:a |such a )?burden\b",
    r"\b(?:wish|wishing) (?:i|i could|that i) (?:was|were|could be|would)? ?(?:\w+ )?(?:dead|gone|never born|not here|not be here|not wake up|disappear|die|sleep forever)\b",
    r"\b(?:go to sleep|sleep|fall asleep) and (?:just )?(?:never|not) wake(?: up)?\b|\bnever wake up again\b",
    r"\b(?:not|never) (?:be )?(?:here|around|alive) (?:any ?more|much longer|for (?:much )?longer|by (?:tomorrow|the morning|the weekend|next week))\b",
    r"\b(?:will not|wont|won't) be (?:a problem|a burden|in (?:anyone's|your|their) way|needing (?:them|it|this|these)) (?:\w+ ){0,3}(?:much )?(?:longer|any ?more|soon)\b|\b(?:will not|wont) be needing (?:them|it|these|my)\b",
    r"\b(?:no|nothing|not anything) (?:left )?(?:to live for|worth living for)\b|\blife (?:is not|is no longer|isnt) worth (?:living|it)\b|\bnot worth living\b",
    r"\b(?:what is|whats|what's) the point (?:in |of )?(?:carrying on|going on|living|being here|me|anything|any of it|trying any ?more|of me)\b",
    r"\bno (?:way out|future|reason to (?:keep going|go on|carry on|live|stay))\b(?! (?:for|of) (?:the|this) (?:case|appeal))",
    r"\b(?:end|finish|ending|finishing) (?:it|things|everything|myself)(?: all)?\b(?! (?:with|between) )(?=.*\b(?:i|me|my)\b)|\bi (?:will|am going to|want to) (?:end|finish) (?:it|things|everything)\b",
    r"\b(?:do not|cannot|can not) (?:cope|go on|do this|take (?:it|this)|carry on) (?:any ?more|any longer)\b.*\b(?:die|dead|end|gone|not here|point|pills|tablets|goodbye)\b",
    r"\b(?:this is|saying|said|say) (?:my )?goodbyes?\b(?! to (?:the|her|his|their) (?:foster|carers?|social))|\bgoodbye (?:everyone|all|world)\b",
    r"\b(?:giving|given|gave|handing|handed) (?:away |out )?(?:all )?(?:my|me) (?:stuff|things|belongings|possessions)\b|\bgiven (?:away )?(?:my|all my) (?:\w+ ){0,3}to (?:my|her|him)\b.*\bwill not need\b",
    r"\b(?:made|making) (?:my|the) (?:decision|mind up)\b.*\b(?:calm|peace|ready|end|gone|goodbye|tonight)\b|\b(?:calm|peace|ready) (?:\w+ ){0,4}(?:made|make) (?:my|the) decision\b",
    rf"\b(?:saving|saved|stockpiling|stockpiled|hoarding|collecting|storing) (?:up )?(?:\w+ ){{0,3}}(?:pills|tablets|paracetamol|medication|painkillers|meds)\b",
    r"\bhow many (?:\w+ ){0,2}(?:pills|tablets|paracetamol|painkillers)\b.*\b(?:take|kill|die|enough|would it)\b",
    r"\b(?:quickest|easiest|best|painless) way (?:to|of) (?:go|die|end it|do it|going)\b|\bhow to (?:hang|kill|end) (?:yourself|myself|it)\b",
    r"\b(?:rope|noose|ligature)\b(?! (?:swing|course|bridge))",
    r"\b(?:worked out|planned|know|decided) (?:exactly )?(?:how|when|where|which (?:bridge|way))\b.*\b(?:do it|go|end|die|jump|not be here|get through)\b",
    r"\b(?:cut|cutting|burnt|burned|burning|scratch|scratching|hit|hitting|bang|banging|harm|harming|hurting|hurt) "
    r"(?:myself|herself|himself|themselves|my (?:arms?|wrists?|legs?|skin|thighs?)|(?:his|her|their) (?:head|arms?|wrists?))\b"
    r"(?! (?:playing|at football|by accident|falling|on the))",
    r"\b(?:self[ -]?harm(?:ing|ed|s)?|sh again|s/h)\b(?!.*\b(?:years? ago|as a teen|when (?:i|she|he) was|history|used to)\b)",
    r"\b(?:razor ?blades?|blades?|bloody tissues|fresh cuts|cuts (?:on|all over) (?:my|her|his) (?:arms?|wrists?|legs?))\b",
    r"\bcuts? (?:are )?(?:getting )?deeper\b|\bbleed(?:s|ing)? (?:so|to) (?:i|stop)\b",
    r"\b(?:swallowed|taken|took|had|necked|downed) (?:a (?:load|lot|handful|bottle|packet|box) of|all (?:my|her|his|the)|loads of|too many) (?:\w+ ){0,2}\b",
    r"\bdark thoughts\b.*\b(?:end|ending|die|dying|dead)\b|\b(?:dying|death) (?:feels|seems|is) (?:like )?(?:the )?only (?:option|way|answer)\b",
    r"\b(?:top|off|topped|offed) (?:myself|himself|herself|themselves)\b",
    r"\bonce i am (?:gone|dead|not here)\b|\bwhen i am (?:gone|dead)\b.*\b(?:sorry|realise|realize|miss)\b",
    r"\bwant (?:the|this) pain to (?:stop|end)\b.*\b(?:do not care how|any way|anyhow|whatever it takes)\b",
    r"\b(?:tonight|today) is the (?:night|day)\b|\b(?:everything is|all) (?:sorted|done|in order)\b.*\b(?:tonight|goodbye|dog|will|note)\b|"
    r"\b(?:done|sorted|written) my will\b.*\b(?:having|take|look after) the (?:dog|cat|kids)\b",
]

_HARM_NOW += [
    # injuries described plainly (NSPCC's signs of physical abuse): marks, bruises, burns, fractures on a child
    rf"\b(?:bruis(?:e|es|ed|ing)|brusies|bruzes|black eyes?|handprint|hand print|finger(?:-| )?(?:shaped|tip|marks)|"
    rf"grip marks|belt marks|bite marks|cigarette burn|burns?|scalds?|fractures?|broken (?:ribs|arm|leg)|split lip|"
    rf"marks|welts|bald patch(?:es)?) (?:\w+ ){{0,4}}(?:on|round|around|all over|in) (?:his|her|their|the (?:baby|child|kids?)'s|"
    rf"my (?:\w+ )?{_CHILD}'s|(?:his|her|their) (?:little )?(?:arms?|legs?|back|face|neck|tummy|bum|bottom|ribs|hands?|cheek|head|ears?|thighs?|wrists?))\b",
    rf"\b(?:he|she|they|the baby|my (?:\w+ )?{_CHILD}|the (?:little one|kids?|child)) (?:has|have|has got|have got|'s got|came (?:back|home) with|turned up with|keeps turning up with) "
    rf"(?:a |an |some |loads of |lots of |more )?(?:\w+ ){{0,2}}(?:bruis(?:e|es|ing)|black eyes?|burns?|scalds?|handprint|bite marks|fractures?|"
    rf"split lip|marks|welts|injur(?:y|ies)|cuts)\b",
    rf"\b(?:bruis(?:e|es|ing)|burns?|marks|fractures?|injur(?:y|ies)) (?:\w+ ){{0,6}}(?:since|after|from) (?:he|she|they|his|her|mummy's|"
    rf"daddy's|mum's|dad's|the)\b|\b(?:says|said) (?:his |her )?(?:daddy|mummy|dad|mum|boyfriend|stepdad|uncle|partner)(?:'s \w+)? "
    rf"(?:hits?|hurts?|hurt|yanked|kicked|burnt|burned|punched|slapped|hit) (?:him|her|them)\b",
    r"\b(?:shaking|shook|shake) the baby\b|\bshaken baby\b(?!.*\b(?:what|how|course|leaflet)\b)|\bthrow the baby\b",
    # a child left alone or with a carer too drunk or high to care (NSPCC on neglect and substance misuse)
    rf"\b(?:{_CHILD}|kids?|children|little ones?|twins) (?:\w+ ){{0,3}}(?:are|is|were|been|left) (?:on (?:their|his|her) own|alone|by (?:himself|herself|themselves)|home alone)\b",
    r"\b(?:home alone|left alone|on (?:their|his|her) own)\b.*\b(?:since|all night|overnight|for hours|again|now|tonight|yesterday)\b",
    r"\bno (?:adult|grown ?up|one|body)(?: is)? (?:in|at) (?:the )?(?:house|home|flat)\b|\bleft in the car\b",
    r"\b(?:passed out|out of it|off (?:his|her|their) (?:head|face)|high as a kite|smashed|wasted|steaming|hammered|paralytic|gouching|using|shooting up|drunk|high|stoned|wrecked)\b"
    rf".*\b(?:baby|babies|kids?|children|{_CHILD}|little ones?|in the car|driv(?:e|ing)|can(?:not|'t)? barely stand|cot)\b",
    rf"\b(?:baby|kids?|children|{_CHILD}|little ones?)\b.*\b(?:passed out|out of it|off (?:his|her|their) (?:head|face)|high as a kite|paralytic|can barely stand)\b",
    # threats to take a child, a child missing now
    r"\b(?:taking|take|snatch|grab|get) (?:the|our|my|his|her) (?:kids|children|son|daughter|baby|boy|girl|grandson|granddaughter)\b.*\b(?:never see|on (?:his|her|their) way|now|today|school gates|abroad|airport)\b",
    r"\b(?:has not|hasn't|have not|not|never|did not) (?:brought|bring|returned|dropped) (?:them|him|her|the kids|the children) (?:back|home)\b",
    rf"\b(?:lost|cannot find|can't find) (?:(?:my|the|our) (?:\w+ )?{_CHILD}\b|(?:her|him|them)\b(?! (?:temper|job|place|way|phone|keys)))|\bno sign of (?:her|him|them)\b|\bnobody knows where\b|\b(?:do not|don't) know where (?:they|he|she) (?:are|is|have gone|has gone)\b",
    r"\b(?:has been|been) gone (?:for )?(?:\w+ )?(?:hours|days|nights|since)\b|\b(?:run|ran|runs) away\b|\bvanished\b|\b(?:gone|it is|its) (?:past )?(?:midnight|\d+ ?(?:am))\b.*\b(?:not back|no sign|not home|missing)\b",
    r"\b(?:climbed|snuck|sneaked) out\b.*\b(?:not back|still|isnt back|is not back|no sign)\b|\b(?:still|not) (?:is not |isnt )?back\b.*\b(?:last night|since)\b",
    # a child's medical emergency (NHS: call 999)
    r"\b(?:swallowed|drunk|drank|ate|eaten|bit into|got into|had some of) (?:\w+ ){0,4}(?:antifreeze|weedkiller|dishwasher|washing|pod|tablet|button battery|magnets?|methadone|bleach|pills|medicine|meds|cleaner)\b",
    r"\b(?:knocked out|unconscious|concussed)\b|\bbreathing (?:really |very )?(?:fast|funny|strange|strangely|oddly)\b|\bsucking in under\b|\bfunny noises breathing\b|\bcan(?:not|'t)? breathe\b",
    # violence and control now (NSPCC on domestic abuse)
    r"\b(?:will not|won't|wont) let (?:me|us|her|him) (?:out|leave|go)\b|\b(?:taken|took) my phone\b.*\b(?:locked|won't let|will not let|cannot get out)\b",
    r"\b(?:banging|hammering|kicking) (?:on )?(?:the )?(?:door|windows?)\b|\boutside (?:the|my|our) (?:house|door|flat|window)\b.*\b(?:coming in|screaming|shouting|banging|threat|kill|hurt|get (?:her|him|them|me))\b",
    r"\b(?:finish|do) (?:me|us|her|him) (?:off|in)\b|\bhe will do (?:the \w+|me|us)\b|\b(?:i can hear|hear it|hear them|hear him) (?:\w+ ){0,4}(?:hitting|beating|screaming|smashing|crying)\b",
    r"\b(?:screaming|shouting) and (?:things|stuff|glass|plates) (?:smashing|breaking|being thrown)\b|\bthings smashing\b",
    r"\b(?:he|she|they) (?:threw|thrown|hit|punched|kicked|shoved|pushed|dragged|strangled|choked) (?:\w+ ){0,4}(?:and now|now)\b",
    r"\b(?:i am|i'm) bleeding\b|\bbleeding from\b|\bdragged (?:me|her|him) by\b|\b(?:cannot|can't|cant) talk,? (?:he|she|they) (?:is|are) (?:in the next room|here|next door|outside)\b",
    r"\b(?:hurt|hit|attacked|beaten|beat|beating) (?:me|her|us|my (?:\w+ ){0,2}(?:daughter|son|wife|partner|mum|sister))\b.*\bplease help\b",
]

_DANGER = [re.compile(p) for p in _SELF_HARM + _HARM_NOW]
_SELF_HARM_PATTERNS = frozenset(_SELF_HARM)

# --- discounting context ---------------------------------------------------------------------

_PAST = re.compile(
    r"\b(?:(?:\d+|a|one|two|three|four|five|six|several|many|few|couple of) )?(?:years?|months?|weeks?)"
    r" ago\b|\bback when\b|\b(?:last|previous) (?:year|month|summer|christmas|winter|spring)\b|\bin (?:19|20)\d\d\b|"
    r"\bwhen (?:i|he|she|they|we) (?:was|were) (?:younger|a (?:teenager|child|kid)|little|at school|"
    r"\d+)\b|\bas a (?:teenager|child|kid)\b|\bin the past\b|\bused to\b|\bhistory of\b|"
    r"\byears back\b|\bback in\b|\bprevious(?:ly)?\b|\bhistoric(?:al)?\b|\bonce\b.*\bago\b|"
    r"\bis in prison\b|\bnow in prison\b|\bdoing (?:well|better|fine) now\b|\bsince recovered\b|"
    r"\bthat is why\b|\bwhich is why\b|\bbecause of what happened\b|\bhas not (?:been|happened) since\b|"
    r"\bin (?:january|february|march|april|may|june|july|august|september|october|november|december)\b|"
    r"\bas a (?:baby|toddler|little one)\b|\bonce (?:before|when)\b|\bbefore (?:we|i) met\b|\bat birth\b|\bwhen (?:he|she|they|i) (?:was|were) born\b|\bafter (?:\w+ ){1,2}was born\b|"
    r"\b(?:had|felt|went through) (?:\w+ )?(?:suicidal|depression)\b|\bgot help\b|"
    r"\bbeen (?:well|fine|ok|okay|better|safe)\b|\bpast (?:suicide|overdose|attempt|self harm|history)\b|"
    r"\b(?:has|have) had (?:support|help|treatment)\b|\bnothing has happened\b|"
    r"\b(?:thought|felt like|thinking) (?:i|we) (?:was|were) going to die\b"
)
_NEGATED = re.compile(
    r"\b(?:would never|will never (?!see\b|get\b)|would not|never want to|never going to|not going to|"
    r"no (?:way|intention)|not (?:suicidal|a danger)|do not want to hurt)\b"
)
_GENERAL = re.compile(
    r"^(?:what|how|when|can|could|do|does|is|are|will|would|should|who|why|if)\b.*\b(?:a|any|"
    r"children|someone|somebody|people|parents?|kids)\b.*\b(?:if|when|whether|in danger|at risk)\b|"
    r"\b(?:if|whether|what happens when|what happens if|in case) (?:a|any|the) (?:child|baby|kid|"
    r"parent|person)\b|^(?:what|how) (?:is|are|do|does)\b.*\b(?:emergency protection order|epo|"
    r"police protection)\b|\bwhat counts as\b|\bhow do (?:they|social services|you) decide\b|"
    r"\bwould (?:they|social services|the social worker|the court) .*\bif (?:i|we) (?:said|told|"
    r"mentioned|admitted)\b|\bif i (?:tell|told|say|said|mention|admit)\b"
)
# "right now" beats a past marker in the same clause; a plain "now" does not ("she's fine now").
_STRONG_NOW = re.compile(
    r"\b(?:right now|as we speak|tonight|this minute|at the moment|just now|again|"
    r"still(?! (?:in|on) (?:her|his|their|the|my|our) (?:file|record|records|notes|report))|"
    r"please help|help me|help please)\b"
)
_NOW_MARKER = re.compile(rf"\b{_NOW}\b|\bstill\b|\bagain\b|\bplease help\b")
_JOKING = re.compile(
    r"\b(?:lol|lmao|haha+|jk|joking)\b|\b(?:kill|murder) me (?:if|when) (?:he|she|they|my \w+) (?:finds?|find|sees?|knows?|hears?|notices?|gets?) (?:out|about|what|that|how|the bill)\b|"
    r"\bcould (?:strangle|kill|murder|throttle)\b|\bfor laughing\b|\blaughing so hard\b|"
    r"\bmy (?:boss|mum|mam|nan|gran|manager|teacher) (?:will|would|is going to|"
    r"gonna) (?:kill|murder) me\b|\bdie of (?:embarrassment|shame|boredom|laughing)\b|"
    r"\b(?:kill|murder) (?:my|the|that|his|her) (?:solicitor|lawyer|barrister|social worker|sw|judge|"
    r"manager|guardian|phone|laptop|printer|boss|ex for)\b"
)
_IF_THEY_THINK = re.compile(
    r"\bif (?:\w+ ){0,3}ever\b|\bwhat age\b|\bwould (?:the|a|my) (?:\w+ ){0,2}(?:tell|let) (?:me|us) (?:know )?if\b|"
    r"\bhow (?:do|should|can|would) (?:i|we) (?:talk|speak|explain|tell|know|spot)\b|"
    r"\bwho (?:would|should|do) (?:i|we) (?:ring|call|phone|tell|have to tell|contact)\b|"
    r"\bif (?:someone|somebody|anyone|a friend|a child|my \w+) (?:tells|told|says|said) (?:me|us|you)\b|"
    r"\bif (?:my|a|the|your|any) (?:\w+ ){0,2}(?:ever |was to |were to )?(?:said|says|told|tells|tried|"
    r"tries|threatened|threatens)\b|\bwhat (?:do|should|would) (?:i|we|you) do if\b|"
    r"\bif (?:they|the court|social services|the judge|the council|the social worker|the police) "
    r"(?:think|thinks|believe|believes|decide|decides|feel|feels|say|says)\b"
)


@dataclass(frozen=True)
class CrisisAssessment:
    is_crisis: bool
    matched_clause: Optional[str] = None
    pattern: Optional[str] = None
    discounted: Tuple[str, ...] = field(default_factory=tuple)  # danger clauses we ignored, and why

    @property
    def kind(self) -> Optional[str]:
        """"self" for self-harm or suicide, "others" for danger to a child or someone else."""
        if not self.is_crisis or self.pattern is None:
            return None
        return "self" if self.pattern in _SELF_HARM_PATTERNS else "others"


# Idioms and legal terms that must never trigger on their own.
_FIGURE_OF_SPEECH = re.compile(
    r"\b(?:killing me|kill (?:me|him|her|them|my \w+) for|could (?:kill|murder)|dying (?:to|for|of)|"
    r"to die for|dead (?:tired|on my feet|worried)|nearly died|almost died|(?:be|is) the death of|"
    r"killer|drop dead|over my dead body|bored to death|scared to death|worried sick|"
    r"risk of (?:significant )?harm|significant harm|likely to suffer|at risk of|harm threshold|"
    r"threshold|emergency protection order|police protection|safety plan)\b"
)


_SETTLED_NOW = re.compile(
    r"\b(?:doing (?:\w+ )?(?:well|better|fine|ok|okay|great)|is (?:fine|ok|okay|safe|better)|(?:is|are) safe|"
    r"in prison|out of (?:hospital|danger)|settled) now\b|\bnow (?:in prison|safe|settled|doing)\b"
)


# An ordinary explanation that the person gives for a mark, in the same clause.
_BENIGN = re.compile(
    r"\bfrom (?:football|rugby|netball|playing (?:out|football|outside)|pe|sport|sports|the trampoline|falling off (?:his|her|their) (?:bike|scooter))\b|"
    r"\bon (?:his|her|their|the) (?:knees?|shins?|elbows?)\b"
)


def _discount_reason(clause: str) -> Optional[str]:
    unsettled = _SETTLED_NOW.sub(" ", clause)
    if _NEGATED.search(clause):
        return "negated"
    if _BENIGN.search(clause):
        return "ordinary explanation"
    if _JOKING.search(clause):
        return "idiom"
    if _PAST.search(clause) and not _STRONG_NOW.search(unsettled):
        return "past"
    if (_GENERAL.search(clause) or _IF_THEY_THINK.search(clause)) and not _NOW_MARKER.search(unsettled):
        return "general"
    return None


def context_discount(text: str) -> Optional[str]:
    """Why a sentence that sounds like danger is not about danger now (past, negated, idiom,
    hypothetical, an ordinary explanation), or None. The crisis model applies this too."""
    normalised = normalise(text)
    if _FIGURE_OF_SPEECH.search(normalised) and not _STRONG_NOW.search(normalised):
        return "figure of speech"
    return _discount_reason(normalised)


def assess(text: str) -> CrisisAssessment:
    """Decide whether a message says someone is in danger now."""
    discounted = []
    for clause in clauses(normalise(text)):
        for pattern in _DANGER:
            if pattern.search(clause):
                reason = _discount_reason(clause)
                if reason is None:
                    return CrisisAssessment(True, clause, pattern.pattern, tuple(discounted))
                discounted.append(f"{reason}: {clause}")
                break
    return CrisisAssessment(False, discounted=tuple(discounted))


def is_figure_of_speech(text: str) -> bool:
    """True when a message only uses crisis words as an idiom, a legal term or about the past.

    The NLU component uses this to overrule a classifier that guessed emergency_risk from words
    alone ("this process is killing me", "risk of significant harm", "he hit her years ago").
    """
    result = assess(text)
    if result.is_crisis:
        return False
    return bool(result.discounted) or bool(_FIGURE_OF_SPEECH.search(normalise(text)))


def is_crisis(text: str) -> bool:
    return assess(text).is_crisis
