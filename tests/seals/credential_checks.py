"""Independent checks of what we sign: jwcrypto (another JOSE library), JSON Schema, JSON-LD.

Nothing here uses our own verifier, so the tests catch a bug that the signer and the verifier
would share.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from pathlib import Path
from typing import Any

from jsonschema import Draft201909Validator, Draft202012Validator, FormatChecker
from jwcrypto import jwk, jwt

from seals.verification import CONFORMANCE_DIR, jsonld_undefined_terms  # noqa: F401

DATA = Path(__file__).resolve().parent / "data"


def jwcrypto_claims(token: str, jwks: dict[str, Any]) -> dict[str, Any]:
    """Verify with jwcrypto against a published JWKS (key chosen by kid); raise if invalid."""
    keyset = jwk.JWKSet.from_json(json.dumps(jwks))
    verified = jwt.JWT(jwt=token, key=keyset, algs=["ES256", "RS256"])
    return json.loads(verified.claims)


def jwt_parts(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    head, body, _ = token.split(".")
    return _b64json(head), _b64json(body)


def _b64json(part: str) -> dict[str, Any]:
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def forge(header: dict[str, Any], payload: dict[str, Any], hmac_key: bytes | None = None) -> str:
    """A token with any header: unsigned (alg none) or HMAC-signed with ``hmac_key``."""
    signing_input = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(payload).encode())}"
    if hmac_key is None:
        return signing_input + "."
    mac = hmac.new(hmac_key, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64(mac)}"


def ob3_schema_errors(credential: dict[str, Any]) -> list[str]:
    path = CONFORMANCE_DIR / "schemas" / "ob_v3p0_achievementcredential_schema.json"
    validator = Draft201909Validator(json.loads(path.read_text()), format_checker=FormatChecker())
    return [error.message for error in validator.iter_errors(credential)]


def vc2_schema_errors(credential: dict[str, Any]) -> list[str]:
    path = CONFORMANCE_DIR / "schemas" / "vc_v2_verifiable-credential-schema.json"
    validator = Draft202012Validator(json.loads(path.read_text()), format_checker=FormatChecker())
    return [error.message for error in validator.iter_errors(credential)]
