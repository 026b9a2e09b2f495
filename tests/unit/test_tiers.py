"""Tier table numbers from SPEC §3 and the gates that read them."""
import dataclasses

import pytest

from coretet.services import tiers
from coretet.services.tiers import GIB, can_add_active_share, can_add_recipients
from coretet.services.tiers import can_create_band, expiry_allowed, expiry_options, get_tier


@pytest.mark.parametrize(
    "key, field, expected",
    [
        ("free", "name", "Free"),
        ("band", "name", "Band"),
        ("producer", "name", "Producer"),
        ("free", "price_label", "$0"),
        ("band", "price_label", "$5 first month, then $10/month"),
        ("producer", "price_label", "~$25/month"),
        ("free", "intro_price_cents", 0),
        ("band", "intro_price_cents", 500),
        ("producer", "intro_price_cents", None),
        ("free", "monthly_price_cents", 0),
        ("band", "monthly_price_cents", 1000),
        ("producer", "monthly_price_cents", 2500),
        ("free", "purchasable", False),
        ("band", "purchasable", True),
        ("producer", "purchasable", False),
        ("free", "personal_storage_bytes", 1_073_741_824),
        ("band", "personal_storage_bytes", 26_843_545_600),
        ("producer", "personal_storage_bytes", 107_374_182_400),
        ("free", "bands_allowed", 0),
        ("band", "bands_allowed", 1),
        ("producer", "bands_allowed", None),
        ("free", "band_storage_bytes", None),
        ("band", "band_storage_bytes", 26_843_545_600),
        ("producer", "band_storage_bytes", 26_843_545_600),
        ("free", "members_per_band", None),
        ("band", "members_per_band", 10),
        ("producer", "members_per_band", 20),
        ("free", "sms_credits_per_month", 10),
        ("band", "sms_credits_per_month", 50),
        ("producer", "sms_credits_per_month", 200),
        ("free", "active_shares", 2),
        ("band", "active_shares", 10),
        ("producer", "active_shares", None),
        ("free", "recipients_per_share", 5),
        ("band", "recipients_per_share", 10),
        ("producer", "recipients_per_share", None),
        ("free", "max_share_expiry_days", 7),
        ("band", "max_share_expiry_days", 90),
        ("producer", "max_share_expiry_days", 365),
        ("free", "never_expiry_allowed", False),
        ("band", "never_expiry_allowed", True),
        ("producer", "never_expiry_allowed", True),
    ],
)
def test_tier_table_matches_spec(key, field, expected):
    assert getattr(get_tier(key), field) == expected


def test_tiers_are_listed_in_upgrade_order():
    assert tiers.TIER_KEYS == ("free", "band", "producer")
    assert tuple(tiers.TIERS) == tiers.TIER_KEYS
    assert GIB == 1024**3


def test_tiers_cannot_be_changed_at_runtime():
    with pytest.raises(dataclasses.FrozenInstanceError):
        get_tier("free").active_shares = 99


def test_unknown_tier_is_refused():
    with pytest.raises(ValueError):
        get_tier("platinum")


def test_credit_packs_match_spec():
    packs = [(p.key, p.credits, p.price_cents, p.label) for p in tiers.CREDIT_PACKS]
    assert packs == [
        ("pack25", 25, 200, "25 credits for $2"),
        ("pack50", 50, 300, "50 credits for $3"),
        ("pack100", 100, 500, "100 credits for $5"),
    ]
    assert tiers.get_credit_pack("pack50").credits == 50
    with pytest.raises(ValueError):
        tiers.get_credit_pack("pack1000")


def test_subscription_statuses_are_stripes_values():
    assert set(tiers.SUBSCRIPTION_STATUSES) == {
        "incomplete", "incomplete_expired", "trialing", "active",
        "past_due", "canceled", "unpaid", "paused",
    }


def test_free_user_creating_a_band_sees_upgrade_modal():
    decision = can_create_band("free", 0)
    assert not decision.allowed
    assert decision.modal == "upgrade"
    assert "Band" in decision.reason


def test_band_user_may_create_first_band():
    assert can_create_band("band", 0).allowed


def test_band_user_with_a_band_sees_producer_waitlist():
    decision = can_create_band("band", 1)
    assert (decision.allowed, decision.modal) == (False, "waitlist")
    assert "Producer waitlist" in decision.reason


def test_producer_may_always_create_bands():
    assert can_create_band("producer", 0).allowed
    assert can_create_band("producer", 500).allowed


@pytest.mark.parametrize("key, limit, modal", [("free", 2, "upgrade"), ("band", 10, "waitlist")])
def test_active_shares_allowed_below_limit_refused_at_it(key, limit, modal):
    assert can_add_active_share(key, limit - 1).allowed
    refused = can_add_active_share(key, limit)
    assert (refused.allowed, refused.modal) == (False, modal)
    assert str(limit) in refused.reason


def test_producer_has_unlimited_active_shares():
    assert can_add_active_share("producer", 10_000).allowed


@pytest.mark.parametrize("key, limit, modal", [("free", 5, "upgrade"), ("band", 10, "waitlist")])
def test_recipients_up_to_limit_allowed_one_more_refused(key, limit, modal):
    assert can_add_recipients(key, limit).allowed
    refused = can_add_recipients(key, limit + 1)
    assert (refused.allowed, refused.modal) == (False, modal)
    assert str(limit) in refused.reason


def test_producer_has_unlimited_recipients():
    assert can_add_recipients("producer", 1000).allowed


def test_upgrade_reason_names_what_band_tier_gives():
    assert "10 recipients" in can_add_recipients("free", 6).reason
    assert "90 days" in expiry_allowed("free", 30).reason


def test_free_shares_expire_within_a_week():
    assert expiry_allowed("free", 7).allowed
    for days in (8, 30, None):
        decision = expiry_allowed("free", days)
        assert (decision.allowed, decision.modal) == (False, "upgrade")


def test_band_shares_last_up_to_90_days_or_never():
    assert expiry_allowed("band", 90).allowed
    assert expiry_allowed("band", None).allowed
    decision = expiry_allowed("band", 91)
    assert (decision.allowed, decision.modal) == (False, "waitlist")


def test_producer_shares_last_up_to_a_year_or_never_with_no_higher_tier_to_offer():
    assert expiry_allowed("producer", 365).allowed
    assert expiry_allowed("producer", None).allowed
    decision = expiry_allowed("producer", 366)
    assert (decision.allowed, decision.modal) == (False, None)


@pytest.mark.parametrize("days", [0, -1, 1.5, True, "7"])
def test_nonsense_expiry_is_a_programming_error(days):
    with pytest.raises(ValueError):
        expiry_allowed("band", days)


@pytest.mark.parametrize("count", [-1, 1.0, None])
def test_nonsense_counts_are_programming_errors(count):
    with pytest.raises(ValueError):
        can_add_recipients("free", count)


def test_expiry_choices_are_labelled_and_locked_per_tier():
    assert tiers.EXPIRY_CHOICES == (7, 30, 90, None)
    assert expiry_options("free") == [
        (7, "7 days", True),
        (30, "30 days", False),
        (90, "90 days", False),
        (None, "Never", False),
    ]
    assert all(allowed for _, _, allowed in expiry_options("band"))


def test_limit_label_uses_human_units():
    assert tiers.limit_label(None) == "Unlimited"
    assert tiers.limit_label(GIB, "bytes") == "1 GB"
    assert tiers.limit_label(10) == "10"
    assert tiers.limit_label(7, "days") == "7 days"


def test_comparison_table_shows_every_limit_in_human_units():
    rows = dict(tiers.comparison_rows())
    assert rows["Price"] == ["$0", "$5 first month, then $10/month", "~$25/month"]
    assert rows["Personal storage"] == ["1 GB", "25 GB", "100 GB"]
    assert rows["Bands you can create"] == ["0", "1", "Unlimited"]
    assert rows["Storage per band"] == ["—", "25 GB", "25 GB"]
    assert rows["Members per band"] == ["—", "10", "20"]
    assert rows["SMS credits per month"] == ["10", "50", "200"]
    assert rows["Active shares at once"] == ["2", "10", "Unlimited"]
    assert rows["Recipients per share"] == ["5", "10", "Unlimited"]
    assert rows["Longest share expiry"] == ["7 days", "90 days or never", "365 days or never"]


@pytest.mark.parametrize("feature", ["timestamped_comments", "voice_comments", "version_compare"])
def test_collaboration_extras_are_band_features(feature):
    refused = tiers.can_use_feature("free", feature)
    assert not refused.allowed and refused.modal == "upgrade" and "Upgrade to Band" in refused.reason
    assert tiers.can_use_feature("band", feature).allowed
    assert tiers.can_use_feature("producer", feature).allowed


def test_unknown_features_are_programming_errors():
    with pytest.raises(ValueError):
        tiers.can_use_feature("band", "star_ratings")


def test_storage_upgrade_names_the_current_limit_and_what_comes_next():
    free = tiers.storage_upgrade("free")
    assert free.modal == "upgrade" and "1 GB" in free.reason and "25 GB" in free.reason
    band = tiers.storage_upgrade("band")
    assert band.modal == "waitlist" and "100 GB" in band.reason
    assert tiers.storage_upgrade("producer").modal is None


def test_longer_expiry_offers_the_next_plan_only_when_something_is_locked():
    free = tiers.longer_expiry("free")
    assert free.modal == "upgrade" and "7 days" in free.reason and "90 days" in free.reason
    assert tiers.longer_expiry("band").allowed
