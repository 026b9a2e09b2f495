"""Workspace home: storage, uploads, tracks and playlists of the personal space or one band."""
from flask import current_app, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from coretet import htmx
from coretet.blueprints.workspace import bp
from coretet.blueprints.workspace.context import row_context, with_workspace
from coretet.services import playlists, versions, workspaces
from coretet.services.engagement import collab_row_context
from coretet.services.storage import storage_status


@bp.route("/")
def index():
    if current_user.is_authenticated:
        return redirect(url_for("workspace.home", ws=workspaces.PERSONAL))
    return redirect(url_for("auth.login"))


@bp.route("/home")
@login_required
def personal_home():
    return redirect(url_for("workspace.home", ws=workspaces.PERSONAL))


def storage_context(workspace, stored=None):
    """The storage dashboard's figures for a workspace; `stored` is the file count if already known."""
    owner = workspace.storage_owner
    if stored is None:
        stored = workspaces.stored_track_count(workspace)
    return storage_status(owner.storage_used, owner.storage_limit, stored)


@bp.route("/w/<ws>")
@with_workspace
def home(workspace):
    sort = request.args.get("sort", "newest")
    tracks = versions.latest_tracks(workspace, sort)
    stored = workspaces.stored_track_count(workspace)
    return htmx.render(
        "workspace/home.html", "tracks/_track_list.html", **row_context(workspace),
        tracks=tracks, older_versions=max(stored - len(tracks), 0), playlists=playlists.listing(workspace),
        sort=sort, **collab_row_context(workspace),
        storage=storage_context(workspace, stored), max_upload=current_app.config["MAX_UPLOAD_BYTES"],
    )


@bp.route("/w/<ws>/storage")
@with_workspace
def storage(workspace):
    """The dashboard fragment alone; refreshed after uploads, deletes and moves."""
    return render_template("workspace/_storage.html", workspace=workspace, storage=storage_context(workspace))
