"""CoreTet: a private workspace for bands. create_app() builds the Flask application."""
from flask import Flask, render_template
from werkzeug.middleware.proxy_fix import ProxyFix

from coretet.config import INSTANCE, ROOT, Config
from coretet.extensions import csrf, db, limiter, login_manager, migrate


def create_app(config=None):
    """Build the app from a Config object (the environment's settings by default)."""
    config = config or Config()
    config.check()
    app = Flask(__name__, instance_path=str(INSTANCE))
    app.config.from_object(config)
    if config.TRUSTED_PROXIES:
        hops = config.TRUSTED_PROXIES
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_port=hops)
    register_extensions(app)
    register_blueprints(app)
    register_errorhandlers(app)
    register_template_helpers(app)
    register_cli(app)
    return app


def register_extensions(app):
    from coretet import jobs

    db.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"), render_as_batch=True)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Sign in to continue."
    login_manager.login_message_category = "info"
    login_manager.session_protection = None  # sessions are rows we can end; see services/sessions
    csrf.init_app(app)
    limiter.init_app(app)
    jobs.init_app(app)


def register_blueprints(app):
    from coretet.blueprints.account import bp as account_bp
    from coretet.blueprints.admin import bp as admin_bp
    from coretet.blueprints.auth import bp as auth_bp
    from coretet.blueprints.bands import bp as bands_bp
    from coretet.blueprints.billing import bp as billing_bp
    from coretet.blueprints.playlists import bp as playlists_bp
    from coretet.blueprints.sharing import bp as sharing_bp
    from coretet.blueprints.tracks import bp as tracks_bp
    from coretet.blueprints.webhooks import bp as webhooks_bp
    from coretet.blueprints.dev import bp as dev_bp
    from coretet.blueprints.listen import bp as listen_bp
    from coretet.blueprints.workspace import bp as workspace_bp
    from coretet.blueprints.collab import bp as collab_bp

    app.register_blueprint(auth_bp)
    app.register_blueprint(account_bp)
    app.register_blueprint(admin_bp)
    app.register_blueprint(bands_bp)
    app.register_blueprint(tracks_bp)
    app.register_blueprint(playlists_bp)
    app.register_blueprint(billing_bp)
    app.register_blueprint(sharing_bp)
    app.register_blueprint(listen_bp)
    app.register_blueprint(webhooks_bp)
    app.register_blueprint(workspace_bp)
    app.register_blueprint(collab_bp)
    if not app.config["CORETET_ENV"] == "production":
        app.register_blueprint(dev_bp)


def register_errorhandlers(app):
    from flask_wtf.csrf import CSRFError
    from redis.exceptions import RedisError

    from coretet.htmx import notice
    from coretet.services.workspaces import Forbidden, NotFound

    def render_error(code, title, message):
        return render_template("errors/error.html", code=code, title=title, message=message), code

    @app.errorhandler(400)
    def bad_request(error):
        return render_error(400, "Something in that request was not right", "Please go back and try again.")

    @app.errorhandler(CSRFError)
    def csrf_error(error):
        return render_error(400, "This form has expired", "Reload the page and try again.")

    @app.errorhandler(404)
    def not_found(error):
        return render_error(404, "Not found", "There is nothing here, or you do not have access to it.")

    @app.errorhandler(NotFound)
    def hidden(error):
        return not_found(error)

    @app.errorhandler(Forbidden)
    def forbidden(error):
        return notice(str(error), 403)

    @app.errorhandler(413)
    def too_large(error):
        limit = app.config["MAX_UPLOAD_BYTES"] // (1024 * 1024)
        return render_error(413, "That file is too large", f"Files can be up to {limit} MB.")

    @app.errorhandler(429)
    def too_many(error):
        return render_error(429, "Too many attempts", "Please wait a minute and try again.")

    @app.errorhandler(RedisError)
    def limiter_unavailable(error):
        # Rate limits fail closed: without their store we refuse rather than allow guessing.
        app.logger.error("redis unavailable: %s", error)
        return render_error(503, "Temporarily unavailable", "Please try again in a minute.")

    @app.errorhandler(500)
    def server_error(error):
        db.session.rollback()
        return render_error(500, "Something went wrong on our side", "Nothing you saved was lost. Please try again.")


def register_template_helpers(app):
    from coretet import htmx
    from coretet.forms_ui import input_attrs
    from coretet.services.storage import format_bytes, format_duration
    from coretet.services.tiers import get_tier, plan_offer

    app.jinja_env.filters["bytes"] = format_bytes
    app.jinja_env.filters["duration"] = format_duration
    app.jinja_env.globals["htmx_src"] = htmx.HTMX_STATIC_PATH
    app.jinja_env.globals["input_attrs"] = input_attrs
    app.jinja_env.globals["get_tier"] = get_tier
    app.jinja_env.globals["plan_offer"] = plan_offer
    app.after_request(htmx.add_vary_header)

    @app.context_processor
    def workspace_switcher():
        from flask import g
        from flask_login import current_user

        from coretet.blueprints.workspace.context import current_memberships

        if not current_user.is_authenticated:
            return {}
        # A callable, so only full pages (the header) pay for the query, not fragments.
        return {"nav_bands": current_memberships, "current_workspace": g.get("workspace")}


def register_cli(app):
    from coretet import cli

    cli.register(app)
