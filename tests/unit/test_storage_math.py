"""Storage quota maths: fitting, dashboard states and refusal text."""
import pytest

from coretet.services.storage import fits, format_bytes, quota_message, storage_status
from coretet.services.tiers import GIB

MB = 1024**2


@pytest.mark.parametrize(
    "n, label",
    [
        (0, "0 B"),
        (1, "1 B"),
        (1023, "1023 B"),
        (1024, "1 KB"),
        (1536, "1.5 KB"),
        (512 * MB, "512 MB"),
        (GIB, "1 GB"),
        (int(18.5 * GIB), "18.5 GB"),
        (25 * GIB, "25 GB"),
        (100 * GIB, "100 GB"),
        (1024 * MB - 40, "1 GB"),
        (1024 * GIB, "1 TB"),
    ],
)
def test_format_bytes_uses_1024_units_and_drops_needless_decimals(n, label):
    assert format_bytes(n) == label


def test_format_bytes_refuses_negative_sizes():
    with pytest.raises(ValueError):
        format_bytes(-1)


def test_upload_landing_exactly_on_the_limit_fits():
    assert fits(GIB - 100, GIB, 100)


def test_one_byte_over_the_limit_is_refused():
    assert not fits(GIB - 100, GIB, 101)


def test_limit_zero_refuses_any_file_but_an_empty_one():
    assert fits(0, 0, 0)
    assert not fits(0, 0, 1)


def test_unlimited_storage_fits_anything():
    assert fits(10**15, None, 10**12)


def test_over_quota_after_downgrade_refuses_every_upload():
    assert not fits(25 * GIB, GIB, 1)


@pytest.mark.parametrize("args", [(-1, GIB, 1), (0, -1, 1), (0, GIB, -1), (0, GIB, 1.5)])
def test_fits_refuses_nonsense_numbers(args):
    with pytest.raises(ValueError):
        fits(*args)


@pytest.mark.parametrize(
    "used, state",
    [(0, "normal"), (7499, "normal"), (7500, "warning"), (8999, "warning"),
     (9000, "critical"), (9999, "critical"), (10000, "full"), (15000, "full")],
)
def test_dashboard_state_thresholds(used, state):
    assert storage_status(used, 10000, 1).state == state


def test_percent_is_capped_at_100_when_over_quota():
    status = storage_status(3 * GIB, GIB, 3)
    assert status.percent == 100.0
    assert status.remaining == 0
    assert status.more_tracks_estimate == 0


def test_percent_reflects_usage():
    assert storage_status(GIB // 4, GIB, 1).percent == 25.0


def test_zero_limit_with_nothing_used_reads_full():
    status = storage_status(0, 0, 0)
    assert (status.percent, status.state, status.remaining) == (100.0, "full", 0)


def test_unlimited_storage_has_no_percent_no_remaining_and_no_estimate():
    status = storage_status(5 * GIB, None, 10)
    assert (status.percent, status.state) == (0.0, "normal")
    assert status.remaining is None
    assert status.more_tracks_estimate is None
    assert status.limit_label == "Unlimited"
    assert status.summary == "5 GB used"


def test_dashboard_labels_and_track_estimate():
    status = storage_status(int(18.5 * GIB), 25 * GIB, 37)
    assert status.summary == "18.5 GB of 25 GB"
    assert (status.used_label, status.limit_label) == ("18.5 GB", "25 GB")
    assert status.average_track_size == 512 * MB
    assert status.more_tracks_estimate == 13
    assert status.estimate_label == "about 13 more tracks at your average size"


def test_no_tracks_means_no_estimate():
    status = storage_status(0, GIB, 0)
    assert status.average_track_size is None
    assert status.more_tracks_estimate is None
    assert status.estimate_label is None


def test_free_user_refusal_says_usage_limit_size_and_upgrade_path():
    message = quota_message(990 * MB, GIB, 48 * MB)
    assert "48 MB" in message
    assert "990 MB of 1 GB" in message
    assert "34 MB is left" in message
    assert message.endswith("Delete tracks or upgrade to Band for 25 GB.")


def test_band_user_over_quota_is_pointed_to_the_producer_waitlist():
    message = quota_message(26 * GIB, 25 * GIB, 10 * MB)
    assert "storage is full (26 GB of 25 GB used)" in message
    assert message.endswith("join the Producer waitlist for 100 GB.")


def test_full_band_workspace_can_only_delete_tracks():
    message = quota_message(25 * GIB, 25 * GIB, MB, band=True)
    assert message.endswith("Delete tracks to make room.")
