"""bands blueprint."""
from flask import Blueprint

bp = Blueprint("bands", __name__)

from coretet.blueprints.bands import routes  # noqa: E402,F401  (registers the views)
