"""Settings: every key is read from the environment variable of the same name."""
import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
INSTANCE = Path(os.environ.get("CORETET_INSTANCE", ROOT / "instance"))

# Development-only keys. Production refuses to start with any of them.
_DEV_SECRETS = {
    "SECRET_KEY": "dev-only-secret-key-not-for-production",
    "PHONE_HMAC_KEY": "dev-only-phone-hmac-key",
    "CODE_HMAC_KEY": "dev-only-code-hmac-key",
    # A valid Fernet key (32 url-safe base64 bytes), fixed so dev data survives restarts.
    "PHONE_ENCRYPTION_KEY": "ZGV2LW9ubHktZmVybmV0LWtleS0wMDAwMDAwMDAwMDA=",
}
REQUIRED_IN_PRODUCTION = tuple(_DEV_SECRETS) + ("DATABASE_URL", "APP_BASE_URL")


class ConfigError(RuntimeError):
    """Raised when settings make it unsafe to start."""


def _env(name, default=None):
    value = os.environ.get(name)
    return default if value in (None, "") else value


def _bool(name, default=False):
    value = _env(name)
    if value is None:
        return default
    return value.strip().lower() in ("1", "true", "yes", "on")


def _int(name, default):
    value = _env(name)
    try:
        return default if value is None else int(value)
    except ValueError as exc:
        raise ConfigError(f"{name} must be a whole number, got {value!r}") from exc


def _list(name, default):
    return tuple(part.strip().upper() for part in _env(name, default).split(",") if part.strip())


class Config:
    """Settings read from the environment when the object is created."""

    def __init__(self):
        self.CORETET_ENV = _env("CORETET_ENV", "development")
        self.SECRET_KEY = _env("SECRET_KEY", _DEV_SECRETS["SECRET_KEY"])
        self.PHONE_HMAC_KEY = _env("PHONE_HMAC_KEY", _DEV_SECRETS["PHONE_HMAC_KEY"])
        self.CODE_HMAC_KEY = _env("CODE_HMAC_KEY", _DEV_SECRETS["CODE_HMAC_KEY"])
        self.PHONE_ENCRYPTION_KEY = _env("PHONE_ENCRYPTION_KEY", _DEV_SECRETS["PHONE_ENCRYPTION_KEY"])

        self.DATABASE_URL = _env("DATABASE_URL", f"sqlite:///{INSTANCE / 'coretet.db'}")
        self.SQLALCHEMY_DATABASE_URI = _normalise_db_url(self.DATABASE_URL)
        self.SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
        self.REDIS_URL = _env("REDIS_URL")
        self.RQ_QUEUES = ("sms", "default", "analysis")

        self.APP_BASE_URL = _env("APP_BASE_URL", "http://127.0.0.1:5000").rstrip("/")
        self.TRUSTED_PROXIES = _int("TRUSTED_PROXIES", 0)
        self.MAX_UPLOAD_BYTES = _int("MAX_UPLOAD_BYTES", 500 * 1024 * 1024)
        self.MAX_CONTENT_LENGTH = self.MAX_UPLOAD_BYTES + 1024 * 1024

        self.PHONE_DEFAULT_REGION = _env("PHONE_DEFAULT_REGION", "US").upper()
        self.SMS_ALLOWED_COUNTRIES = _list("SMS_ALLOWED_COUNTRIES", "US,CA")
        self.SMS_BACKEND = _env("SMS_BACKEND", "outbox")
        self.EMAIL_BACKEND = _env("EMAIL_BACKEND", "outbox")
        self.VERIFY_BACKEND = _env("VERIFY_BACKEND", "local")
        self.OUTBOX_DIR = _env("OUTBOX_DIR", str(INSTANCE / "outbox"))
        self.EMAIL_FROM = _env("EMAIL_FROM", "CoreTet <hello@coretet.local>")

        self.TWILIO_ACCOUNT_SID = _env("TWILIO_ACCOUNT_SID")
        self.TWILIO_AUTH_TOKEN = _env("TWILIO_AUTH_TOKEN")
        self.TWILIO_MESSAGING_SERVICE_SID = _env("TWILIO_MESSAGING_SERVICE_SID")
        self.TWILIO_FROM_NUMBER = _env("TWILIO_FROM_NUMBER")
        self.TWILIO_VERIFY_SERVICE_SID = _env("TWILIO_VERIFY_SERVICE_SID")
        self.TWILIO_API_BASE = _env("TWILIO_API_BASE")

        self.STRIPE_SECRET_KEY = _env("STRIPE_SECRET_KEY")
        self.STRIPE_WEBHOOK_SECRET = _env("STRIPE_WEBHOOK_SECRET")
        self.STRIPE_API_BASE = _env("STRIPE_API_BASE")
        # Catalogue ids printed by `flask stripe setup`.
        self.STRIPE_PRICE_BAND = _env("STRIPE_PRICE_BAND")
        self.STRIPE_COUPON_BAND_INTRO = _env("STRIPE_COUPON_BAND_INTRO")
        self.STRIPE_PRICE_PACK25 = _env("STRIPE_PRICE_PACK25")
        self.STRIPE_PRICE_PACK50 = _env("STRIPE_PRICE_PACK50")
        self.STRIPE_PRICE_PACK100 = _env("STRIPE_PRICE_PACK100")

        self.STORAGE_BACKEND = _env("STORAGE_BACKEND", "local")
        self.STORAGE_DIR = _env("STORAGE_DIR", str(INSTANCE / "media"))
        self.S3_BUCKET = _env("S3_BUCKET")
        self.S3_ENDPOINT_URL = _env("S3_ENDPOINT_URL")
        self.S3_REGION = _env("S3_REGION")
        self.S3_ACCESS_KEY_ID = _env("S3_ACCESS_KEY_ID")
        self.S3_SECRET_ACCESS_KEY = _env("S3_SECRET_ACCESS_KEY")
        self.S3_PREFIX = _env("S3_PREFIX", "")
        self.MEDIA_ACCEL_PREFIX = _env("MEDIA_ACCEL_PREFIX")

        self.SESSION_COOKIE_HTTPONLY = True
        self.SESSION_COOKIE_SAMESITE = "Lax"
        self.SESSION_COOKIE_SECURE = self.APP_BASE_URL.startswith("https://")
        self.REMEMBER_COOKIE_HTTPONLY = True
        self.REMEMBER_COOKIE_SAMESITE = "Lax"
        self.REMEMBER_COOKIE_SECURE = self.SESSION_COOKIE_SECURE
        self.WTF_CSRF_TIME_LIMIT = None
        self.RATELIMIT_STORAGE_URI = self.REDIS_URL or "memory://"
        self.RATELIMIT_HEADERS_ENABLED = True
        # A moving window counts the last 60 s exactly, so bursts at a window edge don't double.
        self.RATELIMIT_STRATEGY = "moving-window"
        self.LISTEN_FAILURE_CAP = _int("LISTEN_FAILURE_CAP", 20)
        self.LISTEN_CODE_LIMIT = _env("LISTEN_CODE_LIMIT", "5 per minute")
        self.RATELIMIT_ENABLED = _bool("RATELIMIT_ENABLED", True)
        # Failed sign-ins allowed before the form refuses for a while (Flask-Limiter syntax).
        self.LOGIN_LIMIT_PER_ACCOUNT = _env("LOGIN_LIMIT_PER_ACCOUNT", "5 per minute;20 per hour")
        self.LOGIN_LIMIT_PER_IP = _env("LOGIN_LIMIT_PER_IP", "20 per minute;100 per hour")

    @property
    def is_production(self):
        return self.CORETET_ENV == "production"

    def check(self):
        """Refuse to start production with missing or development secrets."""
        if not self.is_production:
            return
        problems = [name for name in REQUIRED_IN_PRODUCTION if not os.environ.get(name)]
        problems += [
            name for name, dev in _DEV_SECRETS.items() if os.environ.get(name) == dev
        ]
        if problems:
            raise ConfigError(
                "CoreTet will not start in production without these settings: "
                + ", ".join(sorted(set(problems)))
                + ". Set each as an environment variable (see docs/DEPLOY.md)."
            )


class TestConfig(Config):
    """Settings for the test suite: a given database, synchronous jobs, no real services."""

    __test__ = False  # not a pytest test class

    def __init__(self, database_url, instance_dir, redis_url=None):
        super().__init__()
        self.TESTING = True
        self.CORETET_ENV = "testing"
        self.DATABASE_URL = database_url
        self.SQLALCHEMY_DATABASE_URI = _normalise_db_url(database_url)
        self.REDIS_URL = redis_url
        self.RATELIMIT_STORAGE_URI = redis_url or "memory://"
        self.OUTBOX_DIR = str(Path(instance_dir) / "outbox")
        self.STORAGE_DIR = str(Path(instance_dir) / "media")
        self.SMS_BACKEND = "outbox"
        self.EMAIL_BACKEND = "outbox"
        self.APP_BASE_URL = "http://coretet.test"
        self.SERVER_NAME = None


def _normalise_db_url(url):
    """Use psycopg 3 for PostgreSQL URLs given in the common short form."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url
