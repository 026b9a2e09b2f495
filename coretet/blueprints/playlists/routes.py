"""Playlist views: each parses input, calls services.playlists and renders a page or a fragment."""
from flask import redirect, request, url_for

from coretet import htmx
from coretet.blueprints.playlists import bp
from coretet.blueprints.playlists.forms import PlaylistForm
from coretet.blueprints.workspace.context import with_workspace
from coretet.services import engagement, playlists
from coretet.services.workspaces import get_playlist

PAGE = "playlists/show.html"


@bp.app_template_filter("track_summary")
def track_summary(count, seconds):
    """A count and a total in seconds as "5 tracks · 12:34"."""
    return playlists.summary_label(count, seconds)


def _show_url(workspace, playlist):
    return url_for("playlists.show", ws=workspace.slug, playlist_id=playlist.id)


def _render(workspace, playlist, fragment, status=200, **context):
    """The playlist page, or one of its fragments for htmx; the page's queries run only for the page."""
    if not htmx.is_fragment_request():
        context.setdefault("form", None)
        context.setdefault("query", "")
        context.update(items=playlists.tracks(playlist), summary=playlists.summary(playlist),
                       eng_progress=engagement.progress_of(playlist, workspace.profile.id))
        if context.get("candidates") is None:
            context["candidates"] = playlists.candidates(workspace, playlist, context["query"])
    return htmx.render(PAGE, fragment, status, workspace=workspace, playlist=playlist, **context)


def _tracks_changed(workspace, playlist, membership_changed=True, message=None, status=200):
    """After a change to the track list: the list and its summary for htmx, the page otherwise."""
    if not htmx.is_fragment_request():
        return redirect(_show_url(workspace, playlist))
    response = htmx.render(PAGE, "playlists/_tracks_response.html", status, workspace=workspace,
                           playlist=playlist, items=playlists.tracks(playlist),
                           summary=playlists.summary(playlist), message=message, level="error",
                           eng_progress=engagement.progress_of(playlist, workspace.profile.id))
    # When tracks came or went, the add-tracks search refreshes itself on this event.
    return htmx.trigger(response, "playlist-changed") if membership_changed else response


@bp.get("/w/<ws>/playlists")
@with_workspace
def index(workspace):
    return htmx.render("playlists/index.html", "playlists/_playlist_list.html",
                       workspace=workspace, playlists=playlists.listing(workspace),
                       playlist_progress=engagement.workspace_playlist_progress(workspace))


@bp.get("/w/<ws>/playlists/new")
@with_workspace
def new(workspace):
    workspace.require_writable("create playlists")
    return htmx.render("playlists/new.html", "playlists/_new_modal.html", workspace=workspace, form=PlaylistForm())


@bp.post("/w/<ws>/playlists")
@with_workspace
def create(workspace):
    workspace.require_writable("create playlists")
    form = PlaylistForm()
    if not form.validate_on_submit():
        return htmx.render("playlists/new.html", "playlists/_new_modal.html", 422, workspace=workspace, form=form)
    playlist = playlists.create(workspace, form.title.data, form.description.data)
    return htmx.redirect(_show_url(workspace, playlist))


@bp.get("/w/<ws>/playlists/<playlist_id>")
@with_workspace
def show(workspace, playlist_id):
    """The playlist page; its htmx fragment is the title block (what "Cancel" on the edit form asks for)."""
    return _render(workspace, get_playlist(workspace, playlist_id), "playlists/_details.html")


@bp.get("/w/<ws>/playlists/<playlist_id>/edit")
@with_workspace
def edit(workspace, playlist_id):
    playlist = get_playlist(workspace, playlist_id)
    return _render(workspace, playlist, "playlists/_details_form.html", form=PlaylistForm(obj=playlist))


@bp.route("/w/<ws>/playlists/<playlist_id>", methods=["PATCH", "POST"])
@with_workspace
def update(workspace, playlist_id):
    playlist = get_playlist(workspace, playlist_id)
    form = PlaylistForm()
    if not form.validate_on_submit():
        return _render(workspace, playlist, "playlists/_details_form.html", 422, form=form)
    playlists.update_details(workspace, playlist, form.title.data, form.description.data)
    if not htmx.is_fragment_request():
        return redirect(_show_url(workspace, playlist))
    return htmx.render(PAGE, "playlists/_details.html", workspace=workspace, playlist=playlist)


@bp.delete("/w/<ws>/playlists/<playlist_id>")
@with_workspace
def delete(workspace, playlist_id):
    playlists.delete_playlist(workspace, get_playlist(workspace, playlist_id))
    return htmx.redirect(url_for("workspace.home", ws=workspace.slug))


@bp.get("/w/<ws>/playlists/<playlist_id>/candidates")
@with_workspace
def candidates(workspace, playlist_id):
    playlist = get_playlist(workspace, playlist_id)
    query = request.args.get("q", "")
    return _render(workspace, playlist, "playlists/_candidates.html", query=query,
                   candidates=playlists.candidates(workspace, playlist, query))


@bp.post("/w/<ws>/playlists/<playlist_id>/tracks")
@with_workspace
def add_tracks(workspace, playlist_id):
    playlist = get_playlist(workspace, playlist_id)
    playlists.add_tracks(workspace, playlist, request.form.getlist("track_id"))
    return _tracks_changed(workspace, playlist)


@bp.delete("/w/<ws>/playlists/<playlist_id>/tracks/<track_id>")
@with_workspace
def remove_track(workspace, playlist_id, track_id):
    playlist = get_playlist(workspace, playlist_id)
    playlists.remove_track(workspace, playlist, track_id)
    return _tracks_changed(workspace, playlist)


@bp.post("/w/<ws>/playlists/<playlist_id>/order")
@with_workspace
def reorder(workspace, playlist_id):
    playlist = get_playlist(workspace, playlist_id)
    try:
        playlists.reorder(workspace, playlist, request.form.getlist("track_id"))
    except playlists.PlaylistError as exc:
        if not htmx.is_fragment_request():
            return htmx.notice(str(exc), 409)
        return _tracks_changed(workspace, playlist, message=str(exc), status=409)
    return _tracks_changed(workspace, playlist, membership_changed=False)
