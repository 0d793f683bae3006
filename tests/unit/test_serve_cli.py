"""`kkik serve` refuses to start the dashboard without a session secret, naming the setting."""

from __future__ import annotations

import json
from pathlib import Path

import pytest


def test_serve_needs_the_session_secret(kkik, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("KKIK_SESSION_SECRET", raising=False)
    config = tmp_path / "config.toml"
    config.write_text(f'[database]\nurl = "sqlite:///{tmp_path / "kkik.db"}"\n')
    result = kkik("--lang", "en", "--config", str(config), "serve")
    assert result.code == 2
    assert result.err.strip() == (
        "web.session_secret_env: the environment variable KKIK_SESSION_SECRET is not set; "
        "the login needs it (at least 32 characters)"
    )
    monkeypatch.setenv("KKIK_SESSION_SECRET", "too-short")
    short = kkik("--lang", "en", "--config", str(config), "serve")
    assert short.code == 2
    assert short.err.strip() == (
        "web.session_secret_env: KKIK_SESSION_SECRET has only 9 characters; the login needs at "
        "least 32 (make a new one, e.g. with `openssl rand -base64 48`)"
    )


def test_webhooks_only_needs_a_phone_section(kkik, tmp_path: Path):
    config = tmp_path / "config.toml"
    config.write_text(f'[database]\nurl = "sqlite:///{tmp_path / "kkik.db"}"\n')
    result = kkik("--lang", "en", "--config", str(config), "serve", "--webhooks-only")
    assert result.code == 2
    assert "--webhooks-only needs a [phone] section" in result.err


def test_the_number_of_workers_is_checked_before_anything_starts(
    kkik, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("KKIK_SESSION_SECRET", "x" * 40)
    config = tmp_path / "config.toml"
    config.write_text(f'[database]\nurl = "sqlite:///{tmp_path / "kkik.db"}"\n')
    result = kkik("--config", str(config), "serve", "--workers", "0")
    assert result.code == 2
    assert "--workers" in result.err
    assert "0" in result.err
    assert not (tmp_path / "kkik.db").exists()
    config.write_text(
        f'[database]\nurl = "sqlite:///{tmp_path / "kkik.db"}"\n\n[web]\nworkers = 65\n'
    )
    too_many = kkik("--lang", "en", "--config", str(config), "serve")
    assert too_many.code == 2
    assert "web.workers" in too_many.err
    assert not (tmp_path / "kkik.db").exists()


def test_the_workers_option_is_explained_in_swedish(kkik):
    result = kkik("serve", "--help")
    assert result.code == 0
    assert "--workers" in result.out
    assert "Antal processer som delar porten" in result.out


def test_a_worker_whose_configuration_broke_stops_them_all(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    """uvicorn replaces a worker that dies, except one that exits with STARTUP_FAILURE: a
    configuration that broke after `kkik serve --workers N` checked it must not make N workers
    die and restart forever."""
    from uvicorn.config import STARTUP_FAILURE

    from harness.cli.serve_cmd import WORKER_ENV, worker_app

    monkeypatch.setenv("KKIK_SESSION_SECRET", "x" * 40)
    spec = {"lang": "en", "config": str(tmp_path / "gone.toml"), "webhooks_only": False}
    monkeypatch.setenv(WORKER_ENV, json.dumps(spec))
    with pytest.raises(SystemExit) as stopped:
        worker_app()
    assert stopped.value.code == STARTUP_FAILURE
