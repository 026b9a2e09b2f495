"""Screenshots of the running app at desktop and phone width, for people to look at.

Usage: python scripts/screenshots.py [BASE_URL] [OUT_DIR]   (needs Debian's chromium)
"""
import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

BASE = sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:5000"
OUT = Path(sys.argv[2] if len(sys.argv) > 2 else "test-artifacts/screenshots")
VIEWPORTS = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        for label, viewport in VIEWPORTS.items():
            page = browser.new_context(viewport=viewport).new_page()
            page.goto(f"{BASE}/login")
            page.screenshot(path=OUT / f"login-{label}.png", full_page=True)
            page.fill("#email", "nobody@example.com")
            page.fill("#password", "wrong password")
            page.click("button[type=submit]")
            page.screenshot(path=OUT / f"login-error-{label}.png", full_page=True)
            page.fill("#email", "alex@demo.coretet.app")
            page.fill("#password", "coretet-demo-2026")
            page.click("button[type=submit]")
            page.wait_for_url("**/home")
            page.screenshot(path=OUT / f"home-{label}.png", full_page=True)
            page.goto(f"{BASE}/dev/outbox")
            page.screenshot(path=OUT / f"outbox-{label}.png", full_page=True)
        browser.close()
    print(f"screenshots in {OUT}")


if __name__ == "__main__":
    main()
