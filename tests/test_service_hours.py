"""Staffed hours: sessions, edges, DST, bank holidays, closures, formatting and the YAML file. No wall clock."""
from datetime import date, datetime, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml

from bot.service_hours import (
    DEFAULT_FILE,
    LONDON,
    ServiceHoursError,
    ServicePolicy,
    bank_holidays,
    format_clock,
    format_when,
    load_policy,
    parse_policy,
)

UTC = timezone.utc
WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"]


def raw_policy(closures=(), bank=True, webchat=None):
    """The shipped defaults, written out here so a staff edit to the file does not break these tests."""
    return {
        "timezone": "Europe/London",
        "bank_holidays": bank,
        "services": {
            "webchat": webchat
            if webchat is not None
            else [{"day": d, "start": "13:00", "end": "15:00"} for d in ("Monday", "Thursday")],
            "advice_line": [{"day": d, "start": "09:30", "end": "15:00"} for d in WEEKDAYS],
        },
        "closures": list(closures),
    }


def policy(**kwargs) -> ServicePolicy:
    return parse_policy(raw_policy(**kwargs))


POLICY = policy()


def ldn(*args) -> datetime:
    return datetime(*args, tzinfo=LONDON)


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


# --- the edges of a session -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "at, expected",
    [
        (ldn(2026, 11, 23, 12, 59, 59), False),
        (ldn(2026, 11, 23, 13, 0, 0), True),
        (ldn(2026, 11, 23, 14, 0, 0), True),
        (ldn(2026, 11, 23, 14, 59, 59), True),
        (ldn(2026, 11, 23, 14, 59, 59, 999999), True),
        (ldn(2026, 11, 23, 15, 0, 0), False),
        (ldn(2026, 11, 24, 13, 30), False),  # Tuesday: no webchat
        (ldn(2026, 11, 26, 13, 0, 0), True),  # Thursday
        (ldn(2026, 11, 26, 15, 0, 0), False),
        (ldn(2026, 11, 28, 13, 30), False),  # Saturday
    ],
)
def test_webchat_session_edges(at, expected):
    assert POLICY.is_open("webchat", at) is expected
    assert (POLICY.current_session("webchat", at) is not None) is expected


@pytest.mark.parametrize(
    "at, expected",
    [
        (ldn(2026, 11, 27, 9, 29, 59), False),
        (ldn(2026, 11, 27, 9, 30, 0), True),
        (ldn(2026, 11, 27, 14, 59, 59), True),
        (ldn(2026, 11, 27, 15, 0, 0), False),
        (ldn(2026, 11, 28, 10, 0), False),  # Saturday
        (ldn(2026, 11, 29, 10, 0), False),  # Sunday
    ],
)
def test_advice_line_edges(at, expected):
    assert POLICY.is_open("advice_line", at) is expected


def test_current_session_has_aware_start_and_end():
    session = POLICY.current_session("webchat", ldn(2026, 11, 23, 14, 0))
    assert session.service == "webchat"
    assert session.start == ldn(2026, 11, 23, 13, 0) and session.end == ldn(2026, 11, 23, 15, 0)
    assert session.start.utcoffset() is not None and session.end.utcoffset() is not None


def test_a_time_given_in_another_zone_is_compared_as_the_same_instant():
    new_york = ZoneInfo("America/New_York")
    assert POLICY.is_open("webchat", datetime(2026, 11, 23, 8, 30, tzinfo=new_york))  # 13:30 GMT
    assert not POLICY.is_open("webchat", datetime(2026, 11, 23, 7, 59, tzinfo=new_york))


# --- daylight saving time -------------------------------------------------------------------------


def test_monday_after_the_march_change_is_13_london_12_utc():
    # Clocks go forward on Sunday 29 March 2026.
    assert not POLICY.is_open("webchat", utc(2026, 3, 30, 11, 59, 59))
    assert POLICY.is_open("webchat", utc(2026, 3, 30, 12, 0, 0))
    assert POLICY.is_open("webchat", utc(2026, 3, 30, 13, 59, 59))
    assert not POLICY.is_open("webchat", utc(2026, 3, 30, 14, 0, 0))
    session = POLICY.current_session("webchat", utc(2026, 3, 30, 12, 0))
    assert session.start.astimezone(UTC) == utc(2026, 3, 30, 12, 0)


def test_thursday_before_the_march_change_is_13_utc():
    assert not POLICY.is_open("webchat", utc(2026, 3, 26, 12, 30))
    assert POLICY.is_open("webchat", utc(2026, 3, 26, 13, 0))
    assert POLICY.is_open("webchat", utc(2026, 3, 26, 14, 59, 59))


def test_monday_after_the_october_change_is_13_london_13_utc():
    # Clocks go back on Sunday 25 October 2026.
    assert not POLICY.is_open("webchat", utc(2026, 10, 26, 12, 0))
    assert not POLICY.is_open("webchat", utc(2026, 10, 26, 12, 59, 59))
    assert POLICY.is_open("webchat", utc(2026, 10, 26, 13, 0))
    assert POLICY.is_open("webchat", utc(2026, 10, 26, 14, 59, 59))
    assert not POLICY.is_open("webchat", utc(2026, 10, 26, 15, 0))


def test_next_session_across_the_spring_change():
    session = POLICY.next_session("webchat", ldn(2026, 3, 27, 10, 0))  # Friday before
    assert session.start.astimezone(UTC) == utc(2026, 3, 30, 12, 0)
    assert session.end.astimezone(UTC) == utc(2026, 3, 30, 14, 0)


def test_next_session_across_the_autumn_change():
    session = POLICY.next_session("webchat", ldn(2026, 10, 22, 15, 0))  # Thursday, as it closes
    assert session.start.astimezone(UTC) == utc(2026, 10, 26, 13, 0)


def test_advice_line_on_the_monday_after_each_change():
    assert POLICY.is_open("advice_line", utc(2026, 3, 30, 8, 30))  # 9:30 BST
    assert not POLICY.is_open("advice_line", utc(2026, 3, 30, 8, 29, 59))
    assert POLICY.is_open("advice_line", utc(2026, 10, 26, 9, 30))  # 9:30 GMT
    assert not POLICY.is_open("advice_line", utc(2026, 10, 26, 8, 30))


# --- next session ------------------------------------------------------------------------------------


def test_next_session_starts_strictly_after_now():
    assert POLICY.next_session("webchat", ldn(2026, 11, 23, 12, 59, 59)).start == ldn(2026, 11, 23, 13, 0)
    assert POLICY.next_session("webchat", ldn(2026, 11, 23, 13, 0)).start == ldn(2026, 11, 26, 13, 0)
    assert POLICY.next_session("webchat", ldn(2026, 11, 23, 14, 0)).start == ldn(2026, 11, 26, 13, 0)
    assert POLICY.next_session("webchat", ldn(2026, 11, 26, 15, 0)).start == ldn(2026, 11, 30, 13, 0)


def test_next_advice_line_after_friday_is_monday():
    assert POLICY.next_session("advice_line", ldn(2026, 11, 27, 15, 0)).start == ldn(2026, 11, 30, 9, 30)


def test_no_sessions_means_no_next_session():
    empty = policy(webchat=[])
    assert empty.next_session("webchat", ldn(2026, 11, 23, 12, 0)) is None
    assert not empty.is_open("webchat", ldn(2026, 11, 23, 13, 30))


def test_unknown_service_is_a_key_error():
    with pytest.raises(KeyError, match="phone"):
        POLICY.is_open("phone", ldn(2026, 11, 23, 13, 30))


# --- bank holidays -------------------------------------------------------------------------------------


def test_holidays_package_gives_substitute_days():
    assert {date(2026, 12, 25), date(2026, 12, 28)} <= bank_holidays(2026)
    assert date(2026, 12, 26) in bank_holidays(2026)  # Boxing Day itself, a Saturday
    assert {date(2027, 12, 27), date(2027, 12, 28)} <= bank_holidays(2027)
    assert {date(2027, 3, 26), date(2027, 3, 29)} <= bank_holidays(2027)
    assert date(2026, 12, 29) not in bank_holidays(2026)


def test_good_friday_and_easter_monday_2027():
    assert not POLICY.is_open("advice_line", ldn(2027, 3, 26, 10, 0))  # Good Friday
    assert not POLICY.is_open("advice_line", ldn(2027, 3, 29, 10, 0))  # Easter Monday
    assert not POLICY.is_open("webchat", ldn(2027, 3, 29, 13, 30))
    assert POLICY.is_open("advice_line", ldn(2027, 3, 30, 10, 0))
    assert POLICY.next_session("advice_line", ldn(2027, 3, 25, 15, 0)).start == ldn(2027, 3, 30, 9, 30)
    assert POLICY.next_session("webchat", ldn(2027, 3, 25, 15, 0)).start == ldn(2027, 4, 1, 13, 0)


def test_christmas_2026_and_the_boxing_day_substitute():
    assert not POLICY.is_open("advice_line", ldn(2026, 12, 25, 10, 0))  # Christmas Day, Friday
    assert not POLICY.is_open("advice_line", ldn(2026, 12, 28, 10, 0))  # substitute for Boxing Day
    assert not POLICY.is_open("webchat", ldn(2026, 12, 28, 13, 30))
    assert POLICY.is_open("advice_line", ldn(2026, 12, 29, 10, 0))
    assert POLICY.is_open("webchat", ldn(2026, 12, 24, 13, 30))  # Christmas Eve is not a bank holiday
    assert POLICY.next_session("webchat", ldn(2026, 12, 24, 15, 0)).start == ldn(2026, 12, 31, 13, 0)
    assert POLICY.next_session("advice_line", ldn(2026, 12, 24, 15, 0)).start == ldn(2026, 12, 29, 9, 30)


def test_bank_holidays_can_be_switched_off():
    assert policy(bank=False).is_open("webchat", ldn(2026, 12, 28, 13, 30))


# --- staff closures ------------------------------------------------------------------------------------

CHRISTMAS = {"from": date(2026, 12, 24), "to": date(2027, 1, 1), "reason": "Christmas closure"}


def test_a_christmas_closure_range_spans_sessions():
    closed = policy(closures=[CHRISTMAS])
    assert not closed.is_open("webchat", ldn(2026, 12, 24, 13, 30))  # first day included
    assert not closed.is_open("webchat", ldn(2026, 12, 31, 13, 30))
    assert not closed.is_open("advice_line", ldn(2026, 12, 29, 10, 0))
    assert closed.is_open("advice_line", ldn(2026, 12, 23, 10, 0))
    assert closed.next_session("webchat", ldn(2026, 12, 24, 12, 0)).start == ldn(2027, 1, 4, 13, 0)
    assert closed.next_session("advice_line", ldn(2026, 12, 23, 15, 0)).start == ldn(2027, 1, 4, 9, 30)


def test_closure_dates_may_be_strings_and_the_last_day_is_included():
    closed = policy(closures=[{"from": "2026-11-23", "to": "2026-11-26", "reason": "Office move"}])
    assert not closed.is_open("webchat", ldn(2026, 11, 26, 13, 30))
    assert closed.is_open("advice_line", ldn(2026, 11, 27, 10, 0))


def test_a_single_date_closure_for_one_service():
    closed = policy(closures=[{"date": date(2026, 11, 26), "reason": "Training", "services": ["webchat"]}])
    assert not closed.is_open("webchat", ldn(2026, 11, 26, 13, 30))
    assert closed.is_open("advice_line", ldn(2026, 11, 26, 13, 30))
    assert closed.is_open("webchat", ldn(2026, 11, 23, 13, 30))


def test_next_session_across_a_long_closure():
    closed = policy(closures=[{"from": date(2026, 1, 1), "to": date(2026, 6, 30), "reason": "Funding pause"}])
    assert closed.next_session("webchat", ldn(2025, 12, 31, 9, 0)).start == ldn(2026, 7, 2, 13, 0)


def test_next_session_gives_up_after_the_search_window():
    closed = policy(closures=[{"from": date(2026, 1, 1), "to": date(2028, 1, 1), "reason": "Closed"}])
    assert closed.next_session("webchat", ldn(2026, 1, 1, 9, 0)) is None


# --- formatting -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "dt, text",
    [
        (ldn(2025, 11, 27, 13, 0), "Thursday 27 November, 1pm"),
        (ldn(2025, 12, 1, 9, 30), "Monday 1 December, 9:30am"),
        (ldn(2026, 11, 23, 12, 0), "Monday 23 November, 12pm"),
        (ldn(2026, 11, 23, 12, 30), "Monday 23 November, 12:30pm"),
        (ldn(2026, 11, 23, 0, 0), "Monday 23 November, 12am"),
        (ldn(2026, 11, 23, 9, 5), "Monday 23 November, 9:05am"),
        (ldn(2026, 12, 31, 23, 59), "Thursday 31 December, 11:59pm"),
        (utc(2026, 6, 1, 12, 0), "Monday 1 June, 1pm"),  # UTC in, London summer time out
        (utc(2026, 1, 5, 13, 0), "Monday 5 January, 1pm"),
    ],
)
def test_format_when(dt, text):
    assert format_when(dt) == text
    assert POLICY.format_when(dt) == text


def test_format_clock():
    assert [format_clock(ldn(2026, 1, 5, h, m)) for h, m in [(9, 30), (15, 0), (12, 0), (0, 15)]] == [
        "9:30am", "3pm", "12pm", "12:15am"]


# --- naive datetimes are refused --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "call",
    [
        lambda at: POLICY.is_open("webchat", at),
        lambda at: POLICY.current_session("webchat", at),
        lambda at: POLICY.next_session("webchat", at),
        lambda at: format_when(at),
        lambda at: format_clock(at),
    ],
)
def test_naive_datetimes_are_rejected(call):
    with pytest.raises(ValueError, match="naive"):
        call(datetime(2026, 11, 23, 13, 30))


# --- the YAML file ------------------------------------------------------------------------------------------


def test_the_shipped_file_loads_with_monday_and_thursday_webchat():
    shipped = load_policy(DEFAULT_FILE, env={})
    assert shipped.timezone.key == "Europe/London" and shipped.bank_holidays
    assert sorted(w.weekday for w in shipped.services["webchat"]) == [0, 3]
    assert sorted(w.weekday for w in shipped.services["advice_line"]) == [0, 1, 2, 3, 4]
    assert shipped.is_open("advice_line", ldn(2026, 11, 24, 9, 30))


def test_the_shipped_file_marks_the_webchat_times_as_a_placeholder():
    assert "PLACEHOLDER" in DEFAULT_FILE.read_text(encoding="utf-8")


def _write(tmp_path: Path, raw) -> Path:
    path = tmp_path / "hours.yml"
    path.write_text(yaml.safe_dump(raw) if not isinstance(raw, str) else raw, encoding="utf-8")
    return path


def test_env_var_chooses_the_file_and_a_path_argument_wins(tmp_path):
    path = _write(tmp_path, raw_policy(webchat=[{"day": "Tuesday", "start": "10:00", "end": "11:00"}]))
    from_env = load_policy(env={"SERVICE_HOURS_FILE": str(path)})
    assert from_env.is_open("webchat", ldn(2026, 11, 24, 10, 30))
    from_path = load_policy(DEFAULT_FILE, env={"SERVICE_HOURS_FILE": str(path)})
    assert from_path.is_open("webchat", ldn(2026, 11, 23, 13, 30))


def test_a_changed_schedule_needs_no_code_change(tmp_path):
    raw = raw_policy(webchat=[{"day": "wednesday", "start": "14:00", "end": "16:30"}])
    changed = load_policy(_write(tmp_path, raw), env={})
    assert changed.is_open("webchat", ldn(2026, 11, 25, 16, 29))
    assert not changed.is_open("webchat", ldn(2026, 11, 23, 13, 30))


def test_a_yaml_closure_with_real_dates(tmp_path):
    text = DEFAULT_FILE.read_text(encoding="utf-8").replace(
        "closures: []", 'closures:\n  - {from: 2026-12-24, to: 2027-01-01, reason: "Christmas closure"}')
    loaded = load_policy(_write(tmp_path, text), env={})
    assert loaded.closures[0].first == date(2026, 12, 24) and loaded.closures[0].reason == "Christmas closure"
    assert not loaded.is_open("webchat", ldn(2026, 12, 31, 13, 30))


def _session_error(entry) -> str:
    raw = raw_policy()
    raw["services"]["webchat"].append(entry)
    with pytest.raises(ServiceHoursError) as caught:
        parse_policy(raw)
    return str(caught.value)


def test_unknown_day_names_the_entry():
    message = _session_error({"day": "Thurs", "start": "13:00", "end": "15:00"})
    assert "services.webchat entry 3" in message and "unknown day 'Thurs'" in message


def test_end_before_start_names_the_entry():
    message = _session_error({"day": "Friday", "start": "15:00", "end": "13:00"})
    assert "services.webchat entry 3" in message and "not after start" in message


def test_end_equal_to_start_is_refused():
    assert "not after start" in _session_error({"day": "Friday", "start": "13:00", "end": "13:00"})


@pytest.mark.parametrize("bad", [780, "25:00", "1pm", "13.00", "13:60"])
def test_bad_times_are_refused(bad):
    message = _session_error({"day": "Friday", "start": bad, "end": "15:00"})
    assert "services.webchat entry 3" in message and repr(bad) in message


def test_missing_field_is_refused():
    assert "needs exactly day, start and end" in _session_error({"day": "Friday", "start": "13:00"})


def _closure_error(entry) -> str:
    with pytest.raises(ServiceHoursError) as caught:
        parse_policy(raw_policy(closures=[CHRISTMAS, entry]))
    return str(caught.value)


def test_bad_date_names_the_closure():
    message = _closure_error({"date": "2026-02-30", "reason": "Typo"})
    assert "closures entry 2" in message and "bad date '2026-02-30'" in message


def test_range_ending_before_it_starts_is_refused():
    assert "before 'from'" in _closure_error({"from": "2027-01-02", "to": "2027-01-01", "reason": "Backwards"})


@pytest.mark.parametrize(
    "entry, words",
    [
        ({"date": "2026-12-24"}, "give a reason"),
        ({"date": "2026-12-24", "from": "2026-12-24", "to": "2026-12-25", "reason": "Both"}, "either date"),
        ({"from": "2026-12-24", "reason": "No end"}, "either date"),
        ({"date": "2026-12-24", "reason": "Typo", "services": ["webchta"]}, "unknown service webchta"),
        ({"date": datetime(2026, 12, 24, 9, 0), "reason": "Has a time"}, "without a time"),
    ],
)
def test_other_bad_closures(entry, words):
    message = _closure_error(entry)
    assert "closures entry 2" in message and words in message


def test_unknown_timezone_and_missing_service_are_refused():
    raw = raw_policy()
    raw["timezone"] = "Europe/Londn"
    with pytest.raises(ServiceHoursError, match="Europe/Londn"):
        parse_policy(raw)
    raw = raw_policy()
    del raw["services"]["advice_line"]
    with pytest.raises(ServiceHoursError, match="missing advice_line"):
        parse_policy(raw)


def test_bank_holidays_must_be_true_or_false():
    with pytest.raises(ServiceHoursError, match="bank_holidays"):
        parse_policy(raw_policy(bank="yes please"))


def test_load_errors_name_the_file(tmp_path):
    raw = raw_policy(webchat=[{"day": "Funday", "start": "13:00", "end": "15:00"}])
    path = _write(tmp_path, raw)
    with pytest.raises(ServiceHoursError, match="hours.yml.*Funday"):
        load_policy(path, env={})
    with pytest.raises(ServiceHoursError, match="hours.yml"):
        load_policy(_write(tmp_path, "services: [unclosed"), env={})
