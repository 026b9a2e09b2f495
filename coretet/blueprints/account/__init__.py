"""Account settings, password reset and the add-phone prompt."""
from flask import Blueprint

bp = Blueprint("account", __name__)

from coretet.blueprints.account import routes  # noqa: E402,F401  (registers the views)
