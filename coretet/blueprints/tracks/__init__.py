"""tracks blueprint."""
from flask import Blueprint

bp = Blueprint("tracks", __name__)

from coretet.blueprints.tracks import routes  # noqa: E402,F401  (registers the views)
