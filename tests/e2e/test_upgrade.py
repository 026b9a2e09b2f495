"""A free musician upgrades through (fake) Stripe Checkout, creates a band and brings in a member."""
import re

import pytest
from playwright.sync_api import expect

from tests.e2e.billing import fake_stripe_available
from tests.e2e.steps import open_new_band, read_email, shot, sign_up, upload, write_wav

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not fake_stripe_available, reason="needs tests/fake_stripe.py (the billing issue)"),
]

OWNER = "morgan.upgrade@example.com"
MEMBER = "drew.member@example.com"
BAND = "Velvet Static"




def test_free_user_upgrades_creates_a_band_and_a_member_joins(new_context, tmp_path):
    owner = new_context("desktop").new_page()
    sign_up(owner, "Morgan Upgrade", OWNER, "(201) 555-0181", verify=False)

    open_new_band(owner)
    modal = owner.get_by_role("dialog", name="Upgrade to Band")
    expect(modal).to_contain_text("$5 first month, then $10/month")
    shot(owner, "upgrade-modal", phone_width=True)
    modal.get_by_role("button", name="Upgrade to Band").click()

    # Stripe's hosted checkout (the local fake); "Pay" sends the signed webhook, then returns here.
    expect(owner.get_by_role("heading", name="Fake Stripe Checkout")).to_be_visible()
    assert owner.url.startswith("http://127.0.0.1:")
    owner.get_by_role("button", name="Pay").click()
    expect(owner.get_by_role("heading", name="You're on Band")).to_be_visible(timeout=20_000)
    shot(owner, "upgrade-paid", phone_width=True)

    owner.get_by_role("link", name="Create your band").click()
    owner.get_by_label(re.compile("name", re.I)).fill(BAND)
    owner.get_by_role("button", name="Create band").click()
    expect(owner.get_by_role("heading", name=BAND, level=1)).to_be_visible()
    upload(owner, write_wav(tmp_path / "Band Demo.wav", 1.5))

    owner.get_by_role("link", name="Members").click()
    owner.get_by_label("Email or mobile number").fill(MEMBER)
    owner.get_by_role("button", name="Send invite").click()
    expect(owner.get_by_role("status")).to_contain_text(f"Invite sent to {MEMBER}")
    shot(owner, "upgrade-invited", phone_width=True)

    member = new_context("desktop").new_page()
    sign_up(member, "Drew Member", MEMBER, "(201) 555-0182", verify=False)
    link = re.search(r"https?://\S+/invites/\S+", read_email(member, MEMBER, r"/invites/")).group(0)
    member.goto(link)
    expect(member.get_by_role("heading", name=f"Join {BAND}")).to_be_visible()
    member.get_by_role("button", name="Accept and join").click()
    expect(member.get_by_text(f"Welcome to {BAND}!")).to_be_visible()
    expect(member.get_by_role("heading", name=BAND, level=1)).to_be_visible()
    expect(member.get_by_text("you are member")).to_be_visible()
    expect(member.locator("#track-list")).to_contain_text("Band Demo")

    # The workspace menu holds the member's own space and this band, nothing else.
    member.locator(".switcher summary").click()
    workspaces = member.get_by_label("Workspaces").get_by_role("link")
    expect(workspaces).to_have_text(["Personal", BAND, "+ New band"])
    shot(member, "upgrade-member-joined", phone_width=True)
