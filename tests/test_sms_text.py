"""The share texts: plain GSM-7, one segment, code and link never cut."""
from datetime import datetime, timezone

import pytest

from coretet.services.sms_text import SMS_LIMIT, gsm7, is_gsm7, new_code_text, share_text

CODE = "A7K9M2"
LINK = "https://coretet.app/listen/" + "Ab3_-" * 8 + "xyz"  # as long as a real 256-bit token
DEC_3 = datetime(2025, 12, 3, 18, 0, tzinfo=timezone.utc)

NAMES = ["Alex", "Алексей Смирнов", "Zoë 🎸 Bartholomew-Smythe " * 6, "🎸🎹🥁", "王小明", ""]
TITLES = ["Summer EP Demos", "Летние демо", "T" * 300, "“Quoted” — ünïcode… 🎶 " * 12, "🎶", "  "]


def assert_one_segment(text):
    assert len(text) <= SMS_LIMIT, (len(text), text)
    assert is_gsm7(text), text
    assert CODE in text and LINK in text


def test_the_example_from_the_spec():
    text = share_text("Alex", "Summer EP Demos", 5, CODE, LINK, DEC_3)
    assert text == f'CoreTet: Alex shared "Summer EP Demos" (5 tracks). Code {CODE} {LINK} Expires Dec 3'


def test_never_expiring_share_says_nothing_about_expiry():
    text = share_text("Alex", "Demos", 1, CODE, LINK, None)
    assert text == f'CoreTet: Alex shared "Demos" (1 track). Code {CODE} {LINK}'


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("title", TITLES)
def test_any_name_and_title_fit_one_gsm7_segment(name, title):
    assert_one_segment(share_text(name, title, 12, CODE, LINK, DEC_3))
    assert_one_segment(new_code_text(title, CODE, LINK))


def test_long_titles_are_shortened_before_names():
    text = share_text("Alexandra", "Demo " * 60, 5, CODE, LINK, DEC_3)
    assert "Alexandra shared" in text and '..."' in text
    assert SMS_LIMIT - 3 <= len(text) <= SMS_LIMIT


def test_a_name_is_shortened_once_the_title_is_as_short_as_it_gets():
    text = share_text("N" * 200, "T" * 200, 5, CODE, LINK, DEC_3)
    assert_one_segment(text)
    assert "N..." in text and "T..." in text


def test_accents_are_transliterated_and_emoji_dropped():
    text = share_text("Zoë Ōta 🎸", "Café “Sessions” 🎶", 3, CODE, LINK, None)
    assert text.startswith('CoreTet: Zoe Ota shared "Café "Sessions"" (3 tracks).')
    assert gsm7("naïve — Ōsaka…") == "naive - Osaka..."


def test_names_with_nothing_gsm7_fall_back_to_plain_words():
    text = share_text("王小明", "Летние демо", 2, CODE, LINK, DEC_3)
    assert text.startswith('CoreTet: Someone shared "a playlist" (2 tracks).')


def test_a_link_too_long_for_any_text_is_a_setup_error():
    with pytest.raises(ValueError, match="APP_BASE_URL"):
        share_text("Alex", "Demos", 5, CODE, "https://x.test/" + "a" * 160, DEC_3)
