"""Shared helpers for the issuer API tests: a client authenticated by an API key."""

from __future__ import annotations

import json
from typing import Any

import pytest
from rest_framework.test import APIClient

from issuers.models import Issuer
from issuers.services import apikey_create
from tests.factories import IssuerFactory

PROBLEM = "application/problem+json"


class Api:
    """A thin client: ``api.get("/members")`` calls ``/api/v1/members`` with the key."""

    def __init__(self, issuer: Issuer, scopes: list[str] | None = None) -> None:
        self.issuer = issuer
        self.new_key = apikey_create(issuer=issuer, name="test", scopes=scopes)
        self.key = self.new_key.plaintext
        self.client = APIClient(enforce_csrf_checks=True)
        self.client.credentials(HTTP_AUTHORIZATION=f"Bearer {self.key}")

    def _url(self, path: str) -> str:
        return path if path.startswith("/api/") else f"/api/v1{path}"

    def get(self, path: str, **params: Any):
        return self.client.get(self._url(path), params)

    def post(self, path: str, data: Any = None, *, idempotency_key: str | None = None):
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else None
        return self.client.post(self._url(path), data, format="json", headers=headers)

    def patch(self, path: str, data: Any = None):
        return self.client.patch(self._url(path), data, format="json")

    def put(self, path: str, body: bytes, content_type: str):
        return self.client.put(self._url(path), body, content_type=content_type)

    def delete(self, path: str):
        return self.client.delete(self._url(path))


def problem(response) -> dict[str, Any]:
    """The problem+json body, after checking the media type and the RFC 9457 members."""
    assert response["Content-Type"] == PROBLEM, (response.status_code, response.content[:300])
    body = json.loads(response.content)
    for member in ("type", "title", "status", "detail", "instance"):
        assert member in body, body
    assert body["status"] == response.status_code
    return body


@pytest.fixture
def api(db) -> Api:
    return Api(IssuerFactory())


@pytest.fixture
def other_api(db) -> Api:
    return Api(IssuerFactory())
