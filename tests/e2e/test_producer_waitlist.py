"""A Band-tier musician with a band asks for a second: the Producer waitlist, and the admin who sees it."""
import re

import pytest
from playwright.sync_api import expect

from tests.e2e.steps import open_new_band, shot, sign_up

pytestmark = pytest.mark.e2e

EMAIL = "pat.band@example.com"
ADMIN = "ada.admin@example.com"
REASON = "Three projects at once: two bands and a choir."




def test_band_user_joins_the_producer_waitlist_and_an_admin_sees_it(new_context, stack):
    page = new_context("desktop").new_page()
    sign_up(page, "Pat Band", EMAIL, "(201) 555-0171", verify=False)
    stack.sql("UPDATE profiles SET tier = 'band' WHERE email = :e", e=EMAIL)  # as if they had paid

    open_new_band(page)
    dialog = page.get_by_role("dialog", name="Start a band")
    dialog.get_by_label(re.compile("name", re.I)).fill("The Night Owls")
    dialog.get_by_role("button", name="Create band").click()
    expect(page.get_by_role("heading", name="The Night Owls", level=1)).to_be_visible()
    expect(page.get_by_text("you are owner")).to_be_visible()

    open_new_band(page)
    modal = page.get_by_role("dialog", name="Producer is coming")
    expect(modal).to_be_visible()
    expect(modal).to_contain_text("not sold yet")
    expect(modal).to_contain_text("Unlimited")
    shot(page, "waitlist-modal", phone_width=True)
    modal.get_by_role("link", name="Join the waitlist").click()

    expect(page.get_by_label("Email")).to_have_value(EMAIL)
    page.get_by_label("What would you use Producer for?").fill(REASON)
    page.get_by_role("button", name="Join the waitlist").click()
    expect(page.get_by_role("status")).to_contain_text(re.compile(r"You're on the list — number \d+\."))
    shot(page, "waitlist-joined", phone_width=True)

    admin = new_context("desktop").new_page()
    sign_up(admin, "Ada Admin", ADMIN, "(201) 555-0172", verify=False)
    expect(admin.get_by_role("link", name="Admin", exact=True)).to_have_count(0)
    assert "is now an admin" in stack.flask("users", "promote", ADMIN)
    admin.reload()
    admin.get_by_role("link", name="Admin", exact=True).click()
    admin.get_by_role("link", name="on the Producer waitlist").click()
    expect(admin.get_by_role("heading", name="Producer waitlist")).to_be_visible()
    row = admin.get_by_role("row").filter(has_text=EMAIL)
    expect(row).to_contain_text("Pat Band")
    expect(row).to_contain_text(REASON)
    shot(admin, "waitlist-admin", phone_width=True)
