"""Load on the seal image, against nginx serving the same bytes as a static file.

Starts, each on its own loopback port with its own config, and stops at the end:
  edge    nginx proxy_cache (deploy/nginx/seal-cache.conf) in front of the app server
  origin  the app server alone (config.wsgi, PostgreSQL + Redis), and a second one with
          the fast path off (PUBLIC_IMAGE_FASTPATH=0: Django's full handler and one Redis round
          trip per hit, instead of a replayed answer over a tracked local copy)
  bare    bench/bare_django.py (constant bytes) under the same server and settings
  static  nginx serving the same PNG bytes as a file
then drives them with wrk in one run and prints req/s, p50/p99, the app server's CPU time per
request (user + system of its workers, from /proc: steadier than req/s on a loaded box) and
the ratios.

Run by hand, never in CI (needs wrk and nginx: apt-get install -y wrk nginx):
  DATABASE_URL=postgres://... REDIS_URL=redis://127.0.0.1:6379/8 \\
    .venv/bin/python bench/seal_load.py [--server granian] [--duration 8] [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "deploy" / "nginx"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")

import local as edge  # noqa: E402  (deploy/nginx/local.py)

BENCH_ISSUER = "bench-load"
# The hot seal is member B-000000's, whose domain is m0.bench.example (seed): a page of its site,
# and a site that copied the seal (the misuse variant, counted per host).
MEMBER = "Referer: https://www.m0.bench.example/products/42?ref=nav"
FOREIGN = "Referer: https://copycat.example/stolen-seal.html"


def seed(cold_seals: int) -> tuple[str, list[str]]:
    """One hot seal and ``cold_seals`` others, created once and reused by later runs (a
    later run asking for more adds only the difference)."""
    import django

    django.setup()
    from django.utils import timezone

    from config.tenancy import scopes_disabled
    from issuers.models import Issuer, Member
    from issuers.services import member_create, programme_default
    from seals.models import Seal
    from seals.registry import issuer_create
    from seals.services import seal_award_many

    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v0"], cwd=ROOT, check=True
    )
    with scopes_disabled():  # an operator's seeding, across the bench issuer's rows
        issuer = Issuer.objects.filter(slug=BENCH_ISSUER).first() or issuer_create(
            slug=BENCH_ISSUER, name="Guild of Benchmark Traders", website="https://bench.example"
        )
        programme = programme_default(issuer)
        have = Member.objects.filter(issuer=issuer).count()
        now = timezone.now()
        awards = []
        for i in range(have, cold_seals + 1):
            member = member_create(
                issuer=issuer,
                external_ref=f"B-{i:06d}",
                legal_name=f"Benchmark Member {i} Ltd",
                display_name=f"Benchmark Member {i}",
                domains=[f"m{i}.bench.example"],
                country="GB",
            )
            awards.append((member, programme, now, now + timedelta_days(365)))
            if len(awards) == 500:
                seal_award_many(awards=awards, actor="bench")
                awards = []
        if awards:
            seal_award_many(awards=awards, actor="bench")
        ids = list(
            Seal.objects.filter(issuer=issuer)
            .order_by("member__external_ref")
            .values_list("public_id", flat=True)[: cold_seals + 1]
        )
        return ids[0], ids[1:]


def timedelta_days(days: int):
    from datetime import timedelta

    return timedelta(days=days)


def prerender(ids: list[str], env: dict[str, str], processes: int = 2) -> None:
    """What the write-time task does after a change (``seals.render.images``), for the default
    size only, into the run's key space; in ``processes`` parallel processes."""
    code = (
        "import sys, django; django.setup()\n"
        "from seals.render.images import seal_images_prerender\n"
        "seal_images_prerender(public_ids=sys.argv[1:], sizes=['medium'])\n"
    )
    started = time.monotonic()
    chunks = [ids[i::processes] for i in range(processes)]
    running = [
        subprocess.Popen([sys.executable, "-c", code, *chunk], cwd=ROOT, env=env)
        for chunk in chunks
        if chunk
    ]
    for proc in running:
        if proc.wait() != 0:
            sys.exit("pre-rendering failed")
    print(f"pre-rendered {len(ids)} seal images in {time.monotonic() - started:.1f}s")


def wait_http(url: str, timeout: float = 20) -> bytes:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - loopback
                return response.read()
        except Exception:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def wrk(url: str, *, duration: int, connections: int, header: str = "", script: str = "") -> dict:
    cmd = ["wrk", "-t2", f"-c{connections}", f"-d{duration}s", "--latency", "--timeout", "5s"]
    if header:
        cmd += ["-H", header]
    if script:
        cmd += ["-s", script]
    out = subprocess.run([*cmd, url], capture_output=True, text=True, check=True).stdout

    def ms(label: str) -> float:
        m = re.search(rf"^\s+{label}\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        if not m:
            return float("nan")
        return float(m.group(1)) * {"us": 0.001, "ms": 1, "s": 1000}[m.group(2)]

    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    socket = re.search(r"Socket errors: (.*)", out)
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
        "requests": int(re.search(r"(\d+) requests in", out).group(1)),
        "p50": ms("50%"),
        "p99": ms("99%"),
        "errors": int(errors.group(1)) if errors else 0,
        "socket": socket.group(1) if socket else "",
    }


def cold_script(directory: Path, ids: list[str]) -> str:
    """Each wrk thread walks its own half of the ids, so each id is asked for once."""
    path = directory / "cold.lua"
    listing = ",".join(f'"{i}"' for i in ids)
    path.write_text(
        f"""local ids = {{{listing}}}
local n = #ids
local threads = 0
function setup(thread) thread:set("offset", threads); threads = threads + 1 end
local i = 0
function request()
  i = i + 1
  local k = ((i - 1) * 2 + offset) % n + 1
  return wrk.format("GET", "/s/" .. ids[k] .. ".png")
end
"""
    )
    return str(path)


def _session_pids(session: int) -> list[int]:
    pids = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            stat = (proc / "stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(stat[3]) == session:  # field 6: session id (we start servers in new sessions)
            pids.append(int(proc.name))
    return pids


def cpu_seconds(session: int) -> float:
    """User + system CPU time of every process in a server's session (its workers)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in _session_pids(session):
        try:
            stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(stat[11]) + int(stat[12])  # fields 14, 15: utime, stime
    return total / ticks


def rss_mb(pid: int) -> list[float]:
    """Resident memory of each process in ``pid``'s session (the server's workers)."""
    sizes = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            stat = (proc / "stat").read_text().rsplit(")", 1)[1].split()
            if int(stat[3]) == pid:  # field 6: session id (we start servers in new sessions)
                status = (proc / "status").read_text()
                kb = int(re.search(r"VmRSS:\s+(\d+)", status).group(1))
                sizes.append(round(kb / 1024, 1))
        except (OSError, AttributeError, IndexError):
            continue
    return sorted(sizes)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--server", default="granian", choices=sorted(edge.SERVERS))
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--duration", type=int, default=8, help="seconds per wrk run")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--cold-seals", type=int, default=2000, help="rendered on request")
    parser.add_argument(
        "--prerendered-seals",
        type=int,
        default=10000,
        help="images rendered beforehand, as the write-time task does (the cold path is then "
        "database + cache fill)",
    )
    parser.add_argument("--port-base", type=int, default=8150)
    parser.add_argument("--only-servers", action="store_true", help="origin and bare only")
    args = parser.parse_args()

    if not (os.environ.get("DATABASE_URL") and os.environ.get("REDIS_URL")):
        sys.exit("Set DATABASE_URL (PostgreSQL) and REDIS_URL: this measures the production shape.")
    # Neighbours on the box skew every figure: the report states the load the run started at.
    load_at_start = os.getloadavg()
    if not shutil.which("wrk"):
        sys.exit("wrk is not installed: apt-get install -y wrk")
    edge.nginx_binary()

    hot, others = seed(args.cold_seals + args.prerendered_seals)
    cold_ids, prerendered_ids = others[: args.cold_seals], others[args.cold_seals :]
    p_edge, p_app, p_bare, p_static, p_plain = (args.port_base + i for i in range(5))
    work = Path(tempfile.mkdtemp(prefix="seal-load-"))
    env = {
        **os.environ,
        # A fresh key space per run: the cold pass really starts cold, and runs never mix.
        "CACHE_KEY_PREFIX": f"bench{int(time.time())}",
        "DEBUG": "0",
        # One client network drives every route: the limiter still counts each request (its
        # cost is measured) but never refuses one.
        "PUBLIC_RATE_LIMIT_PER_MINUTE": "1000000000",
    }
    server_args = {"workers": args.workers, "threads": args.threads}
    procs = []
    results: dict[str, list[dict]] = {}
    try:
        app = edge.start_server(
            edge.server_command(
                args.server,
                port=p_app,
                wsgi="config.wsgi:application",
                asgi="config.asgi:application",
                **server_args,
            ),
            env,
        )
        procs.append(app)
        body = wait_http(f"http://127.0.0.1:{p_app}/s/{hot}.png")
        prerender(prerendered_ids, env)
        (work / "static").mkdir()
        (work / "static" / "seal.png").write_bytes(body)
        (work / "body.png").write_bytes(body)
        bare = edge.start_server(
            edge.server_command(
                args.server,
                port=p_bare,
                wsgi="bench.bare_django:application",
                asgi="bench.bare_django:asgi_application",
                **server_args,
            ),
            {**env, "BARE_BODY_FILE": str(work / "body.png")},
        )
        procs.append(bare)
        # The same origin with the fast path (fastpath/) off: Django's full handler and one
        # get_many round trip per hit, for the same-run comparison.
        plain = edge.start_server(
            edge.server_command(
                args.server,
                port=p_plain,
                wsgi="config.wsgi:application",
                asgi="config.asgi:application",
                **server_args,
            ),
            {**env, "PUBLIC_IMAGE_FASTPATH": "0"},
        )
        procs.append(plain)
        servers = {p_app: app.pid, p_bare: bare.pid, p_plain: plain.pid}
        if not args.only_servers:
            procs.append(
                edge.start_nginx(
                    work / "edge", edge.edge_conf(work / "edge", listen=p_edge, upstream=p_app)
                )
            )
            procs.append(
                edge.start_nginx(
                    work / "static-nginx",
                    edge.static_conf(work / "static-nginx", listen=p_static, root=work / "static"),
                )
            )
        wait_http(f"http://127.0.0.1:{p_bare}/")
        wait_http(f"http://127.0.0.1:{p_plain}/s/{hot}.png")
        image = f"/s/{hot}.png"
        with urllib.request.urlopen(f"http://127.0.0.1:{p_app}{image}") as response:
            etag = response.headers["ETag"]
        runs = [
            ("origin cold (DB + render + fill)", f"http://127.0.0.1:{p_app}/", "cold"),
            ("origin cold, pre-rendered (DB + fill)", f"http://127.0.0.1:{p_app}/", "cold-pre"),
            ("origin hit .png", f"http://127.0.0.1:{p_app}{image}", ""),
            ("origin 304", f"http://127.0.0.1:{p_app}{image}", f"If-None-Match: {etag}"),
            ("origin hit .svg", f"http://127.0.0.1:{p_app}/s/{hot}.svg", ""),
            ("origin /verify page", f"http://127.0.0.1:{p_app}/verify/{hot}", ""),
            ("origin /verify .json", f"http://127.0.0.1:{p_app}/verify/{hot}.json", ""),
            ("origin hit .png, member Referer", f"http://127.0.0.1:{p_app}{image}", MEMBER),
            ("origin hit .png, foreign Referer", f"http://127.0.0.1:{p_app}{image}", FOREIGN),
            ("origin hit .png, fast path off", f"http://127.0.0.1:{p_plain}{image}", ""),
            ("bare Django (same server)", f"http://127.0.0.1:{p_bare}/", ""),
        ]
        if not args.only_servers:
            wait_http(f"http://127.0.0.1:{p_static}/seal.png")
            wait_http(f"http://127.0.0.1:{p_edge}{image}")
            runs += [
                ("nginx static file", f"http://127.0.0.1:{p_static}/seal.png", ""),
                ("edge hit .png", f"http://127.0.0.1:{p_edge}{image}", ""),
                ("edge hit .png, member Referer", f"http://127.0.0.1:{p_edge}{image}", MEMBER),
                ("edge hit .png, foreign Referer", f"http://127.0.0.1:{p_edge}{image}", FOREIGN),
                ("edge 304", f"http://127.0.0.1:{p_edge}{image}", f"If-None-Match: {etag}"),
            ]
        for round_no in range(args.repeat):
            for label, url, header in runs:
                port = int(url.split(":")[2].split("/")[0])
                session = servers.get(port)
                cpu_before = cpu_seconds(session) if session else 0.0
                if header.startswith("cold"):
                    if round_no:
                        continue  # cold only once: the second pass would be warm
                    ids = cold_ids if header == "cold" else prerendered_ids
                    result = wrk(
                        url,
                        duration=min(args.duration, 3),
                        connections=args.connections,
                        script=cold_script(work, ids),
                    )
                    result["repeats"] = max(0, result["requests"] - len(ids))
                else:
                    if not round_no:  # warm-up, not counted: learning, first connections
                        wrk(url, duration=1, connections=args.connections, header=header)
                        time.sleep(1)
                        cpu_before = cpu_seconds(session) if session else 0.0
                    result = wrk(
                        url, duration=args.duration, connections=args.connections, header=header
                    )
                if session:
                    spent = cpu_seconds(session) - cpu_before
                    result["cpu_us"] = spent / max(result["requests"], 1) * 1e6
                results.setdefault(label, []).append(result)
                # wrk stops with requests still queued in the server (64 slow ones after the
                # cold run); let them drain, or they land in the next scenario's p99.
                time.sleep(2)
        memory = {"origin": rss_mb(app.pid), "bare": rss_mb(bare.pid)}
    finally:
        for proc in reversed(procs):
            edge.stop(proc)
        shutil.rmtree(work, ignore_errors=True)

    print(
        f"\nseal_load: {args.server}, {args.workers} workers x {args.threads} threads, "
        f"{args.connections} connections, {args.duration}s x {args.repeat}, "
        f"{os.cpu_count()} CPUs, image {len(body)} B, load average at start "
        f"{load_at_start[0]:.2f} / {load_at_start[1]:.2f} / {load_at_start[2]:.2f}"
    )
    print(
        f"{'scenario':<34}{'req/s (median)':>15}{'min-max':>17}"
        f"{'p50 ms':>9}{'p99 ms':>9}{'p99 max':>9}{'errors':>8}{'CPU us/req':>12}"
    )
    median = {}
    cpu_per_request: dict[str, float] = {}
    for label, rs in results.items():
        rps = [r["rps"] for r in rs]
        median[label] = statistics.median(rps)
        best = sorted(rs, key=lambda r: r["rps"])[len(rs) // 2]
        errors = sum(r["errors"] for r in rs)
        note = (
            f"  ({rs[0]['repeats']} repeated ids)"
            if "repeats" in rs[0] and rs[0]["repeats"]
            else ""
        )
        note += f"  socket: {rs[0]['socket']}" if rs[0]["socket"] else ""
        cpu = statistics.median([r["cpu_us"] for r in rs]) if "cpu_us" in rs[0] else None
        print(
            f"{label:<34}{median[label]:>15,.0f}{min(rps):>8,.0f}-{max(rps):<8,.0f}"
            f"{best['p50']:>9.2f}{best['p99']:>9.2f}{max(r['p99'] for r in rs):>9.2f}{errors:>8}"
            f"{(f'{cpu:,.0f}' if cpu is not None else '-'):>12}{note}"
        )
        if cpu is not None:
            cpu_per_request[label] = cpu

    def ratio(a: str, b: str) -> str:
        return f"{median[a] / median[b]:.1%}" if a in median and b in median else "n/a"

    print()
    targets = [
        ("edge hit / nginx static", "edge hit .png", "nginx static file", ">= 70%"),
        (
            "edge member Referer / static",
            "edge hit .png, member Referer",
            "nginx static file",
            ">= 70%",
        ),
        (
            "edge foreign Referer / static",
            "edge hit .png, foreign Referer",
            "nginx static file",
            ">= 70%",
        ),
        ("origin hit / nginx static", "origin hit .png", "nginx static file", ">= 15%"),
        ("origin hit / bare Django", "origin hit .png", "bare Django (same server)", ">= 85%"),
        ("origin 304 / origin hit", "origin 304", "origin hit .png", ">= 100%"),
        ("origin member Referer / hit", "origin hit .png, member Referer", "origin hit .png", "-"),
        (
            "origin foreign Referer / hit",
            "origin hit .png, foreign Referer",
            "origin hit .png",
            "-",
        ),
        ("fast path off / on (hit)", "origin hit .png, fast path off", "origin hit .png", "-"),
        (
            "origin cold / static",
            "origin cold, pre-rendered (DB + fill)",
            "nginx static file",
            ">= 2.5%",
        ),
        ("cold with render / static", "origin cold (DB + render + fill)", "nginx static file", "-"),
    ]
    for name, a, b, target in targets:
        print(f"{name:<30} {ratio(a, b):>7}  (target {target})")
    floor_label = "bare Django (same server)"
    if "origin hit .png" in cpu_per_request and floor_label in cpu_per_request:
        hit, floor = cpu_per_request["origin hit .png"], cpu_per_request[floor_label]
        print(
            f"app-server CPU per request: origin hit {hit:,.0f} us, bare Django {floor:,.0f} us "
            f"(bare / origin = {floor / hit:.1%}, the load-independent form of the ratio)"
        )
    served = sum(
        r["requests"] for label, rs in results.items() if label.startswith("origin") for r in rs
    )
    print(
        f"RSS MB origin workers {memory['origin']} after {served:,} requests; bare {memory['bare']}"
    )


if __name__ == "__main__":
    main()
