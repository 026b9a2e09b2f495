"""Tracks in a workspace: upload (streamed), play (Range), rename inline, move, delete; the track page,
its analysis status, new versions and A/B compare."""
from urllib.parse import unquote

from flask import current_app, make_response, render_template, request, url_for
from flask_login import current_user

from coretet import htmx, media
from coretet.blueprints.bands.routes import LIMIT_MODALS
from coretet.blueprints.tracks import bp
from coretet.blueprints.workspace.context import row_context, with_workspace
from coretet.services import tracks, uploads, versions, workspaces
from coretet.services.filestore import store_from_config
from coretet.services.tiers import can_use_feature
from coretet.services.workspaces import Forbidden


def _upload_error(message, status):
    """Upload refusals are plain text: the uploader's script shows them beside the file."""
    response = make_response(message, status)
    response.mimetype = "text/plain"
    return response


@bp.app_template_filter("short_date")
def short_date(moment):
    """A date as "Mar 3, 2026"."""
    return f"{moment:%b} {moment.day}, {moment.year}" if moment else ""


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
    except uploads.QuotaExceeded as exc:
        response = _upload_error(exc.message, 422)
        response.headers["X-Upload-Refused"] = "quota"  # the uploader's script may offer an upgrade
        return response
    except uploads.UploadError as exc:
        return _upload_error(exc.message, 422)
    response = make_response(render_template("tracks/_track_row.html", track=track, **row_context(workspace)))
    return htmx.trigger(response, "storageChanged")


def _compare_decision(workspace):
    return can_use_feature(workspace.feature_tier, "version_compare")


@bp.get("/w/<ws>/tracks/<track_id>")
@with_workspace
def show(workspace, track_id):
    """The track page: player, waveform (or its analysis status), the version chain and a new-version form."""
    track = workspaces.get_track(workspace, track_id)
    chain = versions.chain(workspace, track)
    return render_template(
        "tracks/show.html", workspace=workspace, track=track, versions=chain, latest=chain[-1].track,
        compare=_compare_decision(workspace), compare_pair=versions.default_pair(chain, track),
        max_upload=current_app.config["MAX_UPLOAD_BYTES"],
    )


@bp.get("/w/<ws>/tracks/<track_id>/analysis")
@with_workspace
def analysis(workspace, track_id):
    """The analysis status fragment; it polls itself while the worker is busy and stops once done or failed."""
    track = workspaces.get_track(workspace, track_id)
    return render_template("tracks/_analysis.html", workspace=workspace, track=track)


@bp.post("/w/<ws>/tracks/<track_id>/versions")
@with_workspace
def upload_version(workspace, track_id):
    """A new version of the song (file and notes, a multipart form); the new version's page follows."""
    track = workspaces.get_track(workspace, track_id)
    if workspace.read_only:
        return _version_error(uploads.READ_ONLY_MESSAGE, 403)
    file = request.files.get("file")
    if file is None or not file.filename:
        return _version_error("Choose the audio file of the new version.", 422)
    try:
        notes = versions.clean_notes(request.form.get("notes"))
        new = uploads.store_upload(
            store_from_config(current_app.config), file.stream, file.filename, current_user, workspace.band,
            max_bytes=current_app.config["MAX_UPLOAD_BYTES"], version_of=versions.latest(workspace, track),
            notes=notes,
        )
    except versions.VersionError as exc:
        return _version_error(str(exc), 422)
    except uploads.FileTooLarge as exc:
        return _version_error(exc.message, 413)
    except uploads.UploadError as exc:
        return _version_error(exc.message, 422)
    return htmx.trigger(htmx.redirect(url_for(".show", ws=workspace.slug, track_id=new.id)), "storageChanged")


def _version_error(message, status):
    return make_response(render_template("tracks/_version_error.html", message=message), status)


@bp.get("/w/<ws>/tracks/<track_id>/compare")
@with_workspace
def compare(workspace, track_id):
    """A/B compare of two versions of one song (?a=&b=, both of this workspace's song); a Band-tier feature."""
    track = workspaces.get_track(workspace, track_id)
    a, b = versions.pair(workspace, track, request.args.get("a"), request.args.get("b"))
    decision = _compare_decision(workspace)
    if not decision.allowed:
        modal = LIMIT_MODALS[decision.modal]
        return htmx.render("tracks/compare_refused.html", modal, 403, workspace=workspace, track=track,
                           modal=modal, reason=decision.reason)
    chain = versions.chain(workspace, track)
    match = versions.loudness_match(a.loudness_lufs, b.loudness_lufs) if b is not None else None
    return render_template("tracks/compare.html", workspace=workspace, track=track, a=a, b=b,
                           versions=chain, match=match)


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
    """Rename the song: every version carries the same title."""
    track = workspaces.get_track(workspace, track_id)
    tracks.rename(track, request.form.get("title", ""))
    versions.rename_song(track, track.title)
    return render_template("tracks/_title.html", workspace=workspace, track=track)


@bp.post("/w/<ws>/tracks/<track_id>/move")
@with_workspace
def move(workspace, track_id):
    track = workspaces.get_track(workspace, track_id)
    target = workspaces.resolve(current_user, request.form.get("target", ""))
    if target.slug != workspace.slug and versions.has_other_versions(track):
        raise Forbidden("Songs with several versions stay in their workspace for now. "
                        "Delete the versions you no longer need to move the song.")
    try:
        tracks.move(track, workspace, target)
    except uploads.QuotaExceeded as exc:
        raise Forbidden(exc.message) from exc
    return htmx.trigger(make_response(""), "storageChanged")


@bp.delete("/w/<ws>/tracks/<track_id>")
@with_workspace
def delete(workspace, track_id):
    """Delete one version; the song's playlist places pass to its next-latest version.

    From the track list the answer is the song's new latest row (or nothing); from a
    track page (?from=page&stay=<the page's version>) the browser stays on that page, or
    goes to the song's latest remaining version when the page's own version was deleted.
    """
    track = workspaces.get_track(workspace, track_id)
    if not workspace.is_personal and track.created_by != current_user.id and not workspace.can_manage:
        raise Forbidden("Only the person who uploaded this track, or a band admin, can delete it.")
    successor = versions.hand_over_playlist_places(track)
    uploads.delete_track(store_from_config(current_app.config), track)
    if request.args.get("from") == "page":
        stay = request.args.get("stay")
        if stay and stay != track_id:
            try:
                successor = workspaces.get_track(workspace, stay)
            except workspaces.NotFound:
                pass
        if successor is None:
            return htmx.redirect(url_for("workspace.home", ws=workspace.slug))
        return htmx.redirect(url_for(".show", ws=workspace.slug, track_id=successor.id))
    body = ""
    if successor is not None:
        body = render_template("tracks/_track_row.html", track=successor, **row_context(workspace))
    return htmx.trigger(make_response(body), "storageChanged")
