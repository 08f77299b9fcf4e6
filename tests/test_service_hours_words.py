"""The weekly hours in words (bot.service_hours.describe_hours): whatever staff put in the file."""
import pytest

from bot.service_hours import describe_hours, fill_hours, hours_words, parse_policy


def words(webchat, advice_line=(), bank=True, unconfirmed=()):
    def sessions(spec):
        return [{"day": d, "start": s, "end": e} for d, s, e in spec]

    policy = parse_policy({"timezone": "Europe/London", "bank_holidays": bank,
                           "services": {"webchat": sessions(webchat), "advice_line": sessions(advice_line)},
                           "unconfirmed_times": list(unconfirmed)})
    return describe_hours(policy, "webchat")


WEEK = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday")


@pytest.mark.parametrize("webchat, bank, expected", [
    ([(d, "09:30", "15:00") for d in WEEK], True, "Monday to Friday 9.30am to 3pm, not bank holidays"),
    ([("Monday", "13:00", "15:00"), ("Thursday", "13:00", "15:00")], True,
     "Monday and Thursday 1pm to 3pm, not bank holidays"),
    ([("Wednesday", "13:00", "15:00")], True, "Wednesday 1pm to 3pm, not bank holidays"),
    ([("Wednesday", "13:00", "15:00")], False, "Wednesday 1pm to 3pm"),
    ([("Saturday", "10:00", "12:00"), ("Sunday", "10:00", "12:00")], False, "Saturday and Sunday 10am to 12pm"),
    ([(d, "09:00", "17:00") for d in ("Friday", "Saturday", "Sunday")], True,
     "Friday to Sunday 9am to 5pm, not bank holidays"),
    ([(d, "09:30", "15:00") for d in ("Monday", "Tuesday", "Thursday")], False,
     "Monday, Tuesday and Thursday 9.30am to 3pm"),
    ([(d, "09:30", "15:00") for d in ("Monday", "Wednesday", "Thursday", "Friday")], False,
     "Monday and Wednesday to Friday 9.30am to 3pm"),
    # different times on different days, given in any order in the file
    ([("Thursday", "13:00", "15:00"), ("Monday", "09:30", "12:15"), ("Tuesday", "09:30", "12:15")], True,
     "Monday and Tuesday 9.30am to 12.15pm, Thursday 1pm to 3pm, not bank holidays"),
    # two sessions on one day
    ([("Monday", "13:00", "15:00"), ("Monday", "10:00", "11:30")], False, "Monday 10am to 11.30am and 1pm to 3pm"),
    ([("Sunday", "00:00", "00:30")], False, "Sunday 12am to 12.30am"),
    ([], True, "at no regular times just now"),
])
def test_hours_in_words(webchat, bank, expected):
    assert words(webchat, bank=bank) == expected


def test_placeholders_for_both_services_and_other_placeholders_left_alone():
    policy = parse_policy({"services": {"webchat": [{"day": "Wednesday", "start": "14:00", "end": "16:00"}],
                                        "advice_line": [{"day": "Saturday", "start": "09:30", "end": "15:00"}]},
                           "bank_holidays": False})
    given = hours_words(policy)
    assert given == {"webchat_hours": "Wednesday 2pm to 4pm", "advice_line_hours": "Saturday 9.30am to 3pm"}
    text = "Call us ({advice_line_hours}); webchat {webchat_hours}; next {when}."
    assert fill_hours(text, given) == "Call us (Saturday 9.30am to 3pm); webchat Wednesday 2pm to 4pm; next {when}."


@pytest.mark.parametrize("webchat, expected", [
    ([("Monday", "13:00", "15:00"), ("Thursday", "14:00", "16:30")], "Monday and Thursday afternoons"),
    ([("Wednesday", "09:00", "12:00")], "Wednesday mornings"),
    ([("Saturday", "18:00", "20:00"), ("Sunday", "18:00", "20:00")], "Saturday and Sunday evenings"),
    ([("Monday", "10:00", "14:00"), ("Tuesday", "13:00", "15:00")], "Monday 10am to 2pm, Tuesday afternoons"),
])
def test_unconfirmed_times_are_said_as_the_part_of_the_day(webchat, expected):
    assert words(webchat, bank=False, unconfirmed=["webchat"]) == expected
    assert words(webchat, bank=True, unconfirmed=["webchat"]) == expected + ", not bank holidays"


def test_the_shipped_file_says_webchat_afternoons_until_staff_confirm_the_times():
    from bot.service_hours import DEFAULT_FILE, load_policy

    given = hours_words(load_policy(DEFAULT_FILE))
    assert given["advice_line_hours"] == "Monday to Friday 9.30am to 3pm, not bank holidays"  # FACTS.md section 1
    assert given["webchat_hours"] == "Monday and Thursday afternoons, not bank holidays"  # times UNVERIFIED


def test_unconfirmed_times_must_name_known_services():
    from bot.service_hours import ServiceHoursError

    with pytest.raises(ServiceHoursError, match="unconfirmed_times"):
        parse_policy({"services": {"webchat": [], "advice_line": []}, "unconfirmed_times": ["chat"]})
