"""The single table of tier limits (SPEC §3) and the gates that read it."""
from dataclasses import dataclass
from typing import Optional

GIB = 1024**3

TIER_KEYS = ("free", "band", "producer")

# Stripe's own subscription status values, stored verbatim.
SUBSCRIPTION_STATUSES = (
    "incomplete",
    "incomplete_expired",
    "trialing",
    "active",
    "past_due",
    "canceled",
    "unpaid",
    "paused",
)

# Share expiry choices offered in the share form; None means the share never expires.
EXPIRY_CHOICES = (7, 30, 90, None)

UNLIMITED = "Unlimited"
NOT_APPLICABLE = "—"


@dataclass(frozen=True)
class Tier:
    """One plan's price and limits; None in a limit means unlimited."""

    key: str
    name: str
    price_label: str
    intro_price_cents: Optional[int]
    monthly_price_cents: int
    purchasable: bool
    personal_storage_bytes: int
    bands_allowed: Optional[int]
    band_storage_bytes: Optional[int]
    members_per_band: Optional[int]
    sms_credits_per_month: int
    active_shares: Optional[int]
    recipients_per_share: Optional[int]
    max_share_expiry_days: int
    never_expiry_allowed: bool
    # Collaboration features (SPEC §9); listened/liked/loved and plain comments are on every tier.
    timestamped_comments: bool = False
    voice_comments: bool = False
    version_compare: bool = False


@dataclass(frozen=True)
class CreditPack:
    """A one-time purchase of SMS credits that never expire."""

    key: str
    credits: int
    price_cents: int
    label: str


@dataclass(frozen=True)
class Decision:
    """Outcome of a tier gate: whether it is allowed, why not, and which modal to show."""

    allowed: bool
    reason: Optional[str] = None
    modal: Optional[str] = None


_FREE = Tier(
    key="free",
    name="Free",
    price_label="$0",
    intro_price_cents=0,
    monthly_price_cents=0,
    purchasable=False,
    personal_storage_bytes=1 * GIB,
    bands_allowed=0,
    band_storage_bytes=None,
    members_per_band=None,
    sms_credits_per_month=10,
    active_shares=2,
    recipients_per_share=5,
    max_share_expiry_days=7,
    never_expiry_allowed=False,
)

_BAND = Tier(
    key="band",
    name="Band",
    price_label="$5 first month, then $10/month",
    intro_price_cents=500,
    monthly_price_cents=1000,
    purchasable=True,
    personal_storage_bytes=25 * GIB,
    bands_allowed=1,
    band_storage_bytes=25 * GIB,
    members_per_band=10,
    sms_credits_per_month=50,
    active_shares=10,
    recipients_per_share=10,
    max_share_expiry_days=90,
    never_expiry_allowed=True,
    timestamped_comments=True,
    voice_comments=True,
    version_compare=True,
)

# Producer is not sold yet: people join a waitlist instead of checking out.
_PRODUCER = Tier(
    key="producer",
    name="Producer",
    price_label="~$25/month",
    intro_price_cents=None,
    monthly_price_cents=2500,
    purchasable=False,
    personal_storage_bytes=100 * GIB,
    bands_allowed=None,
    band_storage_bytes=25 * GIB,
    members_per_band=20,
    sms_credits_per_month=200,
    active_shares=None,
    recipients_per_share=None,
    max_share_expiry_days=365,
    never_expiry_allowed=True,
    timestamped_comments=True,
    voice_comments=True,
    version_compare=True,
)

TIERS = {tier.key: tier for tier in (_FREE, _BAND, _PRODUCER)}

CREDIT_PACKS = (
    CreditPack(key="pack25", credits=25, price_cents=200, label="25 credits for $2"),
    CreditPack(key="pack50", credits=50, price_cents=300, label="50 credits for $3"),
    CreditPack(key="pack100", credits=100, price_cents=500, label="100 credits for $5"),
)


def get_tier(key: str) -> Tier:
    """Return the tier for a key, refusing unknown keys so typos never grant limits."""
    try:
        return TIERS[key]
    except (KeyError, TypeError):
        raise ValueError(f"Unknown tier {key!r}; expected one of {', '.join(TIER_KEYS)}") from None


def get_credit_pack(key: str) -> CreditPack:
    """Return the credit pack for a key, refusing unknown keys."""
    for pack in CREDIT_PACKS:
        if pack.key == key:
            return pack
    raise ValueError(f"Unknown credit pack {key!r}")


def next_tier(key: str) -> Optional[Tier]:
    """Return the tier above this one, or None for the top tier."""
    index = TIER_KEYS.index(get_tier(key).key)
    return TIERS[TIER_KEYS[index + 1]] if index + 1 < len(TIER_KEYS) else None


def _modal_for(key: str) -> Optional[str]:
    """Pick the modal for a user at a limit: upgrade if they can buy more, else the waitlist."""
    above = next_tier(key)
    if above is None:
        return None
    return "upgrade" if above.purchasable else "waitlist"


def _refuse(key: str, reason: str, benefit) -> Decision:
    """Build a refusal that says what the next tier would give; benefit(tier) phrases it."""
    modal = _modal_for(key)
    above = next_tier(key)
    if modal == "upgrade":
        reason = f"{reason} Upgrade to {above.name} {benefit(above)}."
    elif modal == "waitlist":
        reason = f"{reason} Join the {above.name} waitlist {benefit(above)}."
    return Decision(False, reason, modal)


def _amount(value: Optional[int], noun: str) -> str:
    """Say how many of something a limit gives, e.g. "10 recipients" or "unlimited shares"."""
    return f"unlimited {noun}" if value is None else f"{value} {noun}"


def _count(value, what: str) -> int:
    """Validate a count so a negative or non-integer never slips past a gate."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{what} must be a whole number of at least 0, got {value!r}")
    return value


def can_create_band(tier_key: str, bands_created: int) -> Decision:
    """Decide whether a user on this tier may create another band."""
    tier = get_tier(tier_key)
    created = _count(bands_created, "bands_created")
    if tier.bands_allowed is None or created < tier.bands_allowed:
        return Decision(True)
    if tier.bands_allowed == 0:
        return _refuse(
            tier_key,
            f"{tier.name} accounts can join bands but not create them.",
            lambda above: "to create your own band",
        )
    noun = "band" if tier.bands_allowed == 1 else "bands"
    return _refuse(
        tier_key,
        f"The {tier.name} plan includes {tier.bands_allowed} {noun} of your own,"
        f" and you've created {created}.",
        lambda above: f"for {_amount(above.bands_allowed, 'bands')}",
    )


def can_add_active_share(tier_key: str, active_count: int) -> Decision:
    """Decide whether one more share may go live given how many are active now."""
    tier = get_tier(tier_key)
    active = _count(active_count, "active_count")
    if tier.active_shares is None or active < tier.active_shares:
        return Decision(True)
    return _refuse(
        tier_key,
        f"The {tier.name} plan allows {tier.active_shares} active shares at once;"
        " end one to share again.",
        lambda above: f"for {_amount(above.active_shares, 'active shares')}",
    )


def can_add_recipients(tier_key: str, n: int) -> Decision:
    """Decide whether one share may go to n recipients on this tier."""
    tier = get_tier(tier_key)
    count = _count(n, "n")
    if tier.recipients_per_share is None or count <= tier.recipients_per_share:
        return Decision(True)
    return _refuse(
        tier_key,
        f"The {tier.name} plan allows up to {tier.recipients_per_share} recipients per share.",
        lambda above: f"for {_amount(above.recipients_per_share, 'recipients per share')}",
    )


def expiry_allowed(tier_key: str, days: Optional[int]) -> Decision:
    """Decide whether a share may last this many days (None = never expires)."""
    tier = get_tier(tier_key)
    if days is None:
        if tier.never_expiry_allowed:
            return Decision(True)
    elif isinstance(days, bool) or not isinstance(days, int) or days < 1:
        raise ValueError(f"days must be a whole number of at least 1 or None, got {days!r}")
    elif days <= tier.max_share_expiry_days:
        return Decision(True)
    return _refuse(
        tier_key,
        f"{tier.name} shares can last at most {expiry_label(tier.max_share_expiry_days)}"
        + (", or never expire." if tier.never_expiry_allowed else " and must have an end date."),
        lambda above: f"for shares of up to {expiry_label(above.max_share_expiry_days)}"
        + (" or with no end date" if above.never_expiry_allowed else ""),
    )


# Collaboration features gated by tier, with how the upgrade modal names them.
FEATURES = {
    "timestamped_comments": "Comments at a moment in the track",
    "voice_comments": "Voice memo comments",
    "version_compare": "A/B compare of versions",
}
_FEATURE_REFUSALS = {
    "timestamped_comments": "Comments at a moment in the track are",
    "voice_comments": "Voice memo comments are",
    "version_compare": "A/B compare of versions is",
}


def can_use_feature(tier_key: str, feature: str) -> Decision:
    """Decide whether this tier has a collaboration feature (one of FEATURES)."""
    tier = get_tier(tier_key)
    if feature not in FEATURES:
        raise ValueError(f"Unknown feature {feature!r}; expected one of {', '.join(FEATURES)}")
    if getattr(tier, feature):
        return Decision(True)
    return _refuse(
        tier_key,
        f"{_FEATURE_REFUSALS[feature]} not part of the {tier.name} plan.",
        lambda above: "to get it",
    )


def storage_upgrade(tier_key: str) -> Decision:
    """Why more personal storage needs another plan (the storage dashboard's upgrade link)."""
    tier = get_tier(tier_key)
    return _refuse(
        tier_key,
        f"The {tier.name} plan includes {limit_label(tier.personal_storage_bytes, 'bytes')} of storage.",
        lambda above: f"for {limit_label(above.personal_storage_bytes, 'bytes')} of your own"
        + (f" and {limit_label(above.band_storage_bytes, 'bytes')} per band" if above.band_storage_bytes else ""),
    )


def longer_expiry(tier_key: str) -> Decision:
    """Why longer-lasting shares need another plan (the share dialog's locked expiry choices)."""
    locked = [days for days, _, allowed in expiry_options(tier_key) if not allowed]
    if not locked:
        return Decision(True)
    return expiry_allowed(tier_key, locked[0])


def expiry_label(days: Optional[int]) -> str:
    """Label one expiry choice the way the share form shows it."""
    if days is None:
        return "Never"
    return f"{days} day" if days == 1 else f"{days} days"


def expiry_limit_label(tier: Tier) -> str:
    """Describe a tier's longest share expiry, e.g. "90 days or never"."""
    label = expiry_label(tier.max_share_expiry_days)
    return f"{label} or never" if tier.never_expiry_allowed else label


def expiry_options(tier_key: str) -> list:
    """List (days, label, allowed) for each expiry choice so the form can disable locked ones."""
    return [
        (days, expiry_label(days), expiry_allowed(tier_key, days).allowed)
        for days in EXPIRY_CHOICES
    ]


def limit_label(value: Optional[int], unit: Optional[str] = None) -> str:
    """Render one limit for people: None is "Unlimited", bytes use 1024-based units."""
    if value is None:
        return UNLIMITED
    if unit == "bytes":
        # Imported here because storage builds its messages from this table.
        from coretet.services.storage import format_bytes

        return format_bytes(value)
    if unit:
        return f"{value} {unit}"
    return str(value)


def _band_label(tier: Tier, value: Optional[int], unit: Optional[str] = None) -> str:
    """Render a per-band limit, showing a dash for tiers that cannot create bands."""
    return NOT_APPLICABLE if tier.bands_allowed == 0 else limit_label(value, unit)


def comparison_rows() -> list:
    """Build (label, [value per tier]) rows for the plan comparison table."""
    tiers = [TIERS[key] for key in TIER_KEYS]
    return [
        ("Price", [t.price_label for t in tiers]),
        ("Personal storage", [limit_label(t.personal_storage_bytes, "bytes") for t in tiers]),
        ("Bands you can create", [limit_label(t.bands_allowed) for t in tiers]),
        ("Storage per band", [_band_label(t, t.band_storage_bytes, "bytes") for t in tiers]),
        ("Members per band", [_band_label(t, t.members_per_band) for t in tiers]),
        ("SMS credits per month", [limit_label(t.sms_credits_per_month) for t in tiers]),
        ("Active shares at once", [limit_label(t.active_shares) for t in tiers]),
        ("Recipients per share", [limit_label(t.recipients_per_share) for t in tiers]),
        ("Longest share expiry", [expiry_limit_label(t) for t in tiers]),
        *((label, ["Yes" if getattr(t, key) else "—" for t in tiers]) for key, label in FEATURES.items()),
    ]


def plan_offer(key: str):
    """A tier and the limits the upgrade and waitlist modals list for it."""
    tier = get_tier(key)
    return tier, [
        ("Bands you can create", limit_label(tier.bands_allowed)),
        ("Storage per band", limit_label(tier.band_storage_bytes, "bytes")),
        ("Members per band", limit_label(tier.members_per_band)),
        ("Your own storage", limit_label(tier.personal_storage_bytes, "bytes")),
        ("SMS credits per month", limit_label(tier.sms_credits_per_month)),
        ("Active shares at once", limit_label(tier.active_shares)),
    ]
