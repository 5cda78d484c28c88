"""Data Integrity proofs with the ``eddsa-rdfc-2022`` cryptosuite (VC Data Integrity 1.0,
VC DI EdDSA 1.0 §3.2): the second way a credential is secured, beside the JWT.

Create and verify follow the spec's steps:
1. the proof options (``type``, ``cryptosuite``, ``created``, ``verificationMethod``,
   ``proofPurpose``) take the document's ``@context`` and are canonicalised with RDFC-1.0;
2. the document without its ``proof`` is canonicalised the same way;
3. the data to sign is SHA-256(canonical proof options) ‖ SHA-256(canonical document);
4. ``proofValue`` is the Ed25519 signature over those 64 bytes, multibase base58btc.
Canonicalisation is PyLD's URDNA2015, the algorithm RDFC-1.0 standardised (same output), and
every JSON-LD context comes from the vendored copies: nothing is fetched from the network.
"""

from __future__ import annotations

import copy
import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from functools import cache as memoize
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric import ed25519

from seals import multibase

CRYPTOSUITE = "eddsa-rdfc-2022"
PROOF_TYPE = "DataIntegrityProof"
PROOF_PURPOSE = "assertionMethod"
CONTEXTS_DIR = Path(__file__).resolve().parent / "conformance" / "contexts"


class DataIntegrityError(ValueError):
    """A document whose proof is missing, malformed or does not verify."""


@memoize
def _context_files() -> dict[str, Path]:
    index = json.loads((CONTEXTS_DIR / "index.json").read_text())
    return {url: CONTEXTS_DIR / name for url, name in index.items()}


@memoize
def _context(url: str) -> dict[str, Any]:
    return json.loads(_context_files()[url].read_text())


def local_document_loader(url: str, options: dict | None = None) -> dict[str, Any]:
    """A PyLD document loader that only reads the vendored contexts (never the network)."""
    if url not in _context_files():
        raise ValueError(f"No local copy of JSON-LD context {url}")
    return {
        "contentType": "application/ld+json",
        "contextUrl": None,
        "documentUrl": url,
        # PyLD may annotate what it is given; the memoised original stays as read.
        "document": copy.deepcopy(_context(url)),
    }


UNDEFINED_VOCAB = "urn:UNDEFINEDTERM:"


def jsonld_undefined_terms(document: dict[str, Any]) -> set[str]:
    """Terms of ``document`` that no context defines.

    The strict trick the 1EdTech validator uses: append ``@vocab: urn:UNDEFINEDTERM:`` as the
    last context, so every term that would otherwise be dropped silently expands to an IRI under
    that prefix, then collect those IRIs (as properties and as type values).
    """
    from pyld import jsonld

    contexts = document.get("@context", [])
    contexts = contexts if isinstance(contexts, list) else [contexts]
    strict = {**document, "@context": [*contexts, {"@vocab": UNDEFINED_VOCAB}]}
    expanded = jsonld.expand(strict, {"documentLoader": local_document_loader})
    found: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, list):
            for item in node:
                walk(item)
        elif isinstance(node, dict):
            for key, value in node.items():
                if key.startswith(UNDEFINED_VOCAB):
                    found.add(key[len(UNDEFINED_VOCAB) :])
                if key == "@type":
                    for type_ in value if isinstance(value, list) else [value]:
                        if isinstance(type_, str) and type_.startswith(UNDEFINED_VOCAB):
                            found.add(type_[len(UNDEFINED_VOCAB) :])
                walk(value)

    walk(expanded)
    return found


def canonicalize(document: dict[str, Any]) -> str:
    """RDFC-1.0 N-Quads of ``document``; refuses a term no context defines (as the "safe mode"
    of Digital Bazaar's verifier does), since JSON-LD would drop it and leave it unsigned."""
    from pyld import jsonld

    undefined = jsonld_undefined_terms(document)
    if undefined:
        raise DataIntegrityError(f"Terms no context defines: {', '.join(sorted(undefined))}.")
    return jsonld.normalize(
        document,
        {
            "documentLoader": local_document_loader,
            "algorithm": "URDNA2015",
            "format": "application/n-quads",
        },
    )


def _timestamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _hash_data(document: dict[str, Any], options: dict[str, Any]) -> bytes:
    unsecured = {k: v for k, v in document.items() if k != "proof"}
    config = {"@context": document["@context"], **options}
    return (
        hashlib.sha256(canonicalize(config).encode()).digest()
        + hashlib.sha256(canonicalize(unsecured).encode()).digest()
    )


def sign(
    document: dict[str, Any],
    *,
    private_key: ed25519.Ed25519PrivateKey,
    verification_method: str,
    created: datetime,
) -> dict[str, Any]:
    """``document`` with one ``eddsa-rdfc-2022`` proof, given as a one-element array: OB 3.0's
    published JSON Schema wants ``proof`` as an array."""
    options = {
        "type": PROOF_TYPE,
        "cryptosuite": CRYPTOSUITE,
        "created": _timestamp(created),
        "verificationMethod": verification_method,
        "proofPurpose": PROOF_PURPOSE,
    }
    signature = private_key.sign(_hash_data(document, options))
    return {**document, "proof": [{**options, "proofValue": multibase.encode(signature)}]}


@dataclass(frozen=True)
class Proof:
    verification_method: str
    created: str


def proof_of(document: dict[str, Any]) -> dict[str, Any]:
    """The document's single ``eddsa-rdfc-2022`` proof (an object or a one-element array)."""
    proofs = document.get("proof")
    proofs = proofs if isinstance(proofs, list) else [proofs] if proofs else []
    ours = [
        p
        for p in proofs
        if isinstance(p, dict)
        and p.get("type") == PROOF_TYPE
        and p.get("cryptosuite") == CRYPTOSUITE
    ]
    if len(ours) != 1:
        raise DataIntegrityError(f"Expected one {CRYPTOSUITE} DataIntegrityProof.")
    proof = ours[0]
    if proof.get("proofPurpose") != PROOF_PURPOSE:
        raise DataIntegrityError("The proof's purpose is not assertionMethod.")
    if not isinstance(proof.get("verificationMethod"), str):
        raise DataIntegrityError("The proof names no verificationMethod.")
    return proof


def verify(document: dict[str, Any], *, public_key: bytes) -> Proof:
    """Check the proof of ``document`` with the raw Ed25519 ``public_key``; raise if it fails."""
    from pyld.jsonld import JsonLdError

    proof = proof_of(document)
    options = {k: v for k, v in proof.items() if k != "proofValue"}
    try:
        signature = multibase.decode(str(proof.get("proofValue", "")))
        data = _hash_data(document, options)
        ed25519.Ed25519PublicKey.from_public_bytes(public_key).verify(signature, data)
    except InvalidSignature as exc:
        raise DataIntegrityError("The proof's signature does not verify.") from exc
    except (multibase.MultibaseError, ValueError, JsonLdError) as exc:
        raise DataIntegrityError(f"The document cannot be canonicalised: {exc}") from exc
    return Proof(verification_method=proof["verificationMethod"], created=proof.get("created", ""))
