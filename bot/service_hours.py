"""Staffed hours: when webchat advisers and the advice line are on duty.

Pure and clock-injected: every question takes the current time as an aware datetime. The only I/O is
`load_policy`, which reads config/service_hours.yml (or the file named by SERVICE_HOURS_FILE).
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone, tzinfo
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType
from typing import Any, FrozenSet, List, Mapping, Optional, Tuple
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays
import yaml

DEFAULT_FILE = Path(__file__).resolve().parent.parent / "config" / "service_hours.yml"
ENV_VAR = "SERVICE_HOURS_FILE"
LONDON = ZoneInfo("Europe/London")
SERVICES = ("webchat", "advice_line")
SEARCH_DAYS = 400
DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December")
_CLOCK = re.compile(r"(\d{1,2}):(\d{2})")


class ServiceHoursError(ValueError):
    """The service hours file has a bad entry; the message says which."""


@dataclass(frozen=True)
class WeeklySession:
    """A recurring session, e.g. Monday 13:00-15:00 local time."""

    weekday: int  # Monday is 0
    start: time
    end: time


@dataclass(frozen=True)
class Closure:
    """Days (first and last included) when staff close some or all services."""

    first: date
    last: date
    reason: str
    services: Optional[FrozenSet[str]] = None  # None: every service

    def covers(self, service: str, day: date) -> bool:
        in_scope = self.services is None or service in self.services
        return in_scope and self.first <= day <= self.last


@dataclass(frozen=True)
class Session:
    """One real session: aware start and end (end not included)."""

    service: str
    start: datetime
    end: datetime

    def contains(self, at: datetime) -> bool:
        return self.start <= _utc(at) < self.end


@dataclass(frozen=True)
class ServicePolicy:
    """Weekly sessions per service, less bank holidays and staff closures. Build it with load_policy."""

    timezone: ZoneInfo
    services: Mapping[str, Tuple[WeeklySession, ...]]
    closures: Tuple[Closure, ...] = ()
    bank_holidays: bool = True
    # Services whose clock times staff have not confirmed: said to families as "afternoons" (etc.), not times.
    unconfirmed_times: FrozenSet[str] = frozenset()

    def is_closed_day(self, service: str, day: date) -> bool:
        """A bank holiday (if enabled) or a staff closure for this service."""
        if self.bank_holidays and day in bank_holidays(day.year):
            return True
        return any(c.covers(service, day) for c in self.closures)

    def sessions_on(self, service: str, day: date) -> List[Session]:
        """The sessions of a service on a local calendar day, earliest first."""
        weekly = self._weekly(service)
        if self.is_closed_day(service, day):
            return []
        return sorted(
            (
                Session(
                    service,
                    datetime.combine(day, w.start, tzinfo=self.timezone),
                    datetime.combine(day, w.end, tzinfo=self.timezone),
                )
                for w in weekly
                if w.weekday == day.weekday()
            ),
            key=lambda s: s.start,
        )

    def current_session(self, service: str, at: datetime) -> Optional[Session]:
        """The session open at `at`, or None."""
        local = _utc(at).astimezone(self.timezone)
        return next((s for s in self.sessions_on(service, local.date()) if s.contains(at)), None)

    def is_open(self, service: str, at: datetime) -> bool:
        return self.current_session(service, at) is not None

    def next_session(self, service: str, at: datetime, search_days: int = SEARCH_DAYS) -> Optional[Session]:
        """The first session starting strictly after `at` within `search_days`, or None."""
        moment = _utc(at)
        first_day = moment.astimezone(self.timezone).date()
        for offset in range(search_days + 1):
            for session in self.sessions_on(service, first_day + timedelta(days=offset)):
                if session.start > moment:
                    return session
        return None

    def format_when(self, dt: datetime) -> str:
        return format_when(dt, self.timezone)

    def _weekly(self, service: str) -> Tuple[WeeklySession, ...]:
        try:
            return self.services[service]
        except KeyError:
            raise KeyError(f"unknown service {service!r}; known: {', '.join(self.services)}") from None


def format_when(dt: datetime, tz: tzinfo = LONDON) -> str:
    """E.g. "Thursday 27 November, 1pm" or "Monday 1 December, 9:30am", in local time."""
    local = _utc(dt).astimezone(tz)
    weekday, month = DAYS[local.weekday()].capitalize(), MONTHS[local.month - 1]
    return f"{weekday} {local.day} {month}, {format_clock(local, tz)}"


def format_clock(dt: datetime, tz: tzinfo = LONDON) -> str:
    """E.g. "1pm", "9:30am", "12pm" (noon), in local time."""
    local = _utc(dt).astimezone(tz)
    hour = local.hour % 12 or 12
    clock = f"{hour}" if local.minute == 0 else f"{hour}:{local.minute:02d}"
    return clock + ("am" if local.hour < 12 else "pm")


@lru_cache(maxsize=64)
def bank_holidays(year: int) -> FrozenSet[date]:
    """England and Wales bank holidays in a year, substitute days included."""
    return frozenset(holidays.country_holidays("GB", subdiv="ENG", years=year).keys())


def _utc(at: datetime) -> datetime:
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"naive datetime {at!r}: pass an aware datetime (with a timezone)")
    return at.astimezone(timezone.utc)


# --- loading and validating the YAML file -------------------------------------------------------


def load_policy(path: Optional[Path] = None, env: Mapping[str, str] = os.environ) -> ServicePolicy:
    """Read and validate the service hours file: `path`, else $SERVICE_HOURS_FILE, else the default."""
    chosen = Path(path or env.get(ENV_VAR) or DEFAULT_FILE)
    try:
        with open(chosen, encoding="utf-8") as handle:
            return parse_policy(yaml.safe_load(handle))
    except (ServiceHoursError, yaml.YAMLError) as error:
        raise ServiceHoursError(f"{chosen}: {error}") from None


def parse_policy(raw: Any) -> ServicePolicy:
    """Build a policy from the parsed YAML, raising ServiceHoursError naming any bad entry."""
    if not isinstance(raw, dict):
        raise ServiceHoursError("the file must be a mapping with timezone, services and closures")
    tz = _parse_timezone(raw.get("timezone", "Europe/London"))
    services_raw = raw.get("services")
    if not isinstance(services_raw, dict):
        raise ServiceHoursError("'services' must be a mapping of service name to a list of sessions")
    missing = [name for name in SERVICES if name not in services_raw]
    if missing:
        raise ServiceHoursError(f"services: missing {', '.join(missing)} (use an empty list [] for none)")
    services = {name: _parse_sessions(name, entries) for name, entries in services_raw.items()}
    closures_raw = raw.get("closures") or []
    if not isinstance(closures_raw, list):
        raise ServiceHoursError("'closures' must be a list")
    closures = tuple(_parse_closure(i, entry, set(services)) for i, entry in enumerate(closures_raw, 1))
    bank = raw.get("bank_holidays", True)
    if not isinstance(bank, bool):
        raise ServiceHoursError(f"bank_holidays: {bank!r} must be true or false")
    unconfirmed = raw.get("unconfirmed_times") or []
    if not isinstance(unconfirmed, list) or any(name not in services for name in unconfirmed):
        raise ServiceHoursError(f"unconfirmed_times: {unconfirmed!r} must be a list of services, e.g. [webchat]")
    return ServicePolicy(tz, MappingProxyType(services), closures, bank, frozenset(unconfirmed))


def _parse_timezone(value: Any) -> ZoneInfo:
    try:
        return ZoneInfo(str(value))
    except (ZoneInfoNotFoundError, ValueError):
        raise ServiceHoursError(f"timezone: unknown timezone {value!r} (use Europe/London)") from None


def _parse_sessions(service: str, entries: Any) -> Tuple[WeeklySession, ...]:
    if not isinstance(entries, list):
        raise ServiceHoursError(f"services.{service}: must be a list of {{day, start, end}}")
    where = f"services.{service} entry"
    return tuple(_parse_session(f"{where} {i} {entry!r}", entry) for i, entry in enumerate(entries, 1))


def _parse_session(where: str, entry: Any) -> WeeklySession:
    if not isinstance(entry, dict) or set(entry) != {"day", "start", "end"}:
        raise ServiceHoursError(f"{where}: needs exactly day, start and end")
    day = str(entry["day"]).strip().lower()
    if day not in DAYS:
        raise ServiceHoursError(f"{where}: unknown day {entry['day']!r} (use Monday to Sunday, in full)")
    start, end = _parse_time(where, entry["start"]), _parse_time(where, entry["end"])
    if end <= start:
        raise ServiceHoursError(f"{where}: end {end:%H:%M} is not after start {start:%H:%M}")
    return WeeklySession(DAYS.index(day), start, end)


def _parse_time(where: str, value: Any) -> time:
    if not isinstance(value, str):  # unquoted 13:00 is read by YAML as the number 780
        raise ServiceHoursError(f"{where}: time {value!r} must be in quotes, like \"13:00\"")
    match = _CLOCK.fullmatch(value.strip())
    if not match or int(match[1]) > 23 or int(match[2]) > 59:
        raise ServiceHoursError(f"{where}: bad time {value!r} (use 24-hour \"HH:MM\", like \"13:00\")")
    return time(int(match[1]), int(match[2]))


def _parse_closure(index: int, entry: Any, known: set) -> Closure:
    where = f"closures entry {index} {entry!r}"
    if not isinstance(entry, dict):
        raise ServiceHoursError(f"{where}: must be {{date, reason}} or {{from, to, reason}}")
    keys = set(entry) - {"reason", "services"}
    if keys == {"date"}:
        first = last = _parse_date(where, entry["date"])
    elif keys == {"from", "to"}:
        first, last = _parse_date(where, entry["from"]), _parse_date(where, entry["to"])
        if last < first:
            raise ServiceHoursError(f"{where}: 'to' {last} is before 'from' {first}")
    else:
        raise ServiceHoursError(f"{where}: give either date, or from and to")
    reason = entry.get("reason")
    if not isinstance(reason, str) or not reason.strip():
        raise ServiceHoursError(f"{where}: give a reason, e.g. \"Christmas closure\"")
    return Closure(first, last, reason.strip(), _parse_closure_services(where, entry.get("services"), known))


def _parse_closure_services(where: str, value: Any, known: set) -> Optional[FrozenSet[str]]:
    if value is None:
        return None
    if not isinstance(value, list) or not value:
        raise ServiceHoursError(f"{where}: services must be a list, e.g. [webchat]")
    unknown = [str(s) for s in value if s not in known]
    if unknown:
        names = ", ".join(sorted(known))
        raise ServiceHoursError(f"{where}: unknown service {', '.join(unknown)} (known: {names})")
    return frozenset(value)


def _parse_date(where: str, value: Any) -> date:
    if isinstance(value, datetime):
        raise ServiceHoursError(f"{where}: {value!r} must be a date without a time, like 2026-12-24")
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        raise ServiceHoursError(f"{where}: bad date {value!r} (use year-month-day, like 2026-12-24)") from None



# --- describing the weekly hours in words ---------------------------------------------------------

NO_REGULAR_HOURS = "at no regular times just now"


def describe_hours(policy: ServicePolicy, service: str) -> str:
    """A service's weekly hours in plain English, e.g. "Monday to Friday 9.30am to 3pm, not bank holidays"
    or "Monday and Thursday 1pm to 3pm, not bank holidays" ("Monday and Thursday afternoons, not bank holidays"
    when the policy lists the service under unconfirmed_times). Days with the same times are said together;
    staff closures are not mentioned (they change; the handoff reply gives the next real session)."""
    by_day = {}
    for weekly in sorted(policy._weekly(service), key=lambda w: (w.weekday, w.start)):
        by_day.setdefault(weekly.weekday, []).append((weekly.start, weekly.end))
    if not by_day:
        return NO_REGULAR_HOURS
    groups: dict = {}  # the day's times (or part of the day) -> the days with those, in week order
    for weekday, times in by_day.items():
        part = _part_of_day(times) if service in policy.unconfirmed_times else None
        groups.setdefault(part or tuple(times), []).append(weekday)
    parts = [f"{_days_in_words(days)} {times}" if isinstance(times, str) else
             f"{_days_in_words(days)} {_and([f'{_clock_words(s)} to {_clock_words(e)}' for s, e in times])}"
             for times, days in groups.items()]
    return ", ".join(parts) + (", not bank holidays" if policy.bank_holidays else "")


def hours_words(policy: ServicePolicy) -> Mapping[str, str]:
    """The placeholders user-facing text may use: {advice_line_hours} and {webchat_hours}."""
    return {f"{service}_hours": describe_hours(policy, service) for service in SERVICES}


def fill_hours(text: str, words: Mapping[str, str]) -> str:
    """`text` with each {name} of `words` replaced; other {placeholders} are left for their callers."""
    for name, value in words.items():
        text = text.replace("{" + name + "}", value)
    return text


def _part_of_day(times: List[Tuple[time, time]]) -> Optional[str]:
    """"mornings", "afternoons" or "evenings" when every session fits in one, else None (say the times)."""
    if all(end <= time(12) for _, end in times):
        return "mornings"
    if all(start >= time(12) and end <= time(18) for start, end in times):
        return "afternoons"
    if all(start >= time(17) for start, _ in times):
        return "evenings"
    return None


def _clock_words(at: time) -> str:
    """E.g. "1pm", "9.30am", "12pm" (noon): the charity's own style."""
    hour = at.hour % 12 or 12
    clock = f"{hour}" if at.minute == 0 else f"{hour}.{at.minute:02d}"
    return clock + ("am" if at.hour < 12 else "pm")


def _days_in_words(weekdays: List[int]) -> str:
    """Runs of three or more days become "Monday to Friday"; e.g. "Monday, Tuesday and Thursday"."""
    runs: List[List[int]] = []
    for day in weekdays:
        if runs and day == runs[-1][-1] + 1:
            runs[-1].append(day)
        else:
            runs.append([day])
    names = []
    for run in runs:
        if len(run) >= 3:
            names.append(f"{DAYS[run[0]].capitalize()} to {DAYS[run[-1]].capitalize()}")
        else:
            names += [DAYS[day].capitalize() for day in run]
    return _and(names)


def _and(items: List[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]
