"""sharing blueprint."""
from flask import Blueprint

bp = Blueprint("sharing", __name__)

from coretet.blueprints.sharing import routes  # noqa: E402,F401  (registers the views)
