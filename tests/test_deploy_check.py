"""Production settings: `manage.py check --deploy` is clean with the environment README.md
documents, the HTTPS settings default to secure when DEBUG is false (and stay out of the way of
`python3 dev.py run`), and a bad value of any hardening setting stops start-up naming it.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

REPO = Path(__file__).resolve().parent.parent

# README.md, "Production": what a deployment sets (the secret is generated there, not stored).
PRODUCTION = {
    "DEBUG": "false",
    "SECRET_KEY": "k3J9-only-a-test-value-of-sixty-random-looking-characters-x7Qp2W",
    "ALLOWED_HOSTS": "sms.example.org",
    "CSRF_TRUSTED_ORIGINS": "https://sms.example.org",
    "TWILIO_WEBHOOK_BASE_URL": "https://sms.example.org",
    "TRUST_X_FORWARDED_PROTO": "true",
    "SECURE_HSTS_PRELOAD": "true",
}
# Everything this suite's environment (backpain_service/testenv.py) or a developer's shell may
# have set that would stand in for the defaults under test.
HARDENING = (
    "SECURE_SSL_REDIRECT",
    "SESSION_COOKIE_SECURE",
    "CSRF_COOKIE_SECURE",
    "SECURE_HSTS_SECONDS",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS",
    "SECURE_HSTS_PRELOAD",
    "TRUST_X_FORWARDED_PROTO",
    "TRUST_X_FORWARDED_FOR",
    "AXES_FAILURE_LIMIT",
    "AXES_COOLOFF_MINUTES",
    "INBOUND_MAX_TEXTS",
    "INBOUND_WINDOW_SECONDS",
    "INBOUND_LOOP_REPEATS",
    "INBOUND_LOOP_WINDOW_SECONDS",
)


def manage(*args: str, **environment: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if k not in HARDENING and k != "DEBUG"}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=REPO,
        env={**base, **environment},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_it_passes_the_deploy_check_with_the_production_environment() -> None:
    result = manage("check", "--deploy", "--fail-level", "WARNING", **PRODUCTION)

    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout


def test_it_fails_the_deploy_check_when_https_is_turned_off() -> None:
    result = manage(
        "check", "--deploy", "--fail-level", "WARNING", **PRODUCTION, SECURE_SSL_REDIRECT="false"
    )

    assert result.returncode != 0
    assert "security.W008" in result.stderr


def test_it_serves_plain_http_when_debugging_locally() -> None:
    """`python3 dev.py run` sets DEBUG=true and serves http://127.0.0.1: nothing forces HTTPS."""
    script = (
        "from django.conf import settings as s; print(s.SECURE_SSL_REDIRECT, "
        "s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_HSTS_SECONDS)"
    )
    result = manage("shell", "-c", script, DEBUG="true")

    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1].split() == ["False", "False", "False", "0"]


@pytest.mark.parametrize(
    ("name", "raw", "message"),
    [
        ("SECURE_SSL_REDIRECT", "maybe", "SECURE_SSL_REDIRECT must be a boolean"),
        ("SESSION_COOKIE_SECURE", "sometimes", "SESSION_COOKIE_SECURE must be a boolean"),
        ("CSRF_COOKIE_SECURE", "2", "CSRF_COOKIE_SECURE must be a boolean"),
        ("SECURE_HSTS_SECONDS", "a year", "SECURE_HSTS_SECONDS must be a whole number"),
        ("SECURE_HSTS_SECONDS", "-1", "SECURE_HSTS_SECONDS must be a whole number of at least 0"),
        ("SECURE_HSTS_INCLUDE_SUBDOMAINS", "all", "SECURE_HSTS_INCLUDE_SUBDOMAINS must be a"),
        ("SECURE_HSTS_PRELOAD", "later", "SECURE_HSTS_PRELOAD must be a boolean"),
        ("TRUST_X_FORWARDED_FOR", "proxy", "TRUST_X_FORWARDED_FOR must be a boolean"),
        ("AXES_FAILURE_LIMIT", "0", "AXES_FAILURE_LIMIT must be a whole number of at least 1"),
        ("AXES_COOLOFF_MINUTES", "soon", "AXES_COOLOFF_MINUTES must be a number, got 'soon'"),
        ("INBOUND_MAX_TEXTS", "twenty", "INBOUND_MAX_TEXTS must be a whole number"),
        ("INBOUND_MAX_TEXTS", "0", "INBOUND_MAX_TEXTS must be a whole number of at least 1"),
        ("INBOUND_WINDOW_SECONDS", "0", "INBOUND_WINDOW_SECONDS must be a number of at least 1"),
        ("INBOUND_LOOP_REPEATS", "1", "INBOUND_LOOP_REPEATS must be a whole number of at least 2"),
        ("INBOUND_LOOP_WINDOW_SECONDS", "x", "INBOUND_LOOP_WINDOW_SECONDS must be a number"),
    ],
)
def test_it_refuses_to_start_with_a_bad_security_setting(name: str, raw: str, message: str) -> None:
    result = manage("check", **{**PRODUCTION, name: raw})

    assert result.returncode != 0
    assert message in result.stderr


# ---------------------------------------------------------------- the redirect in place


@pytest.fixture
def https_only(settings: Any) -> None:
    settings.SECURE_SSL_REDIRECT = True


@pytest.mark.django_db
def test_it_redirects_the_admin_to_https(https_only: None) -> None:
    response = Client().get("/admin/login/")

    assert response.status_code == 301
    assert response["Location"] == "https://testserver/admin/login/"


@pytest.mark.django_db
def test_it_answers_the_health_check_over_plain_http(https_only: None) -> None:
    """Docker's and load balancers' probes call http://localhost:8000/healthz from inside."""
    response = Client().get("/healthz")

    assert response.status_code == 200


@pytest.mark.django_db
def test_it_takes_https_from_a_trusted_proxy_without_redirecting(
    https_only: None, settings: Any
) -> None:
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

    response = Client().get("/admin/login/", HTTP_X_FORWARDED_PROTO="https")

    assert response.status_code == 200
    assert "max-age=31536000" in response["Strict-Transport-Security"]
