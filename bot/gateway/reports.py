"""The figures of the reports page (issue 17), as pure functions of chat_stats rows and a period.

No I/O here: bot.gateway.chat_stats.rows() reads the rows, bot.gateway.report_views shows them. Every
figure is a count (or a time, or a share of counts); nothing here ever holds message text.

Definitions (the page says them too):
- a chat: a family sent at least one message (the widget opening itself does not count), counted in the
  period by when it started, by the hour and weekday in the service's time zone (Europe/London);
- inside staffed hours: a webchat session of config/service_hours.yml was open when the chat started;
- a person wanted when none was on: the family asked for a person (or the bot handed over after two
  misunderstandings) and nobody could take them, either outside staffed hours ("closed") or in them with
  no adviser available ("no_adviser"); counted by when they asked;
- wait: from joining the queue to an adviser taking the chat, the first time; median and 90th
  percentile by the nearest-rank method (the value below which at least half, or 90%, of waits fall);
- left the queue: ended the chat while queued ("family"), or sent away when webchat closed or the last
  adviser left ("closed"), before any adviser took it;
- "not sure" rate: the bot's unsure replies out of its answers and unsure replies together;
- helpfulness: "Was this helpful?" votes, yes out of all, counted under the chat's topic (the topic it
  was last answered about), not under each answer.
"""
from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

from bot.gateway.chat_stats import ChatRow

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
WAIT_BUCKETS = ((60, "under 1 minute"), (120, "1 to 2 minutes"), (300, "2 to 5 minutes"),
                (600, "5 to 10 minutes"), (1200, "10 to 20 minutes"), (None, "20 minutes or more"))


@dataclass(frozen=True)
class Period:
    """From the start of `first` to the end of `last` (both local dates, inclusive) in `tz`."""
    first: date
    last: date
    tz: tzinfo

    def bounds(self) -> Tuple[datetime, datetime]:
        start = datetime.combine(self.first, time(0), tzinfo=self.tz)
        end = datetime.combine(self.last + timedelta(days=1), time(0), tzinfo=self.tz)
        return start, end

    def contains(self, at: datetime) -> bool:
        start, end = self.bounds()
        return start <= at < end

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1


def nearest_rank(values: Sequence[float], percent: float) -> Optional[float]:
    """The nearest-rank percentile of `values` (None when there are none)."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(percent / 100 * len(ordered)))
    return ordered[rank - 1]


def share(part: int, whole: int) -> Optional[float]:
    return part / whole if whole else None


def _local(at: datetime, tz: tzinfo) -> datetime:
    return at.astimezone(tz)


def in_period(rows: Iterable[ChatRow], period: Period) -> List[ChatRow]:
    return [row for row in rows if period.contains(row.started_at)]


def chats_by_time(rows: Sequence[ChatRow], tz: tzinfo) -> Dict[str, Dict[str, List[int]]]:
    """Chats by hour of day (24) and by weekday (7, Monday first), split inside / outside staffed
    hours / unknown (recorded before the hours were known)."""
    hours = {"inside": [0] * 24, "outside": [0] * 24, "unknown": [0] * 24}
    days = {"inside": [0] * 7, "outside": [0] * 7, "unknown": [0] * 7}
    for row in rows:
        local = _local(row.started_at, tz)
        key = "inside" if row.in_hours else "outside" if row.in_hours is False else "unknown"
        hours[key][local.hour] += 1
        days[key][local.weekday()] += 1
    return {"hour": hours, "weekday": days}


def person_wanted(rows: Sequence[ChatRow], period: Period) -> Dict[str, object]:
    """Families who asked for a person when none could take them, by why, hour and weekday (local time
    of asking). Counted in the period by when they asked."""
    hours = {"closed": [0] * 24, "no_adviser": [0] * 24}
    days = {"closed": [0] * 7, "no_adviser": [0] * 7}
    for row in rows:
        if row.person_wanted_at is None or not period.contains(row.person_wanted_at):
            continue
        why = "no_adviser" if row.person_wanted_why == "no_adviser" else "closed"
        local = _local(row.person_wanted_at, period.tz)
        hours[why][local.hour] += 1
        days[why][local.weekday()] += 1
    closed, no_adviser = sum(hours["closed"]), sum(hours["no_adviser"])
    return {"total": closed + no_adviser, "closed": closed, "no_adviser": no_adviser, "hour": hours,
            "weekday": days}


def waits(rows: Sequence[ChatRow]) -> Dict[str, object]:
    """Queue waits (chats taken by an adviser) and families who left the queue."""
    taken = [row.wait_seconds for row in rows if row.wait_seconds is not None]
    buckets = [0] * len(WAIT_BUCKETS)
    for seconds in taken:
        for index, (limit, _) in enumerate(WAIT_BUCKETS):
            if limit is None or seconds < limit:
                buckets[index] += 1
                break
    left = Counter(row.left_queue for row in rows if row.left_queue and row.wait_seconds is None)
    queued = sum(1 for row in rows if row.handoffs > 0)
    return {"queued": queued, "taken": len(taken), "median": nearest_rank(taken, 50),
            "p90": nearest_rank(taken, 90), "buckets": buckets, "left_family": left.get("family", 0),
            "left_closed": left.get("closed", 0)}


def handoffs(rows: Sequence[ChatRow]) -> Dict[str, int]:
    """Handoffs (times families joined the queue), chats with one, adviser chats, crisis flags."""
    return {"chats": len(rows),
            "handoffs": sum(row.handoffs for row in rows),
            "chats_queued": sum(1 for row in rows if row.handoffs > 0),
            "adviser_chats": sum(1 for row in rows if row.wait_seconds is not None),
            "crisis": sum(1 for row in rows if row.crisis)}


def counted(values: Iterable[Optional[str]], top: Optional[int] = None) -> List[Tuple[str, int]]:
    """(value, chats), most first, then by name; chats without a value are left out."""
    counts = Counter(value for value in values if value)
    ordered = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return ordered[:top] if top else ordered


def topics(rows: Sequence[ChatRow]) -> List[Tuple[str, int]]:
    return counted(row.topic for row in rows)


def councils(rows: Sequence[ChatRow], top: Optional[int] = None) -> List[Tuple[str, int]]:
    return counted((row.council for row in rows), top)


@dataclass(frozen=True)
class BotQuality:
    topic: str  # "" for chats with no topic
    chats: int
    answers: int
    unsure: int
    helpful: int
    not_helpful: int

    @property
    def unsure_rate(self) -> Optional[float]:
        return share(self.unsure, self.answers + self.unsure)

    @property
    def helpful_rate(self) -> Optional[float]:
        return share(self.helpful, self.helpful + self.not_helpful)


def bot_quality(rows: Sequence[ChatRow]) -> Tuple[BotQuality, List[BotQuality]]:
    """The bot's "not sure" rate and helpfulness overall and by topic (most chats first)."""
    sums: Dict[str, List[int]] = {}
    for row in rows:
        totals = sums.setdefault(row.topic or "", [0, 0, 0, 0, 0])
        totals[0] += 1
        totals[1] += row.answers
        totals[2] += row.unsure
        totals[3] += row.helpful
        totals[4] += row.not_helpful
    by_topic = [BotQuality(topic, *values) for topic, values in sums.items()]
    by_topic.sort(key=lambda q: (q.topic == "", -q.chats, q.topic))
    overall = BotQuality("all", *(sum(q.__dict__[name] for q in by_topic)
                                  for name in ("chats", "answers", "unsure", "helpful", "not_helpful")))
    return overall, by_topic


@dataclass(frozen=True)
class Report:
    period: Period
    times: Dict[str, Dict[str, List[int]]]
    person_wanted: Dict[str, object]
    waits: Dict[str, object]
    handoffs: Dict[str, int]
    topics: List[Tuple[str, int]]
    councils: List[Tuple[str, int]]
    quality: BotQuality
    quality_by_topic: List[BotQuality]


def report(rows: Sequence[ChatRow], period: Period) -> Report:
    """Every figure of the page. `rows`: chats that started in the period, plus those that started
    before it and asked for a person in it (person_wanted counts by when they asked)."""
    started = in_period(rows, period)
    overall, by_topic = bot_quality(started)
    return Report(period=period, times=chats_by_time(started, period.tz), person_wanted=person_wanted(rows, period),
                  waits=waits(started), handoffs=handoffs(started), topics=topics(started),
                  councils=councils(started), quality=overall, quality_by_topic=by_topic)


def minutes(seconds: Optional[float]) -> str:
    """A wait in words: "4 min 05 s", "—" when there is none."""
    if seconds is None:
        return "no waits"
    seconds = int(round(seconds))
    return f"{seconds // 60} min {seconds % 60:02d} s"


def percent(value: Optional[float]) -> str:
    return "no data" if value is None else f"{value * 100:.0f}%"


def csv_rows(result: Report) -> List[Tuple[str, str, str, str]]:
    """The same figures as the page, one per line: (figure, category, series, value). Cells are made
    spreadsheet-safe where written (bot.gateway.report_views)."""
    out: List[Tuple[str, str, str, str]] = []
    p = result.period
    out.append(("period", "first day", "", p.first.isoformat()))
    out.append(("period", "last day", "", p.last.isoformat()))
    for series, values in result.times["hour"].items():
        for hour, value in enumerate(values):
            out.append(("chats by hour", f"{hour:02d}:00", series + " staffed hours", str(value)))
    for series, values in result.times["weekday"].items():
        for day, value in enumerate(values):
            out.append(("chats by weekday", WEEKDAYS[day], series + " staffed hours", str(value)))
    wanted = result.person_wanted
    out.append(("person wanted when none was on", "all", "", str(wanted["total"])))
    out.append(("person wanted when none was on", "all", "outside staffed hours", str(wanted["closed"])))
    out.append(("person wanted when none was on", "all", "staffed hours, no adviser free", str(wanted["no_adviser"])))
    for why, label in (("closed", "outside staffed hours"), ("no_adviser", "staffed hours, no adviser free")):
        for hour, value in enumerate(wanted["hour"][why]):
            out.append(("person wanted by hour", f"{hour:02d}:00", label, str(value)))
        for day, value in enumerate(wanted["weekday"][why]):
            out.append(("person wanted by weekday", WEEKDAYS[day], label, str(value)))
    w = result.waits
    for name in ("queued", "taken", "median", "p90", "left_family", "left_closed"):
        value = w[name]
        out.append(("queue", name, "seconds" if name in ("median", "p90") else "chats",
                    "" if value is None else str(value)))
    for (_, label), value in zip(WAIT_BUCKETS, w["buckets"]):
        out.append(("waits", label, "chats", str(value)))
    for name, value in result.handoffs.items():
        out.append(("chats and handoffs", name, "", str(value)))
    for topic, value in result.topics:
        out.append(("topics", topic, "chats", str(value)))
    for council, value in result.councils:
        out.append(("councils", council, "chats", str(value)))
    for q in [result.quality] + result.quality_by_topic:
        name = q.topic or "(no topic)"
        for field in ("chats", "answers", "unsure", "helpful", "not_helpful"):
            out.append(("bot by topic", name, field, str(getattr(q, field))))
        out.append(("bot by topic", name, "unsure rate", "" if q.unsure_rate is None else f"{q.unsure_rate:.4f}"))
        out.append(("bot by topic", name, "helpful rate", "" if q.helpful_rate is None else f"{q.helpful_rate:.4f}"))
    return out
