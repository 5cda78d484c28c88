"""No raw client address in any log the deployment writes (docs/privacy.md).

Reads the shipped configuration as text: the nginx edge (``deploy/nginx/nginx.conf``), the
configs ``make serve`` and the benchmarks generate (``deploy/nginx/local.py``), and the app
server commands of docker-compose and the Dockerfile. The nginx map that cuts addresses to their
network is run here with Python's regex engine, in nginx's order (first match wins), and must
agree with the app's own truncation (``config.client_ip.truncate``).
"""

from __future__ import annotations

import importlib.util
import ipaddress
import re
from pathlib import Path

import pytest
import yaml

from config.client_ip import truncate

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("nginx_local", ROOT / "deploy/nginx/local.py")
local = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(local)
NGINX_CONF = ROOT / "deploy" / "nginx" / "nginx.conf"
RAW = re.compile(r"\$(remote_addr|binary_remote_addr|http_x_forwarded_for|realip_remote_addr)\b")
ERROR_LEVELS = ("debug", "info", "notice", "warn", "error", "crit", "alert", "emerg")


def _uncommented(text: str) -> str:
    return "\n".join(line.split("#", 1)[0] for line in text.splitlines())


def _directives(text: str, name: str) -> list[str]:
    return [m.strip() for m in re.findall(rf"(?:^|[\s;{{]){name}\s+([^;]+);", text)]


def _log_formats(text: str) -> dict[str, str]:
    return {
        body.split(None, 1)[0]: body.split(None, 1)[1] for body in _directives(text, "log_format")
    }


def _access_logs_problems(text: str, where: str) -> list[str]:
    """Each access_log is off or names a format defined here (the default, ``combined``,
    starts with $remote_addr), and no format records a raw address."""
    formats = _log_formats(text)
    problems = [
        f"{where}: log_format {n} records {RAW.search(f)[0]}"
        for n, f in formats.items()
        if RAW.search(f)
    ]
    for args in _directives(text, "access_log"):
        parts = args.split()
        if parts[0] == "off":
            continue
        if len(parts) < 2 or parts[1] not in formats:
            problems.append(f"{where}: access_log {args} uses a format not defined here")
    return problems


def nginx_map(text: str, source: str, target: str) -> list[tuple[re.Pattern, str]]:
    block = re.search(rf"map\s+\${source}\s+\${target}\s*\{{(.*?)\n\s*\}}", text, re.S)
    assert block, f"no map ${source} -> ${target}"
    entries = []
    for line in block[1].splitlines():
        line = line.strip().rstrip(";")
        if not line:
            continue
        pattern, value = line.rsplit(None, 1)
        pattern = pattern.strip("\"'")
        if pattern == "default":
            entries.append((re.compile(r""), value.strip("\"'")))
            continue
        flags = re.I if pattern.startswith("~*") else 0
        pcre = pattern.removeprefix("~*").removeprefix("~").replace("(?<", "(?P<")
        entries.append((re.compile(pcre, flags), value))
    return entries


def apply_map(entries: list[tuple[re.Pattern, str]], value: str) -> str:
    for pattern, result in entries:
        found = pattern.search(value)
        if found:
            return re.sub(r"\$(\w+)", lambda m, found=found: found.group(m[1]), result)
    raise AssertionError("a map without default")


# --- the production edge ---------------------------------------------------------------------


def test_the_edge_logs_no_raw_address():
    text = _uncommented(NGINX_CONF.read_text())
    assert _access_logs_problems(text, "nginx.conf") == []
    formats = _log_formats(text)
    assert "$client_network" in formats["networks"]
    # The query string is not logged either: ?d= names the site a seal was shown on.
    assert "$request " not in formats["networks"] and "$request_uri" not in formats["networks"]
    # Nor the browser or the page the visitor came from (GET /privacy says so).
    assert "$http_user_agent" not in formats["networks"]
    assert "$http_referer" not in formats["networks"]


def test_the_checks_can_fail():
    bad = """
        log_format plain '$remote_addr - $request';
        log_format fwd '$http_x_forwarded_for $status';
        access_log /var/log/a.log plain;
        access_log /var/log/b.log;
    """
    problems = _access_logs_problems(bad, "bad")
    assert len(problems) == 3, problems


def test_the_only_raw_address_nginx_holds_is_the_seal_limits_key_as_docs_privacy_md_says():
    """docs/privacy.md names one place a full address is held: the seal routes' per-client
    limit, keyed on ``$binary_remote_addr`` in shared memory. Another zone, another key or the
    limit applied elsewhere would make that page wrong, so each fails here."""
    text = _uncommented(NGINX_CONF.read_text())
    zones = _directives(text, "limit_req_zone") + _directives(text, "limit_conn_zone")
    assert [zone.split()[:2] for zone in zones] == [["$seal_client", "zone=seal_clients:10m"]]
    key = re.search(r"map\s+\$seal_limit_exempt\s+\$seal_client\s*\{([^}]*)\}", text)
    assert key, "no map $seal_limit_exempt -> $seal_client"
    assert sorted(e.split() for e in key[1].split(";") if e.strip()) == [
        ["1", '""'],  # loopback: an empty key, which nginx never counts
        ["default", "$binary_remote_addr"],
    ]
    limits = {
        path.name: _directives(_uncommented(path.read_text()), "limit_req")
        for path in NGINX_CONF.parent.glob("*.conf")
    }
    assert {name: found for name, found in limits.items() if found} == {
        "seal-cache.conf": ["zone=seal_clients burst=1000 nodelay"]
    }
    # seal-cache.conf is included by the seal routes' location only.
    includes = re.findall(r"location\s+([^{]+)\{[^}]*include\s+(\S+seal-cache\.conf);", text)
    assert [(where.strip(), path) for where, path in includes] == [
        ("~ ^/(s|verify|issuers|embed)/", "/etc/nginx/seal-cache.conf")
    ]


def test_the_edge_writes_only_critical_errors():
    # nginx's error lines may say "client: <address>" and cannot be formatted.
    text = _uncommented(NGINX_CONF.read_text())
    levels = [args.split()[-1] for args in _directives(text, "error_log")]
    assert levels and all(
        ERROR_LEVELS.index(level) >= ERROR_LEVELS.index("crit") for level in levels
    )


@pytest.mark.parametrize(
    "address",
    [
        "203.0.113.77",
        "10.1.2.3",
        "2001:db8:85a3::8a2e:370:7334",
        "2001:db8:85a3:1:2:3:4:5",
        "2001:db8::1",
        "2001::1",
        "fe80:abcd:1234:5678::1",
    ],
)
def test_the_map_keeps_the_network_the_app_keeps(address):
    entries = nginx_map(_uncommented(NGINX_CONF.read_text()), "remote_addr", "client_network")
    assert apply_map(entries, address) == str(truncate(ipaddress.ip_address(address)))


@pytest.mark.parametrize("address", ["::1", "::ffff:192.0.2.5", "unix:", ""])
def test_the_map_drops_what_it_cannot_cut(address):
    entries = nginx_map(_uncommented(NGINX_CONF.read_text()), "remote_addr", "client_network")
    assert apply_map(entries, address) == "-"


# --- make serve, the benchmarks and the app servers -----------------------------------------


def test_the_local_edge_and_static_servers_log_no_raw_address(tmp_path):
    for name, conf in (
        ("edge", local.edge_conf(tmp_path, listen=1, upstream=2)),
        ("static", local.static_conf(tmp_path, listen=1, root=tmp_path)),
    ):
        text = _uncommented(conf)
        assert _directives(text, "access_log"), name
        assert _access_logs_problems(text, name) == []


def _access_log_flags(command: str) -> list[str]:
    # granian: --access-log (off by default); gunicorn: --access-logfile (off by default).
    return re.findall(r"--access-log(?:file)?\b(?!-fmt)", command)


def test_the_app_servers_write_no_access_log():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    web = compose["services"]["web"]
    command = " ".join(web["command"])
    assert "granian" in command
    assert _access_log_flags(command) == []
    environment = {**compose["x-app"]["environment"], **(web.get("environment") or {})}
    assert not [k for k in environment if k.startswith("GRANIAN_LOG_ACCESS")]
    dockerfile = (ROOT / "Dockerfile").read_text()
    cmd = next(line for line in dockerfile.splitlines() if line.startswith("CMD"))
    assert "granian" in cmd and _access_log_flags(cmd) == []
    for name, template in local.SERVERS.items():
        assert _access_log_flags(template) == [], name
        if name == "uvicorn":  # uvicorn logs each request with the client address by default
            assert "--no-access-log" in template
