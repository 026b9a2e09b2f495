"""Storage quota maths: whether a file fits, dashboard state and readable refusals."""
from dataclasses import dataclass
from typing import Optional

from coretet.services import tiers

_UNITS = ("B", "KB", "MB", "GB", "TB", "PB")

# Dashboard thresholds in percent of the limit (SPEC §5).
WARNING_PERCENT = 75
CRITICAL_PERCENT = 90


def _non_negative(value, what: str) -> int:
    """Refuse negative or non-integer byte counts, which would corrupt quota maths."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{what} must be a whole number of bytes, at least 0, got {value!r}")
    return value


def _limit(value) -> Optional[int]:
    """Validate a limit where None means unlimited."""
    return None if value is None else _non_negative(value, "limit")


def format_bytes(n: int) -> str:
    """Format a byte count in 1024-based units with one decimal only when needed."""
    value = float(_non_negative(n, "n"))
    unit = 0
    # Compare the rounded value so 1023.96 MB reads "1 GB" rather than "1024 MB".
    while unit < len(_UNITS) - 1 and round(value, 1) >= 1024:
        value /= 1024
        unit += 1
    if unit == 0:
        return f"{int(value)} B"
    text = f"{value:.1f}"
    if text.endswith(".0"):
        text = text[:-2]
    return f"{text} {_UNITS[unit]}"


def fits(used: int, limit: Optional[int], size: int) -> bool:
    """Tell whether a file of `size` bytes fits; landing exactly on the limit is allowed."""
    used = _non_negative(used, "used")
    size = _non_negative(size, "size")
    limit = _limit(limit)
    return limit is None or used + size <= limit


@dataclass(frozen=True)
class StorageStatus:
    """Everything the storage dashboard shows for one workspace."""

    used: int
    limit: Optional[int]
    percent: float
    state: str
    remaining: Optional[int]
    average_track_size: Optional[int]
    more_tracks_estimate: Optional[int]
    used_label: str
    limit_label: str
    summary: str
    estimate_label: Optional[str]


def _state(used: int, limit: Optional[int]) -> str:
    """Classify usage with exact integer maths so 74.99 % never rounds into warning."""
    if limit is None:
        return "normal"
    if used >= limit:
        return "full"
    if used * 100 >= CRITICAL_PERCENT * limit:
        return "critical"
    if used * 100 >= WARNING_PERCENT * limit:
        return "warning"
    return "normal"


def storage_status(used: int, limit: Optional[int], track_count: int) -> StorageStatus:
    """Build the dashboard view of usage, capped percentage and a tracks-left estimate."""
    used = _non_negative(used, "used")
    limit = _limit(limit)
    track_count = _non_negative(track_count, "track_count")

    if limit is None:
        percent = 0.0
    elif limit == 0:
        percent = 100.0
    else:
        percent = min(100.0, used * 100 / limit)

    remaining = None if limit is None else max(0, limit - used)
    average = used // track_count if track_count else None
    estimate = remaining // average if remaining is not None and average else None

    used_label = format_bytes(used)
    limit_label = tiers.limit_label(limit, "bytes")
    summary = f"{used_label} used" if limit is None else f"{used_label} of {limit_label}"
    if estimate is None:
        estimate_label = None
    elif estimate == 0:
        estimate_label = "not enough room for another track of your average size"
    else:
        noun = "track" if estimate == 1 else "tracks"
        estimate_label = f"about {estimate:,} more {noun} at your average size"

    return StorageStatus(
        used=used,
        limit=limit,
        percent=percent,
        state=_state(used, limit),
        remaining=remaining,
        average_track_size=average,
        more_tracks_estimate=estimate,
        used_label=used_label,
        limit_label=limit_label,
        summary=summary,
        estimate_label=estimate_label,
    )


def _advice(limit: Optional[int], band: bool) -> str:
    """Suggest the way out: delete tracks, and the smallest tier with more room if any."""
    for key in tiers.TIER_KEYS:
        tier = tiers.get_tier(key)
        offered = tier.band_storage_bytes if band else tier.personal_storage_bytes
        # Only paid tiers are a way out; the free tier is nobody's upgrade.
        if tier.monthly_price_cents and limit is not None and offered is not None and offered > limit:
            room = format_bytes(offered)
            if tier.purchasable:
                return f"Delete tracks or upgrade to {tier.name} for {room}."
            return f"Delete tracks or join the {tier.name} waitlist for {room}."
    return "Delete tracks to make room."


def quota_message(used: int, limit: Optional[int], size: int, *, band: bool = False) -> str:
    """Explain why an upload was refused: usage, limit, file size and what to do next.

    Pass band=True for a band workspace so the advice compares per-band storage.
    """
    used = _non_negative(used, "used")
    limit = _limit(limit)
    size_label = format_bytes(_non_negative(size, "size"))
    used_label = format_bytes(used)
    if limit is None:
        # The database can still refuse an unlimited workspace (e.g. a race); say so plainly.
        return f"This file is {size_label} and couldn't be stored ({used_label} used). Try again."
    limit_label = format_bytes(limit)
    if used >= limit:
        situation = f"your storage is full ({used_label} of {limit_label} used)"
    else:
        situation = (
            f"only {format_bytes(limit - used)} is left ({used_label} of {limit_label} used)"
        )
    return f"This file is {size_label}, but {situation}. {_advice(limit, band)}"


def format_duration(seconds) -> str:
    """Seconds as m:ss, or h:mm:ss past an hour; "–" when unknown."""
    if seconds is None:
        return "–"
    total = int(round(float(seconds)))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"
