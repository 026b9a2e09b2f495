"""Tracks in a workspace: upload (streamed), play (Range), rename inline, move, delete."""
from urllib.parse import unquote

from flask import current_app, make_response, render_template, request
from flask_login import current_user

from coretet import htmx, media
from coretet.blueprints.tracks import bp
from coretet.blueprints.workspace.context import row_context, with_workspace
from coretet.services import tracks, uploads, workspaces
from coretet.services.filestore import store_from_config
from coretet.services.workspaces import Forbidden


def _upload_error(message, status):
    """Upload refusals are plain text: the uploader's script shows them beside the file."""
    response = make_response(message, status)
    response.mimetype = "text/plain"
    return response


@bp.post("/w/<ws>/tracks")
@with_workspace
def upload(workspace):
    """One file per request: a raw body (the page's script, with progress) or a plain form."""
    if workspace.read_only:
        return _upload_error(uploads.READ_ONLY_MESSAGE, 403)
    if request.files:
        file = request.files.get("file")
        stream, filename, declared = file.stream, file.filename, None
    else:
        stream = request.stream
        filename = unquote(request.headers.get("X-File-Name", ""))
        declared = request.content_length
    try:
        track = uploads.store_upload(
            store_from_config(current_app.config), stream, filename, current_user, workspace.band,
            max_bytes=current_app.config["MAX_UPLOAD_BYTES"], declared_size=declared,
        )
    except uploads.FileTooLarge as exc:
        return _upload_error(exc.message, 413)
    except uploads.UploadError as exc:
        return _upload_error(exc.message, 422)
    response = make_response(render_template("tracks/_track_row.html", track=track, **row_context(workspace)))
    return htmx.trigger(response, "storageChanged")


@bp.get("/w/<ws>/tracks/<track_id>/stream")
@with_workspace
def stream(workspace, track_id):
    return media.stream_response(workspaces.get_track(workspace, track_id))


@bp.get("/w/<ws>/tracks/<track_id>/title")
@with_workspace
def show_title(workspace, track_id):
    track = workspaces.get_track(workspace, track_id)
    return render_template("tracks/_title.html", workspace=workspace, track=track)


@bp.get("/w/<ws>/tracks/<track_id>/title/edit")
@with_workspace
def edit_title(workspace, track_id):
    track = workspaces.get_track(workspace, track_id)
    return render_template("tracks/_title_edit.html", workspace=workspace, track=track)


@bp.post("/w/<ws>/tracks/<track_id>/title")
@with_workspace
def save_title(workspace, track_id):
    track = workspaces.get_track(workspace, track_id)
    tracks.rename(track, request.form.get("title", ""))
    return render_template("tracks/_title.html", workspace=workspace, track=track)


@bp.post("/w/<ws>/tracks/<track_id>/move")
@with_workspace
def move(workspace, track_id):
    track = workspaces.get_track(workspace, track_id)
    target = workspaces.resolve(current_user, request.form.get("target", ""))
    try:
        tracks.move(track, workspace, target)
    except uploads.QuotaExceeded as exc:
        raise Forbidden(exc.message) from exc
    return htmx.trigger(make_response(""), "storageChanged")


@bp.delete("/w/<ws>/tracks/<track_id>")
@with_workspace
def delete(workspace, track_id):
    track = workspaces.get_track(workspace, track_id)
    if not workspace.is_personal and track.created_by != current_user.id and not workspace.can_manage:
        raise Forbidden("Only the person who uploaded this track, or a band admin, can delete it.")
    uploads.delete_track(store_from_config(current_app.config), track)
    return htmx.trigger(make_response(""), "storageChanged")
