"""The reports (issue 17): every figure on a fixed fixture (bot/gateway/reports.py), the durable
chat_stats record and where ConversationService writes it (bot/gateway/chat_stats.py), the SVG charts
(bot/gateway/charts.py), and the page and CSV with their access rules (bot/gateway/report_views.py)."""
from __future__ import annotations

import csv
import io
import os
import re
import secrets
from datetime import date, datetime, timedelta, timezone
from typing import List
from zoneinfo import ZoneInfo

import aiohttp
import pytest
import sqlalchemy as sa

from bot.gateway import charts, report_views, reports
from bot.gateway.chat_stats import ChatRow, ChatStats, chat_stats, rows, stats_id
from bot.gateway.store import Store, conversations
from tests.gateway_harness import IN_HOURS, OUT_OF_HOURS, Harness, wait_until

LONDON = ZoneInfo("Europe/London")
WEEK = reports.Period(date(2026, 12, 1), date(2026, 12, 7), LONDON)  # Tuesday to Monday, GMT


def at(day: int, hour: int, minute: int = 0, month: int = 12) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=timezone.utc)


# The fixture: nine chats in the week, one before it that asked for a person in it, one after it.
FIXTURE: List[ChatRow] = [
    ChatRow(at(1, 10, 15), True, topic="section_20", council="Leeds City Council", answers=3, unsure=1, helpful=2),  # A
    ChatRow(at(1, 10, 40), True, handoffs=1, queued_at=at(1, 10, 45), wait_seconds=120, topic="section_20",
            council="Leeds City Council", answers=1, not_helpful=1, crisis=True),  # B
    ChatRow(at(3, 14, 5), True, handoffs=1, queued_at=at(3, 14, 6), wait_seconds=600, topic="kinship_care_options",
            council="Kent County Council", answers=2),  # C
    ChatRow(at(3, 14, 10), True, handoffs=1, queued_at=at(3, 14, 11), left_queue="family",
            topic="kinship_care_options", council="Kent County Council"),  # D
    ChatRow(at(5, 11), False, person_wanted_at=at(5, 11, 2), person_wanted_why="closed", unsure=2),  # E
    ChatRow(at(5, 21, 30), False, person_wanted_at=at(5, 21, 31), person_wanted_why="closed", answers=1,
            topic="section_20"),  # F
    ChatRow(at(3, 13, 50), True, person_wanted_at=at(3, 13, 55), person_wanted_why="no_adviser"),  # G
    ChatRow(at(3, 15), True, handoffs=2, queued_at=at(3, 15, 1), wait_seconds=30, left_queue="closed",
            council="Leeds City Council"),  # H: sent away once, taken the second time
    ChatRow(at(4, 9), True, handoffs=1, queued_at=at(4, 9, 1), left_queue="closed", crisis=True),  # I
    ChatRow(at(30, 23, 50, month=11), False, person_wanted_at=at(1, 0, 5), person_wanted_why="closed"),  # J
    ChatRow(at(8, 0, 10), False, answers=5, topic="section_20"),  # K: after the week
]


@pytest.fixture
def result():
    return reports.report(FIXTURE, WEEK)


def hours(**counts: int) -> List[int]:
    out = [0] * 24
    for hour, count in counts.items():
        out[int(hour[1:])] = count
    return out


# -- the figures ----------------------------------------------------------------------------------
def test_period_bounds_are_local_days_inclusive():
    start, end = WEEK.bounds()
    assert (start, end) == (datetime(2026, 12, 1, tzinfo=LONDON), datetime(2026, 12, 8, tzinfo=LONDON))
    summer = reports.Period(date(2026, 7, 1), date(2026, 7, 1), LONDON)
    assert summer.bounds()[0].astimezone(timezone.utc) == at(30, 23, month=6)  # BST: midnight is 23:00 UTC
    assert WEEK.days == 7


def test_chats_by_hour_and_weekday_inside_and_outside_staffed_hours(result):
    assert result.times["hour"]["inside"] == hours(h9=1, h10=2, h13=1, h14=2, h15=1)
    assert result.times["hour"]["outside"] == hours(h11=1, h21=1)
    assert result.times["weekday"]["inside"] == [0, 2, 0, 4, 1, 0, 0]
    assert result.times["weekday"]["outside"] == [0, 0, 0, 0, 0, 2, 0]
    assert not any(result.times["hour"]["unknown"])


def test_hours_are_uk_time_in_summer():
    summer = reports.Period(date(2026, 7, 1), date(2026, 7, 1), LONDON)
    times = reports.report([ChatRow(at(1, 8, 30, month=7), None)], summer).times
    assert times["hour"]["unknown"] == hours(h9=1)  # 08:30 UTC is 09:30 in London
    assert times["weekday"]["unknown"] == [0, 0, 1, 0, 0, 0, 0]  # Wednesday 1 July 2026


def test_families_who_wanted_a_person_when_none_was_on(result):
    wanted = result.person_wanted
    assert (wanted["total"], wanted["closed"], wanted["no_adviser"]) == (4, 3, 1)
    assert wanted["hour"]["closed"] == hours(h0=1, h11=1, h21=1)  # J asked at 00:05 on the first day
    assert wanted["hour"]["no_adviser"] == hours(h13=1)
    assert wanted["weekday"]["closed"] == [0, 1, 0, 0, 0, 2, 0]
    assert wanted["weekday"]["no_adviser"] == [0, 0, 0, 1, 0, 0, 0]


def test_waits_median_p90_and_families_who_left_the_queue(result):
    waits = result.waits
    assert (waits["queued"], waits["taken"]) == (5, 3)
    assert (waits["median"], waits["p90"]) == (120, 600)  # nearest rank of 30, 120, 600
    assert (waits["left_family"], waits["left_closed"]) == (1, 1)  # H was taken after all: not counted
    assert waits["buckets"] == [1, 0, 1, 0, 1, 0]  # 30 s; 120 s is "2 to 5"; 600 s is "10 to 20"


def test_nearest_rank():
    assert reports.nearest_rank([], 50) is None
    assert reports.nearest_rank([5], 90) == 5
    assert reports.nearest_rank(list(range(1, 11)), 50) == 5
    assert reports.nearest_rank(list(range(1, 11)), 90) == 9
    assert reports.nearest_rank(list(range(10, 0, -1)), 91) == 10


def test_handoffs_adviser_chats_and_crisis_flags(result):
    assert result.handoffs == {"chats": 9, "handoffs": 6, "chats_queued": 5, "adviser_chats": 3, "crisis": 2}


def test_topics_and_councils(result):
    assert result.topics == [("section_20", 3), ("kinship_care_options", 2)]
    assert result.councils == [("Leeds City Council", 3), ("Kent County Council", 2)]
    assert reports.councils(reports.aggregate(FIXTURE, WEEK), top=1) == [("Leeds City Council", 3)]


def test_not_sure_rate_and_helpfulness_overall_and_by_topic(result):
    q = result.quality
    assert (q.chats, q.answers, q.unsure, q.helpful, q.not_helpful) == (9, 7, 3, 2, 1)
    assert q.unsure_rate == pytest.approx(0.3) and q.helpful_rate == pytest.approx(2 / 3)
    by = {t.topic: t for t in result.quality_by_topic}
    assert [t.topic for t in result.quality_by_topic] == ["section_20", "kinship_care_options", ""]
    assert (by["section_20"].answers, by["section_20"].unsure, by["section_20"].helpful_rate) == (5, 1, 2 / 3)
    assert by["kinship_care_options"].unsure_rate == 0 and by["kinship_care_options"].helpful_rate is None
    assert (by[""].chats, by[""].unsure, by[""].unsure_rate) == (4, 2, 1.0)


def test_an_empty_period_has_zeros_and_no_rates():
    empty = reports.report([], WEEK)
    assert empty.handoffs["chats"] == 0 and empty.waits["median"] is None and empty.quality.unsure_rate is None
    assert reports.minutes(None) == "no waits" and reports.percent(None) == "no data"
    assert "no waits" in report_views.render_body(empty)


def test_csv_rows_carry_the_same_figures(result):
    lines = reports.csv_rows(result)
    assert ("person wanted when none was on", "all", "outside staffed hours", "3") in lines
    assert ("queue", "median", "seconds", "120") in lines
    assert ("chats by hour", "21:00", "outside staffed hours", "1") in lines
    assert ("councils", "Leeds City Council", "chats", "3") in lines
    assert ("bot by topic", "all", "unsure rate", "0.3000") in lines


# -- the charts -----------------------------------------------------------------------------------
def test_a_chart_is_an_image_with_a_title_and_description_and_escaped_text():
    svg = charts.bar_chart("Chats <by> hour", "Bars & words", ["<script>", "b"], [("One", [3, 1]), ("Two", [0, 2])])
    assert svg.startswith("<svg ") and 'role="img"' in svg
    assert '<title id="chats-by-hour-title">Chats &lt;by&gt; hour</title>' in svg
    assert '<desc id="chats-by-hour-desc">Bars &amp; words</desc>' in svg
    assert "<script>" not in svg and "&lt;script&gt;" in svg
    assert 'style=' not in svg  # the CSP allows no inline styles
    assert "url(#chats-by-hour-hatch)" in svg  # the second series is hatched, not only another colour
    widths = [float(w) for w in re.findall(r'<rect x="\d+" y="[\d.]+" width="([\d.]+)" height="12"', svg)]
    assert widths[0] == max(widths) and len(widths) == 3  # the biggest value has the longest bar; no bar for 0


def test_the_table_beneath_has_every_figure():
    table = charts.data_table("Caption", "Hour", ["00:00", "01:00"], [("Inside", [1, 2]), ("Outside", [3, 4])])
    assert "<caption>Caption</caption>" in table and '<th scope="row">01:00</th>' in table
    assert re.findall(r'<td class="num">(\d+)</td>', table) == ["1", "3", "2", "4"]
    assert "no data" in charts.data_table("C", "Topic", ["a"], [("Helpful", [None])])  # no votes is not 0%


# -- the durable record ---------------------------------------------------------------------------
@pytest.fixture
def store(tmp_path):
    opened = Store(f"sqlite:///{tmp_path / 'gateway.db'}")
    yield opened
    opened.close()


def test_events_build_one_row_per_chat_with_no_text(store):
    stats = ChatStats(store.engine, staffed=lambda now: now.hour >= 10)
    cid = "c" * 32
    stats.started(cid, at(3, 9))
    stats.started(cid, at(3, 9, 30))  # later messages change nothing
    stats.bot_replied(cid, at(3, 9, 1), answers=1, topic="section_20", council="Leeds City Council")
    stats.bot_replied(cid, at(3, 9, 2), unsure=1)
    stats.feedback(cid, at(3, 9, 3), True, None)
    stats.feedback(cid, at(3, 9, 4), False, True)  # changed their mind: one vote, now "no"
    stats.person_wanted(cid, at(3, 9, 5), None)  # the hours said closed
    stats.queued(cid, at(3, 10), "kinship_care_options", None)
    stats.queued(cid, at(3, 10, 30), None, None)
    stats.taken(cid, at(3, 10, 32), at(3, 10, 30))
    stats.crisis(cid, at(3, 10, 33))
    stats.left_queue(cid, at(3, 10, 40), "family")
    [row] = rows(store.engine, at(3, 0), at(4, 0))
    assert row == ChatRow(at(3, 9), False, at(3, 9, 5), "closed", 2, at(3, 10), 120, "family", True,
                          "kinship_care_options", "Leeds City Council", 1, 1, 0, 1)
    with store.engine.connect() as conn:
        assert conn.execute(sa.select(chat_stats.c.id)).scalar_one() == stats_id(cid) != cid


def test_a_second_gateway_adds_to_the_same_row(tmp_path):
    url = f"sqlite:///{tmp_path / 'gateway.db'}"
    first, second = Store(url), Store(url)
    cid = secrets.token_urlsafe(16)
    ChatStats(first.engine).started(cid, at(3, 9))
    ChatStats(second.engine).started(cid, at(3, 9, 5))
    ChatStats(second.engine).bot_replied(cid, at(3, 9, 6), answers=1)
    ChatStats(first.engine).bot_replied(cid, at(3, 9, 7), answers=1)
    [row] = rows(first.engine, at(3, 0), at(4, 0))
    assert (row.started_at, row.answers) == (at(3, 9), 2)
    first.close()
    second.close()


def test_the_record_outlives_the_transcript(store):
    cid = secrets.token_urlsafe(16)
    store.ensure_conversation(cid, at(3, 9))
    store.add_message(cid, "family", "my name is Sarah", at(3, 9))
    ChatStats(store.engine).started(cid, at(3, 9))
    with store.engine.begin() as conn:  # what the 90-day retention job does
        conn.execute(conversations.delete())
    assert len(rows(store.engine, at(3, 0), at(4, 0))) == 1


async def test_the_gateway_records_a_chat_from_first_message_to_adviser(tmp_path):
    h = await Harness(tmp_path).start()
    try:
        sam = await h.adviser("sam")
        family = await h.family()
        await family.say("what is section 20")
        await wait_until(lambda: "Section 20 is voluntary accommodation." in family.texts())
        message_id = next(m["metadata"]["message"]["id"] for m in family.of("bot_uttered")
                          if m["metadata"]["message"]["ask_feedback"])
        await family.sio.emit("feedback", {"message_id": message_id, "helpful": True})
        await family.say("I need to talk to an adviser")
        await wait_until(lambda: family.of("handoff"))
        h.clock.advance(90)
        status, _ = await sam.post(f"/console/api/conversations/{family.session_id}/takeover")
        assert status == 200
        await wait_until(lambda: rows(h.gateway.store.engine, IN_HOURS - timedelta(1), IN_HOURS + timedelta(1))[0].helpful)
        [row] = rows(h.gateway.store.engine, IN_HOURS - timedelta(1), IN_HOURS + timedelta(1))
        assert (row.started_at, row.in_hours, row.handoffs, row.wait_seconds) == (IN_HOURS, True, 1, 90)
        assert (row.topic, row.council, row.answers, row.helpful, row.person_wanted_at) == (
            "section_20", "Leeds City Council", 1, 1, None)
    finally:
        await h.stop()


async def test_the_gateway_counts_a_family_who_wanted_a_person_out_of_hours(tmp_path):
    h = await Harness(tmp_path, now=OUT_OF_HOURS).start()
    try:
        await h.adviser("sam")
        family = await h.family()
        h.rasa.answers = lambda text: [{"text": "Webchat is closed."}, {"custom": {"person_wanted": "closed"}},
                                       {"custom": {"not_sure": True}}]
        await family.say("can I talk to someone")
        await wait_until(lambda: rows(h.gateway.store.engine, OUT_OF_HOURS - timedelta(1), OUT_OF_HOURS + timedelta(1)))
        await wait_until(lambda: rows(h.gateway.store.engine, OUT_OF_HOURS - timedelta(1),
                                      OUT_OF_HOURS + timedelta(1))[0].person_wanted_at is not None)
        [row] = rows(h.gateway.store.engine, OUT_OF_HOURS - timedelta(1), OUT_OF_HOURS + timedelta(1))
        assert (row.in_hours, row.person_wanted_at, row.person_wanted_why, row.unsure) == (
            False, OUT_OF_HOURS, "closed", 1)
        await wait_until(lambda: family.texts())
        assert "Webchat is closed." in family.texts()  # the signals are not shown
        assert len(family.texts()) == 1
    finally:
        await h.stop()


# -- the page and the CSV -------------------------------------------------------------------------
def seed(engine, chats: List[ChatRow]) -> None:
    with engine.begin() as conn:
        conn.execute(chat_stats.insert(), [dict(row.__dict__, id=secrets.token_hex(16)) for row in chats])


@pytest.fixture
async def h(tmp_path):
    harness = await Harness(tmp_path, now=at(7, 12)).start()
    seed(harness.gateway.store.engine, FIXTURE)
    yield harness
    await harness.stop()


async def test_advisers_are_refused_and_strangers_sent_to_log_in(h):
    sam = await h.adviser("sam", available=False, socket=False)
    for path in ("/console/reports", "/console/reports.csv"):
        response = await sam.http.get(h.base + path, allow_redirects=False)
        assert response.status == 403 and "Staff only" in await response.text(), path
    async with aiohttp.ClientSession() as anonymous:
        for path in ("/console/reports", "/console/reports.csv"):
            response = await anonymous.get(h.base + path, allow_redirects=False)
            assert response.status == 302 and response.headers["Location"] == "/console/login", path


async def test_staff_see_charts_with_tables_and_no_message_text(h):
    family = await h.family()
    await family.say("my name is Sarah Jones and I live at 4 Elm Road")
    await wait_until(lambda: family.texts())
    kim = await h.adviser("kim", available=False, socket=False)
    response = await kim.http.get(h.base + "/console/reports?from=2026-12-01&to=2026-12-07")
    assert response.status == 200
    page = await response.text()
    csp = response.headers["Content-Security-Policy"]
    assert "unsafe-inline" not in csp and re.findall(r"<script", page) == [] and "style=" not in page
    assert page.count('role="img"') == page.count("<table") - 1 >= 8  # one table per chart, plus the counts by topic
    assert re.search(r'data-testid="person-wanted-total"><strong>4</strong>', page)
    assert "Sarah" not in page and "Elm Road" not in page
    assert 'href="/console/reports.csv?from=2026-12-01&amp;to=2026-12-07"' in page
    assert "Wrap-up outcomes" in page  # said to be missing, not silently left out


async def test_a_bad_period_falls_back_to_the_last_30_days_and_says_so(h):
    kim = await h.adviser("kim", available=False, socket=False)
    for query in ("from=2026-12-07&to=2026-12-01", "from=nonsense&to=2026-12-01", "from=2020-01-01&to=2026-12-01"):
        page = await (await kim.http.get(h.base + "/console/reports?" + query)).text()
        assert 'role="alert"' in page and 'value="2026-11-08"' in page and 'value="2026-12-07"' in page, query


async def test_the_csv_has_the_figures_and_no_cell_a_spreadsheet_would_run(h):
    seed(h.gateway.store.engine, [ChatRow(at(2, 10), True, council='=HYPERLINK("http://x.example","click")',
                                          topic="+topic")])
    kim = await h.adviser("kim", available=False, socket=False)
    response = await kim.http.get(h.base + "/console/reports.csv?from=2026-12-01&to=2026-12-07")
    assert response.status == 200 and response.content_type == "text/csv"
    assert 'filename="reports-2026-12-01-to-2026-12-07.csv"' in response.headers["Content-Disposition"]
    table = list(csv.reader(io.StringIO(await response.text())))
    assert table[0] == ["figure", "category", "series", "value"]
    assert ["person wanted when none was on", "all", "", "4"] in table
    assert ["councils", "'=HYPERLINK(\"http://x.example\",\"click\")", "chats", "1"] in table
    assert ["topics", "'+topic", "chats", "1"] in table
    assert not any(cell.startswith(("=", "+", "-", "@", "\t", "\r")) for line in table for cell in line)


def test_the_period_defaults_to_the_last_30_days():
    period, notice = report_views.choose_period({}, date(2026, 12, 7), LONDON)
    assert (period.first, period.last, notice) == (date(2026, 11, 8), date(2026, 12, 7), None)
    period, notice = report_views.choose_period({"from": "2026-01-01", "to": "2026-12-31"}, date(2026, 12, 7), LONDON)
    assert (period.first, period.last, notice) == (date(2026, 1, 1), date(2026, 12, 31), None)


# -- the database sums as the reference does ------------------------------------------------------
@pytest.mark.parametrize("period", [WEEK, reports.Period(date(2026, 9, 1), date(2026, 12, 7), LONDON),
                                    reports.Period(date(2026, 12, 3), date(2026, 12, 3), LONDON)])
def test_the_stores_sql_sums_equal_the_reference_on_the_fixture(store, period):
    seed(store.engine, FIXTURE)
    start, end = (moment.astimezone(timezone.utc) for moment in period.bounds())
    from bot.gateway.chat_stats import aggregates
    assert aggregates(store.engine, start, end) == reports.aggregate(FIXTURE, period)
    assert reports.from_aggregates(aggregates(store.engine, start, end), period) == reports.report(FIXTURE, period)


POSTGRES = os.environ.get("REPORTS_TEST_POSTGRES_URL")  # e.g. postgresql://postgres@127.0.0.1:5432/reports


@pytest.mark.skipif(not POSTGRES, reason="set REPORTS_TEST_POSTGRES_URL to an empty PostgreSQL database")
def test_the_sums_on_postgresql_equal_the_reference():
    store = Store(POSTGRES)
    try:
        with store.engine.begin() as conn:
            conn.execute(chat_stats.delete())
        seed(store.engine, FIXTURE)
        stats = ChatStats(store.engine)
        stats.started("pg-chat", at(2, 9))  # the upsert, as two gateways would do it
        stats.started("pg-chat-other", at(2, 9))
        ChatStats(store.engine).bot_replied("pg-chat", at(2, 9, 1), answers=2)
        everything = FIXTURE + [ChatRow(at(2, 9), None, answers=2), ChatRow(at(2, 9), None)]
        from bot.gateway.chat_stats import aggregates
        for period in (WEEK, reports.Period(date(2026, 9, 1), date(2026, 12, 7), LONDON)):
            start, end = (moment.astimezone(timezone.utc) for moment in period.bounds())
            assert aggregates(store.engine, start, end) == reports.aggregate(everything, period)
    finally:
        with store.engine.begin() as conn:
            conn.execute(chat_stats.delete())
        store.close()
