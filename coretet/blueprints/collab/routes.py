"""Collaboration views: each resolves the track through the workspace, calls a service, renders a fragment."""
import re
from datetime import datetime

from flask import current_app, jsonify, make_response, render_template, request
from flask_login import current_user

from coretet import htmx, media
from coretet.blueprints.collab import bp
from coretet.blueprints.workspace.context import with_workspace
from coretet.models import utcnow
from coretet.services import activity, comments, engagement, tiers
from coretet.services.filestore import store_from_config
from coretet.services.workspaces import NotFound, get_track

UPGRADE_MODAL = "billing/_upgrade_modal.html"
FEATURES = ("timestamped_comments", "voice_comments")
# Where a reply form shows its errors: its own slot, named after the comment it answers.
ERROR_TARGET = re.compile(r"#comment-(form|reply)-error(-[0-9a-f-]{36})?")


@bp.app_template_filter("ago")
def ago(moment, now=None):
    """A timestamp as "just now", "5 min ago", "3 h ago", "2 days ago" or "Mar 4"."""
    now = now or utcnow()
    seconds = (now - moment).total_seconds()
    if seconds < 60:
        return "just now"
    if seconds < 3600:
        return f"{int(seconds // 60)} min ago"
    if seconds < 86400:
        return f"{int(seconds // 3600)} h ago"
    if seconds < 7 * 86400:
        days = int(seconds // 86400)
        return f"{days} day{'s' if days > 1 else ''} ago"
    return f"{moment:%b} {moment.day}" + (f", {moment.year}" if moment.year != now.year else "")


def _features(workspace):
    """Which gated comment features this workspace has: {feature: allowed}."""
    return {name: tiers.can_use_feature(workspace.feature_tier, name).allowed for name in FEATURES}


def _thread_context(workspace, track):
    entries = comments.thread(track)
    return {"workspace": workspace, "track": track, "entries": entries,
            "version": comments.version_of(entries), "markers": comments.markers(entries),
            "can_delete": lambda comment: comments.can_delete(workspace, comment)}


def _engagement_context(workspace, track):
    summary, members = engagement.track_detail(workspace, track)
    return {"workspace": workspace, "track": track, "summary": summary, "members": members}


def _retarget(response, target, swap="innerHTML"):
    response.headers["HX-Retarget"] = target
    response.headers["HX-Reswap"] = swap
    return response


def _upgrade(decision):
    """The upgrade modal, into #modal, with the tier module's reason (403: the server refused)."""
    response = make_response(render_template(UPGRADE_MODAL, reason=decision.reason), 403)
    return _retarget(response, "#modal")


def _thread_response(workspace, track):
    """The refreshed thread, wherever the request came from (main form, reply form, delete button)."""
    response = make_response(render_template("collab/_thread.html", **_thread_context(workspace, track)))
    return _retarget(response, "#comment-thread", "outerHTML")


def _form_error(message, target):
    response = make_response(render_template("collab/_form_error.html", message=message), 422)
    return _retarget(response, target)


@bp.get("/w/<ws>/tracks/<track_id>/collab")
@with_workspace
def panel(workspace, track_id):
    """The track page's collaboration panel: engagement, members, comment form and thread."""
    track = get_track(workspace, track_id)
    context = {**_engagement_context(workspace, track), **_thread_context(workspace, track)}
    return render_template("collab/_panel.html", features=_features(workspace), **context)


@bp.post("/w/<ws>/tracks/<track_id>/beacon")
@with_workspace
def beacon(workspace, track_id):
    """Progress from the player: JSON or form {position, played}; 204, or {"listened": true} the first time."""
    track = get_track(workspace, track_id)
    data = request.get_json(silent=True) if request.is_json else request.form
    data = data if hasattr(data, "get") else {}
    try:
        progress = engagement.record_progress(current_user, track, data.get("position"), data.get("played"))
    except engagement.EngagementError as exc:
        return jsonify(error=str(exc)), 400
    if progress.newly_listened:  # this beacon crossed half the track: the page refreshes its summary
        return jsonify(listened=True)
    return "", 204


@bp.get("/w/<ws>/tracks/<track_id>/engagement")
@with_workspace
def engagement_fragment(workspace, track_id):
    track = get_track(workspace, track_id)
    return render_template("collab/_engagement.html", **_engagement_context(workspace, track))


@bp.post("/w/<ws>/tracks/<track_id>/reaction")
@with_workspace
def react(workspace, track_id):
    """Toggle liked/loved and answer with the refreshed engagement block."""
    track = get_track(workspace, track_id)
    try:
        engagement.set_reaction(current_user, track, request.form.get("reaction"))
    except engagement.EngagementError as exc:
        return htmx.notice(str(exc), 422)
    return render_template("collab/_engagement.html", **_engagement_context(workspace, track))


@bp.get("/w/<ws>/tracks/<track_id>/comments")
@with_workspace
def thread(workspace, track_id):
    """The comment thread; with ?since=<version> it answers 204 while nothing changed (the poll)."""
    track = get_track(workspace, track_id)
    since = request.args.get("since")
    if since is not None and since == comments.thread_version(track):
        return "", 204
    return render_template("collab/_thread.html", **_thread_context(workspace, track))


@bp.post("/w/<ws>/tracks/<track_id>/comments")
@with_workspace
def create_comment(workspace, track_id):
    """A new comment or reply (multipart when it carries a voice memo); answers with the thread."""
    track = get_track(workspace, track_id)
    voice = request.files.get("voice")
    if voice is not None and not voice.filename:  # a form's empty file field, not a recording
        voice = None
    error_target = request.form.get("error_target", "")
    if not ERROR_TARGET.fullmatch(error_target):
        error_target = "#comment-form-error"
    try:
        comments.create(workspace, track, current_user, request.form.get("body", ""),
                        position=request.form.get("position"), parent_id=request.form.get("parent_id") or None,
                        voice=voice.stream if voice is not None else None,
                        store=store_from_config(current_app.config))
    except comments.FeatureLocked as exc:
        return _upgrade(exc.decision)
    except comments.CommentError as exc:
        return _form_error(str(exc), error_target)
    return htmx.trigger(_thread_response(workspace, track), "commentPosted")


@bp.get("/w/<ws>/tracks/<track_id>/comments/<comment_id>")
@with_workspace
def comment(workspace, track_id, comment_id):
    """One comment's text block (what "Cancel" on the edit form asks for)."""
    track = get_track(workspace, track_id)
    return _comment_body(workspace, track, comments.entry(track, comment_id))


def _comment_body(workspace, track, entry):
    return render_template("collab/_comment_body.html", workspace=workspace, track=track, entry=entry,
                           can_delete=lambda comment: comments.can_delete(workspace, comment))


@bp.get("/w/<ws>/tracks/<track_id>/comments/<comment_id>/edit")
@with_workspace
def edit_comment(workspace, track_id, comment_id):
    track = get_track(workspace, track_id)
    entry = comments.entry(track, comment_id)
    comments.require_author(entry.comment, current_user)
    return render_template("collab/_comment_edit.html", workspace=workspace, track=track, entry=entry)


@bp.route("/w/<ws>/tracks/<track_id>/comments/<comment_id>", methods=["PATCH", "POST"])
@with_workspace
def update_comment(workspace, track_id, comment_id):
    track = get_track(workspace, track_id)
    entry = comments.entry(track, comment_id)
    try:
        comments.edit(entry.comment, current_user, request.form.get("body", ""))
    except comments.CommentError as exc:
        return _form_error(str(exc), f"#comment-edit-error-{entry.comment.id}")
    return _comment_body(workspace, track, entry)


@bp.delete("/w/<ws>/tracks/<track_id>/comments/<comment_id>")
@with_workspace
def delete_comment(workspace, track_id, comment_id):
    """Delete a comment (and its replies); the row disappears, markers refresh with the next poll."""
    track = get_track(workspace, track_id)
    comments.remove(workspace, comments.get_comment(track, comment_id), store_from_config(current_app.config))
    return _thread_response(workspace, track)


@bp.get("/w/<ws>/tracks/<track_id>/comments/<comment_id>/voice")
@with_workspace
def voice(workspace, track_id, comment_id):
    """A voice memo's audio, with Range support, for members of the track's workspace only."""
    return media.stream_response(comments.voice_file(get_track(workspace, track_id), comment_id))


@bp.get("/w/<ws>/collab/upgrade")
@with_workspace
def upgrade(workspace):
    """The upgrade modal for a locked comment feature (the waveform or the mic button asks for it)."""
    feature = request.args.get("feature", FEATURES[0])
    if feature not in FEATURES:
        raise NotFound()
    decision = tiers.can_use_feature(workspace.feature_tier, feature)
    if decision.allowed:
        return "", 204
    return render_template(UPGRADE_MODAL, reason=decision.reason)


@bp.get("/w/<ws>/activity")
@with_workspace
def band_activity(workspace):
    """What happened in the band, newest first; "Show older" loads the next page in place."""
    if workspace.is_personal:
        raise NotFound()
    before = _parse_before(request.args.get("before"))
    events, next_before = activity.band_activity(workspace.band, before=before)
    return htmx.render("collab/activity.html", "collab/_activity_list.html", workspace=workspace,
                       events=events, next_before=next_before)


def _parse_before(value):
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo else None
