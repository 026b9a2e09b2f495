"""Workspace home: storage, uploads, tracks and playlists of the personal space or one band."""
from flask import current_app, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import func, select

from coretet import htmx
from coretet.blueprints.workspace import bp
from coretet.blueprints.workspace.context import row_context, with_workspace
from coretet.extensions import db
from coretet.models import Track
from coretet.services import playlists, workspaces
from coretet.services.engagement import collab_row_context
from coretet.services.storage import storage_status

SORTS = {"newest": Track.created_at.desc(), "largest": Track.file_size.desc(), "title": Track.title}


@bp.route("/")
def index():
    if current_user.is_authenticated:
        return redirect(url_for("workspace.home", ws=workspaces.PERSONAL))
    return redirect(url_for("auth.login"))


@bp.route("/home")
@login_required
def personal_home():
    return redirect(url_for("workspace.home", ws=workspaces.PERSONAL))


def storage_context(workspace):
    """The storage dashboard's figures for a workspace (two small queries)."""
    owner = workspace.storage_owner
    count = db.session.scalar(select(func.count()).select_from(workspace.tracks_query().subquery()))
    return storage_status(owner.storage_used, owner.storage_limit, count)


@bp.route("/w/<ws>")
@with_workspace
def home(workspace):
    sort = request.args.get("sort", "newest")
    tracks = db.session.scalars(workspace.tracks_query().order_by(SORTS.get(sort, SORTS["newest"]))).all()
    return htmx.render(
        "workspace/home.html", "tracks/_track_list.html", **row_context(workspace),
        tracks=tracks, playlists=playlists.listing(workspace), sort=sort, **collab_row_context(workspace),
        storage=storage_context(workspace), max_upload=current_app.config["MAX_UPLOAD_BYTES"],
    )


@bp.route("/w/<ws>/storage")
@with_workspace
def storage(workspace):
    """The dashboard fragment alone; refreshed after uploads, deletes and moves."""
    return render_template("workspace/_storage.html", workspace=workspace, storage=storage_context(workspace))
