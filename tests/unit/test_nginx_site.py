"""The deployable nginx site file and the one substitution the tests make in it
(harness.sandbox.nginx.render_site): every example value found and replaced, nothing else."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.sandbox.nginx import SITE_FILE, render_site

ARGS = {
    "server_name": "localhost",
    "host": "127.0.0.1",
    "https_port": 44300,
    "http_port": 8800,
    "cert": Path("/tmp/t/cert.pem"),
    "key": Path("/tmp/t/key.pem"),
    "upstreams": [("127.0.0.1", 9001), ("127.0.0.1", 9002)],
}


def _code(text: str) -> str:
    return "".join(line for line in text.splitlines(keepends=True)
                   if not line.lstrip().startswith("#"))  # fmt: skip


def test_the_site_file_is_rendered_with_every_example_value_replaced():
    template = SITE_FILE.read_text()
    rendered = render_site(template, **ARGS)  # type: ignore[arg-type]
    code = _code(rendered)
    for example in ("kkik.example.se", "/etc/ssl/kkik", ":8001", ":8002", " 443 ", " 80;"):
        assert example not in code, example
    for value in ("listen 127.0.0.1:44300 ssl http2;", "listen 127.0.0.1:8800;",
                  "ssl_certificate /tmp/t/cert.pem;", "ssl_certificate_key /tmp/t/key.pem;",
                  "server 127.0.0.1:9001 max_fails", "server 127.0.0.1:9002 max_fails",
                  "server_name localhost;"):  # fmt: skip
        assert value in code, value
    # Only the example values changed: the comments and every other line are the file's own.
    assert _code(template).count("\n") == code.count("\n")
    assert rendered.splitlines()[0] == template.splitlines()[0]
    for header in ("proxy_set_header Host $host;", "proxy_set_header X-Forwarded-Proto $scheme;",
                   "proxy_set_header X-Forwarded-For $remote_addr;", "client_max_body_size 1m;",
                   "proxy_read_timeout"):  # fmt: skip
        assert header in code, header


@pytest.mark.parametrize("missing", ["listen 80;", "/etc/ssl/kkik/privkey.pem", "127.0.0.1:8002"])
def test_a_site_file_without_an_example_value_is_refused(missing: str):
    template = _code(SITE_FILE.read_text()).replace(missing, "x")
    with pytest.raises(ValueError, match=r"no .* to replace"):
        render_site(template, **ARGS)  # type: ignore[arg-type]
