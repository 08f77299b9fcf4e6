"""Word knowledge for telling names apart from ordinary words, places and legal terms.

The sources are:
- first names: the Office for National Statistics' baby names for England and Wales (every name
  given to at least 3 babies a year, 1996-2024, and the top 100s since 1904), shipped in
  bot/redact/data/first_names.txt.gz with how many babies had each name and whether it is also an
  everyday English word (bot/redact/data/README.md: source, licence, how to refresh it). Source:
  Office for National Statistics licensed under the Open Government Licence v.3.0;
- the English dictionary: every word form and lemma in the pipeline's lemma lookup table
  (spacy-lookups-data), spaCy's English stop words and spelling-variant norms, and the adjective,
  adverb and verb parts of the WordNet index shipped in spacy-lookups-data;
- places: every council name, alias, ambiguous name and outside-England place in the council
  directory (bot/councils/councils.yml), its regions, and country and language names from Babel;
- short lists written here for this service: legal terms and organisations families mention,
  titles, relationship and role words, days and months, text-speak;
- WORD_NAMES: ordinary English words that are also given names (Hope, Will, Summer...). They are
  only taken for names in a strong context ("my daughter Hope", "Summer is 9").
"""
from __future__ import annotations

import gzip
import json
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, FrozenSet, Optional, Tuple

import spacy
import spacy_lookups_data
from spacy.lang.en.stop_words import STOP_WORDS

from bot.redact.nlp import get_nlp, lemma_table

DAYS = frozenset(
    "monday tuesday wednesday thursday friday saturday sunday mon tue tues wed weds thu thur thurs fri sat sun"
    " mondays tuesdays wednesdays thursdays fridays saturdays sundays weekend".split()
)
MONTHS = frozenset(
    "january february march april may june july august september october november december"
    " jan feb mar apr jun jul aug sep sept oct nov dec".split()
)

# Words before a surname or first name: "Mrs Okafor", "Dr Patel", "Judge Harris", "Nanny Pat".
TITLES = frozenset(
    "mr mrs ms miss mx dr doctor prof professor judge hhj sir dame lord lady rev reverend pastor imam"
    " rabbi nanny nana nanna nan gran granny grandma grandad granddad grandpa grampa gramps auntie aunty"
    " aunt uncle cousin".split()
)
# Titles that are also common words: only a title when capitalised ("Miss Begum", not "I miss him").
TITLE_CASE_ONLY = frozenset("miss doctor sir lord lady judge cousin uncle aunt".split())

# People a family member names next: "my son Jayden", "her dad Tomasz", "the social worker Mark".
KIN = frozenset(
    """son sons daughter daughters grandson grandsons granddaughter granddaughters grandaughter
    grandaughters grand-daughter grand-son grandchild grandchildren grandkid grandkids nephew nephews
    niece nieces brother brothers sister sisters bro sis cousin cousins mum mam mom mummy mammy mother
    dad daddy father nan nana nanna nanny gran granny grandma grandmother grandad granddad grandpa
    grandfather husband hubby wife partner ex ex-partner ex-husband ex-wife boyfriend bf girlfriend gf
    fiance fiancé fiancee fiancée baby babies boy boys girl girls lad lads kid kids child children twins
    twin stepson stepdaughter stepdad stepmum stepmom stepfather stepmother step-son step-daughter
    step-dad step-mum aunt auntie aunty uncle friend neighbour neighbor mate lodger carer carers
    mother-in-law father-in-law sister-in-law brother-in-law son-in-law daughter-in-law toddler
    newborn grandparent grandparents parent parents""".split()
)
# Professionals: "the social worker Mark", "cafcass officer Sandeep", "my solicitor Priya".
ROLES = frozenset(
    """worker sw solicitor barrister lawyer guardian iro manager teacher head headteacher headmaster
    headmistress senco visitor hv midwife doctor gp nurse officer pc advocate judge magistrate
    supervisor assessor isw keyworker caseworker therapist counsellor psychologist paediatrician
    consultant mediator reviewer chair""".split()
)
# Multi-word roles ("social worker") end in one of the words above, so one word is enough to match.

# Words after a possessive that show it belongs to a person: "Jayden's school", "Jack's dad".
POSSESSED = KIN | ROLES | frozenset(
    """school nursery college class placement birthday contact house home room bedroom behaviour
    needs case file plan medication number phone mobile email address foster carer carers life
    diagnosis injuries bruises health safety welfare wishes feelings views name""".split()
)

# Legal terms, services and organisations families mention: never a person's name.
LEGAL_AND_ORGANISATIONS = frozenset(
    """cafcass cymru sgo sgos plo ico epo cao fgc lac iro cin cp cpp mash ehcp ehc send camhs nspcc barnardo
    barnardos ofsted nhs coram kinship frg cab citizens advice grandparents plus home-start homestart
    surestart dwp hmrc uc pip dla esa isw laa pr ss s20 s47 s31 s17 s37 s38 s8 ldn sgsa gal
    tesco asda aldi lidl morrisons sainsbury sainsburys waitrose facebook whatsapp messenger google
    instagram tiktok snapchat zoom teams youtube twitter gov gov.uk police cps a&e gp ok okay
    christmas easter eid ramadan diwali halloween hanukkah xmas
    section act children's childrens services council court tribunal parliament
    english british welsh scottish irish european asian african caribbean muslim christian catholic
    jewish hindu sikh romany gypsy traveller
    childline buttle samaritans shelter refuge gingerbread relate mencap scope nyas turn2us stepchange
    nacro parentline youngminds mind family action become webchat helpline textphone livechat email
    inbox website app online text sms""".split()
)

# Chat spellings that are not in a dictionary and not names.
TEXT_SPEAK = frozenset(
    """im ive id dont cant wont didnt doesnt isnt wasnt arent werent hasnt havent hadnt couldnt wouldnt
    shouldnt hes shes theyre theyve youre youve thats whats wheres theres heres lets ur u r y ya yeah
    yep nope nah pls plz plse thx ty tbh omg lol lmao idk imo fyi asap btw ffs wtf ok okay hiya hey
    hi hello hun hunny hon babe x xx xxx xo b4 gr8 2day 2moro tmrw tmw tho thru cos coz cuz bc sed
    wanna gonna gotta kinda sorta dunno ain't aint innit mam mum nan grandkids gran luv thankyou
    thanku ta cheers wat wot wen da dat dis sum sumone sumthing nuffin nothin somethin anythin
    alot abit aswell realy reely definately defo prob probs obvs dob nino asap bye byee vs v oh ohh ah ahh um umm erm eh aw argh ugh wow ooh hmm""".split()
)

# Ordinary English words that are also given names. Only taken for a name in a strong context.
WORD_NAMES = frozenset(
    """hope faith grace rose rosie will mark jack bill billy summer joy ruby amber holly daisy lily
    poppy ivy violet autumn sky skye dawn april may june august destiny precious harmony heaven jade
    crystal pearl willow hazel iris jasmine penny patience honour honor sunny rocky sonny chase hunter
    mason carter cole dean drew frank gene sue pat robin jay kit max ray rob sandy teddy ted wren river
    storm ocean ebony blossom star miracle angel bobby bob faye fern heather myrtle olive rowan sage
    sterling wade duke king prince reign tiger bear""".split()
)

# Nouns that are capitalised for emphasis in these chats ("the Judge", "went to Court"); not names.
DOMAIN_NOUNS = frozenset(
    """court judge council social services care order hearing contact adoption fostering foster kinship
    guardian guardianship special assessment plan review meeting conference report statement police
    school nursery hospital doctor solicitor lawyer barrister mum dad nan grandad family help support
    allowance benefit money letter email phone child children kids baby parent parents legal aid
    team manager worker office centre service agency authority""".split()
)

# Words after a capitalised word that make it part of a place or organisation, not a person.
INSTITUTION_HEADS = frozenset(
    """primary secondary infant infants junior school academy college university nursery hospital
    centre center court courts council road street lane avenue drive close way crescent terrace grove
    house hall park church chapel mosque temple gurdwara synagogue surgery clinic practice services
    service trust team unit ward station police estate foundation group charity network partnership
    borough county city district town village shopping retail""".split()
)

DETERMINERS = frozenset("the a an this that these those every each any some no".split())
POSSESSIVES = frozenset("my our your his her their its".split())

FIRST_NAMES_FILE = Path(__file__).resolve().parent / "data" / "first_names.txt.gz"
# Names in the ONS list that, in these chats, are nearly always the everyday word: the list is no
# evidence for them (a title or "my son" before one can still make it a name).
NOT_FIRST_NAMES = frozenset(
    """said chance favour miles long case great true given young job page meet man tea non ward reg guy
    blue love baby foster lady nana gift early justice legend royal unique star-lily md""".split()
)
# An everyday word that is a name ("grace", "rose") counts as one on the list's word only if at least
# this many babies were given it; rarer ones ("page", "lake") stay words.
COMMON_NAME_COUNT = 300


@dataclass(frozen=True)
class Lexicon:
    non_nouns: FrozenSet[str]  # WordNet adjectives, adverbs and verbs (lower case)
    lemma_values: FrozenSet[str]  # lemmas in the lookup table (lower case)
    norms: FrozenSet[str]
    places: FrozenSet[str]  # lower-case place phrases
    place_words: FrozenSet[str]  # lower-case one-word places
    table: Any  # the lemma lookup table: its keys (hashed) are English word forms
    first_names: Dict[str, int]  # lower-case first name -> babies given it (0: historic top 100 only)
    everyday_names: FrozenSet[str]  # first names that are also everyday English words

    def first_name(self, lower: str) -> int:
        """How many babies were given this first name (at least 1 if it is one; 0 if not). A
        hyphenated name counts when every part is a first name ("Mason-Lee", "Lily-Rose")."""
        count = self.first_names.get(lower)
        if count is not None:
            return max(count, 1)
        if "-" in lower:
            parts = lower.split("-")
            if len(parts) > 1 and all(len(p) > 1 and p in self.first_names for p in parts):
                return max(1, min(self.first_names[p] for p in parts))
        return 0

    def everyday_name(self, lower: str) -> bool:
        """A first name that is also an everyday English word ("grace", "rose", "jack")."""
        return lower in self.everyday_names

    def plain_name(self, lower: str) -> bool:
        """A first name and not an everyday word: "laura", "kwame", "mason-lee"."""
        return self.first_name(lower) > 0 and lower not in self.everyday_names

    def name_strength(self, lower: str) -> int:
        """2: a plain first name; 1: an everyday word often given as a name ("grace"); 0: neither."""
        count = self.first_name(lower)
        if not count:
            return 0
        if lower not in self.everyday_names:
            return 2
        return 1 if count >= COMMON_NAME_COUNT else 0

    def is_word(self, text: str) -> bool:
        """Is this an English dictionary word (any case)? A hyphenated word is one when all its
        parts are ("Pre-Proceedings", "x-ray")."""
        lower = text.lower()
        if "-" in lower and len(lower) > 2:
            parts = [p for p in lower.split("-") if p]
            if len(parts) > 1 and all(self._one_word(p) or p in ("pre", "non", "co", "ex", "re", "self") for p in parts):
                return True
        return self._one_word(lower) or text in self.table

    def _one_word(self, lower: str) -> bool:
        table = self.table
        return (
            lower in STOP_WORDS
            or lower in self.lemma_values
            or lower in table
            or lower in self.norms
            or lower in TEXT_SPEAK
        )

    def is_non_noun(self, text: str) -> bool:
        return text.lower() in self.non_nouns

    def near_word(self, lower: str) -> bool:
        """Is this one typing slip (a letter dropped, added, changed or swapped) from a word?"""
        cached = _NEAR_WORD_CACHE.get(lower)
        if cached is None:
            if len(_NEAR_WORD_CACHE) > 50000:
                _NEAR_WORD_CACHE.clear()
            cached = _NEAR_WORD_CACHE[lower] = "-" not in lower and self._near_word(lower)
        return cached

    def _near_word(self, lower: str) -> bool:
        letters = "abcdefghijklmnopqrstuvwxyz"
        splits = [(lower[:k], lower[k:]) for k in range(len(lower) + 1)]
        for left, right in splits:
            if right and self.is_word(left + right[1:]):
                return True
            if len(right) > 1 and self.is_word(left + right[1] + right[0] + right[2:]):
                return True
            for letter in letters:
                if right and letter != right[0] and self.is_word(left + letter + right[1:]):
                    return True
                if self.is_word(left + letter + right):
                    return True
        return False

    def is_place(self, text: str) -> bool:
        return text.lower() in self.place_words


_NEAR_WORD_CACHE: dict = {}
_lock = threading.Lock()
_lexicon: Optional[Lexicon] = None


def get_lexicon() -> Lexicon:
    global _lexicon
    if _lexicon is None:
        with _lock:
            if _lexicon is None:
                _lexicon = _build()
    return _lexicon


def _build() -> Lexicon:
    get_nlp()
    table = lemma_table()
    lemma_values = frozenset(str(v).lower() for v in table.values() if isinstance(v, str))
    extra = spacy.lookups.load_lookups("en", ["lemma_index", "lexeme_norm"])
    index = extra.get_table("lemma_index")
    non_nouns = set()
    for pos in ("adj", "adv", "verb"):
        non_nouns.update(w.lower() for w in index.get(pos, []))
    norms = _norm_keys() | frozenset(
        str(v).lower() for v in extra.get_table("lexeme_norm").values() if isinstance(v, str)
    )
    places = place_phrases()
    first_names, everyday_names = load_first_names()
    return Lexicon(
        non_nouns=frozenset(non_nouns),
        lemma_values=lemma_values,
        norms=norms,
        places=places,
        place_words=frozenset(p for p in places if " " not in p),
        table=table,
        first_names=first_names,
        everyday_names=everyday_names,
    )


def load_first_names(path: Path = FIRST_NAMES_FILE) -> Tuple[Dict[str, int], FrozenSet[str]]:
    """The first names list, less the words that are never a name in these chats: stop words,
    relationship and role words, titles, legal terms, days, text-speak, one-letter names and
    NOT_FIRST_NAMES. A missing or broken file gives an empty list (names are then found as before)."""
    never = (
        STOP_WORDS | KIN | ROLES | TITLES | LEGAL_AND_ORGANISATIONS | DAYS | TEXT_SPEAK | DOMAIN_NOUNS | NOT_FIRST_NAMES
    )
    names: Dict[str, int] = {}
    everyday = set()
    try:
        with gzip.open(path, "rt", encoding="utf8") as handle:
            for line in handle:
                if line.startswith("#"):
                    continue
                fields = line.rstrip("\n").split("\t")
                name = fields[0]
                if len(name) < 2 or name in never:
                    continue
                names[name] = int(fields[1]) if len(fields) > 1 and fields[1].isdigit() else 0
                if len(fields) > 2 and fields[2] == "w" or name in MONTHS:
                    everyday.add(name)  # a month is a name only where a name is said to stand
    except (OSError, ValueError, EOFError):
        return {}, frozenset()
    return names, frozenset(everyday)


def _norm_keys() -> FrozenSet[str]:
    """Spelling variants ("cuz", "colour"): the keys of the lexeme_norm table, read from its file
    in spacy-lookups-data (a Table keeps only hashes of its keys)."""
    try:
        path = Path(spacy_lookups_data.__file__).parent / "data" / "en_lexeme_norm.json.gz"
        with gzip.open(path, "rt", encoding="utf8") as handle:
            return frozenset(k.lower() for k in json.load(handle))
    except (OSError, ValueError):
        return frozenset()


def place_phrases() -> FrozenSet[str]:
    """Lower-case names of places: the council directory, its regions, countries and languages."""
    phrases = set()
    try:
        from bot.councils.directory import load_directory

        directory = load_directory()
    except Exception:  # a broken directory file must not stop redaction
        directory = None
    if directory is not None:
        for council in directory.councils:
            phrases.add(council.name)
            phrases.add(council.region)
            for alias in council.aliases:
                phrases.add(alias.alias)
        for ambiguous in directory.ambiguous:
            phrases.add(ambiguous.alias)
        for outside in directory.outside_england:
            phrases.add(outside.place)
    phrases.update(
        [
            "England", "Wales", "Scotland", "Northern Ireland", "Ireland", "Britain", "Great Britain",
            "United Kingdom", "UK", "Yorkshire", "Midlands", "East Anglia", "the North", "the South",
            "Cornwall", "Devon", "Tyneside", "Teesside", "Merseyside", "Humberside",
        ]
    )
    try:
        import babel

        english = babel.Locale("en")
        phrases.update(english.territories.values())
        phrases.update(english.languages.values())
    except Exception:
        pass
    return frozenset(p.strip().lower() for p in phrases if p and p.strip())
