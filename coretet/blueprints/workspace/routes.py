"""The signed-in home: the personal workspace and its storage."""
from flask import redirect, url_for
from flask_login import current_user, login_required
from sqlalchemy import func, select

from coretet import htmx
from coretet.blueprints.workspace import bp
from coretet.extensions import db
from coretet.models import Band, BandMember, Playlist, PlaylistTrack, Track
from coretet.services.storage import storage_status


@bp.route("/")
def index():
    if current_user.is_authenticated:
        return redirect(url_for("workspace.home"))
    return redirect(url_for("auth.login"))


@bp.route("/home")
@login_required
def home():
    profile = current_user
    tracks = db.session.scalars(
        select(Track).where(Track.created_by == profile.id, Track.band_id.is_(None))
        .order_by(Track.created_at.desc())
    ).all()
    playlists = db.session.execute(
        select(Playlist, func.count(PlaylistTrack.id))
        .outerjoin(PlaylistTrack, PlaylistTrack.playlist_id == Playlist.id)
        .where(Playlist.created_by == profile.id, Playlist.band_id.is_(None))
        .group_by(Playlist.id).order_by(Playlist.created_at.desc())
    ).all()
    bands = db.session.scalars(
        select(Band).join(BandMember, BandMember.band_id == Band.id)
        .where(BandMember.profile_id == profile.id).order_by(Band.name)
    ).all()
    storage = storage_status(profile.storage_used, profile.storage_limit, len(tracks))
    return htmx.render(
        "workspace/home.html", "workspace/_storage.html",
        tracks=tracks, playlists=playlists, bands=bands, storage=storage,
    )
