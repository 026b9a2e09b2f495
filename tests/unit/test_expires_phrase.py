"""The one expiry phrase of the sent dialog, the owner's manage view and the recipient's player, at its boundaries."""
from datetime import datetime, timedelta, timezone

import pytest

from coretet.services.listen import expiry_text
from coretet.services.sharing import expires_phrase

NOW = datetime(2026, 11, 26, 14, 0, tzinfo=timezone.utc)
SECOND = timedelta(seconds=1)


@pytest.mark.parametrize("left, phrase", [
    (timedelta(days=7), "expires in 7 days"),
    (timedelta(days=7) - SECOND, "expires in 7 days"),  # a 7-day share, a moment after sending
    (timedelta(days=7) - timedelta(minutes=5), "expires in 7 days"),
    (timedelta(days=30) - SECOND, "expires in 30 days"),
    (timedelta(days=6, hours=12), "expires in 7 days"),  # to the nearest day
    (timedelta(days=6, hours=12) - SECOND, "expires in 6 days"),
    (timedelta(days=2), "expires in 2 days"),
    (timedelta(hours=36), "expires in 2 days"),
    (timedelta(hours=36) - SECOND, "expires tomorrow"),
    (timedelta(days=1), "expires tomorrow"),
    (timedelta(days=1) - SECOND, "expires in 23 hours"),
    (timedelta(hours=3), "expires in 3 hours"),
    (timedelta(hours=3) - SECOND, "expires in 3 hours"),
    (timedelta(hours=2, minutes=30) - SECOND, "expires in 2 hours"),
    (timedelta(hours=1), "expires in 1 hour"),
    (timedelta(hours=1) - SECOND, "expires in under an hour"),
    (SECOND, "expires in under an hour"),
    (timedelta(0), "expired"),
    (-timedelta(days=3), "expired"),
])
def test_expiry_reads_as_people_say_it(left, phrase):
    assert expires_phrase(NOW + left, NOW) == phrase


def test_no_end_never_expires():
    assert expires_phrase(None, NOW) == "never expires"


def test_the_player_capitalises_the_same_phrase():
    assert expiry_text(NOW + timedelta(days=7) - SECOND, NOW) == "Expires in 7 days"
    assert expiry_text(NOW + timedelta(hours=30), NOW) == "Expires tomorrow"
    assert expiry_text(None, NOW) == "Never expires"
