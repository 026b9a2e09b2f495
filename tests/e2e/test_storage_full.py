"""Storage near its limit: the dashboard warns, the browser refuses a file that won't fit, so does the server."""
import base64

import pytest
from playwright.sync_api import expect

from tests.e2e.steps import shot, sign_up, upload, write_wav

pytestmark = pytest.mark.e2e

EMAIL = "casey.full@example.com"

# What a script that skips the page's size check would send: the same request upload.js makes.
SEND_ANYWAY = """async ([url, name, data]) => {
  const body = Uint8Array.from(atob(data), c => c.charCodeAt(0));
  const answer = await fetch(url, {method: "POST", body, headers: {
    "X-CSRFToken": document.querySelector('meta[name="csrf-token"]').content,
    "X-File-Name": name, "Content-Type": "audio/wav", "X-Requested-With": "XMLHttpRequest"}});
  return {status: answer.status, text: await answer.text()};
}"""


def test_storage_full_is_refused_in_the_browser_and_by_the_server(desktop, stack, tmp_path):
    page = desktop
    sign_up(page, "Casey Full", EMAIL, "(201) 555-0161", verify=False)
    upload(page, write_wav(tmp_path / "Demo One.wav", 2.0))

    # The account's limit drops to just above what it uses (as after a downgrade): 92 % used.
    used = stack.sql("SELECT storage_used FROM profiles WHERE email = :e", e=EMAIL)[0][0]
    stack.sql("UPDATE profiles SET storage_limit = :limit WHERE email = :e", limit=used * 100 // 92, e=EMAIL)
    page.reload()
    storage = page.locator("#storage")
    expect(storage).to_contain_text("Almost full.")
    expect(storage).to_contain_text("92")
    shot(page, "storage-almost-full", phone_width=True)

    # The browser checks the size first and sends nothing.
    uploads = []
    page.on("request", lambda request: request.method == "POST" and "/tracks" in request.url and uploads.append(request))
    too_big = write_wav(tmp_path / "Demo Two.wav", 1.0)
    page.locator("#upload-files").set_input_files(str(too_big))
    refusal = page.locator(".upload-item").filter(has_text="Demo Two.wav").locator(".upload-status")
    expect(refusal).to_contain_text("Won't fit")
    expect(refusal).to_contain_text("left")
    shot(page, "storage-refused-in-browser", phone_width=True)
    assert uploads == []

    # Sent anyway, bypassing the page's check: the server refuses and says why.
    answer = page.evaluate(SEND_ANYWAY, [page.locator("#upload").get_attribute("data-upload-url"), "Demo%20Two.wav",
                                         base64.b64encode(too_big.read_bytes()).decode()])
    assert answer["status"] in (413, 422), answer
    assert "is left" in answer["text"] and "Demo Two" not in answer["text"]
    page.reload()
    expect(page.locator("#track-list")).to_contain_text("Demo One")
    expect(page.locator("#track-list")).not_to_contain_text("Demo Two")
    expect(page.locator("#storage")).to_contain_text("Almost full.")
