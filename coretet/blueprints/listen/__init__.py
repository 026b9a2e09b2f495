"""listen blueprint."""
from flask import Blueprint

bp = Blueprint("listen", __name__)

from coretet.blueprints.listen import routes  # noqa: E402,F401  (registers the views)
