"""JWT checks with PyJWT: the header rules of the issuer's tokens and signature verification
against one JWK. The key is always chosen by the caller (from the ``kid`` URL or a JWKS);
``jku``, ``x5u`` and ``jwk`` headers are never followed: a key a token brings along proves
nothing."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import jwt

ALGORITHMS = ("ES256", "RS256")  # never "none", never HMAC (its "secret" is our public key)


class TokenError(ValueError):
    pass


@dataclass(frozen=True)
class Token:
    raw: str
    header: dict[str, Any]
    payload: dict[str, Any]

    @property
    def kid(self) -> str:
        kid = self.header.get("kid")
        return kid if isinstance(kid, str) else ""


def read(raw: str) -> Token:
    """The header and claims of a compact JWS, unverified; ``TokenError`` if unreadable."""
    raw = raw.strip()
    if raw.count(".") != 2:
        raise TokenError("not a compact JWS (three dot-separated parts)")
    try:
        header = jwt.get_unverified_header(raw)
        payload = jwt.decode(raw, options={"verify_signature": False})
    except jwt.PyJWTError as exc:
        raise TokenError(f"unreadable JWT: {exc}") from exc
    if not isinstance(payload, dict):
        raise TokenError("the JWT's claims are not an object")
    return Token(raw, header, payload)


def verify_signature(token: Token, jwk: dict[str, Any]) -> None:
    """``TokenError`` unless ``jwk`` signed ``token`` with an accepted algorithm."""
    alg = token.header.get("alg")
    if alg not in ALGORITHMS:
        raise TokenError(f"algorithm {alg!r} is not accepted (only ES256 and RS256)")
    if jwk.get("alg", alg) != alg:
        raise TokenError(f"the key is for {jwk.get('alg')}, the token says {alg}")
    try:
        key = jwt.PyJWK(json.loads(json.dumps(jwk)), algorithm=alg).key
        jwt.api_jws.PyJWS().decode_complete(token.raw, key=key, algorithms=[alg])
    except jwt.PyJWTError as exc:
        raise TokenError(f"the signature does not verify: {exc}") from exc
