"""Recipient phone pages: the code form, the player, audio and listen beacons of one share link."""
import hashlib
import secrets
import time
import uuid

from flask import abort, current_app, g, redirect, render_template, request, session, url_for
from flask_login import current_user

from coretet import media
from coretet.blueprints.listen import bp
from coretet.extensions import db, limiter
from coretet.models import Playlist, Profile, utcnow
from coretet.services import linking, listen, sharing
from coretet.services.email import backend_from_config as email_backend
from coretet.services.keys import keys_from_config
from coretet.services.listen import AccessDenied
from coretet.services.sms_credits import NotEnoughCredits
from coretet.services.workspaces import Forbidden, NotFound

STREAM_URL_MARKER = uuid.UUID(int=0)  # stands in for each track id when the stream URL is built once
DEVICE_COOKIE = "coretet_device"
DEVICE_MAX_AGE = 400 * 24 * 3600  # the longest lifetime browsers accept
NEW_CODE_SECONDS = 15 * 60
NO_CREDITS = "The person who shared this can't send a new code right now. Ask them to resend it."
FORM_ERRORS = (listen.WRONG_CODE, listen.CODE_EXPIRED, listen.OTHER_DEVICE)


def _keys():
    return keys_from_config(current_app.config)


def _slot(token, kind):
    """Session key for one link; the token is hashed so the cookie stays short."""
    return f"{kind}:{hashlib.sha256(token.encode()).hexdigest()[:16]}"


def _device_id():
    """The browser's long-lived random device id; a new one is issued when missing."""
    value = request.cookies.get(DEVICE_COOKIE, "")
    if 32 <= len(value) <= 64 and value.isascii():
        return value
    g.new_device_id = g.get("new_device_id") or secrets.token_urlsafe(32)
    return g.new_device_id


def _profile_id():
    return current_user.id if current_user.is_authenticated else None


def _viewer(token, now=None, with_page=False):
    """This browser's viewer session, re-checked now (one query), as a listen.Viewer, or AccessDenied."""
    grant_id = session.get(_slot(token, "listen"))
    try:
        grant_id = uuid.UUID(grant_id) if grant_id else None
    except (TypeError, ValueError):
        grant_id = None
    return listen.viewer_grant(token, grant_id, _device_id(), now or utcnow(), _profile_id(), with_page=with_page)


def _notify_owner(share):
    owner = db.session.get(Profile, share.shared_by)
    title = db.session.get(Playlist, share.playlist_id).title
    email_backend(current_app.config).send(
        owner.email, f'Your share of "{title}" is locked',
        f'Someone entered too many wrong codes for your share of "{title}", '
        "so it no longer accepts codes. People who already opened it can keep listening.\n\n"
        "If this was one of your recipients, unlock the share from the playlist's sharing settings.",
    )


def _code_page(token, denied=None, notice=None):
    """The code form (with a refusal or notice), or a plain message when the link itself is dead."""
    try:
        share = listen.share_for_page(token, utcnow())
    except AccessDenied as dead:
        return render_template("listen/message.html", title=dead.message), dead.status
    sharer, title, track_count = listen.share_summary(share)
    locked = listen.is_locked(share, current_app.config.get("LISTEN_FAILURE_CAP", 20))
    if denied is None and locked:
        denied = AccessDenied(listen.LOCKED, 423)
    show_form = denied is None or denied.message in FORM_ERRORS
    page = render_template(
        "listen/code.html", token=token, sharer=sharer, title=title, track_count=track_count,
        denied=denied, notice=notice, show_form=show_form,
    )
    return page, denied.status if denied else 200


def _pending_grant(token):
    """The grant whose code matched on another phone a moment ago (for "text me a new code")."""
    pending = session.get(_slot(token, "newcode")) or {}
    if pending.get("until", 0) < time.time():
        return None
    return uuid.UUID(pending["grant"])


def _pending_key():
    grant_id = _pending_grant(request.view_args["token"])
    return f"listen-new-code:{grant_id or request.remote_addr}"


@bp.errorhandler(AccessDenied)
def refused(denied):
    # The viewer session stays: it names the grant, so the next page load (after a refused
    # track, say) is re-checked and tells the true reason ("withdrawn", "expired") rather than
    # "not valid". It gives no access by itself; every request is checked again.
    token = request.view_args["token"]
    if denied.other_device:
        session[_slot(token, "newcode")] = {
            "grant": str(denied.grant_id), "until": time.time() + NEW_CODE_SECONDS,
        }
    return _code_page(token, denied)


@bp.errorhandler(429)
def too_many(error):
    if request.endpoint == "listen.new_code":
        detail = "You asked for new codes too often. Please try again in an hour."
    else:
        detail = "Please wait a minute and try again."
    return render_template("listen/message.html", title="Too many attempts", detail=detail), 429


@bp.after_request
def phone_headers(response):
    # strict-origin, not no-referrer: Flask-WTF refuses HTTPS form posts without a Referer,
    # and the origin alone never carries the share token anywhere.
    response.headers["Referrer-Policy"] = "strict-origin"
    response.headers["X-Robots-Tag"] = "noindex"
    response.headers.setdefault("Cache-Control", "private, no-store")
    if g.get("new_device_id"):
        response.set_cookie(
            DEVICE_COOKIE, g.new_device_id, max_age=DEVICE_MAX_AGE, path="/listen",
            httponly=True, samesite="Lax", secure=current_app.config["SESSION_COOKIE_SECURE"],
        )
    return response


@bp.get("/listen/<token>")
def code_page(token):
    now = utcnow()
    if session.get(_slot(token, "listen")):
        try:
            _viewer(token, now)
            return redirect(url_for(".player", token=token))
        except AccessDenied as denied:
            # Said once, then the link offers a clean code form again.
            session.pop(_slot(token, "listen"), None)
            if denied.message in (listen.REVOKED, listen.CODE_EXPIRED):
                return _code_page(token, denied)
    if current_user.is_authenticated:
        grant = listen.grant_for_profile(token, current_user, _keys(), now)
        if grant is not None:
            linking.claim_grants_for(current_user, _keys(), now)
            db.session.commit()
            session[_slot(token, "listen")] = str(grant.id)
            return redirect(url_for(".player", token=token))
    _device_id()
    return _code_page(token)


@bp.post("/listen/<token>")
@limiter.limit(lambda: current_app.config.get("LISTEN_CODE_LIMIT", "5 per minute"))
def enter_code(token):
    grant = listen.check_code(
        token, request.form.get("code", ""), _device_id(), _keys(), utcnow(),
        failure_cap=current_app.config.get("LISTEN_FAILURE_CAP", 20), notify_owner=_notify_owner,
    )
    session.pop(_slot(token, "newcode"), None)
    session[_slot(token, "listen")] = str(grant.id)
    return redirect(url_for(".player", token=token), 303)


@bp.get("/listen/<token>/play")
def player(token):
    # Two queries whatever the number of tracks: access (share + grant + names), then the list.
    now = utcnow()
    viewer = _viewer(token, now, with_page=True)
    listen.touch(viewer, now)
    # One url_for for every track's stream link; the uuid is the only part that changes.
    head, _, tail = url_for(".stream", token=token, track_id=STREAM_URL_MARKER).rpartition(str(STREAM_URL_MARKER))
    return render_template(
        "listen/player.html", token=token, sharer=viewer.sharer, title=viewer.title,
        tracks=listen.shared_tracks(viewer.playlist_id), store_key=_slot(token, "heard"),
        stream_url=lambda track_id: f"{head}{track_id}{tail}",
        expires=listen.expiry_text(viewer.expires_at, now),
        signed_in=current_user.is_authenticated,
    )


@bp.get("/listen/<token>/tracks/<uuid:track_id>/stream")
def stream(token, track_id):
    track = listen.shared_track(_viewer(token), track_id)
    if track is None:
        abort(404)
    return media.stream_response(track)


@bp.post("/listen/<token>/progress")
@limiter.limit("120 per minute")
def progress(token):
    viewer = _viewer(token)
    try:
        track_id = uuid.UUID(request.form.get("track", ""))
    except ValueError:
        return "", 400
    return ("", 204) if listen.record_progress(viewer, track_id, request.form.get("position")) else ("", 400)


@bp.post("/listen/<token>/new-code")
@limiter.limit("3 per hour")
@limiter.limit("3 per hour", key_func=_pending_key)
def new_code(token):
    grant_id = _pending_grant(token)
    if grant_id is None:
        return _code_page(token, notice="Enter your code again, then ask for a new one.")
    share = listen.share_for_page(token, utcnow())
    base = current_app.config["APP_BASE_URL"]
    try:
        sharing.resend_code(share, grant_id, _keys(),
                            lambda t: base + url_for(".code_page", token=t))
    except NotFound:
        abort(404)
    except Forbidden as exc:
        message = NO_CREDITS if isinstance(exc, NotEnoughCredits) else str(exc)
        return _code_page(token, notice=message)
    session.pop(_slot(token, "newcode"), None)
    return _code_page(token, notice="We texted a new code to your phone. Enter it here.")
