"""The reports page (issue 17): `GET /console/reports` and the same figures as CSV at
`GET /console/reports.csv`, for staff (and the duty lead, a role still to come), for a period chosen
with `?from=YYYY-MM-DD&to=YYYY-MM-DD` (local dates, inclusive; the last 30 days by default).

Counts only, from the durable chat_stats table (bot.gateway.chat_stats), never from logs or message
text; every gateway reads the same database, so the figures are the same on any of them. The read
runs in a worker thread so a year of data does not hold up the event loop.
"""
from __future__ import annotations

import asyncio
import csv
import html
import io
from datetime import date, datetime, timedelta, timezone
from string import Template
from typing import List, Optional, Tuple

from aiohttp import web
from aiohttp_session import get_session

from bot.gateway import chat_stats, charts, reports
from bot.gateway.console_views import TEMPLATES
from bot.gateway.security import GATEWAY, csrf_token, login_required
from bot.retrain.export import spreadsheet_safe

routes = web.RouteTableDef()
REPORT_ROLES = ("staff", "duty_lead")  # "duty_lead": the role issue 17 adds; allowed here already
DEFAULT_DAYS = 30
MAX_DAYS = 731  # two years
COUNCILS_SHOWN = 20

FORBIDDEN_PAGE = """<!doctype html>
<html lang="en-GB">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>Staff only: adviser console</title>
  <link rel="stylesheet" href="/static/console.css">
</head>
<body class="login-page">
  <main id="main" class="login">
    <h1>Staff only</h1>
    <p class="login-intro">Only staff can see the reports. If you need them, ask a member of staff.</p>
    <p><a href="/console">Back to the adviser console</a></p>
  </main>
</body>
</html>
"""


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def choose_period(query, today: date, tz) -> Tuple[reports.Period, Optional[str]]:
    """The period asked for, or the last DEFAULT_DAYS days with a sentence saying why not."""
    default = reports.Period(today - timedelta(days=DEFAULT_DAYS - 1), today, tz)
    raw_from, raw_to = query.get("from"), query.get("to")
    if not raw_from and not raw_to:
        return default, None
    try:
        first = date.fromisoformat(str(raw_from or "")[:10])
        last = date.fromisoformat(str(raw_to or "")[:10])
    except ValueError:
        return default, "Those dates could not be read, so this shows the last 30 days."
    if first > last:
        return default, "The first day was after the last day, so this shows the last 30 days."
    if (last - first).days + 1 > MAX_DAYS:
        return default, "A report can cover up to two years, so this shows the last 30 days."
    return reports.Period(first, last, tz), None


def read(gateway, period: reports.Period) -> reports.Aggregates:
    """The period's aggregates, summed by the database (blocking: run in a worker thread)."""
    start, end = period.bounds()
    return chat_stats.aggregates(gateway.store.engine, start.astimezone(timezone.utc), end.astimezone(timezone.utc))


async def compute(gateway, period: reports.Period) -> reports.Report:
    aggregates = await asyncio.get_running_loop().run_in_executor(None, read, gateway, period)
    return reports.from_aggregates(aggregates, period)


async def _allowed(request: web.Request) -> Optional[web.Response]:
    if request["user"].role not in REPORT_ROLES:
        return web.Response(text=FORBIDDEN_PAGE, status=403, content_type="text/html", charset="utf-8")
    return None


def _today(gateway) -> date:
    return gateway.clock().astimezone(gateway.policy.timezone).date()


HOURS = [f"{hour:02d}:00" for hour in range(24)]
SERIES_NAMES = {"inside": "Inside staffed hours", "outside": "Outside staffed hours",
                "unknown": "Not known (recorded before the hours were)"}


def _time_series(split) -> List[charts.Series]:
    return [(SERIES_NAMES[key], values) for key, values in split.items() if key != "unknown" or any(values)]


def _pc(rate: Optional[float]) -> Optional[int]:
    return None if rate is None else round(100 * rate)


def render_body(result: reports.Report) -> str:
    """The page's figures as HTML (every text escaped; counts only)."""
    p = result.period
    wanted = result.person_wanted
    w = result.waits
    h = result.handoffs
    q = result.quality
    parts: List[str] = []

    parts.append('<section aria-labelledby="wanted-heading"><h2 id="wanted-heading">Families who wanted a person '
                 'when none was on</h2>')
    parts.append(f'<p class="headline" data-testid="person-wanted-total"><strong>{wanted["total"]:,}</strong> '
                 f'families asked for a person when none could take them: <strong>{wanted["closed"]:,}</strong> '
                 f'outside staffed hours and <strong>{wanted["no_adviser"]:,}</strong> in staffed hours with no '
                 'adviser free. This is the figure for setting next year\'s staffed hours.</p>')
    wanted_series = [("Outside staffed hours", wanted["weekday"]["closed"]),
                     ("Staffed hours, no adviser free", wanted["weekday"]["no_adviser"])]
    parts.append(charts.figure("Families who wanted a person when none was on, by weekday",
                               "Bars for each day of the week: the longer the bar, the more families asked for a "
                               "person on that day when nobody could take them.", "Weekday", reports.WEEKDAYS,
                               wanted_series, "families", "wanted-weekday"))
    parts.append(charts.figure("Families who wanted a person when none was on, by hour of day",
                               "Bars for each hour of the day (UK time): the longer the bar, the more families "
                               "asked for a person in that hour when nobody could take them.", "Hour", HOURS,
                               [("Outside staffed hours", wanted["hour"]["closed"]),
                                ("Staffed hours, no adviser free", wanted["hour"]["no_adviser"])],
                               "families", "wanted-hour"))
    parts.append("</section>")

    parts.append('<section aria-labelledby="chats-heading"><h2 id="chats-heading">Chats by time</h2>')
    parts.append(f'<p>{h["chats"]:,} chats started in this period.</p>')
    parts.append(charts.figure("Chats by weekday, inside and outside staffed hours",
                               "Bars for each day of the week, one for chats started inside staffed hours and one "
                               "for chats started outside them.", "Weekday", reports.WEEKDAYS,
                               _time_series(result.times["weekday"]), "chats", "chats-weekday"))
    parts.append(charts.figure("Chats by hour of day, inside and outside staffed hours",
                               "Bars for each hour of the day (UK time), one for chats started inside staffed hours "
                               "and one for chats started outside them.", "Hour", HOURS,
                               _time_series(result.times["hour"]), "chats", "chats-hour"))
    parts.append("</section>")

    parts.append('<section aria-labelledby="queue-heading"><h2 id="queue-heading">The queue: waits and families '
                 'who left</h2>')
    parts.append(f'<p data-testid="waits">{w["queued"]:,} chats joined the queue and {w["taken"]:,} were taken by an '
                 f'adviser. Median wait <strong>{_e(reports.minutes(w["median"]))}</strong>; 9 in 10 waited no '
                 f'longer than <strong>{_e(reports.minutes(w["p90"]))}</strong>. Left the queue without an adviser: '
                 f'{w["left_family"]:,} ended the chat while waiting, {w["left_closed"]:,} sent away when webchat '
                 'closed or the last adviser left.</p>')
    parts.append(charts.figure("How long families waited for an adviser",
                               "Bars for ranges of waiting time, shortest first: the longer the bar, the more "
                               "chats waited that long before an adviser took them.", "Wait",
                               [label for _, label in reports.WAIT_BUCKETS], [("Chats", w["buckets"])],
                               "chats", "waits"))
    parts.append(charts.figure("What happened to families in the queue",
                               "Bars comparing families taken by an adviser, families who ended the chat while "
                               "waiting, and families sent away when webchat closed.", "Outcome",
                               ["Taken by an adviser", "Ended the chat while waiting", "Sent away (webchat closed)"],
                               [("Chats", [w["taken"], w["left_family"], w["left_closed"]])], "chats",
                               "queue-outcome"))
    parts.append("</section>")

    parts.append('<section aria-labelledby="handoffs-heading"><h2 id="handoffs-heading">Handoffs, adviser chats '
                 'and crisis flags</h2>')
    parts.append(charts.figure("Handoffs, adviser chats and crisis flags",
                               "Bars comparing all chats, handoffs to the queue, chats that joined the queue, "
                               "chats an adviser took, and chats flagged as a possible crisis.", "Figure",
                               ["All chats", "Handoffs (times queued)", "Chats that joined the queue",
                                "Adviser chats", "Crisis flags"],
                               [("Chats", [h["chats"], h["handoffs"], h["chats_queued"], h["adviser_chats"],
                                           h["crisis"]])], "chats", "handoffs"))
    parts.append("</section>")

    parts.append('<section aria-labelledby="topics-heading"><h2 id="topics-heading">Topics and councils asked '
                 'about</h2>')
    if result.topics:
        parts.append(charts.figure("Topics asked about", "Bars for each topic the assistant answered or the "
                                   "queue recorded, most asked first.", "Topic",
                                   [t.replace("_", " ") for t, _ in result.topics],
                                   [("Chats", [n for _, n in result.topics])], "chats", "topics"))
    else:
        parts.append("<p>No topics recorded in this period.</p>")
    shown = result.councils[:COUNCILS_SHOWN]
    if shown:
        parts.append(charts.figure(f"Councils asked about (the {len(shown)} most asked; all in the CSV)",
                                   "Bars for each council families named, most asked first.", "Council",
                                   [c for c, _ in shown], [("Chats", [n for _, n in shown])], "chats", "councils"))
    else:
        parts.append("<p>No councils recorded in this period.</p>")
    parts.append("</section>")

    parts.append('<section aria-labelledby="bot-heading"><h2 id="bot-heading">How the assistant did</h2>')
    parts.append(f'<p data-testid="bot-quality">The assistant was not sure in <strong>{_e(reports.percent(q.unsure_rate))}'
                 f'</strong> of its replies ({q.unsure:,} of {q.answers + q.unsure:,}). Families said an answer '
                 f'helped <strong>{_e(reports.percent(q.helpful_rate))}</strong> of the time ({q.helpful:,} yes, '
                 f'{q.not_helpful:,} no).</p>')
    by_topic = [t for t in result.quality_by_topic if t.answers + t.unsure + t.helpful + t.not_helpful]
    if by_topic:
        names = [t.topic.replace("_", " ") if t.topic else "no topic yet" for t in by_topic]
        parts.append(charts.figure("Helpful and not sure, by topic (per cent)",
                                   "For each topic, one bar for the share of votes saying an answer helped and one "
                                   "for the share of the assistant's replies where it was not sure.", "Topic", names,
                                   [("Helpful (% of votes)", [_pc(t.helpful_rate) for t in by_topic]),
                                    ("Not sure (% of replies)", [_pc(t.unsure_rate) for t in by_topic])],
                                   "per cent", "bot-topics"))
        rows = "".join(f'<tr><th scope="row">{_e(n)}</th><td class="num">{t.answers:,}</td><td class="num">{t.unsure:,}'
                       f'</td><td class="num">{t.helpful:,}</td><td class="num">{t.not_helpful:,}</td></tr>'
                       for n, t in zip(names, by_topic))
        parts.append('<table class="report-table"><caption>Votes and replies by topic (counts)</caption><thead><tr>'
                     '<th scope="col">Topic</th><th scope="col" class="num">Answers</th><th scope="col" class="num">'
                     'Not sure</th><th scope="col" class="num">Helpful</th><th scope="col" class="num">Not helpful'
                     f'</th></tr></thead><tbody>{rows}</tbody></table>')
    parts.append("</section>")

    parts.append('<section aria-labelledby="missing-heading"><h2 id="missing-heading">Not here yet</h2>'
                 '<p>Wrap-up outcomes and categories: advisers do not record a wrap-up yet (issue 17 adds it), so '
                 'there is nothing to count.</p></section>')
    return "".join(parts)


def page(result: reports.Report, account, csrf: str, notice: Optional[str]) -> str:
    template = Template((TEMPLATES / "reports.html").read_text(encoding="utf-8"))
    p = result.period
    query = f"from={p.first.isoformat()}&to={p.last.isoformat()}"
    return template.safe_substitute(
        csrf=_e(csrf), adviser=_e(account.display_name), role=_e(account.role), first=_e(p.first.isoformat()),
        last=_e(p.last.isoformat()), days=_e(f"{p.days:,}"), csv_link=_e("/console/reports.csv?" + query),
        notice=f'<p class="error" role="alert">{_e(notice)}</p>' if notice else "", body=render_body(result))


@routes.get("/console/reports")
@login_required(api=False)
async def reports_page(request: web.Request) -> web.Response:
    refused = await _allowed(request)
    if refused is not None:  # (a Response is also a mapping, empty and so falsy)
        return refused
    gateway = request.app[GATEWAY]
    period, notice = choose_period(request.query, _today(gateway), gateway.policy.timezone)
    result = await compute(gateway, period)
    session = await get_session(request)
    return web.Response(text=page(result, request["user"], csrf_token(session), notice),
                        content_type="text/html", charset="utf-8")


def csv_text(result: reports.Report) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["figure", "category", "series", "value"])
    for row in reports.csv_rows(result):
        writer.writerow([spreadsheet_safe(cell) for cell in row])
    return out.getvalue()


@routes.get("/console/reports.csv")
@login_required(api=False)
async def reports_csv(request: web.Request) -> web.Response:
    refused = await _allowed(request)
    if refused is not None:  # (a Response is also a mapping, empty and so falsy)
        return refused
    gateway = request.app[GATEWAY]
    period, _ = choose_period(request.query, _today(gateway), gateway.policy.timezone)
    result = await compute(gateway, period)
    name = f"reports-{period.first.isoformat()}-to-{period.last.isoformat()}.csv"
    return web.Response(text=csv_text(result), content_type="text/csv", charset="utf-8",
                        headers={"Content-Disposition": f'attachment; filename="{name}"'})
