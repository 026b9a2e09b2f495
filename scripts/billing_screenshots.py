"""Screenshots of plans, upgrade modals, checkout, credits, the payment banner and admin pages.

Usage: python scripts/billing_screenshots.py [OUT_DIR]   (needs Debian's chromium)

Starts a local fake Stripe and a throwaway app (SQLite, demo data) on 127.0.0.1
pointed at it, then walks the billing screens at desktop and phone width.
"""
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from tests.fake_stripe import FakeStripe  # noqa: E402

OUT = Path(sys.argv[1] if len(sys.argv) > 1 else "test-artifacts/screenshots/billing")
PORT = 5207
BASE = f"http://127.0.0.1:{PORT}"
VIEWPORTS = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
PASSWORD = "coretet-demo-2026"


def start_app(fake, workdir):
    env = {**os.environ, **fake.config(), "DATABASE_URL": f"sqlite:///{workdir}/app.db",
           "OUTBOX_DIR": f"{workdir}/outbox", "STORAGE_DIR": f"{workdir}/media", "APP_BASE_URL": BASE,
           "FLASK_APP": "app.py", "RATELIMIT_ENABLED": "0"}
    env.pop("REDIS_URL", None)
    flask = [sys.executable, "-m", "flask"]
    subprocess.run(flask + ["db", "upgrade"], env=env, cwd=ROOT, check=True, capture_output=True)
    subprocess.run(flask + ["seed-demo"], env=env, cwd=ROOT, check=True, capture_output=True)
    server = subprocess.Popen(flask + ["run", "--port", str(PORT)], env=env, cwd=ROOT,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(100):
        try:
            urllib.request.urlopen(f"{BASE}/login", timeout=1)
            return server
        except OSError:
            time.sleep(0.1)
    server.kill()
    raise SystemExit("the app did not start")


def sign_in(page, email):
    page.goto(f"{BASE}/login")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")
    skip = page.locator("#phone-prompt >> text=Skip for now")
    if skip.count():
        skip.click()
        page.wait_for_selector("#phone-prompt", state="detached")


def shoot(page, name, label):
    page.wait_for_timeout(250)
    page.screenshot(path=OUT / f"{name}-{label}.png", full_page=True)


def walk(browser, label, viewport, fake):
    context = browser.new_context(viewport=viewport)
    page = context.new_page()
    sign_in(page, "sam@demo.coretet.app")  # free tier
    page.goto(f"{BASE}/plans")
    shoot(page, "plans", label)

    page.goto(f"{BASE}/w/me")
    page.click(".switcher summary")
    page.click("text=+ New band")
    page.wait_for_selector("#upgrade-modal")
    shoot(page, "upgrade-modal-band", label)

    page.goto(f"{BASE}/w/me")
    page.click("#storage >> text=with Band")
    page.wait_for_selector("#upgrade-modal")
    shoot(page, "upgrade-modal-storage", label)

    page.goto(f"{BASE}/w/me/playlists/new")
    page.fill("input[name=title]", f"Demos for the label ({label})")
    page.click("text=Create playlist")
    page.wait_for_selector("text=Share by SMS")
    page.click("text=Share by SMS")
    page.wait_for_selector("#share-dialog")
    page.click("#expiry-hint >> text=See plans")
    page.wait_for_selector("#upgrade-modal")
    shoot(page, "upgrade-modal-expiry", label)
    page.click("#upgrade-modal >> text=Maybe later")
    page.wait_for_selector("#upgrade-modal", state="detached")
    shoot(page, "share-dialog-credits", label)

    page.goto(f"{BASE}/account")
    shoot(page, "account-credits", label)
    page.goto(f"{BASE}/billing/credits")
    shoot(page, "credits", label)

    page.goto(f"{BASE}/plans")
    page.click("tfoot >> text=Upgrade")
    page.wait_for_url(f"{fake.url}/checkout/*")
    shoot(page, "fake-checkout", label)
    fake.webhook_url = None  # pay without the webhook first, to see the waiting state
    session_id = page.url.rsplit("/", 1)[1]
    session = fake.complete(session_id)
    page.goto(session["success_url"].replace("{CHECKOUT_SESSION_ID}", session_id))
    shoot(page, "success-pending", label)
    fake.webhook_url = f"{BASE}/webhooks/stripe"
    from tests.fake_stripe import _public_session
    fake.deliver(fake.event("checkout.session.completed", _public_session(session)))
    page.wait_for_selector("text=You're on Band", timeout=10000)
    shoot(page, "success-done", label)

    fake.set_status(session["subscription"], "past_due")
    fake.deliver(fake.event("invoice.payment_failed", {
        "id": "in_demo", "object": "invoice", "customer": session["customer"],
        "subscription": session["subscription"]}))
    page.goto(f"{BASE}/account")
    shoot(page, "past-due-banner", label)
    fake.set_status(session["subscription"], "canceled")
    fake.deliver(fake.event("customer.subscription.deleted", fake.subscriptions[session["subscription"]]))

    page.goto(f"{BASE}/billing/cancelled?kind=band")
    shoot(page, "cancelled", label)
    context.close()

    context = browser.new_context(viewport=viewport)
    page = context.new_page()
    sign_in(page, "admin@demo.coretet.app")
    for path, name in (("/admin/", "admin-home"), ("/admin/users", "admin-users"), ("/admin/sms", "admin-sms"),
                       ("/admin/stripe-events", "admin-stripe-events"), ("/admin/audit", "admin-audit"),
                       ("/admin/waitlist", "admin-waitlist")):
        page.goto(f"{BASE}{path}")
        shoot(page, name, label)
    page.goto(f"{BASE}/admin/users?q=sam")
    page.click("text=Sam")
    shoot(page, "admin-user", label)
    context.close()


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    fake = FakeStripe(webhook_url=f"{BASE}/webhooks/stripe", webhook_secret="whsec_screens")
    with tempfile.TemporaryDirectory() as workdir:
        server = start_app(fake, workdir)
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
                for label, viewport in VIEWPORTS.items():
                    walk(browser, label, viewport, fake)
                browser.close()
        finally:
            server.terminate()
            server.wait(timeout=10)
            fake.close()
    print(f"screenshots in {OUT}")


if __name__ == "__main__":
    main()
