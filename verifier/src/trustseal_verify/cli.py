"""The ``trustseal-verify`` command.

    trustseal-verify <verification URL | credential.jwt | badge.png | badge.svg | bundle.json>
        [--offline [--jwks FILE]] [--json] [--at <RFC 3339>] [--log-key <verifier key>]
        [--max-age <seconds>]
    trustseal-verify monitor <issuer URL> [--state FILE] [--log-key KEY] [--tiles]
        [--cosign-key FILE --cosign-name NAME] [--json]

Exit status: 0 valid (or a consistent log), 1 invalid (or a rewritten log), 2 unknown: the
evidence could not be had (a network failure is never "valid"), and 2 for bad usage too.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import load_pem_private_key

from trustseal_verify import __version__, sources
from trustseal_verify.checks import Report
from trustseal_verify.fetch import Fetch, NotFound, Unreachable, http_fetch, offline_fetch
from trustseal_verify.history import verify_at
from trustseal_verify.monitor import run_monitor
from trustseal_verify.verify import (
    SealInput,
    bundle_evidence,
    log_input,
    online_evidence,
    unknown_seal,
    unreachable,
    verify_seal,
)

_RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[Zz]|[+-]\d{2}:\d{2})")
USAGE_ERROR = 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="trustseal-verify",
        description="Check a Trustseal seal from its signed, public evidence alone.",
        epilog="Exit status: 0 valid, 1 invalid, 2 unknown. "
        "'trustseal-verify monitor --help' for the log monitor.",
    )
    parser.add_argument("source", help="verification URL, credential JWT, baked badge or bundle")
    parser.add_argument("--offline", action="store_true", help="a bundle only; no network at all")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument("--at", help="the status at an RFC 3339 moment (asks the server, checks)")
    parser.add_argument("--log-key", help="the log's verifier key, pinned (else as published)")
    parser.add_argument(
        "--jwks",
        type=Path,
        help="the issuer's JWKS obtained out of band: with --offline, keys come from it only",
    )
    parser.add_argument(
        "--max-age",
        type=float,
        help="seconds: status lists older than this give 'unknown' (offline bundles)",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    return parser


def _monitor_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="trustseal-verify monitor",
        description="Check that an issuer's transparency log only grows (run it on a schedule).",
        epilog="Exit status: 0 consistent, 1 history rewritten (evidence printed), 2 unknown.",
    )
    parser.add_argument("issuer", help="the issuer's URL (…/issuers/<slug>) or its log's")
    parser.add_argument("--state", type=Path, help="file keeping the last checkpoint seen")
    parser.add_argument("--log-key", help="the log's verifier key (else pinned on first use)")
    parser.add_argument(
        "--tiles", action="store_true", help="recompute both roots from the tiles, not a proof"
    )
    parser.add_argument("--cosign-key", type=Path, help="PEM Ed25519 key: cosign the checkpoint")
    parser.add_argument("--cosign-name", help="the witness's key name (with --cosign-key)")
    parser.add_argument("--json", action="store_true")
    return parser


def _print(report_text: str, data: dict, as_json: bool) -> None:
    print(json.dumps(data, indent=2, ensure_ascii=False) if as_json else report_text)


def main(argv: Sequence[str] | None = None, *, fetch: Fetch | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    fetch = fetch or http_fetch
    now = datetime.now(UTC)
    if args[:1] == ["monitor"]:
        return _monitor(_monitor_parser().parse_args(args[1:]), fetch, now)
    options = _parser().parse_args(args)
    try:
        source = sources.load(options.source)
    except sources.SourceError as exc:
        print(f"trustseal-verify: {exc}", file=sys.stderr)
        return USAGE_ERROR
    if options.offline:
        if source.kind != "bundle":
            print("trustseal-verify: --offline needs a bundle file", file=sys.stderr)
            return USAGE_ERROR
        if options.at:
            print("trustseal-verify: --at asks the server; not with --offline", file=sys.stderr)
            return USAGE_ERROR
        fetch = offline_fetch
    if options.at:
        if not _RFC3339.fullmatch(options.at) or not source.base_url or not source.seal_id:
            print(
                "trustseal-verify: --at needs an RFC 3339 time and a URL or bundle", file=sys.stderr
            )
            return USAGE_ERROR
        report = verify_at(
            source.base_url,
            source.seal_id,
            options.at,
            fetch=fetch,
            now=now,
            pinned_key=options.log_key,
        )
    else:
        report = _verify(source, options, fetch, now)
    _print(report.text(), report.as_dict(), options.json)
    return report.exit_code


def _verify(
    source: sources.Source, options: argparse.Namespace, fetch: Fetch, now: datetime
) -> Report:
    subject = source.label
    if source.kind == "credential":
        given = SealInput(credential=source.credential, evidence=online_evidence(fetch))
        return verify_seal(subject, given, now=now)
    bundle = source.bundle
    if source.kind == "url":
        url = f"{source.base_url}/verify/{source.seal_id}/bundle.json"
        try:
            bundle = json.loads(fetch(url))
        except NotFound as exc:
            detail = f"{source.base_url} knows no seal {source.seal_id}"
            return unknown_seal(subject, now, detail, gone=exc.status == 410)
        except (Unreachable, ValueError) as exc:
            return unreachable(subject, now, f"the seal's evidence could not be fetched: {exc}")
    assert bundle is not None  # noqa: S101 - a "bundle" or "url" source has one by now
    log = log_input(bundle, pinned_key=options.log_key)
    if log is not None and not options.offline:
        part = bundle.get("log") or {}
        log.log_url = str(part.get("checkpoint_url", "")).removesuffix("/checkpoint") or None
        log.fetch = fetch
        if options.log_key is None and log.log_url:
            # Online, the key comes from the log's own route, not the bundle's copy of it.
            try:
                log.verifier_key = fetch(f"{log.log_url}/key").decode()
            except (Unreachable, NotFound):
                log.log_url = None  # the current checkpoint would be unreachable as well
    key_note = ""
    if options.offline:
        pinned = json.loads(options.jwks.read_text()) if options.jwks else None
        evidence = bundle_evidence(bundle, jwks=pinned)
        key_note = (
            " (from the pinned JWKS)"
            if pinned is not None
            else " (the bundle's own copy of the keys: pin them with --jwks)"
        )
    else:
        evidence = online_evidence(fetch)
    base = source.base_url
    given = SealInput(
        credential=str(bundle.get("credential", "")),
        evidence=evidence,
        seal_id=str(bundle.get("seal_id", "")),
        expected_issuer_prefix=f"{base}/issuers/" if base else "",
        status_token=bundle.get("status_token"),
        log=log,
        log_expected=True,
        offline=options.offline,
        max_age=options.max_age,
        key_note=key_note,
        facts={"seal_id": bundle.get("seal_id"), "bundle_generated_at": bundle.get("generatedAt")},
    )
    if source.seal_id and given.seal_id != source.seal_id:
        return unknown_seal(subject, now, "the bundle is of another seal than the one asked for")
    return verify_seal(subject, given, now=now)


def _monitor(options: argparse.Namespace, fetch: Fetch, now: datetime) -> int:
    cosign_key = None
    if options.cosign_key is not None:
        loaded = load_pem_private_key(options.cosign_key.read_bytes(), password=None)
        if not isinstance(loaded, Ed25519PrivateKey) or not options.cosign_name:
            print(
                "trustseal-verify: --cosign-key needs an Ed25519 PEM key and --cosign-name",
                file=sys.stderr,
            )
            return USAGE_ERROR
        cosign_key = loaded
    result = run_monitor(
        options.issuer,
        fetch=fetch,
        now=now,
        state_path=options.state,
        pinned_key=options.log_key,
        tiles=options.tiles,
        cosign_key=cosign_key,
        cosign_name=options.cosign_name,
    )
    _print(result.text(), result.as_dict(), options.json)
    return result.exit_code
