"""Path traversal on every download, and hostile values in every filter, over real HTTP.

Paths are sent exactly as written (no client-side normalising), so ``..``, ``%2e%2e``, double
encoding, backslashes, absolute paths and NUL bytes reach the server. Nothing outside what a
route is meant to send may come back, and nothing may answer 500. Every query parameter of every
GET route (read from the app) and every id in a path gets SQL, markup, very long and odd unicode
values: the answer is 200 or 4xx, the value is never echoed as markup, and the database is
unchanged. The CLI's filters get the same values.
"""

from __future__ import annotations

import io
import sys
from contextlib import redirect_stderr, redirect_stdout
from urllib.parse import quote

from harness.cli import run as run_cli
from tests.security.site import Site, api_routes, database_snapshot

TRAVERSALS = [
    "/static/../../../../../../etc/passwd",
    "/static/..%2f..%2f..%2f..%2f..%2fetc%2fpasswd",
    "/static/%2e%2e/%2e%2e/%2e%2e/%2e%2e/pyproject.toml",
    "/static/%252e%252e/%252e%252e/%252e%252e/pyproject.toml",
    "/static/..%5c..%5c..%5c..%5cpyproject.toml",
    "/static/....//....//....//pyproject.toml",
    "/static//etc/passwd",
    "/static/%2fetc%2fpasswd",
    "/static/style.css%00.html",
    "/static/..;/..;/..;/pyproject.toml",
    "/static/%c0%ae%c0%ae/%c0%ae%c0%ae/pyproject.toml",
    "/static/templates/../../web/app.py",
    "/static/../templates/base.html",
    "/message/..%2f..%2f..%2fetc%2fpasswd.eml",
    "/message/%2e%2e.eml",
    "/message/1%00.eml",
    "/message/-1.eml",
    "/message/1.5.eml",
    "/message/99999999999999999999999999.eml",
    "/message/%2fetc%2fpasswd.eml",
    "/export.%2e%2e%2fconfig.toml",
    "/export.csv%00",
    "/export.toml",
    "/export.db",
    "/export..%2f..%2fkkik.db",
    "/export.%2fetc%2fpasswd",
    "/export.csv/../../config.toml",
    "/report.html/..%2fconfig.toml",
    "/report.html%00.csv",
    "/probe/..%2f..%2fetc%2fpasswd",
    "/probe/99999999999999999999999999",
    "/../../../../etc/passwd",
    "/%2e%2e/%2e%2e/etc/passwd",
]
# What must never come back: system files, the configuration, the database, our sources.
FORBIDDEN = [b"root:x:0:0", b"[database]", b"SQLite format 3", b"[tool.pytest", b"def create_app",
             b"{% extends"]  # fmt: skip

SQL = ["' OR '1'='1", "2380' OR 1=1 --", "1; DROP TABLE probe; --",
       "2380' UNION SELECT password_hash FROM user --", '" OR ""="']  # fmt: skip
MARKUP = ['"><script>window.__pwned=1</script>', "<img src=x onerror=alert(1)>",
          "{{7*7}}{% debug %}", "javascript:alert(1)"]  # fmt: skip
ODD = ["x" * 6000, "Östersund ☃ 𝕏 \u202e\u200b", "\x00", "a\x00b", "%00", "../../etc/passwd",
       "-1", "99999999999999999999999999", "1e309", "NaN", "\r\nSet-Cookie: x=1", ""]  # fmt: skip
VALUES = SQL + MARKUP + ODD


async def test_no_download_leaves_its_folder(site: Site):
    admin = await site.login("admin")
    config_text = site.config.read_bytes()
    for path in TRAVERSALS:
        reply = await admin.get(path)
        assert reply.status in (400, 404, 405, 422), (path, reply.status)
        for forbidden in [*FORBIDDEN, config_text[:200]]:
            assert forbidden not in reply.body, (path, forbidden)
    # The one file /static serves is there, so the refusals above are not an empty mount.
    assert (await admin.get("/static/style.css")).status == 200


async def test_hostile_values_in_every_filter(site: Site):
    admin = await site.login("admin")
    before = database_snapshot(site.engine)
    tried = 0
    for method, path, route in api_routes(site.app):
        if method != "GET" or route is None:
            continue
        names = [p.name for p in route.dependant.query_params]
        names.append("next" if path == "/login" else "lang")  # read from every page's query
        # The report and exports are made by the CLI on each request: one hostile round only.
        generated = path in ("/report.html", "/export.{fmt}")
        for value in VALUES[:1] if generated else VALUES:
            query = "&".join(f"{name}={quote(value)}" for name in names)
            in_path = quote(value, safe="") or "x"
            concrete = (
                path.replace("{probe_id}", in_path)
                .replace("{message_id}", in_path)
                .replace("{fmt}", "csv")
                .replace("{path}", "style.css")
            )
            reply = await admin.get(f"{concrete}?{query}")
            tried += 1
            assert reply.status < 500, (path, value[:40], reply.status)
            kind = reply.headers.get("Content-Type", "")
            if not kind.startswith("text/html"):
                # FastAPI's 422 names the value it refused, as JSON that no browser renders
                # (nosniff); only HTML must never carry it unescaped.
                assert kind.startswith(("application/json", "text/csv", "text/plain")), kind
                assert reply.headers["X-Content-Type-Options"] == "nosniff"
                continue
            for raw in MARKUP[:2]:
                assert raw.encode() not in reply.body, (path, value[:40])
            assert "x=1" not in reply.headers.get("Set-Cookie", ""), (path, value[:40])
    assert tried > 100
    assert database_snapshot(site.engine) == before


async def test_a_filter_value_is_data_not_sql(site: Site):
    admin = await site.login("admin")
    real = (await admin.get("/email.csv?kommun=2380")).text.splitlines()
    assert len(real) > 2
    for value in SQL:
        rows = (await admin.get(f"/email.csv?kommun={quote(value)}")).text.splitlines()
        assert rows == real[:1], value  # the header only: no municipality has that code
    page = (await admin.get(f"/email?kommun={quote(MARKUP[0])}")).text
    assert "&#34;&gt;&lt;script&gt;" in page or "&quot;&gt;&lt;script&gt;" in page


def _cli(site: Site, *args: str) -> tuple[int, str]:
    out, err = io.StringIO(), io.StringIO()
    saved = sys.stdin
    sys.stdin = io.StringIO("")
    try:
        with redirect_stdout(out), redirect_stderr(err):
            code = run_cli(["--config", str(site.config), *args], clock=site.clock)
    finally:
        sys.stdin = saved
    return code, out.getvalue() + err.getvalue()


async def test_hostile_values_in_the_cli_filters(site: Site):
    before = database_snapshot(site.engine)
    commands = [
        ("mail", "log", "--target", "{v}"),
        ("mail", "log", "--since", "{v}"),
        ("call", "list", "--all"),
        ("call", "show", "{v}"),
        ("status",),
        ("score", "--edition", "{v}"),
        ("report", "--campaign", "{v}", "--out", str(site.out / "injection.html")),
        ("export", "--campaign", "{v}", "--out", str(site.out / "injection.csv")),
        ("measure", "list", "--campaign", "{v}"),
    ]
    for command in commands:
        for value in (*SQL, MARKUP[0], ODD[0][:300], ODD[1]):
            args = [a.replace("{v}", value) for a in command]
            code, output = _cli(site, *args)
            assert code in (0, 1, 2), (args, code, output[-300:])
            assert "Traceback" not in output, (args, output[-500:])
            if "--target" in args and code == 0:
                assert "2380" not in output, (args, output)
                assert "2326" not in output, (args, output)
    # Pausing a hostile target pauses nothing (it is no municipality's code).
    for value in SQL:
        code, _ = _cli(site, "pause", "--target", value)
        assert code != 0, value
    assert database_snapshot(site.engine) == before
