"""The decorator every workspace route uses: sign-in, then resolve <ws> through the isolation layer."""
from functools import wraps

from flask import g
from flask_login import current_user, login_required

from coretet.services import workspaces


def with_workspace(view):
    """Call view(workspace, **rest) for the <ws> in the URL; strangers get 404 (NotFound)."""

    @wraps(view)
    @login_required
    def wrapper(ws, **kwargs):
        g.workspace = workspaces.resolve(current_user, ws)  # the header's switcher marks it
        return view(g.workspace, **kwargs)

    return wrapper


def current_memberships():
    """The signed-in user's bands, queried once per request (header and rows share it)."""
    if "memberships" not in g:
        g.memberships = workspaces.memberships(current_user)
    return g.memberships


def row_context(workspace):
    """What a track row needs besides the track: the workspaces it can be moved to."""
    targets = [band for band, _ in current_memberships()
               if workspace.band is None or band.id != workspace.band.id]
    return {"workspace": workspace, "move_targets": targets}
