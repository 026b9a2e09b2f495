"""Storage triggers (SPEC §5) on both databases: storage_used == SUM(file_size) of the tracks it covers."""
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Uuid, bindparam, text

from coretet.extensions import db
from tests.factories import make_band, make_profile, make_track

ACCOUNT_USAGE = text("""
    SELECT 'profile', p.id, p.storage_used, COALESCE(SUM(t.file_size), 0)
    FROM profiles p LEFT JOIN tracks t ON t.created_by = p.id AND t.band_id IS NULL
    GROUP BY p.id, p.storage_used
    UNION ALL
    SELECT 'band', b.id, b.storage_used, COALESCE(SUM(t.file_size), 0)
    FROM bands b LEFT JOIN tracks t ON t.band_id = b.id
    GROUP BY b.id, b.storage_used
""")


def assert_every_account_matches_its_tracks():
    """Every profile and band is charged exactly its tracks' sizes, and none is negative."""
    rows = db.session.execute(ACCOUNT_USAGE).all()
    out_of_step = [(kind, used, total) for kind, _, used, total in rows if used != total or used < 0]
    assert out_of_step == [], f"storage_used != SUM(file_size) for {out_of_step}"


def used(row):
    db.session.expire_all()
    return row.storage_used


def update(track, **values):
    for name, value in values.items():
        setattr(track, name, value)
    db.session.commit()


def delete(track):
    db.session.delete(track)
    db.session.commit()


def understate_usage(row, value):
    statement = text(f"UPDATE {row.__tablename__} SET storage_used = :value WHERE id = :id")
    db.session.execute(statement.bindparams(bindparam("id", type_=Uuid)), {"value": value, "id": row.id})
    db.session.commit()


def test_inserting_a_personal_track_charges_its_owner(app):
    """A personal track's size is added to its creator's profile."""
    owner = make_profile()
    make_track(owner, size=1_000)
    make_track(owner, size=2_500)

    assert used(owner) == 3_500
    assert_every_account_matches_its_tracks()


def test_inserting_a_band_track_charges_the_band_not_the_uploader(app):
    """A band track counts against the band; the uploader's personal usage is unchanged."""
    owner = make_profile()
    band = make_band(owner)
    make_track(owner, band=band, size=4_000)

    assert (used(owner), used(band)) == (0, 4_000)
    assert_every_account_matches_its_tracks()


def test_deleting_a_track_credits_the_account_it_was_charged_to(app):
    """Deleting a personal track credits the owner; deleting a band track credits the band."""
    owner = make_profile()
    band = make_band(owner)
    personal, in_band = make_track(owner, size=1_200), make_track(owner, band=band, size=3_000)
    make_track(owner, size=50)

    delete(personal)
    assert (used(owner), used(band)) == (50, 3_000)
    assert_every_account_matches_its_tracks()
    delete(in_band)
    assert (used(owner), used(band)) == (50, 0)
    assert_every_account_matches_its_tracks()


@pytest.mark.parametrize("new_size", [1_500, 400, 0])
def test_resizing_a_track_charges_only_the_difference(app, new_size):
    """Growing or shrinking a track moves its account's usage by the change in size."""
    owner = make_profile()
    band = make_band(owner)
    personal, in_band = make_track(owner, size=1_000), make_track(owner, band=band, size=1_000)

    update(personal, file_size=new_size)
    update(in_band, file_size=new_size)

    assert (used(owner), used(band)) == (new_size, new_size)
    assert_every_account_matches_its_tracks()


def test_moving_a_track_to_a_band_credits_the_owner_and_charges_the_band(app):
    """personal → band: the owner gets the bytes back and the band pays for them."""
    owner = make_profile()
    band = make_band(owner)
    track = make_track(owner, size=2_000)
    make_track(owner, size=300)

    update(track, band_id=band.id)

    assert (used(owner), used(band)) == (300, 2_000)
    assert_every_account_matches_its_tracks()


def test_moving_a_track_out_of_a_band_credits_the_band_and_charges_the_owner(app):
    """band → personal: the band gets the bytes back and the track's creator pays for them."""
    owner, member = make_profile(), make_profile()
    band = make_band(owner, members=[member])
    track = make_track(member, band=band, size=2_000)

    update(track, band_id=None)

    assert (used(owner), used(member), used(band)) == (0, 2_000, 0)
    assert_every_account_matches_its_tracks()


def test_moving_a_track_between_bands_credits_the_old_band_and_charges_the_new(app):
    """band A → band B: only the two bands change."""
    owner = make_profile()
    band_a, band_b = make_band(owner), make_band(owner)
    track = make_track(owner, band=band_a, size=2_000)

    update(track, band_id=band_b.id)

    assert (used(owner), used(band_a), used(band_b)) == (0, 0, 2_000)
    assert_every_account_matches_its_tracks()


def test_giving_a_personal_track_a_new_owner_moves_the_charge_to_them(app):
    """A change of created_by on a personal track credits the old owner and charges the new one."""
    old_owner, new_owner = make_profile(), make_profile()
    track = make_track(old_owner, size=2_000)

    update(track, created_by=new_owner.id)

    assert (used(old_owner), used(new_owner)) == (0, 2_000)
    assert_every_account_matches_its_tracks()


def test_moving_and_resizing_in_one_update_charges_the_new_size_to_the_new_workspace(app):
    """The old account is credited the old size, the new account charged the new size."""
    owner = make_profile()
    band = make_band(owner)
    track = make_track(owner, size=2_000)

    update(track, band_id=band.id, file_size=3_500)

    assert (used(owner), used(band)) == (0, 3_500)
    assert_every_account_matches_its_tracks()


def test_changing_a_band_tracks_creator_leaves_every_account_alone(app):
    """A band track counts against the band whoever created it."""
    owner, member = make_profile(), make_profile()
    band = make_band(owner, members=[member])
    track = make_track(owner, band=band, size=2_000)

    update(track, created_by=member.id)

    assert (used(owner), used(member), used(band)) == (0, 0, 2_000)
    assert_every_account_matches_its_tracks()


def test_editing_a_tracks_title_changes_no_usage(app):
    """Only size, workspace and owner affect storage."""
    owner = make_profile()
    track = make_track(owner, size=2_000)

    update(track, title="Renamed", duration_seconds=12.5)

    assert used(owner) == 2_000
    assert_every_account_matches_its_tracks()


def test_deleting_more_than_the_recorded_usage_stops_at_zero(app):
    """When usage was recorded lower than the tracks, a delete floors it at 0 instead of going negative."""
    owner = make_profile()
    band = make_band(owner)
    personal, in_band = make_track(owner, size=5_000), make_track(owner, band=band, size=5_000)
    understate_usage(owner, 1_000)
    understate_usage(band, 0)

    delete(personal)
    delete(in_band)

    assert (used(owner), used(band)) == (0, 0)
    assert_every_account_matches_its_tracks()


def test_moving_a_track_away_from_an_understated_account_stops_at_zero(app):
    """The credit half of an update floors at 0 too; the new account is still charged in full."""
    owner = make_profile()
    band = make_band(owner)
    track = make_track(owner, size=5_000)
    understate_usage(owner, 10)

    update(track, band_id=band.id)

    assert (used(owner), used(band)) == (0, 5_000)
    assert_every_account_matches_its_tracks()


def test_bulk_sql_delete_and_move_keep_every_account_in_step(app):
    """Set-based statements fire the row triggers for every row they touch."""
    owners = [make_profile() for _ in range(3)]
    bands = [make_band(owners[0]), make_band(owners[1])]
    for n in range(30):
        make_track(owners[n % 3], band=bands[n % 2] if n % 5 == 0 else None, size=100 * (n + 1))
    assert_every_account_matches_its_tracks()

    db.session.execute(text("DELETE FROM tracks WHERE file_size > 1500"))
    db.session.commit()
    assert_every_account_matches_its_tracks()

    move = text(
        "UPDATE tracks SET band_id = :band, file_size = file_size + 1"
        " WHERE band_id IS NULL AND created_by = :owner"
    ).bindparams(bindparam("band", type_=Uuid), bindparam("owner", type_=Uuid))
    db.session.execute(move, {"band": bands[1].id, "owner": owners[2].id})
    db.session.commit()
    assert used(owners[2]) == 0
    assert_every_account_matches_its_tracks()


OPERATIONS = st.lists(
    st.tuples(
        st.sampled_from(["insert", "delete", "resize", "move", "reown"]),
        st.integers(0, 1_000), st.integers(0, 1_000), st.integers(0, 50_000_000),
    ),
    min_size=1, max_size=30,
)


@settings(max_examples=25, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(operations=OPERATIONS)
def test_any_sequence_of_track_changes_keeps_every_account_in_step(app, operations):
    """Random inserts, deletes, resizes, moves and owner changes never break the invariant."""
    profiles = [make_profile() for _ in range(3)]
    bands = [make_band(profiles[0]), make_band(profiles[1])]
    workspaces = [None, *bands]
    tracks = []
    for kind, a, b, size in operations:
        if kind == "insert" or not tracks:
            tracks.append(make_track(profiles[a % 3], band=workspaces[b % 3], size=size))
        elif kind == "delete":
            delete(tracks.pop(a % len(tracks)))
        elif kind == "resize":
            update(tracks[a % len(tracks)], file_size=size)
        elif kind == "move":
            workspace = workspaces[b % 3]
            update(tracks[a % len(tracks)], band_id=workspace.id if workspace else None)
        else:
            update(tracks[a % len(tracks)], created_by=profiles[b % 3].id)
        assert_every_account_matches_its_tracks()
