"""pytest plugin (loaded with `-p` from pyproject.toml) that makes settings hermetic for tests.

pytest-django imports the settings before any conftest.py runs, so this has to
be a plugin. It removes the developer's real Twilio configuration from the
environment and points TWILIO_API_URL at a closed local port: a test that
forgets the fake Twilio server fails to connect instead of texting someone.
DATABASE_URL, REDIS_URL and CI pass through, so CI can test against Postgres.
"""

from __future__ import annotations

import os

# Port 9 is "discard"; nothing listens there, so connections are refused at once.
UNREACHABLE_API_URL = "http://127.0.0.1:9"

_TWILIO_VARIABLES = (
    "TWILIO_ACCOUNT_SID",
    "TWILIO_AUTH_TOKEN",
    "TWILIO_FROM_NUMBER",
    "TWILIO_MESSAGING_SERVICE_SID",
    "TWILIO_WEBHOOK_BASE_URL",
    "TWILIO_VALIDATE_SIGNATURE",
    "TWILIO_TIMEOUT",
    "TWILIO_EDGE",
    "TWILIO_REGION",
)


def _make_environment_hermetic() -> None:
    for name in _TWILIO_VARIABLES:
        os.environ.pop(name, None)
    os.environ["TWILIO_API_URL"] = UNREACHABLE_API_URL
    os.environ["SMS_BACKEND"] = "locmem"
    # Tests run with DEBUG false, which otherwise demands a real key.
    os.environ.setdefault("SECRET_KEY", "tests-only-insecure-secret-key")
    # Check-in sends are not paced in tests; the rate-limit tests set their own rate.
    os.environ["CHECKIN_MAX_PER_SECOND"] = "0"
    # Production redirects http to https (DEBUG is false here too); the test client and the
    # signed webhook tests post to http://testserver. tests/test_deploy_check.py checks the
    # production values.
    os.environ["SECURE_SSL_REDIRECT"] = "false"


_make_environment_hermetic()
