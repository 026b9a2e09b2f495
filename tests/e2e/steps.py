"""What people do in the browser, as small steps the journeys share: sign up, read a text, upload, share."""
import math
import re
import struct
import wave
from pathlib import Path

from playwright.sync_api import Page, expect

from tests.e2e.servers import SCREENSHOTS

PASSWORD = "violet kettle harbour 42"


def shot(page: Page, name, phone_width=False):
    """Save a full-page screenshot as test-artifacts/e2e/screenshots/<name>.png.

    With phone_width, a desktop page is also taken at 390 px wide (<name>-phone.png), then put back.
    """
    page.screenshot(path=SCREENSHOTS / f"{name}.png", full_page=True)
    if phone_width:
        size = page.viewport_size
        page.set_viewport_size({"width": 390, "height": 844})
        page.screenshot(path=SCREENSHOTS / f"{name}-phone.png", full_page=True)
        page.set_viewport_size(size)


def write_wav(path, seconds, frequency=440.0, rate=22050):
    """A mono 16-bit WAV: a tone of `seconds`, loud enough to be real audio, small enough to upload fast."""
    frames = int(seconds * rate)
    samples = (int(9000 * math.sin(2 * math.pi * frequency * n / rate)) for n in range(frames))
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(b"".join(struct.pack("<h", s) for s in samples))
    return Path(path)


def e164_digits(phone):
    """The last ten digits of a US number however it is written: what the outbox's "To" ends with."""
    return re.sub(r"\D", "", phone)[-10:]


def read_text(page: Page, phone, contains, attempts=60):
    """Open the outbox page until a text to `phone` matching the regex `contains` arrives; its body.

    Texts are sent by worker.py, so this polls (bounded: attempts × 0.5 s).
    """
    pattern = re.compile(contains)
    to = e164_digits(phone)
    for _ in range(attempts):
        page.goto("/dev/outbox")
        for item in page.locator("#sms-outbox li").all():
            if to in re.sub(r"\D", "", item.locator(".to").inner_text()):
                body = item.locator(".body").inner_text()
                if pattern.search(body):
                    return body
        page.wait_for_timeout(500)
    raise AssertionError(f"no text to {phone} matching {contains!r} reached the outbox")


def read_email(page: Page, to, contains, attempts=60):
    """Like read_text, for the emails column of the outbox; returns the email's body."""
    pattern = re.compile(contains)
    for _ in range(attempts):
        page.goto("/dev/outbox")
        for item in page.locator("#email-outbox li").all():
            if to in item.locator(".to").inner_text():
                body = item.locator(".body").inner_text()
                if pattern.search(body):
                    return body
        page.wait_for_timeout(500)
    raise AssertionError(f"no email to {to} matching {contains!r} reached the outbox")


def sign_up(page: Page, name, email, phone, verify=True, shots=None):
    """Create an account through the form; with verify, read the code from the outbox and confirm the phone."""
    page.goto("/signup")
    page.get_by_label("Your name").fill(name)
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_label("Mobile phone").fill(phone)
    if shots:
        shot(page, f"{shots}-signup", phone_width=True)
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("heading", name="Confirm your phone")).to_be_visible()
    if not verify:
        page.get_by_role("link", name="Do this later").click()
        expect(page.get_by_text("Personal workspace")).to_be_visible()
        return
    verify_url = page.url
    body = read_text(page, phone, r"your code is \d{6}")
    if shots:
        shot(page, f"{shots}-outbox", phone_width=True)
    code = re.search(r"\b(\d{6})\b", body).group(1)
    page.goto(verify_url)
    page.get_by_label("6-digit code").fill(code)
    if shots:
        shot(page, f"{shots}-verify", phone_width=True)
    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_text("is verified")).to_be_visible()


def sign_in(page: Page, email):
    page.goto("/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()


def open_new_band(page):
    """The workspace menu's "+ New band"."""
    page.locator(".switcher summary").click()
    page.get_by_role("link", name="+ New band").click()


# Notes every text the upload rows show ("Waiting…", "37%", "Uploaded"), so a test can see the progress it went through.
RECORD_PROGRESS = """() => {
  window.uploadProgress = [];
  new MutationObserver(() => document.querySelectorAll(".upload-status").forEach(s => window.uploadProgress.push(s.textContent)))
    .observe(document.querySelector(".upload-queue"), {subtree: true, childList: true, characterData: true});
}"""


def upload(page: Page, *paths, kib_per_second=None, shot_name=None):
    """Choose files in the workspace's upload box; wait until each shows "Uploaded" and is in the track list.

    kib_per_second slows the browser's uploads (DevTools network throttling) so the progress bar has
    time to move, as on a real connection; shot_name takes a screenshot while it does. Returns the
    texts the upload rows showed along the way.
    """
    cdp = None
    if kib_per_second:
        cdp = page.context.new_cdp_session(page)
        cdp.send("Network.enable")
        cdp.send("Network.emulateNetworkConditions", {"offline": False, "latency": 20, "downloadThroughput": -1,
                                                      "uploadThroughput": kib_per_second * 1024})
    page.evaluate(RECORD_PROGRESS)
    page.locator("#upload-files").set_input_files([str(p) for p in paths])
    if shot_name:
        expect(page.locator(".upload-status").first).to_have_text(re.compile(r"^[1-9][0-9]?%$"))
        shot(page, shot_name)
    for path in paths:
        item = page.locator(".upload-item").filter(has_text=Path(path).name)
        expect(item.locator(".bar")).to_be_visible()
        expect(item.locator(".upload-status")).to_have_text("Uploaded", timeout=30_000)
        expect(page.locator("#track-list")).to_contain_text(Path(path).stem)
    if cdp is not None:
        cdp.send("Network.emulateNetworkConditions", {"offline": False, "latency": 0, "downloadThroughput": -1,
                                                      "uploadThroughput": -1})
        cdp.detach()
    return page.evaluate("window.uploadProgress")


def create_playlist(page: Page, title, tracks=()):
    """New playlist from the workspace page, then add `tracks` (titles) from "Add tracks"."""
    page.get_by_role("link", name="New playlist").click()
    dialog = page.get_by_role("dialog", name="New playlist")
    dialog.get_by_label("Title").fill(title)
    dialog.get_by_role("button", name="Create playlist").click()
    expect(page.get_by_role("heading", name=title, level=1)).to_be_visible()
    for track in tracks:
        page.get_by_role("button", name=f"Add {track}", exact=True).click()
        expect(page.locator("#playlist-tracks")).to_contain_text(track)


def share_by_sms(page: Page, recipients, shots=None):
    """From a playlist page: open "Share by SMS", fill one row per (phone, name), send; the sent dialog."""
    page.get_by_role("button", name="Share by SMS").click()
    dialog = page.get_by_role("dialog", name="Share by SMS")
    for index, (phone, name) in enumerate(recipients):
        if index:
            dialog.get_by_role("button", name=re.compile("Add another")).click()
        row = dialog.locator(f"#recipient-{index}")
        row.get_by_label("Mobile number").fill(phone)
        row.get_by_label(re.compile("^Name")).fill(name)
        expect(row.locator(".feedback").first).to_contain_text(re.compile(r"\+1"))
    expect(dialog).to_contain_text(re.compile(f"{len(recipients)} credits?"))
    if shots:
        shot(page, f"{shots}-share-dialog", phone_width=True)
    dialog.get_by_role("button", name="Send access codes").click()
    sent = page.get_by_role("dialog", name="Access codes on their way")
    expect(sent).to_be_visible()
    return sent
