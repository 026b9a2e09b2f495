"""playlists blueprint."""
from flask import Blueprint

bp = Blueprint("playlists", __name__)

from coretet.blueprints.playlists import routes  # noqa: E402,F401  (registers the views)
