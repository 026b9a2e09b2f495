"""billing blueprint: plans, upgrades and payments."""
from flask import Blueprint

bp = Blueprint("billing", __name__)

from coretet.blueprints.billing import routes  # noqa: E402,F401  (registers the views)
