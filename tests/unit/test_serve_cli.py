"""`kkik serve` refuses to start the dashboard without a session secret, naming the setting."""

from __future__ import annotations

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
