"""Opening hours are written in one place, config/service_hours.yml: every sentence that gives them
(the bot's answers, the gateway's notices, the family page, the widget, the console) follows that file.
"""
import re

import pytest
from aiohttp.test_utils import make_mocked_request

from actions.content_store import CONTENT_DIR, load_content
from bot.gateway import app as gateway_app
from bot.gateway.texts import load_texts
from bot.service_hours import ENV_VAR
from tests.user_text import SHARED, user_texts

DAY = re.compile(r"\b(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday)s?\b", re.I)
CLOCK = re.compile(r"\b\d{1,2}(?:[.:]\d{2})?\s?(?:am|pm)\b|(?<![+\d])\d{1,2}:\d{2}\b", re.I)

# Hours of other services, a fact about them (not ours to configure): {as we write it: as FACTS.md quotes it}.
OTHER_SERVICES_HOURS = {
    "Monday to Friday 8am to 10pm, or 9am to 6pm at weekends":  # NSPCC helpline, FACTS.md section 2
        "Monday to Friday 8am – 10pm or 9am – 6pm at the weekends",
}

WEDNESDAY_POLICY = """
timezone: Europe/London
bank_holidays: false
services:
  webchat:
    - {day: Wednesday, start: "10:00", end: "12:30"}
  advice_line:
    - {day: Tuesday, start: "10:00", end: "16:00"}
    - {day: Saturday, start: "10:00", end: "16:00"}
closures: []
"""
WEBCHAT = "Wednesday 10am to 12.30pm"
ADVICE_LINE = "Tuesday and Saturday 10am to 4pm"
OLD = ("9.30am", "3pm", "Monday and Thursday", "Monday to Friday 9", "afternoons", "bank holidays)")


@pytest.fixture
def wednesday(tmp_path, monkeypatch):
    path = tmp_path / "service_hours.yml"
    path.write_text(WEDNESDAY_POLICY, encoding="utf-8")
    monkeypatch.setenv(ENV_VAR, str(path))


def _no_old_hours(text):
    for old in OLD:
        assert old not in text, (old, text)


def test_the_bots_answers_follow_the_file(wednesday):
    content = load_content.__wrapped__(CONTENT_DIR)  # not the cached copy made with the shipped file
    hours = content.topic("opening_hours").answer
    assert f"Our advice line, 0808 801 0366, is open {ADVICE_LINE}." in hours
    assert f"You can chat online to an adviser on our webchat. It is open {WEBCHAT}." in hours
    assert any(ADVICE_LINE in t for t in content.topic("speak_to_adviser").answer)
    assert any(WEBCHAT in t for t in content.topic("speak_to_adviser").answer)
    assert ADVICE_LINE in content.say("clarify", "human") and WEBCHAT in content.say("clarify", "human")
    for name, text in content.next_steps.items():
        assert ADVICE_LINE in text, name
    everything = [t for topic in content.topics.values() for t in topic.answer + topic.more]
    everything += list(content.next_steps.values()) + [str(content.conversation)]
    for text in everything:
        _no_old_hours(text)
        assert "{advice_line_hours}" not in text and "{webchat_hours}" not in text


def test_the_gateways_notices_canned_replies_widget_and_console_follow_the_file(wednesday):
    texts = load_texts()
    notices = texts.notices
    for text in (notices.rasa_down, notices.no_answer, notices.handed_back, notices.too_many_chats,
                 notices.already_queued, texts.widget_reconnecting, texts.console_closing,
                 dict(texts.canned)["Advice line"]):
        assert f"0808 801 0366 ({ADVICE_LINE})" in text, text
    for text in list(vars(notices).values()) + [texts.widget_reconnecting, texts.console_closing]:
        _no_old_hours(text)


async def test_the_family_page_and_the_widget_script_follow_the_file(wednesday):
    page = await gateway_app.family_page(make_mocked_request("GET", "/"))
    assert page.content_type == "text/html"
    assert f"0808 801 0366</a> ({ADVICE_LINE}).</p>" in page.text  # the noscript sentence
    assert f"0808 801 0366</a>, {ADVICE_LINE}.</li>" in page.text  # the help list
    assert "$" not in page.text
    _no_old_hours(page.text)
    script = await gateway_app.widget_file(make_mocked_request("GET", "/widget.js"))
    assert script.content_type == "application/javascript"
    assert (f'const ADVICE_LINE_TEXT = "If you need help now, call our advice line on 0808 801 0366 '
            f'({ADVICE_LINE}).";') in script.text
    assert "$widget_reconnecting" not in script.text


def test_the_page_escapes_what_it_writes_in():
    from bot.gateway.texts import render_html, render_script

    assert render_html("<p>$advice_line_hours</p>", {"advice_line_hours": "<b>&"}) == "<p>&lt;b&gt;&amp;</p>"
    script = render_script('const T = "$widget_reconnecting";', {"widget_reconnecting": '"</script><b>&'})
    assert script == 'const T = "\\"\\u003c/script\\u003e\\u003cb\\u003e\\u0026";'


def test_no_user_facing_file_writes_a_day_or_a_time_of_its_own():
    """Only config/service_hours.yml gives our hours; another service's hours (the NSPCC's) may be
    written, as FACTS.md gives them, and only beside that service's number."""
    for name, texts in user_texts().items():
        for text in texts:
            for ours, _ in OTHER_SERVICES_HOURS.items():
                if ours in text:
                    assert "0808 800 5000" in text, (name, text)
                    text = text.replace(ours, "")
            found = DAY.findall(text) + CLOCK.findall(text)
            assert not found, f"{name} writes {found} itself: use {{advice_line_hours}} or {{webchat_hours}}"


def test_other_services_hours_are_the_ones_in_facts():
    facts = SHARED / "FACTS.md"
    if not facts.exists():
        pytest.skip("shared/ is not beside the repository")
    text = re.sub(r"\s+", " ", facts.read_text(encoding="utf-8"))
    for ours, quoted in OTHER_SERVICES_HOURS.items():
        assert quoted in text, quoted
        assert re.findall(r"\d+[ap]m", ours) == re.findall(r"\d+[ap]m", quoted), ours


async def test_the_console_and_the_first_canned_replies_follow_the_file(tmp_path, wednesday):
    from tests.gateway_harness import Adviser, Harness

    harness = await Harness(tmp_path).start()  # a new database: the canned replies are stored now
    try:
        sam = Adviser(harness.base)
        harness.advisers.append(sam)
        console = await (await sam.login("sam")).text()
        closing = re.search(r'<meta name="closing" content="([^"]*)">', console).group(1)
        assert closing == ("Thank you for chatting with us. If you need us again, call our free advice line on "
                           f"0808 801 0366 ({ADVICE_LINE}).")
        canned = {c["title"]: c["text"] for c in harness.gateway.store.canned_responses()}
        assert canned["Advice line"].endswith(f"0808 801 0366 ({ADVICE_LINE}).")
        page = await (await sam.http.get(harness.base + "/")).text()
        assert ADVICE_LINE in page
    finally:
        await harness.stop()
