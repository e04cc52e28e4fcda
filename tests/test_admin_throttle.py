"""The admin login throttle (django-axes): password guessing stops after AXES_FAILURE_LIMIT tries.

Lockout is per username and address together (settings.py says why), for AXES_COOLOFF_TIME.
These tests post the real admin login form; other tests log in with force_login, which skips
authentication and so the throttle.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.test import Client

pytestmark = pytest.mark.django_db

LOGIN = "/admin/login/?next=/admin/"
PASSWORD = "correct horse battery staple"
LOCKED = "Account locked: too many login attempts"
START = dt.datetime(2025, 3, 3, 9, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def _throttle(settings: Any) -> None:
    settings.AXES_ENABLED = True
    settings.AXES_FAILURE_LIMIT = 5
    settings.AXES_COOLOFF_TIME = dt.timedelta(minutes=15)
    # A fast hasher: the default one takes a good fraction of a second per attempt.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def staff() -> None:
    for name in ("alice", "bob"):
        get_user_model().objects.create_superuser(name, f"{name}@example.org", PASSWORD)


def log_in(username: str, password: str, address: str = "10.0.0.1", **headers: str) -> Any:
    client = Client(REMOTE_ADDR=address)
    response = client.post(LOGIN, {"username": username, "password": password}, **headers)
    response.logged_in = "_auth_user_id" in client.session
    return response


def guess_wrong(username: str, times: int = 5, address: str = "10.0.0.1", **headers: str) -> None:
    statuses = []
    for n in range(times):
        response = log_in(username, f"guess-{n}", address, **headers)
        assert not response.logged_in
        statuses.append(response.status_code)
    # The form again with "please enter a correct username and password"; the last try that
    # reaches the limit already gets the lockout page.
    assert statuses == [200] * (times - 1) + [429]


def test_it_logs_staff_in_with_the_right_password(staff: None) -> None:
    response = log_in("alice", PASSWORD)

    assert response.status_code == 302 and response.logged_in


def test_it_refuses_even_the_right_password_after_five_wrong_ones(staff: None) -> None:
    guess_wrong("alice")

    response = log_in("alice", PASSWORD)

    assert response.status_code == 429
    assert LOCKED in response.content.decode()
    assert not response.logged_in


def test_it_lets_other_staff_at_the_same_address_log_in(staff: None) -> None:
    guess_wrong("alice")

    response = log_in("bob", PASSWORD)

    assert response.status_code == 302 and response.logged_in


def test_it_lets_the_real_user_log_in_from_another_address(staff: None) -> None:
    guess_wrong("alice", address="203.0.113.9")

    response = log_in("alice", PASSWORD, address="10.0.0.1")

    assert response.status_code == 302 and response.logged_in


def test_it_lets_them_try_again_after_the_cool_off(staff: None) -> None:
    with time_machine.travel(START, tick=False) as clock:
        guess_wrong("alice")
        assert log_in("alice", PASSWORD).status_code == 429

        clock.shift(dt.timedelta(minutes=16))

        response = log_in("alice", PASSWORD)
    assert response.status_code == 302 and response.logged_in


def test_it_ignores_a_forged_forwarded_for_header_without_a_trusted_proxy(staff: None) -> None:
    for n in range(5):
        forged = {"HTTP_X_FORWARDED_FOR": f"198.51.100.{n}"}
        assert not log_in("alice", f"guess-{n}", **forged).logged_in

    response = log_in("alice", PASSWORD, HTTP_X_FORWARDED_FOR="198.51.100.77")

    assert response.status_code == 429


def test_it_throttles_the_client_behind_a_trusted_proxy(staff: None, settings: Any) -> None:
    settings.AXES_CLIENT_IP_CALLABLE = "backpain_service.client_ip.client_ip_forwarded"
    proxy = "10.0.0.254"  # every request arrives from the proxy
    # The attacker adds their own X-Forwarded-For; the proxy appends the address it saw.
    guess_wrong("alice", address=proxy, HTTP_X_FORWARDED_FOR="1.2.3.4, 203.0.113.9")

    attacker = log_in("alice", PASSWORD, proxy, HTTP_X_FORWARDED_FOR="5.6.7.8, 203.0.113.9")
    colleague = log_in("alice", PASSWORD, proxy, HTTP_X_FORWARDED_FOR="192.0.2.10")

    assert attacker.status_code == 429
    assert colleague.status_code == 302 and colleague.logged_in
