"""Private database and Redis engines on loopback ports in temporary folders.

Never the shared servers (PostgreSQL on 5432, Redis on 6379): every engine here is started by
the test run, on a free port, and stopped at its end. PostgreSQL refuses to run as root, so
as root its programs run as the ``postgres`` OS user (``runuser``), in folders it owns.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from tests.ports import free_port


def wait_for(check: Callable[[], bool], *, within: float, what: str) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except Exception:  # noqa: S110 (not up yet)
            pass
        time.sleep(0.05)
    raise TimeoutError(f"{what} not ready within {within} s")


def pg_bindir() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(found[-1]).parent if found else None


def redis_binary() -> str | None:
    return shutil.which("redis-server")


def missing_engines() -> str:
    """What this machine lacks for the replication tests, or ''."""
    missing = []
    bindir = pg_bindir()
    if bindir is None or not (bindir / "pg_basebackup").exists():
        missing.append("PostgreSQL server binaries (apt-get install -y postgresql)")
    if redis_binary() is None:
        missing.append("redis-server (apt-get install -y redis-server redis-sentinel)")
    if os.geteuid() == 0 and not shutil.which("runuser"):
        missing.append("runuser (util-linux), to run PostgreSQL as the postgres user")
    return "; ".join(missing)


# --- PostgreSQL primary + streaming replica -------------------------------------------------
@dataclass
class PostgresPair:
    base: Path
    primary_port: int = field(default_factory=free_port)
    replica_port: int = field(default_factory=free_port)
    database: str = "trustseal_repl"

    def _as_postgres(self, *command: str | Path) -> list[str]:
        prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        return [*prefix, *(str(c) for c in command)]

    def _run(self, *command: str | Path) -> None:
        subprocess.run(  # noqa: S603
            self._as_postgres(*command), check=True, capture_output=True, timeout=120
        )

    def url(self, which: str = "primary") -> str:
        port = self.primary_port if which == "primary" else self.replica_port
        return f"postgres://postgres@127.0.0.1:{port}/{self.database}"

    def start(self) -> None:
        bindir = pg_bindir()
        assert bindir is not None
        primary, replica = self.base / "primary", self.base / "replica"
        self._run(bindir / "initdb", "-D", primary, "-U", "postgres", "--auth=trust", "-E", "UTF8",
                  "--no-sync", "--no-instructions")  # fmt: skip
        conf = {
            "listen_addresses": "'127.0.0.1'",
            "unix_socket_directories": f"'{self.base}'",
            "wal_level": "replica",
            "max_wal_senders": "4",
            "hot_standby": "on",
            # A test database: durability buys nothing here and costs seconds.
            "fsync": "off",
            "synchronous_commit": "off",
            "full_page_writes": "off",
        }
        with (primary / "postgresql.conf").open("a") as f:
            f.writelines(f"{k} = {v}\n" for k, v in conf.items())
        self._pg_ctl(primary, self.primary_port, "start")
        self._run(bindir / "pg_basebackup", "-h", "127.0.0.1", "-p", str(self.primary_port),
                  "-U", "postgres", "-D", replica, "-R", "-X", "stream",
                  "--checkpoint=fast", "--no-sync")  # fmt: skip
        self._pg_ctl(replica, self.replica_port, "start")
        self.sql("primary", f"CREATE DATABASE {self.database}", database="postgres")
        wait_for(
            lambda: self.sql("replica", "SELECT 1", database=self.database) == [(1,)],
            within=20,
            what="the replica",
        )

    def _pg_ctl(self, data: Path, port: int, action: str) -> None:
        bindir = pg_bindir()
        assert bindir is not None
        self._run(bindir / "pg_ctl", "-D", data, "-l", data / "server.log", "-w",
                  "-o", f"-p {port}", "-m", "immediate", action)  # fmt: skip

    def sql(self, which: str, query: str, *, database: str | None = None) -> list[tuple]:
        import psycopg

        port = self.primary_port if which == "primary" else self.replica_port
        with psycopg.connect(
            host="127.0.0.1",
            port=port,
            user="postgres",
            dbname=database or self.database,
            autocommit=True,
            connect_timeout=5,
        ) as conn:
            cursor = conn.execute(query)  # type: ignore[call-overload]
            return list(cursor.fetchall()) if cursor.description else []

    def stop(self) -> None:
        for data, _port in ((self.base / "replica", self.replica_port),
                           (self.base / "primary", self.primary_port)):  # fmt: skip
            pid_file = data / "postmaster.pid"
            if pid_file.exists():
                # Immediate shutdown: a throw-away test cluster needs no checkpoint.
                with contextlib.suppress(OSError, ValueError):
                    os.kill(int(pid_file.read_text().split()[0]), signal.SIGQUIT)


ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def app_env(pair: PostgresPair, var_dir: str, *, replicas: bool) -> dict[str, str]:
    """The product's environment on the private pair (its own var/ folder and secrets)."""
    keep = {
        k: v for k, v in os.environ.items() if not k.startswith(("DJANGO", "DATABASE", "REDIS"))
    }
    return {
        **keep,
        "PYTHONPATH": ROOT,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "TRUSTSEAL_VAR_DIR": var_dir,
        "DATABASE_URL": pair.url("primary"),
        "DATABASE_REPLICA_URLS": pair.url("replica") if replicas else "",
        "PUBLIC_IMAGE_FASTPATH": "false",
    }


def postgres_pair() -> PostgresPair:
    base = Path(tempfile.mkdtemp(prefix="ts-pg-"))
    base.chmod(0o700)
    if os.geteuid() == 0:
        shutil.chown(base, "postgres", "postgres")
    pair = PostgresPair(base)
    try:
        pair.start()
    except BaseException:
        pair.stop()
        raise
    return pair


# --- Redis primary + replica + three Sentinels ----------------------------------------------
@dataclass
class RedisSentinelSet:
    base: Path
    master_name: str = "trustseal"
    ports: list[int] = field(default_factory=lambda: [free_port(), free_port()])
    sentinel_ports: list[int] = field(default_factory=lambda: [free_port() for _ in range(3)])
    processes: dict[int, subprocess.Popen] = field(default_factory=dict)

    def _spawn(self, port: int, *args: str) -> None:
        binary = redis_binary()
        assert binary is not None
        log = (self.base / f"{port}.log").open("w")
        self.processes[port] = subprocess.Popen(  # noqa: S603
            [binary, *args], stdout=log, stderr=subprocess.STDOUT, cwd=self.base
        )

    def start(self) -> None:
        import redis

        primary, replica = self.ports
        common = ["--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        self._spawn(primary, "--port", str(primary), *common)
        self._spawn(replica, "--port", str(replica), *common,
                    "--replicaof", "127.0.0.1", str(primary))  # fmt: skip
        for port in self.ports:
            wait_for(lambda p=port: redis.Redis(port=p).ping(), within=10, what=f"redis {port}")
        wait_for(
            lambda: redis.Redis(port=replica).info("replication")["master_link_status"] == "up",
            within=10,
            what="the Redis replica's link",
        )
        for port in self.sentinel_ports:
            # Sentinel rewrites its file (it records what it learns): one file each.
            conf = self.base / f"sentinel-{port}.conf"
            conf.write_text(
                f"port {port}\nbind 127.0.0.1\n"
                f"sentinel monitor {self.master_name} 127.0.0.1 {primary} 2\n"
                f"sentinel down-after-milliseconds {self.master_name} 400\n"
                f"sentinel failover-timeout {self.master_name} 3000\n"
                f"sentinel parallel-syncs {self.master_name} 1\n"
            )
            self._spawn(port, str(conf), "--sentinel")
        for port in self.sentinel_ports:
            wait_for(
                lambda p=port: (
                    len(redis.Redis(port=p).sentinel_slaves(self.master_name)) == 1
                    and len(redis.Redis(port=p).sentinel_sentinels(self.master_name)) == 2
                ),
                within=15,
                what=f"sentinel {port}",
            )

    @property
    def sentinels(self) -> list[str]:
        return [f"127.0.0.1:{p}" for p in self.sentinel_ports]

    def master_port(self) -> int:
        import redis

        _host, port = redis.Redis(port=self.sentinel_ports[0]).sentinel_get_master_addr_by_name(
            self.master_name
        )
        return int(port)

    def kill(self, port: int) -> None:
        process = self.processes[port]
        process.send_signal(signal.SIGKILL)
        process.wait(10)

    def stop(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                process.kill()
                process.wait(10)


def redis_sentinel_set() -> RedisSentinelSet:
    engines = RedisSentinelSet(Path(tempfile.mkdtemp(prefix="ts-redis-")))
    try:
        engines.start()
    except BaseException:
        engines.stop()  # nothing started here outlives a failed start
        raise
    return engines
