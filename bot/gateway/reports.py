"""The figures of the reports page (issue 17), as pure functions of a period's aggregates of chat_stats.

No I/O here: bot.gateway.chat_stats.aggregates() sums the rows in the database (`aggregate` below does
the same from rows, the reference the tests compare it with), bot.gateway.report_views shows the
figures. Every figure is a count (or a time, or a share of counts); nothing here ever holds message text.

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

import calendar
import math
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

from bot.gateway.chat_stats import ChatRow

WEEKDAYS = tuple(calendar.day_name)  # Monday first; the C locale, so English names (data labels, not hours)
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


HOUR = 3600


def hour_bucket(at: datetime) -> int:
    """The UTC hour an instant falls in (hours since the epoch): what the store groups by. The
    service's time zone (Europe/London) is a whole number of hours from UTC, so each such hour is one
    local hour of one local weekday."""
    return int(at.timestamp()) // HOUR


@dataclass
class TopicSums:
    """Per topic ("" for none) of the chats that started in the period: what the store sums."""
    chats: int = 0
    answers: int = 0
    unsure: int = 0
    helpful: int = 0
    not_helpful: int = 0
    handoffs: int = 0
    queued: int = 0  # chats that joined the queue at least once
    adviser: int = 0  # chats an adviser took
    crisis: int = 0
    left_family: int = 0  # left the queue and never taken: ended the chat while waiting
    left_closed: int = 0  # ... sent away when webchat closed or the last adviser left


@dataclass
class Aggregates:
    """What the figures need, summed: the store computes it with SQL (chat_stats.aggregates), and
    `aggregate` below the same from rows (the reference the tests compare it with)."""
    started: Dict[Tuple[int, Optional[bool]], int]  # (hour bucket, in staffed hours) -> chats
    wanted: Dict[Tuple[int, str], int]  # (hour bucket of asking, "closed" | "no_adviser") -> families
    waits: List[int]  # seconds, of chats an adviser took
    topics: Dict[str, TopicSums]
    councils: Dict[str, int]


def aggregate(rows: Iterable[ChatRow], period: Period) -> Aggregates:
    """Aggregates of `rows` for `period`: chats that started in it, and people wanted in it (by when
    they asked, so a chat that started the evening before may count)."""
    start, end = period.bounds()
    started: Counter = Counter()
    wanted: Counter = Counter()
    waits_: List[int] = []
    topics_: Dict[str, TopicSums] = {}
    councils_: Counter = Counter()
    for row in rows:
        if row.person_wanted_at is not None and start <= row.person_wanted_at < end:
            why = "no_adviser" if row.person_wanted_why == "no_adviser" else "closed"
            wanted[(hour_bucket(row.person_wanted_at), why)] += 1
        if not start <= row.started_at < end:
            continue
        started[(hour_bucket(row.started_at), row.in_hours)] += 1
        if row.wait_seconds is not None:
            waits_.append(row.wait_seconds)
        if row.council:
            councils_[row.council] += 1
        sums = topics_.setdefault(row.topic or "", TopicSums())
        sums.chats += 1
        sums.answers += row.answers
        sums.unsure += row.unsure
        sums.helpful += row.helpful
        sums.not_helpful += row.not_helpful
        sums.handoffs += row.handoffs
        sums.queued += row.handoffs > 0
        sums.adviser += row.wait_seconds is not None
        sums.crisis += bool(row.crisis)
        sums.left_family += row.wait_seconds is None and row.left_queue == "family"
        sums.left_closed += row.wait_seconds is None and row.left_queue == "closed"
    return Aggregates(dict(started), dict(wanted), waits_, topics_, dict(councils_))


class _LocalHours:
    """Hour bucket -> (local hour, local weekday), each bucket converted once."""

    def __init__(self, tz: tzinfo):
        self.tz = tz
        self.cache: Dict[int, Tuple[int, int]] = {}

    def __call__(self, bucket: int) -> Tuple[int, int]:
        found = self.cache.get(bucket)
        if found is None:
            local = datetime.fromtimestamp(bucket * HOUR, self.tz)
            found = self.cache[bucket] = (local.hour, local.weekday())
        return found


def chats_by_time(agg: Aggregates, tz: tzinfo) -> Dict[str, Dict[str, List[int]]]:
    """Chats by hour of day (24) and by weekday (7, Monday first), split inside / outside staffed
    hours / unknown (recorded before the hours were known)."""
    hours = {"inside": [0] * 24, "outside": [0] * 24, "unknown": [0] * 24}
    days = {"inside": [0] * 7, "outside": [0] * 7, "unknown": [0] * 7}
    local = _LocalHours(tz)
    for (bucket, in_hours), count in agg.started.items():
        hour, weekday = local(bucket)
        key = "inside" if in_hours else "outside" if in_hours is False else "unknown"
        hours[key][hour] += count
        days[key][weekday] += count
    return {"hour": hours, "weekday": days}


def person_wanted(agg: Aggregates, tz: tzinfo) -> Dict[str, object]:
    """Families who asked for a person when none could take them, by why, hour and weekday (local time
    of asking)."""
    hours = {"closed": [0] * 24, "no_adviser": [0] * 24}
    days = {"closed": [0] * 7, "no_adviser": [0] * 7}
    local = _LocalHours(tz)
    for (bucket, why), count in agg.wanted.items():
        why = "no_adviser" if why == "no_adviser" else "closed"
        hour, weekday = local(bucket)
        hours[why][hour] += count
        days[why][weekday] += count
    closed, no_adviser = sum(hours["closed"]), sum(hours["no_adviser"])
    return {"total": closed + no_adviser, "closed": closed, "no_adviser": no_adviser, "hour": hours,
            "weekday": days}


def _total(agg: Aggregates, name: str) -> int:
    return sum(getattr(sums, name) for sums in agg.topics.values())


def waits(agg: Aggregates) -> Dict[str, object]:
    """Queue waits (chats taken by an adviser) and families who left the queue without one."""
    buckets = [0] * len(WAIT_BUCKETS)
    for seconds in agg.waits:
        for index, (limit, _) in enumerate(WAIT_BUCKETS):
            if limit is None or seconds < limit:
                buckets[index] += 1
                break
    return {"queued": _total(agg, "queued"), "taken": len(agg.waits), "median": nearest_rank(agg.waits, 50),
            "p90": nearest_rank(agg.waits, 90), "buckets": buckets, "left_family": _total(agg, "left_family"),
            "left_closed": _total(agg, "left_closed")}


def handoffs(agg: Aggregates) -> Dict[str, int]:
    """Handoffs (times families joined the queue), chats with one, adviser chats, crisis flags."""
    return {"chats": _total(agg, "chats"), "handoffs": _total(agg, "handoffs"),
            "chats_queued": _total(agg, "queued"), "adviser_chats": _total(agg, "adviser"),
            "crisis": _total(agg, "crisis")}


def ordered(counts: Dict[str, int], top: Optional[int] = None) -> List[Tuple[str, int]]:
    """(value, chats), most first, then by name; chats without a value are left out."""
    out = sorted(((k, v) for k, v in counts.items() if k and v), key=lambda item: (-item[1], item[0]))
    return out[:top] if top else out


def topics(agg: Aggregates) -> List[Tuple[str, int]]:
    return ordered({topic: sums.chats for topic, sums in agg.topics.items()})


def councils(agg: Aggregates, top: Optional[int] = None) -> List[Tuple[str, int]]:
    return ordered(agg.councils, top)


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


def bot_quality(agg: Aggregates) -> Tuple[BotQuality, List[BotQuality]]:
    """The bot's "not sure" rate and helpfulness overall and by topic (most chats first, no topic last)."""
    by_topic = [BotQuality(topic, s.chats, s.answers, s.unsure, s.helpful, s.not_helpful)
                for topic, s in agg.topics.items()]
    by_topic.sort(key=lambda q: (q.topic == "", -q.chats, q.topic))
    overall = BotQuality("all", *(_total(agg, name) for name in ("chats", "answers", "unsure", "helpful",
                                                                   "not_helpful")))
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


def from_aggregates(agg: Aggregates, period: Period) -> Report:
    """Every figure of the page."""
    overall, by_topic = bot_quality(agg)
    return Report(period=period, times=chats_by_time(agg, period.tz), person_wanted=person_wanted(agg, period.tz),
                  waits=waits(agg), handoffs=handoffs(agg), topics=topics(agg), councils=councils(agg),
                  quality=overall, quality_by_topic=by_topic)


def report(rows: Iterable[ChatRow], period: Period) -> Report:
    """Every figure of the page from rows (chats that started in the period or the day before)."""
    return from_aggregates(aggregate(rows, period), period)


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
