"""Every phone number, web address, email address and clock time in every user-facing text (the bot's
content, domain.yml, the gateway's words and string literals, its scripts and pages) is in the sources:
shared/FACTS.md and shared/seeds/, or, for our own hours, config/service_hours.yml."""
import re

import pytest

from bot.service_hours import hours_words, load_policy
from tests.user_text import SHARED, rendered_user_texts

# UK numbers (0... with optional spaces), and the short ones we give: 999, 101, 111, 116 123, Textphone 18001.
PHONE = re.compile(r"(?<![\w.:/-])(?:0\d{2,4}(?: ?\d{3,4}){1,2}|116 ?123|999|101|111|18001)(?![\w-])")
TEL = re.compile(r"tel:(\+?\d+)")
URL_HOST = re.compile(r"https?://([^/\s\"'<>)\\]+)")
BARE_WWW = re.compile(r"(?<![/\w.])(www\.[\w-]+(?:\.[\w-]+)+)")
EMAIL_HOST = re.compile(r"\b[\w.+-]+@([\w-]+(?:\.[\w-]+)+)\b")
CLOCK = re.compile(r"\b(\d{1,2}(?:[.:]\d{2})?)\s?(am|pm)\b", re.I)

# Every host a user-facing text may link to or name, with where it comes from.
ALLOWED_HOSTS = {
    "www.w3.org": "not a link: the SVG namespace of the reports page's charts (bot/gateway/charts.py)",
    "find-legal-advice.justice.gov.uk": "FACTS.md section 7: GOV.UK Find a legal aid adviser",
    "www.legalombudsman.org.uk": "FACTS.md section 9, Solicitors — Legal Ombudsman",
    "legalombudsman.org.uk": "FACTS.md section 9: the Legal Ombudsman's email enquiries@legalombudsman.org.uk",
    "nspcc.org.uk": "FACTS.md section 2: NSPCC's email help@nspcc.org.uk",
    "www.bbc.co.uk": "not advice: widget.js's Quick exit goes to BBC Weather, a neutral page (DEFAULT_EXIT_URL)",
}
NOT_IN_FACTS = {"www.bbc.co.uk", "www.w3.org"}  # a destination and a namespace, not advice


@pytest.fixture(scope="module")
def sources():
    files = [SHARED / "FACTS.md", *sorted((SHARED / "seeds").glob("*.txt"))]
    if not files[0].exists():
        pytest.skip("shared/ is not beside the repository")
    return re.sub(r"\s+", " ", " ".join(f.read_text(encoding="utf-8") for f in files)).lower()


@pytest.fixture(scope="module")
def texts():
    return [(name, text) for name, items in rendered_user_texts().items() for text in items]


def test_every_phone_number_is_in_the_sources(texts, sources):
    digits_in_sources = re.sub(r"\s", "", sources)
    seen = set()
    for name, text in texts:
        for number in PHONE.findall(text) + TEL.findall(text):
            digits = number.replace(" ", "")
            seen.add(digits)
            assert digits in digits_in_sources, f"{number!r} in {name}: {text[:200]}"
    assert {"08088010366", "08088005000", "999", "116123", "08001111"} <= seen


def test_every_web_and_email_host_is_allowed_with_its_source(texts, sources):
    seen = set()
    for name, text in texts:
        for host in URL_HOST.findall(text) + BARE_WWW.findall(text) + EMAIL_HOST.findall(text):
            host = host.lower().rstrip(".")
            seen.add(host)
            assert host in ALLOWED_HOSTS, f"{host} in {name}: add it to ALLOWED_HOSTS with its source"
    for host in set(ALLOWED_HOSTS) - NOT_IN_FACTS:
        assert host in sources, host
    assert seen, "no links found: the extraction is broken"


def test_every_clock_time_is_in_the_sources_or_the_service_hours_file(texts, sources):
    ours = " ".join(hours_words(load_policy()).values()).lower()
    seen = set()
    for name, text in texts:
        for number, half in CLOCK.findall(text):
            clock = f"{number}{half}".lower()
            seen.add(clock)
            assert clock in ours or clock in sources.replace(" am", "am").replace(" pm", "pm"), \
                f"{clock} in {name}: {text[:200]}"
    assert {"9.30am", "3pm", "8am", "10pm"} <= seen
