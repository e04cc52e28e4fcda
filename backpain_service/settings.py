"""Django settings for BackCheck, read only from environment variables.

README.md lists every variable. The parsing lives in backpain_service/env.py so
that a bad value stops start-up with an error naming the variable.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

from backpain_service import env

BASE_DIR = Path(__file__).resolve().parent.parent
ENV = os.environ

# Core ----------------------------------------------------------------------

DEBUG = env.env_bool(ENV, "DEBUG", default=False)
SECRET_KEY = env.secret_key(ENV, debug=DEBUG)
ALLOWED_HOSTS = env.env_list(
    ENV, "ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]", "testserver"]
)
CSRF_TRUSTED_ORIGINS = [
    env.check_url("CSRF_TRUSTED_ORIGINS", origin, ("http", "https"))
    for origin in env.env_list(ENV, "CSRF_TRUSTED_ORIGINS")
]

if env.env_bool(ENV, "TRUST_X_FORWARDED_PROTO", default=False):
    # Only safe when a proxy we control overwrites these headers on every request.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    USE_X_FORWARDED_HOST = True

# HTTPS and browser security (README, "Production") -----------------------------------
# Secure whenever DEBUG is false, so `manage.py check --deploy` passes with the production
# environment; `python3 dev.py run` (DEBUG=true) serves plain http://127.0.0.1, and the tests
# post over http with the redirect off (backpain_service/testenv.py). Behind a TLS-terminating
# proxy the redirect needs TRUST_X_FORWARDED_PROTO=true, or every request looks like http.
SECURE_SSL_REDIRECT = env.env_bool(ENV, "SECURE_SSL_REDIRECT", default=not DEBUG)
# Container and load-balancer probes call /healthz over plain HTTP from the inside.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SESSION_COOKIE_SECURE = env.env_bool(ENV, "SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.env_bool(ENV, "CSRF_COOKIE_SECURE", default=not DEBUG)
# Browsers honour HSTS only on HTTPS responses, so a plain-HTTP trial is not locked out.
SECURE_HSTS_SECONDS = int(
    env.env_number(ENV, "SECURE_HSTS_SECONDS", 0 if DEBUG else 31_536_000, minimum=0, integer=True)
)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.env_bool(
    ENV, "SECURE_HSTS_INCLUDE_SUBDOMAINS", default=not DEBUG
)
# Off by default: preloading is a promise to browsers that is slow to take back.
SECURE_HSTS_PRELOAD = env.env_bool(ENV, "SECURE_HSTS_PRELOAD", default=False)
# Django's defaults, stated because check --deploy expects them.
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

# Admin login throttle (django-axes; docs/reliability.md) -----------------------------------
AUTHENTICATION_BACKENDS = [
    # First: refuses a locked-out username+address before the password is even checked.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = int(env.env_number(ENV, "AXES_FAILURE_LIMIT", 5, minimum=1, integer=True))
AXES_COOLOFF_TIME = timedelta(minutes=env.env_number(ENV, "AXES_COOLOFF_MINUTES", 15, minimum=1))
# Username and address together: by username alone anyone could lock a clinician out from
# anywhere; by address alone one person's typos would lock out a whole clinic behind one NAT.
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
if env.env_bool(ENV, "TRUST_X_FORWARDED_FOR", default=False):
    # Only behind exactly one proxy we control, which appends the client to X-Forwarded-For.
    AXES_CLIENT_IP_CALLABLE = "backpain_service.client_ip.client_ip_forwarded"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": f"django.contrib.auth.password_validation.{name}"}
    for name in (
        "UserAttributeSimilarityValidator",
        "MinimumLengthValidator",
        "CommonPasswordValidator",
        "NumericPasswordValidator",
    )
]

INSTALLED_APPS = [
    # First, so its templates override the admin's (admin/index.html: the "Clinic tools" box).
    "clinic.apps.ClinicConfig",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "simple_history",
    "axes",
    "triage.apps.TriageConfig",
    "reminders.apps.RemindersConfig",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Lets content history record which staff member made each change.
    "simple_history.middleware.HistoryRequestMiddleware",
    # Last, as django-axes requires: answers a locked-out login with its 429 page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "backpain_service.urls"
WSGI_APPLICATION = "backpain_service.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# Data stores -----------------------------------------------------------------

_default_database_url = f"sqlite:///{BASE_DIR / 'var' / 'db.sqlite3'}"
DATABASE_URL = env.env_str(ENV, "DATABASE_URL") or _default_database_url
if DATABASE_URL == _default_database_url:
    (BASE_DIR / "var").mkdir(exist_ok=True)
DATABASES = {"default": env.database_config(DATABASE_URL)}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env.env_url(ENV, "REDIS_URL", ("redis", "rediss"))
CACHES = {"default": env.cache_config(REDIS_URL)}

# Celery (read by backpain_service/celery.py through the CELERY_ namespace) ---

# Without Redis (the embedded default) the broker is kombu's filesystem transport: message files
# in var/celery-queue that `python3 dev.py run`'s worker (with embedded beat) reads and writes, no
# server needed. One machine only; a task lost with a killed worker costs nothing, as the
# check-in rows are the schedule (a claimed row is claimed again when its lease runs out).
# "localhost" only keeps kombu from warning that the URL names no host.
CELERY_BROKER_URL = REDIS_URL or "filesystem://localhost/"
if REDIS_URL is None:
    _queue_dir = BASE_DIR / "var" / "celery-queue"
    (_queue_dir / "control").mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_queue_dir),
        "data_folder_out": str(_queue_dir),
        # Exchange bindings; kombu's default is a "control" folder in the working directory.
        "control_folder": str(_queue_dir / "control"),
        "store_processed": False,
    }
else:
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        # Longer than any task runs, so Redis does not hand a running task to a second worker.
        "visibility_timeout": 3600,
        # A hung Redis must not hang the webhook that enqueues a task after its commit (the
        # clinician-alert kick): without these a publish waits forever. Above kombu's 1 s BRPOP
        # poll, so an idle worker never times out (tests/faults/test_redis_down.py).
        "socket_timeout": 5,
        "socket_connect_timeout": 2,
    }
# A task is acknowledged only once it finished, so a worker killed mid-send
# hands the task to another worker instead of losing it.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_TASK_IGNORE_RESULT = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TIMEZONE = "UTC"
# Beat writes its schedule file after every task it sends, so the file's age tells a health
# check that the scheduler is alive (docker-compose.yml).
CELERY_BEAT_SYNC_EVERY = 1
# Celery's Django fix-up closes the database connection before and after every task (a new
# PostgreSQL backend per batch of check-ins) unless this is set; it then closes it every
# 1,000 tasks, and backpain_service/celery.py retires it sooner as Django does between
# requests (CONN_MAX_AGE, CONN_HEALTH_CHECKS). Read by celery/fixups/django.py as
# app.conf["CELERY_DB_REUSE_MAX"]; not in Celery's settings reference.
CELERY_DB_REUSE_MAX = 1000

# Check-ins (reminders app) -------------------------------------------------------

# Seconds between dispatcher passes (Celery beat).
CHECKIN_DISPATCH_INTERVAL = env.env_number(ENV, "CHECKIN_DISPATCH_INTERVAL", 60.0, minimum=1)
# Texts per second across all workers: Twilio's limit for the sender (1 for a US long code,
# 100+ for a short code). 0 means no limit, only for a fake provider.
CHECKIN_MAX_PER_SECOND = env.env_number(ENV, "CHECKIN_MAX_PER_SECOND", 1.0, minimum=0)
CHECKIN_BATCH_SIZE = int(env.env_number(ENV, "CHECKIN_BATCH_SIZE", 100, minimum=1, integer=True))
# A claimed check-in not recorded within this many seconds (worker killed) is claimed again.
CHECKIN_LEASE_SECONDS = env.env_number(ENV, "CHECKIN_LEASE_SECONDS", 300.0, minimum=10)
CHECKIN_MAX_ATTEMPTS = int(env.env_number(ENV, "CHECKIN_MAX_ATTEMPTS", 8, minimum=1, integer=True))
# A check-in whose worker died this many times while sending it (alone) is failed for staff to
# see, instead of being claimed again forever (reminders/dispatch.py).
CHECKIN_MAX_CRASHES = int(env.env_number(ENV, "CHECKIN_MAX_CRASHES", 5, minimum=1, integer=True))
CHECKIN_RETRY_BASE_SECONDS = env.env_number(ENV, "CHECKIN_RETRY_BASE_SECONDS", 60.0, minimum=1)
CHECKIN_RETRY_MAX_SECONDS = env.env_number(ENV, "CHECKIN_RETRY_MAX_SECONDS", 3600.0, minimum=1)
# For a number whose zone phonenumbers cannot tell (quiet hours).
CHECKIN_DEFAULT_TIMEZONE = env.env_timezone(ENV, "CHECKIN_DEFAULT_TIMEZONE", "America/New_York")

# Clinician alerts (clinic app) -------------------------------------------------------

# Who is told about emergency/urgent outcomes and texts not understood. Either may be empty;
# alerts are always listed in admin.
ALERT_EMAILS = env.env_email_list(ENV, "ALERT_EMAILS")
ALERT_SMS_NUMBERS = env.env_phone_list(ENV, "ALERT_SMS_NUMBERS")
# An unacknowledged emergency alert is sent again after this many minutes.
ALERT_RENOTIFY_MINUTES = env.env_number(ENV, "ALERT_RENOTIFY_MINUTES", 15.0, minimum=1)
# Seconds between notifier passes (Celery beat).
ALERT_NOTIFY_INTERVAL = env.env_number(ENV, "ALERT_NOTIFY_INTERVAL", 30.0, minimum=1)
# The admin's address in alert emails and texts, e.g. https://backcheck.example.org
ADMIN_BASE_URL = env.origin_url(ENV, "ADMIN_BASE_URL")
globals().update(env.email_config(ENV))
DEFAULT_FROM_EMAIL = env.env_str(ENV, "DEFAULT_FROM_EMAIL", "backcheck@localhost")

# Privacy -----------------------------------------------------------------------------

# Messages (transcripts) older than this many days are deleted by a daily task; outcomes and
# counts stay. 0 keeps them (the default: a clinic's record-keeping duty decides, not us).
TRANSCRIPT_RETENTION_DAYS = int(
    env.env_number(ENV, "TRANSCRIPT_RETENTION_DAYS", 0, minimum=0, integer=True)
)

CELERY_BEAT_SCHEDULE: dict[str, dict[str, object]] = {
    "send-due-checkins": {
        "task": "reminders.tasks.dispatch_due_checkins",
        "schedule": CHECKIN_DISPATCH_INTERVAL,
        # A pass that could not run in time is dropped, not piled up behind the next.
        "options": {"expires": CHECKIN_DISPATCH_INTERVAL},
    },
    "notify-alerts": {
        "task": "clinic.tasks.notify_alerts",
        "schedule": ALERT_NOTIFY_INTERVAL,
        "options": {"expires": ALERT_NOTIFY_INTERVAL},
    },
    "delete-old-transcripts": {
        "task": "clinic.tasks.delete_old_transcripts",
        "schedule": 24 * 3600.0,
        "options": {"expires": 3600.0},
    },
}

# Inbound limits (triage/inbound_limits.py; docs/reliability.md) ---------------------------

# More texts than this from one sender within the window (SMS pumping, a runaway script) get
# one notice, then silence until the window has room; emergencies are always answered.
INBOUND_MAX_TEXTS = int(env.env_number(ENV, "INBOUND_MAX_TEXTS", 20, minimum=1, integer=True))
INBOUND_WINDOW_SECONDS = env.env_number(ENV, "INBOUND_WINDOW_SECONDS", 600.0, minimum=1)
# The same text this many times in a row within the window, telling us nothing new: an
# auto-responder loop, held silently.
INBOUND_LOOP_REPEATS = int(env.env_number(ENV, "INBOUND_LOOP_REPEATS", 3, minimum=2, integer=True))
INBOUND_LOOP_WINDOW_SECONDS = env.env_number(ENV, "INBOUND_LOOP_WINDOW_SECONDS", 600.0, minimum=1)

# SMS and Twilio --------------------------------------------------------------

SMS_BACKEND_CLASS = env.sms_backend_class(ENV)
TWILIO_ACCOUNT_SID = env.env_str(ENV, "TWILIO_ACCOUNT_SID")
TWILIO_AUTH_TOKEN = env.env_str(ENV, "TWILIO_AUTH_TOKEN")
TWILIO_FROM_NUMBER = env.env_str(ENV, "TWILIO_FROM_NUMBER")
TWILIO_MESSAGING_SERVICE_SID = env.env_str(ENV, "TWILIO_MESSAGING_SERVICE_SID")
TWILIO_API_URL = env.env_url(
    ENV, "TWILIO_API_URL", ("http", "https"), default="https://api.twilio.com"
)
TWILIO_TIMEOUT = env.env_float(ENV, "TWILIO_TIMEOUT", default=10.0)
TWILIO_WEBHOOK_BASE_URL = env.origin_url(ENV, "TWILIO_WEBHOOK_BASE_URL")
TWILIO_VALIDATE_SIGNATURE = env.validate_signature(ENV, debug=DEBUG)

SERVICE_NAME = env.env_str(ENV, "SERVICE_NAME", "BackCheck")
SUPPORT_CONTACT = env.env_str(ENV, "SUPPORT_CONTACT", "help@backcheck.example")

# Internationalisation and static files ----------------------------------------

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"

# Logging ---------------------------------------------------------------------

LOG_LEVEL = env.log_level(ENV)
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"},
    },
    # Phone numbers masked in every line, whoever logs it (docs/privacy.md).
    "filters": {
        "mask_numbers": {"()": "backpain_service.logfilter.MaskPhoneNumbers"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["mask_numbers"],
        },
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        # Replaces Django's own console handler, which would print every line twice.
        "django": {"handlers": [], "level": LOG_LEVEL, "propagate": True},
        # SQL at DEBUG carries message bodies and numbers as query parameters: never logged.
        "django.db.backends": {"level": "INFO"},
        # Twilio's client logs a dozen lines of headers at INFO for every API call.
        "twilio": {"level": "WARNING"},
        # django-axes logs every login at INFO; failures and lockouts come at WARNING.
        "axes": {"level": "WARNING"},
    },
}
