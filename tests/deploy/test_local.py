"""``make serve`` (deploy/nginx/local.py): what it starts the app server with."""

from __future__ import annotations

from pathlib import Path

from tests.deploy import local


def test_the_app_server_behind_the_edge_trusts_one_proxy():
    env = local.app_env({"DATABASE_URL": "postgres://db/x", "TRUSTED_PROXY_COUNT": "0"})
    assert env == {"DATABASE_URL": "postgres://db/x", "TRUSTED_PROXY_COUNT": "1"}


def test_granian_serves_the_collected_static_files(tmp_path: Path):
    cmd = local.server_command(
        "granian", port=8000, workers=2, threads=4, wsgi="w:app", asgi="a:app", static=tmp_path
    )
    assert cmd[cmd.index("--static-path-mount") + 1] == str(tmp_path)
    assert cmd[-1] == "w:app"
    bare = local.server_command(
        "granian", port=8000, workers=2, threads=4, wsgi="w:app", asgi="a:app"
    )
    assert "--static-path-mount" not in bare
