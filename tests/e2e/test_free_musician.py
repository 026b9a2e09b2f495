"""A free musician's first session: sign up, confirm the phone, upload, make a playlist, share it by SMS."""
import re

import pytest
from playwright.sync_api import expect

from tests.e2e.steps import create_playlist, share_by_sms, shot, sign_up, upload, write_wav

pytestmark = pytest.mark.e2e

PHONE = "(201) 555-0141"
RECIPIENTS = (("201-555-0142", "Sam"), ("+1 201 555 0143", "Jo"))


def test_free_musician_signs_up_uploads_and_shares_by_sms(desktop, tmp_path):
    page = desktop
    sign_up(page, "Riley Free", "riley@example.com", PHONE, shots="musician")
    expect(page.get_by_role("heading", name="Personal", level=1)).to_be_visible()
    expect(page.locator("#storage")).to_contain_text("of 1 GB")

    files = [write_wav(tmp_path / "Morning Take.wav", 2.0), write_wav(tmp_path / "Night Take.wav", 2.5, 330.0)]
    # On a slow uplink (about 100 KiB/s) the bar moves through the percentages before "Uploaded".
    progress = upload(page, *files, kib_per_second=100, shot_name="musician-uploading")
    assert [text for text in progress if re.fullmatch(r"[1-9][0-9]?%", text)], progress
    expect(page.locator(".upload-item .bar span").first).to_have_attribute("style", re.compile("width: ?100%"))
    shot(page, "musician-uploaded", phone_width=True)

    create_playlist(page, "Summer EP Demos", ["Morning Take", "Night Take"])
    expect(page.locator("#playlist-summary")).to_contain_text("2 tracks")

    sent = share_by_sms(page, RECIPIENTS, shots="musician")
    for name, _ in ((n, p) for p, n in RECIPIENTS):
        expect(sent.locator("li").filter(has_text=name)).to_contain_text("queued")
    expect(sent).to_contain_text("2 credits used")
    shot(page, "musician-sent", phone_width=True)
    sent.get_by_role("button", name="Done").click()

    # The manage view polls while texts are on their way; the real worker delivers them.
    shares = page.locator("#shares")
    for phone, name in RECIPIENTS:
        person = shares.locator(".share-person").filter(has_text=name)
        expect(person.locator(".sms-status")).to_have_text("sent", timeout=30_000)
        expect(person).to_contain_text(phone[-4:])
        expect(person).to_contain_text("Not opened yet")
    shot(page, "musician-delivered", phone_width=True)
