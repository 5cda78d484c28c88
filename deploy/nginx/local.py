"""Run the production shape on one host: nginx edge cache + the app server (``make serve``).

Also the config writer ``bench/seal_load.py`` uses, so the benchmark measures exactly what
``make serve`` and docker-compose run: the edge rules are ``seal-cache.conf`` in every case.
nginx runs unprivileged-style from a private prefix directory (its own pid, logs, temp and
cache paths), so nothing under /etc or /var is touched.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
VENV_BIN = Path(sys.executable).parent

# The chosen server (docs/performance.md): granian WSGI, a few blocking threads per worker
# (its default of 256 was slower and could exhaust PostgreSQL connections under DB lookups).
SERVERS = {
    "granian": "{bin}/granian --interface wsgi --host 127.0.0.1 --port {port} --workers {workers} "
    "--blocking-threads {threads} --backlog 2048 --no-ws --log-level warning {wsgi}",
    "gunicorn-sync": "{bin}/gunicorn --bind 127.0.0.1:{port} --workers {workers} --backlog 2048 "
    "--log-level warning {wsgi}",
    "gunicorn-gthread": "{bin}/gunicorn --bind 127.0.0.1:{port} --workers {workers} "
    "--worker-class gthread --threads {threads} --backlog 2048 --log-level warning {wsgi}",
    "uvicorn": "{bin}/uvicorn --host 127.0.0.1 --port {port} --workers {workers} "
    "--no-access-log --log-level warning --backlog 2048 {asgi}",
}


def _user_line() -> str:
    # As root, nginx would switch its workers to "nobody", who cannot write our private paths.
    return "user root;" if os.geteuid() == 0 else ""


def _common(prefix: Path) -> str:
    return f"""{_user_line()}
worker_processes auto;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
events {{ worker_connections 4096; }}
"""


def _http_common(prefix: Path) -> str:
    return f"""
    access_log off;
    sendfile on;
    tcp_nodelay on;
    keepalive_requests 100000;
    server_tokens off;
    client_body_temp_path {prefix}/temp/body;
    proxy_temp_path {prefix}/temp/proxy;
    fastcgi_temp_path {prefix}/temp/fastcgi;
    uwsgi_temp_path {prefix}/temp/uwsgi;
    scgi_temp_path {prefix}/temp/scgi;
    types {{ image/png png; image/svg+xml svg; }}
"""


# The http-level half of the seal rules, as in nginx.conf: the per-client request limit that
# seal-cache.conf applies (docs/security.md T6). Loopback clients are not limited (an empty key
# is never counted): on this host they are the operator, a health check or bench/seal_load.py.
SEAL_LIMIT = """
    geo $seal_limit_exempt { default 0; 127.0.0.0/8 1; ::1 1; }
    map $seal_limit_exempt $seal_client { 1 ""; default $binary_remote_addr; }
    limit_req_zone $seal_client zone=seal_clients:10m rate=50r/s;
"""


def _proxy_location(path: str, *, body_limit: str) -> str:
    return f"""location {path} {{
            proxy_pass http://app;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $host;
            proxy_set_header X-Forwarded-For $remote_addr;
            proxy_set_header X-Forwarded-Proto $scheme;
            client_max_body_size {body_limit};
        }}"""


def edge_conf(prefix: Path, *, listen: int, upstream: int) -> str:
    """The edge: seal routes through the shared cache rules, everything else proxied."""
    return f"""{_common(prefix)}
http {{
{_http_common(prefix)}
{SEAL_LIMIT}
    include {HERE}/seal-referer.conf;
    proxy_cache_path {prefix}/cache levels=1:2 keys_zone=seals:32m max_size=1g inactive=10m
                     use_temp_path=off;
    upstream app {{ server 127.0.0.1:{upstream}; keepalive 64; }}
    server {{
        listen 127.0.0.1:{listen} backlog=4096;
        location ~ ^/(s|verify|issuers|embed)/ {{
            include {HERE}/seal-cache.conf;
        }}
        # Multipart imports up to 50 MB (docs/api.md), from the API and the console's upload
        # form; 10 MB elsewhere.
        {_proxy_location("~ ^/(api/v1|console)/imports", body_limit="50m")}
        {_proxy_location("/", body_limit="10m")}
    }}
}}
"""


def static_conf(prefix: Path, *, listen: int, root: Path) -> str:
    """nginx serving a file: the ceiling every other figure is compared with."""
    return f"""{_common(prefix)}
http {{
{_http_common(prefix)}
    open_file_cache max=100 inactive=60s;
    server {{
        listen 127.0.0.1:{listen} backlog=4096;
        root {root};
        location / {{ etag on; }}
    }}
}}
"""


def nginx_binary() -> str:
    found = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else "")
    if not found:
        sys.exit(
            "nginx is not installed. On Debian/Ubuntu: sudo apt-get install -y nginx "
            "(the package's own service need not run; this starts a private instance)."
        )
    return found


def start_nginx(prefix: Path, conf: str) -> subprocess.Popen:
    for sub in ("temp", "cache"):
        (prefix / sub).mkdir(parents=True, exist_ok=True)
    path = prefix / "nginx.conf"
    path.write_text(conf)
    nginx = nginx_binary()
    subprocess.run(  # noqa: S603 - our nginx binary, our config
        [nginx, "-t", "-q", "-p", str(prefix), "-e", str(prefix / "error.log"), "-c", str(path)],
        check=True,
    )
    return subprocess.Popen(  # noqa: S603 - our nginx binary, our config
        [
            nginx,
            "-p",
            str(prefix),
            "-e",
            str(prefix / "error.log"),
            "-c",
            str(path),
            "-g",
            "daemon off;",
        ],
        start_new_session=True,
    )


def server_command(
    server: str,
    *,
    port: int,
    workers: int,
    threads: int,
    wsgi: str,
    asgi: str,
    static: Path | None = None,
) -> list[str]:
    """The app server's command line; with ``static``, granian also serves that directory
    under /static/ (collected static files: the API docs' assets), as docker-compose's does."""
    line = SERVERS[server].format(
        bin=VENV_BIN, port=port, workers=workers, threads=threads, wsgi=wsgi, asgi=asgi
    )
    cmd = line.split()
    if static is not None and server == "granian":
        cmd[1:1] = ["--static-path-mount", str(static)]
    return cmd


def start_server(cmd: list[str], env: dict[str, str] | None = None) -> subprocess.Popen:
    return subprocess.Popen(cmd, cwd=ROOT, env=env, start_new_session=True)  # noqa: S603 - fixed commands


def app_env(base: Mapping[str, str]) -> dict[str, str]:
    """The app server's environment behind the edge: the client is the address nginx writes
    into X-Forwarded-For (config/client_ip.py), or every visitor would share the edge's
    rate-limit bucket."""
    return {**base, "TRUSTED_PROXY_COUNT": "1"}


def static_root() -> Path:
    """Where ``collectstatic`` puts files (settings.STATIC_ROOT), asked of Django itself."""
    out = subprocess.run(
        [
            sys.executable,
            "manage.py",
            "shell",
            "-c",
            "from django.conf import settings as s; print(s.STATIC_ROOT)",
        ],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return Path(out.strip().splitlines()[-1])


def stop(proc: subprocess.Popen) -> None:
    """Stop a process we started and its workers (its own session), then reap it."""
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def main() -> None:
    edge_port = int(os.environ.get("EDGE_PORT", "8080"))
    app_port = int(os.environ.get("APP_PORT", "8000"))
    server = os.environ.get("APP_SERVER", "granian")
    prefix = Path(os.environ.get("EDGE_PREFIX", ROOT / "var" / "edge")).resolve()
    if not (os.environ.get("DATABASE_URL") and os.environ.get("REDIS_URL")):
        print(
            "note: DATABASE_URL / REDIS_URL not set: serving on the embedded defaults "
            "(SQLite, per-process cache); set both for the production shape.",
            file=sys.stderr,
        )
    for command in (["migrate", "--noinput", "-v0"], ["collectstatic", "--noinput", "-v0"]):
        subprocess.run([sys.executable, "manage.py", *command], cwd=ROOT, check=True)  # noqa: S603 - fixed commands
    app = start_server(
        server_command(
            server,
            port=app_port,
            workers=int(os.environ.get("WEB_WORKERS", "2")),
            threads=int(os.environ.get("WEB_THREADS", "4")),
            wsgi="config.wsgi:application",
            asgi="config.asgi:application",
            static=static_root(),
        ),
        app_env(os.environ),
    )
    edge = start_nginx(prefix, edge_conf(prefix, listen=edge_port, upstream=app_port))
    print(f"edge cache on http://127.0.0.1:{edge_port}, {server} on http://127.0.0.1:{app_port}")
    try:
        while app.poll() is None and edge.poll() is None:
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        stop(edge)
        stop(app)


if __name__ == "__main__":
    main()
