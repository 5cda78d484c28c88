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
# Programs the Dockerfile's image provides (pip-installed from pyproject.toml).
APP_PROGRAMS = {"granian", "celery", "python"}


def main() -> int:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose.get("services") or {}
    errors: list[str] = []
    missing = REQUIRED - services.keys()
    if missing:
        errors.append(f"services missing: {sorted(missing)}")
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
