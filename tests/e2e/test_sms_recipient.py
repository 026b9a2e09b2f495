"""An SMS recipient on a phone: link from the text, wrong then right code, listening, and losing access."""
import re

import pytest
from playwright.sync_api import expect

from tests.e2e.steps import create_playlist, read_text, share_by_sms, shot, sign_up, upload, write_wav

pytestmark = pytest.mark.e2e

OWNER_PHONE = "(201) 555-0151"
RECIPIENT_PHONE = "201-555-0152"
TRACKS = ("First Light", "Second Wind")
AUDIO = "document.getElementById('audio')"


def wrong_code(code):
    """A code that differs from `code` in its last character (still from the code alphabet)."""
    return code[:-1] + ("A" if code[-1] != "A" else "B")


def test_recipient_listens_on_a_phone_until_the_owner_revokes(new_context, tmp_path):
    owner = new_context("desktop").new_page()
    sign_up(owner, "Alex Owner", "alex.owner@example.com", OWNER_PHONE)
    upload(owner, write_wav(tmp_path / f"{TRACKS[0]}.wav", 3.0), write_wav(tmp_path / f"{TRACKS[1]}.wav", 3.0, 550.0))
    create_playlist(owner, "Rough Mixes", TRACKS)
    share_by_sms(owner, [(RECIPIENT_PHONE, "Sam")]).get_by_role("button", name="Done").click()

    # The recipient's phone: the text arrives (worker.py wrote it to the outbox); they tap its link.
    phone = new_context("phone").new_page()
    body = read_text(phone, RECIPIENT_PHONE, r"Code [A-Z2-9]{6}")
    assert len(body) <= 160 and "Rough Mixes" in body
    code = re.search(r"Code ([A-Z2-9]{6})", body).group(1)
    phone.locator("#sms-outbox li").filter(has_text=code).get_by_role("link").tap()
    expect(phone.get_by_role("heading", name="Rough Mixes")).to_be_visible()
    expect(phone.get_by_text("Alex Owner shared a playlist with you")).to_be_visible()
    shot(phone, "recipient-code")

    phone.get_by_label("Code from your text message").fill(wrong_code(code))
    phone.get_by_role("button", name="Listen").tap()
    expect(phone.get_by_role("alert")).to_contain_text("That code is not right")
    expect(phone.get_by_role("alert")).to_contain_text("attempts left")
    shot(phone, "recipient-wrong-code")

    # Lower case with a space: entry ignores case and spaces.
    phone.get_by_label("Code from your text message").fill(f"{code[:3]} {code[3:]}".lower())
    phone.get_by_role("button", name="Listen").tap()
    expect(phone.get_by_text("Shared by Alex Owner")).to_be_visible()
    expect(phone.locator("ol.tracks li")).to_have_count(2)

    phone.get_by_role("link", name=re.compile(TRACKS[0])).tap()
    expect(phone.locator("#now")).to_have_text(TRACKS[0])
    phone.wait_for_function(f"{AUDIO}.currentTime > 1", timeout=15_000)
    shot(phone, "recipient-playing")

    # No tap: when the first track ends, the second one starts and its time runs.
    expect(phone.locator("#now")).to_have_text(TRACKS[1], timeout=15_000)
    phone.wait_for_function(f"{AUDIO}.currentTime > 0.5 && !{AUDIO}.paused", timeout=15_000)
    expect(phone.locator("#listened")).to_have_text("You've listened to 1/2")
    shot(phone, "recipient-next-track")

    # The owner's manage view shows the access.
    owner.reload()
    person = owner.locator("#shares .share-person").filter(has_text="Sam")
    expect(person).to_contain_text("Opened 1 time")
    expect(person).to_contain_text(re.compile(r"[12]/2 tracks started"))
    shot(owner, "recipient-owner-sees-access", phone_width=True)

    owner.once("dialog", lambda dialog: dialog.accept())
    person.get_by_role("button", name="Revoke").click()
    expect(person).to_contain_text("Access withdrawn")
    shot(owner, "recipient-owner-revoked")

    # The recipient's next request is refused: the page says why, and a saved track link plays nothing.
    track_link = phone.get_by_role("link", name=re.compile(TRACKS[0])).get_attribute("href")
    phone.reload()
    expect(phone.get_by_role("alert")).to_contain_text("Access to this playlist was withdrawn")
    expect(phone.locator("audio")).to_have_count(0)
    expect(phone.get_by_label("Code from your text message")).to_have_count(0)
    shot(phone, "recipient-withdrawn")
    refused = phone.goto(track_link)
    assert refused.status in (403, 404) and not refused.headers.get("content-type", "").startswith("audio/")
    expect(phone.get_by_role("alert")).to_be_visible()
