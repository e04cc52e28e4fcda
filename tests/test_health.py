"""Tests for /healthz: 200 when the database and cache answer, 503 naming the one that does not."""

from __future__ import annotations

import socket
from typing import Any

import pytest
from django.test import Client


def _closed_port() -> int:
    # Bind then release: nothing listens on the port afterwards.
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.django_db
def test_it_reports_healthy_services(client: Client) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"db": "ok", "cache": "ok"}
    assert "no-cache" in response["Cache-Control"]


@pytest.mark.django_db
def test_it_reports_a_broken_cache(client: Client, settings: Any) -> None:
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{_closed_port()}/0",
        }
    }
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {"db": "ok", "cache": "error"}


def test_it_reports_a_broken_database(client: Client) -> None:
    # Without django_db, pytest-django refuses database access, like an outage would.
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {"db": "error", "cache": "ok"}


@pytest.mark.django_db
def test_it_only_answers_reads(client: Client) -> None:
    assert client.post("/healthz").status_code == 405
