"""Monthly SMS credit periods anchored on the account's anniversary day."""
from datetime import date, datetime

import pytest

from coretet.services.credits_period import next_reset, period_for

d = date


def test_period_runs_from_anniversary_to_next_anniversary():
    assert period_for(d(2027, 3, 15), d(2027, 5, 20)) == (d(2027, 5, 15), d(2027, 6, 15))


def test_day_before_anniversary_belongs_to_previous_period():
    assert period_for(d(2027, 3, 15), d(2027, 5, 14)) == (d(2027, 4, 15), d(2027, 5, 15))


def test_anniversary_day_itself_starts_a_new_period():
    assert period_for(d(2027, 3, 15), d(2027, 4, 15)) == (d(2027, 4, 15), d(2027, 5, 15))


def test_account_creation_day_is_the_first_period():
    assert period_for(d(2027, 3, 15), d(2027, 3, 15)) == (d(2027, 3, 15), d(2027, 4, 15))


@pytest.mark.parametrize(
    "today, period",
    [
        (d(2027, 2, 27), (d(2027, 1, 31), d(2027, 2, 28))),
        (d(2027, 2, 28), (d(2027, 2, 28), d(2027, 3, 31))),
        (d(2027, 3, 30), (d(2027, 2, 28), d(2027, 3, 31))),
        (d(2027, 3, 31), (d(2027, 3, 31), d(2027, 4, 30))),
        (d(2027, 4, 30), (d(2027, 4, 30), d(2027, 5, 31))),
        (d(2027, 5, 31), (d(2027, 5, 31), d(2027, 6, 30))),
    ],
)
def test_anchor_on_the_31st_clamps_short_months_and_returns_to_the_31st(today, period):
    assert period_for(d(2027, 1, 31), today) == period


def test_anchor_on_the_31st_uses_february_29_in_leap_years():
    assert period_for(d(2028, 1, 31), d(2028, 2, 29)) == (d(2028, 2, 29), d(2028, 3, 31))
    assert period_for(d(2028, 1, 31), d(2028, 2, 28)) == (d(2028, 1, 31), d(2028, 2, 29))


def test_leap_day_anchor_uses_feb_28_in_common_years_and_29_elsewhere():
    anchor = date(2028, 2, 29)
    assert period_for(anchor, d(2028, 3, 1)) == (d(2028, 2, 29), d(2028, 3, 29))
    assert period_for(anchor, d(2029, 2, 28)) == (d(2029, 2, 28), d(2029, 3, 29))
    assert period_for(anchor, d(2029, 2, 27)) == (d(2029, 1, 29), d(2029, 2, 28))
    assert period_for(anchor, d(2032, 2, 29)) == (d(2032, 2, 29), d(2032, 3, 29))


def test_december_period_ends_in_january_of_next_year():
    assert period_for(d(2026, 6, 20), d(2026, 12, 25)) == (d(2026, 12, 20), d(2027, 1, 20))


def test_early_january_belongs_to_period_that_began_in_december():
    assert period_for(d(2026, 6, 20), d(2027, 1, 3)) == (d(2026, 12, 20), d(2027, 1, 20))


def test_periods_cover_every_day_without_gaps_or_overlaps():
    anchor = date(2027, 1, 31)
    day = anchor
    start, end = period_for(anchor, day)
    while day < date(2030, 1, 1):
        current = period_for(anchor, day)
        assert current[0] <= day < current[1]
        if current != (start, end):
            assert current[0] == end
            start, end = current
        day = date.fromordinal(day.toordinal() + 1)


def test_next_reset_is_end_of_current_period():
    assert next_reset(d(2027, 1, 31), d(2027, 2, 10)) == d(2027, 2, 28)


def test_datetimes_are_accepted_as_days():
    assert period_for(datetime(2027, 3, 15, 23, 59), datetime(2027, 4, 15, 0, 1)) == (
        date(2027, 4, 15), date(2027, 5, 15),
    )


def test_today_before_account_creation_is_an_error():
    with pytest.raises(ValueError):
        period_for(date(2027, 3, 15), date(2027, 3, 14))


def test_non_dates_are_refused():
    with pytest.raises(TypeError):
        period_for("2027-03-15", date(2027, 3, 16))
