"""Parse docker-compose.yml and check it names only things that exist.

Docker does not run on CI machines, so this is the check we can make: every service either
builds from the repo's Dockerfile or uses an allow-listed public image; every bind-mounted file
exists in the repo; every command's program is one the image installs.
"""

from __future__ import annotations

import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
PUBLIC_IMAGES = {"postgres", "redis", "nginx"}
REQUIRED = {"postgres", "redis", "nginx", "web", "worker", "beat"}
# The optional high-availability profile: a database replica, a Redis replica, three Sentinels.
HA = {"postgres-replica", "redis-replica", "sentinel-1", "sentinel-2", "sentinel-3"}
# Scaled out (stateless web nodes, any number of workers) and the one that must stay single.
SCALED = {"web": 2, "worker": 2}
SINGLE = {"beat"}
# What the app reads to use the "ha" profile's services (config/settings/base.py).
HA_ENV = {"DATABASE_REPLICA_URLS", "REDIS_SENTINELS", "REDIS_SENTINEL_MASTER"}
# Programs the Dockerfile's image provides (pip-installed from pyproject.toml).
APP_PROGRAMS = {"granian", "celery", "python"}


def _replicas(svc: dict) -> int:
    return int((svc.get("deploy") or {}).get("replicas", 1))


def _scale_errors(services: dict) -> list[str]:
    errors = []
    for name, least in SCALED.items():
        if name in services and _replicas(services[name]) < least:
            errors.append(f"{name}: deploy.replicas should be at least {least}")
    for name in SINGLE:
        if name in services and _replicas(services[name]) != 1:
            errors.append(f"{name}: must run exactly once (deploy.replicas: 1)")
    for name in sorted(HA):
        svc = services.get(name)
        if svc is None:
            errors.append(f"{name}: missing (the 'ha' profile)")
        elif "ha" not in (svc.get("profiles") or []):
            errors.append(f"{name}: should only run in the 'ha' profile")
    for name in ("web", "worker", "beat"):
        env = (services.get(name) or {}).get("environment") or {}
        if missing := HA_ENV - set(env):
            errors.append(f"{name}: environment lacks {sorted(missing)}")
    # Every service outside a profile runs by default: none may depend on an optional one.
    for name, svc in services.items():
        if svc.get("profiles"):
            continue
        depends = svc.get("depends_on") or []
        if optional := HA & set(depends):
            errors.append(f"{name}: depends on optional services {sorted(optional)}")
    return errors


def main() -> int:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose.get("services") or {}
    errors: list[str] = []
    missing = REQUIRED - services.keys()
    if missing:
        errors.append(f"services missing: {sorted(missing)}")
    errors += _scale_errors(services)
    dockerfile = ROOT / "Dockerfile"
    for name, svc in services.items():
        if "build" in svc:
            build = svc["build"]
            context = build if isinstance(build, str) else build.get("context", ".")
            file = "Dockerfile" if isinstance(build, str) else build.get("dockerfile", "Dockerfile")
            if not (ROOT / context / file).exists():
                errors.append(f"{name}: build file {context}/{file} does not exist")
            command = svc.get("command")
            if command:
                program = command[0] if isinstance(command, list) else command.split()[0]
                if program not in APP_PROGRAMS:
                    errors.append(f"{name}: command {program!r} is not installed by the image")
        elif "image" in svc:
            image = svc["image"].split(":")[0]
            if image not in PUBLIC_IMAGES:
                errors.append(f"{name}: image {svc['image']!r} is not an allow-listed public image")
        else:
            errors.append(f"{name}: neither build nor image")
        for volume in svc.get("volumes", []):
            source = volume.split(":")[0] if isinstance(volume, str) else volume.get("source", "")
            if source.startswith((".", "/")) and not (ROOT / source).resolve().exists():
                errors.append(f"{name}: mounted path {source} does not exist in the repo")
    if not dockerfile.exists():
        errors.append("Dockerfile missing")
    for error in errors:
        print(f"docker-compose.yml: {error}", file=sys.stderr)
    print(f"docker-compose.yml: {len(services)} services checked, {len(errors)} problems")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
