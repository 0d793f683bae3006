"""Who may call which route, and CSRF on every state-changing one, for every route of the app.

Routes are read from the running app, so a new route is checked the day it is added: it must
declare a role (``require_role``), a POST must also demand the CSRF token and at least staff
(viewers only read), and the routes the documentation names keep the role it gives them.
"""

from __future__ import annotations

import json
from urllib.parse import urljoin, urlsplit

from sqlmodel import Session, col, select

from harness.core.accounts import ROLES
from harness.store.models import Probe, Target
from harness.web.auth import RoleRequirement, require_csrf
from tests.security.site import Client, Site, api_routes, database_snapshot, routes

# Reachable without logging in: the login form, logging out, and the login page's stylesheet.
PUBLIC = {("GET", "/login"), ("POST", "/login"), ("POST", "/logout"), ("GET", "/static/{path}")}
# docs/dashboard.md, "Who may do what": these roles must not drift.
DOCUMENTED = {
    ("GET", "/message/{message_id}.eml"): "admin",
    ("POST", "/purge"): "admin",
    ("POST", "/review/{message_id}"): "staff",
    ("POST", "/calls/{probe_id}/assess"): "staff",
    ("POST", "/calls/{probe_id}/mark"): "staff",
    ("POST", "/calls/{probe_id}/start"): "staff",
    ("POST", "/calls/{probe_id}/end"): "staff",
    ("GET", "/calls/{probe_id}/recording.wav"): "staff",
    ("GET", "/users"): "admin",
    ("POST", "/users"): "admin",
    ("POST", "/users/{user_id}/role"): "admin",
    ("POST", "/users/{user_id}/password"): "admin",
    ("POST", "/users/{user_id}/disabled"): "admin",
}
# GET routes whose row the demo site does not have: its calls are bridged, so there is no
# recording. A role that may use the route gets past the check to a 404, one that may not a 403
# (tests/integration/test_call_console.py plays a real recording).
NO_DATA = {"/calls/{probe_id}/recording.wav"}
# A complete, valid form per route, so a refusal can only come from the check under test.
FORMS = {
    "/review/{message_id}": {"kind": "unrelated", "reason": "säkerhetstest"},
    "/calls/{probe_id}/assess": {"direct_answer": "yes", "bemotande": "3"},
    "/calls/{probe_id}/mark": {"what": "person"},
    "/login": {"name": "anna", "password": "anna-losen-1234"},
}


def is_twilio(path: str) -> bool:
    return path.startswith("/twilio/")


def _dependencies(site: Site, method: str, path: str) -> list[object]:
    for m, p, route in api_routes(site.app):
        if route is not None and (m, p) == (method, path):
            calls: list[object] = []
            stack = list(route.dependant.dependencies)
            while stack:
                dependency = stack.pop()
                calls.append(dependency.call)
                stack.extend(dependency.dependencies)
            return calls
    return []


def declared_role(site: Site, method: str, path: str) -> str | None:
    roles = [d.role for d in _dependencies(site, method, path) if isinstance(d, RoleRequirement)]
    return max(roles, key=ROLES.index) if roles else None


def concrete(site: Site, path: str) -> str:
    """A real instance of a path template (ids of rows that exist). The site's mail has
    replies awaiting review, so an export is the one the report page then offers."""
    with Session(site.engine) as session:
        kommunkod = session.exec(
            select(Target.kommunkod)
            .join(Probe, col(Probe.target_id) == col(Target.id))
            .where(Probe.id == site.matched_probe)
        ).one()
    return (
        path.replace("{message_id}", str(site.hostile_messages[0]))
        .replace("/probe/{probe_id}", f"/probe/{site.matched_probe}")
        .replace("{probe_id}", str(site.phone_probe))
        .replace("{user_id}", "1")
        .replace("{fmt}", "csv?allow_pending=1")
        .replace("{path}", "style.css")
        .replace("{kommunkod}", kommunkod)
    )


def guarded(site: Site) -> list[tuple[str, str]]:
    return [r for r in routes(site.app) if r not in PUBLIC and not is_twilio(r[1])]


async def test_every_route_declares_who_may_use_it(site: Site):
    found = routes(site.app)
    assert set(found) >= PUBLIC
    assert set(DOCUMENTED) <= set(found)
    assert any(is_twilio(path) for _, path in found)
    for method, path in guarded(site):
        role = declared_role(site, method, path)
        assert role is not None, f"{method} {path} needs no login"
        if method != "GET":
            assert require_csrf in _dependencies(site, method, path), f"{method} {path}: no CSRF"
            assert ROLES.index(role) >= ROLES.index("staff"), f"{method} {path}: a viewer changes"
    for (method, path), role in DOCUMENTED.items():
        assert declared_role(site, method, path) == role, (method, path)
    for method, path in PUBLIC:
        if method == "POST":
            assert require_csrf in _dependencies(site, method, path), path


async def test_nobody_logged_in_gets_nothing(site: Site):
    anonymous = await site.client()
    token = await anonymous.token()  # an anonymous session has a token: that is not enough
    before = database_snapshot(site.engine)
    for method, path in guarded(site):
        url = concrete(site, path)
        if method == "GET":
            reply = await anonymous.get(url)
            assert reply.status == 303, (path, reply.status)
            assert reply.headers["Location"].startswith("/login?next="), path
        else:
            status, _, _ = await anonymous.post(url, {"csrf_token": token, **FORMS.get(path, {})})
            assert status == 401, (path, status)
    assert database_snapshot(site.engine) == before


async def test_each_role_gets_exactly_what_it_is_given(site: Site):
    clients = {role: await site.login(role) for role in ROLES}
    before = database_snapshot(site.engine)
    allowed_posts: list[tuple[Client, str]] = []
    for method, path in guarded(site):
        needed = declared_role(site, method, path)
        assert needed is not None
        url = concrete(site, path)
        for role, client in clients.items():
            allowed = ROLES.index(role) >= ROLES.index(needed)
            if method == "GET":
                reply = await client.get(url)
                ok = 404 if path in NO_DATA else 200
                assert reply.status == (ok if allowed else 403), (role, path, reply.status)
            elif allowed:
                allowed_posts.append((client, url))
            else:
                status, _, _ = await client.post(url, FORMS.get(path, {}), token=True)
                assert status == 403, (role, path, status)
    assert database_snapshot(site.engine) == before  # nothing a lower role tried took effect
    for client, url in allowed_posts:
        # Only the token: an incomplete form (422) or a harmless action (purge at a time when
        # nothing is old enough) shows the role was accepted without changing the test data.
        status, _, _ = await client.post(url, {}, token=True)
        assert status in (303, 422), (url, status)


async def test_no_state_change_without_this_sessions_csrf_token(site: Site):
    client, other = await site.login("admin"), await site.login("admin")
    mine, theirs = await client.token(), await other.token()
    assert mine != theirs
    posts = [(m, p) for m, p in routes(site.app) if m == "POST" and not is_twilio(p)]
    assert len(posts) >= 6
    before = database_snapshot(site.engine)
    for _, path in posts:
        url, form = concrete(site, path), FORMS.get(path, {})
        attempts: list[tuple[str, object, dict[str, str] | None]] = [
            ("no token", form, None),
            ("empty token", {**form, "csrf_token": ""}, None),
            ("wrong token", {**form, "csrf_token": mine[:-4] + "AAAA"}, None),
            ("another session's token", {**form, "csrf_token": theirs}, None),
            ("wrong header", form, {"X-CSRF-Token": theirs}),
            ("JSON body", json.dumps({**form, "csrf_token": mine}),
             {"Content-Type": "application/json"}),
            ("text/plain body", f"csrf_token={mine}",
             {"Content-Type": "text/plain"}),
        ]  # fmt: skip
        for what, data, headers in attempts:
            assert isinstance(data, dict | str)
            status, _, _ = await client.post(url, data, headers=headers)
            assert status == 403, (path, what, status)
    assert database_snapshot(site.engine) == before
    # The session survived all of it (logout without a token did nothing).
    assert (await client.get("/settings")).status == 200


async def test_a_form_never_redirects_off_the_site(site: Site):
    staff = await site.login("staff")
    message = site.hostile_messages[-1]
    for back in ("//evil.example/x", "/\\evil.example/x", "https://evil.example/",
                 "/\t/evil.example", "javascript:alert(1)"):  # fmt: skip
        form = {"kind": "", "reason": "omdirigering", "back": back}
        status, _, headers = await staff.post(f"/review/{message}", form, token=True)
        assert status == 303, back
        location = headers["Location"]
        # Browsers read a backslash as a slash: "/\\host" would leave the site.
        assert location.startswith("/"), (back, location)
        assert not location.startswith("//"), (back, location)
        assert "\\" not in location, (back, location)
        assert not any(c.isspace() or not c.isprintable() for c in location), (back, location)
        assert urlsplit(urljoin(site.url + "/review", location)).netloc == urlsplit(site.url).netloc


async def test_a_post_from_another_site_is_refused_even_with_the_token(site: Site):
    """Issue 15, L6: a cross-site POST carrying a valid token was accepted."""
    client = await site.login("admin")
    token = await client.token()
    posts = [(m, p) for m, p in routes(site.app) if m == "POST" and not is_twilio(p)]
    own = urlsplit(site.url)
    elsewhere = {
        "another site": {"Origin": "https://evil.example"},
        "an opaque origin": {"Origin": "null"},
        "another port": {"Origin": f"http://{own.hostname}:1"},
        "https on this host": {"Origin": f"https://{own.netloc}"},
        "a look-alike host": {"Origin": f"http://{own.hostname}.evil.example:{own.port}"},
        "no Origin, another site's Referer": {"Origin": "", "Referer": "https://evil.example/x"},
        "neither Origin nor Referer": {},
    }
    before = database_snapshot(site.engine)
    for _, path in posts:
        url, form = concrete(site, path), {"csrf_token": token, **FORMS.get(path, {})}
        for what, headers in elsewhere.items():
            if headers:
                status, _, _ = await client.post(url, form, headers=headers)
            else:  # the test client adds this site's Origin; go round it
                async with client.http.post(
                    client.url + url, data=form, allow_redirects=False
                ) as response:
                    status = response.status
            assert status == 403, (path, what, status)
    assert database_snapshot(site.engine) == before
    # From this site it goes through: by Origin, by Referer alone, by the public URL's origin.
    message = site.hostile_messages[-1]
    public = site.settings.web.public_url
    for headers in ({}, {"Origin": "", "Referer": site.url + "/review"}, {"Origin": public}):
        form = {"csrf_token": token, "kind": "", "reason": "från samma webbplats"}
        status, _, _ = await client.post(f"/review/{message}", form, headers=headers)
        assert status == 303, headers
