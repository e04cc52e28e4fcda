"""Strict parsers that turn environment variables into settings values.

Every function takes the environment as a mapping (so tests pass a plain dict)
and raises ImproperlyConfigured naming the variable when a value is bad: a
typo in production must stop the service at start-up, not surface as odd
behaviour hours later. An empty value counts as unset, because docker compose
passes `VAR=${VAR:-}` through as an empty string.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urlsplit

import environ
from django.core.exceptions import ImproperlyConfigured

Env = Mapping[str, str]

_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off"}
_LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
_POSTGRES_SCHEMES = ("postgres", "postgresql", "pgsql")

SMS_BACKENDS = {
    "twilio": "triage.sms.twilio.TwilioBackend",
    "console": "triage.sms.console.ConsoleBackend",
    "locmem": "triage.sms.locmem.LocmemBackend",
}


def env_str(env: Env, name: str, default: str | None = None) -> str | None:
    value = env.get(name, "").strip()
    return value if value else default


def env_bool(env: Env, name: str, default: bool) -> bool:
    raw = env_str(env, name)
    if raw is None:
        return default
    if raw.lower() in _TRUE:
        return True
    if raw.lower() in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (true/false/1/0/yes/no), got {raw!r}")


def env_float(env: Env, name: str, default: float) -> float:
    raw = env_str(env, name)
    if raw is None:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = float("nan")
    # NaN fails this comparison too, which is what we want.
    if not value > 0:
        raise ImproperlyConfigured(f"{name} must be a positive number of seconds, got {raw!r}")
    return value


def env_number(
    env: Env, name: str, default: float, *, minimum: float, integer: bool = False
) -> float:
    """A number no smaller than `minimum` (an integer when `integer`)."""
    raw = env_str(env, name)
    if raw is None:
        return default
    kind = "a whole number" if integer else "a number"
    try:
        value = int(raw) if integer else float(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be {kind}, got {raw!r}") from None
    if not value >= minimum:  # NaN fails too
        raise ImproperlyConfigured(f"{name} must be {kind} of at least {minimum:g}, got {raw!r}")
    return value


def env_timezone(env: Env, name: str, default: str) -> str:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    value = env_str(env, name) or default
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ImproperlyConfigured(
            f"{name} must be a time zone name such as America/New_York, got {value!r}"
        ) from None
    return value


def env_list(env: Env, name: str, default: Iterable[str] = ()) -> list[str]:
    raw = env_str(env, name)
    if raw is None:
        return list(default)
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_choice(env: Env, name: str, choices: Iterable[str], default: str) -> str:
    options = tuple(choices)
    raw = env_str(env, name, default)
    assert raw is not None
    if raw not in options:
        raise ImproperlyConfigured(f"{name} must be one of {', '.join(options)}; got {raw!r}")
    return raw


def check_url(name: str, value: str, schemes: Iterable[str]) -> str:
    """Return `value` without a trailing slash if it is an absolute URL with an allowed scheme."""
    allowed = tuple(schemes)
    try:
        parts = urlsplit(value)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} is not a valid URL: {value!r} ({exc})") from exc
    if parts.scheme not in allowed or not parts.hostname:
        wanted = " or ".join(f"{scheme}://" for scheme in allowed)
        raise ImproperlyConfigured(f"{name} must be a {wanted} URL with a host, got {value!r}")
    return value.rstrip("/")


def env_url(env: Env, name: str, schemes: Iterable[str], default: str | None = None) -> str | None:
    raw = env_str(env, name)
    if raw is None:
        return default
    return check_url(name, raw, schemes)


def origin_url(env: Env, name: str) -> str | None:
    """An http(s) origin or prefix that request paths are appended to, e.g. a public base URL."""
    url = env_url(env, name, ("http", "https"))
    if url is not None and (urlsplit(url).query or urlsplit(url).fragment):
        raise ImproperlyConfigured(f"{name} must not have a query string or fragment, got {url!r}")
    return url


def log_level(env: Env, name: str = "LOG_LEVEL") -> str:
    raw = (env_str(env, name, "INFO") or "INFO").upper()
    if raw not in _LOG_LEVELS:
        raise ImproperlyConfigured(f"{name} must be one of {', '.join(_LOG_LEVELS)}; got {raw!r}")
    return raw


def database_config(url: str, name: str = "DATABASE_URL") -> dict[str, Any]:
    """Parse a sqlite:// or postgres:// URL into a Django DATABASES entry.

    Only the engines whose drivers we ship are accepted: a mysql:// URL would
    otherwise parse fine here and fail on the first query.
    """
    scheme = url.split("://", 1)[0] if "://" in url else ""
    if scheme not in ("sqlite", *_POSTGRES_SCHEMES):
        raise ImproperlyConfigured(
            f"{name} must start with sqlite:// or postgres://, got scheme {scheme!r}"
        )
    try:
        config: dict[str, Any] = environ.Env.db_url_config(url)
    except ValueError as exc:  # e.g. a non-numeric port
        raise ImproperlyConfigured(f"{name} is not a valid database URL: {exc}") from exc
    if scheme in _POSTGRES_SCHEMES:
        if not config.get("NAME"):
            raise ImproperlyConfigured(f"{name} must name a database, got {url!r}")
        # Reuse connections across requests but notice when Postgres restarted.
        config["CONN_MAX_AGE"] = 60
        config["CONN_HEALTH_CHECKS"] = True
        # Parameters sent apart from the SQL (not quoted into it in Python), and a statement
        # run five times on a connection is prepared: PostgreSQL then stops parsing and
        # planning the webhook's few statements on every text, about 40% of its CPU per text
        # (benchmarks/webhook.py). Django leaves both off for PgBouncer in transaction mode:
        # behind one, add ?server_side_binding=false&prepare_threshold=none to the URL.
        options = config.setdefault("OPTIONS", {})
        options["server_side_binding"] = _url_flag(
            options.get("server_side_binding", True), f"{name} server_side_binding"
        )
        options["prepare_threshold"] = _url_threshold(
            options.get("prepare_threshold", 5), f"{name} prepare_threshold"
        )
    return config


def _url_flag(value: object, name: str) -> bool:
    # Query parameters arrive as strings, and "false" is a true string.
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "1", "yes", "on"):
        return True
    if text in ("false", "0", "no", "off"):
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, got {value!r}")


def _url_threshold(value: object, name: str) -> int | None:
    # psycopg: None never prepares; 0 prepares every statement at once.
    if value is None or isinstance(value, int) and not isinstance(value, bool):
        return value  # type: ignore[return-value]
    text = str(value).strip().lower()
    if text in ("", "none", "off"):
        return None
    if text.isascii() and text.isdigit():
        return int(text)
    raise ImproperlyConfigured(f"{name} must be a whole number or none, got {value!r}")


# Seconds a Redis client waits to connect or for an answer. Redis answers in well under a
# millisecond; a hung one (or a lost network) must cost an inbound text about a second, not
# redis-py's default 5 s per call, so the reply still beats Twilio's 15 s webhook timeout.
REDIS_SOCKET_TIMEOUT = 1.0


def cache_config(redis_url: str | None) -> dict[str, Any]:
    if redis_url:
        return {
            # Django's, keeping its Redis client between calls (backpain_service/cache.py).
            "BACKEND": "backpain_service.cache.RedisCache",
            "LOCATION": redis_url,
            "OPTIONS": {
                "socket_connect_timeout": REDIS_SOCKET_TIMEOUT,
                "socket_timeout": REDIS_SOCKET_TIMEOUT,
            },
        }
    return {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}


def secret_key(env: Env, debug: bool, name: str = "SECRET_KEY") -> str:
    value = env_str(env, name)
    if value is not None:
        return value
    if not debug:
        raise ImproperlyConfigured(f"{name} must be set when DEBUG is false")
    return "django-insecure-dev-only-key-do-not-use-in-production"


def validate_signature(env: Env, debug: bool, name: str = "TWILIO_VALIDATE_SIGNATURE") -> bool:
    value = env_bool(env, name, default=True)
    if not value and not debug:
        # Without validation anyone who finds the webhook URL can post fake texts.
        raise ImproperlyConfigured(f"{name}=false is only allowed when DEBUG is true")
    return value


def sms_backend_class(env: Env, name: str = "SMS_BACKEND") -> str:
    """Resolve SMS_BACKEND to a dotted class path, checking Twilio has what it needs."""
    has_credentials = bool(env_str(env, "TWILIO_ACCOUNT_SID") and env_str(env, "TWILIO_AUTH_TOKEN"))
    # Twilio only by default when it is configured, so a fresh checkout never
    # tries to send real texts.
    default = "twilio" if has_credentials else "console"
    backend = env_choice(env, name, SMS_BACKENDS, default)
    if backend == "twilio":
        if not has_credentials:
            raise ImproperlyConfigured(
                f"{name}=twilio needs TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN"
            )
        if not (env_str(env, "TWILIO_FROM_NUMBER") or env_str(env, "TWILIO_MESSAGING_SERVICE_SID")):
            raise ImproperlyConfigured(
                f"{name}=twilio needs TWILIO_FROM_NUMBER or TWILIO_MESSAGING_SERVICE_SID"
            )
    return SMS_BACKENDS[backend]


def email_config(env: Env, name: str = "EMAIL_URL") -> dict[str, Any]:
    """EMAIL_* settings from one URL (smtp://user:pass@host:587, smtp+tls://..., consolemail://).

    Unset: emails are printed to the console, as `python3 dev.py run` expects.
    """
    raw = env_str(env, name)
    if raw is None:
        return {"EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend"}
    try:
        config = environ.Env.email_url_config(raw)
    except Exception:  # noqa: BLE001  (any parse failure is a configuration error)
        raise ImproperlyConfigured(
            f"{name} must be an email URL such as smtp+tls://user:password@host:587, got {raw!r}"
        ) from None
    if not config.get("EMAIL_BACKEND"):
        raise ImproperlyConfigured(f"{name} has an unknown scheme: {raw!r}")
    return config


def env_phone_list(env: Env, name: str) -> list[str]:
    """Comma-separated phone numbers in E.164 (+15551230000)."""
    import phonenumbers

    numbers = []
    for item in env_list(env, name):
        try:
            parsed = phonenumbers.parse(item, None)
        except phonenumbers.NumberParseException:
            parsed = None
        if parsed is None or not phonenumbers.is_possible_number(parsed):
            raise ImproperlyConfigured(
                f"{name} must list phone numbers in E.164 form (+15551230000), got {item!r}"
            )
        numbers.append(phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164))
    return numbers


def env_email_list(env: Env, name: str) -> list[str]:
    from django.core.exceptions import ValidationError
    from django.core.validators import validate_email

    addresses = env_list(env, name)
    for address in addresses:
        try:
            validate_email(address)
        except ValidationError:
            raise ImproperlyConfigured(
                f"{name} must list email addresses, got {address!r}"
            ) from None
    return addresses
