"""Monthly SMS credit periods that run from the account's anniversary day."""
import calendar
from datetime import date, datetime
from typing import Tuple


def _as_date(value, what: str) -> date:
    """Accept a date or datetime and drop the time so comparisons are by day."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    raise TypeError(f"{what} must be a date, got {type(value).__name__}")


def _anniversary(year: int, month: int, day: int) -> date:
    """Return the anniversary in a month, clamped to its last day when the month is short."""
    return date(year, month, min(day, calendar.monthrange(year, month)[1]))


def _shift(year: int, month: int, months: int) -> Tuple[int, int]:
    """Move a (year, month) pair by a number of months."""
    index = year * 12 + (month - 1) + months
    return index // 12, index % 12 + 1


def period_for(anchor, today) -> Tuple[date, date]:
    """Return (start, end) of the credit period holding today; end is exclusive.

    Each boundary is computed from the anchor's day, not the previous boundary, so
    an anchor on the 31st goes Jan 31 -> Feb 28 -> Mar 31 instead of drifting to the 28th.
    """
    anchor = _as_date(anchor, "anchor")
    today = _as_date(today, "today")
    if today < anchor:
        raise ValueError(f"today ({today}) is before the account was created ({anchor})")
    year, month = today.year, today.month
    start = _anniversary(year, month, anchor.day)
    if start > today:
        year, month = _shift(year, month, -1)
        start = _anniversary(year, month, anchor.day)
    end = _anniversary(*_shift(year, month, 1), anchor.day)
    return start, end


def next_reset(anchor, today) -> date:
    """Return the day the monthly credits next reset."""
    return period_for(anchor, today)[1]
