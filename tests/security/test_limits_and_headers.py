"""Caching, the session cookie's size and every form field's size, over real HTTP (issue 15, L6).

Pages and downloads hold personal data, so none may be kept in a cache; whatever is typed, the
session cookie stays far under the 4 KB browsers keep; and no field is stored beyond its limit:
a 900 KB review reason once went into the audit log.
"""

from __future__ import annotations

from sqlmodel import Session, select

from harness.store.models import AuditEntry
from harness.web.form_limits import DEFAULT_FIELD_LIMIT, FIELD_LIMITS, MAX_FIELDS, MAX_FORM_BYTES
from tests.security.site import Site, database_snapshot, routes
from tests.security.test_access import concrete, is_twilio

# Every field any form of ours has, and one it does not.
FIELDS = ["csrf_token", "name", "password", "next", "back", "reason", "note", "kind", "probe_id",
          "direct_answer", "bemotande", "what", "role", "disabled", "unheard_of"]  # fmt: skip


async def test_no_page_or_download_may_be_cached(site: Site):
    admin, viewer = await site.login("admin"), await site.login("viewer")
    anonymous = await site.client()
    checked = 0
    for method, path in routes(site.app):
        if method != "GET" or is_twilio(path):
            continue
        url = concrete(site, path)
        for client in (admin, viewer, anonymous):
            reply = await client.get(url)
            cache = reply.headers.get("Cache-Control", "")
            if path.startswith("/static/"):
                assert "no-store" not in cache, path  # our stylesheet may be cached
                continue
            assert "no-store" in cache, (path, reply.status, cache)
            checked += 1
    assert checked > 40
    for download in ("/export.xlsx", "/export.json", f"/probe/{site.matched_probe}"):
        assert "no-store" in (await admin.get(download)).headers["Cache-Control"], download


async def test_the_session_cookie_stays_small_whatever_is_typed(site: Site):
    staff = await site.login("staff")
    message = site.hostile_messages[-1]
    largest = 0
    before = database_snapshot(site.engine)
    # Each refused correction flashes a message repeating the kind typed; none is shown (no
    # page is opened in between), so they all wait in the cookie. "ä" takes 6 bytes there.
    token = await staff.token()  # once: opening a page (the form) would show the messages
    for kind in ["ä" * DEFAULT_FIELD_LIMIT, "😀" * DEFAULT_FIELD_LIMIT, "x" * 40] * 30:
        form = {"csrf_token": token, "kind": kind, "reason": "ö" * FIELD_LIMITS["reason"]}
        status, _, _ = await staff.post(f"/review/{message}", form)
        assert status == 303
        largest = max(largest, len(staff.session_cookie() or ""))
    assert 0 < largest < 3_000, largest
    assert database_snapshot(site.engine) == before
    page = (await staff.get("/review")).text
    assert page.count('class="flash"') >= 1  # the latest are still shown
    assert "Kunde inte spara" in page


async def test_a_huge_review_reason_is_refused_and_never_stored(site: Site):
    staff = await site.login("staff")
    message = site.hostile_messages[0]
    before = database_snapshot(site.engine)
    form = {"kind": "unrelated", "reason": "R" * 900_000}
    status, page, _ = await staff.post(f"/review/{message}", form, token=True)
    assert status == 413
    assert f"Formuläret är för stort: högst {MAX_FORM_BYTES // 1024} kB" in page
    form["reason"] = "R" * (FIELD_LIMITS["reason"] + 1)
    status, page, _ = await staff.post(f"/review/{message}", form, token=True)
    assert status == 400
    assert "Fältet ”Skäl” är för långt: högst 500 tecken (det hade 501). Inget sparades." in page
    await staff.get("/review?lang=en")
    status, page, _ = await staff.post(f"/review/{message}", form, token=True)
    assert status == 400
    assert "The field “Reason” is too long: at most 500 characters (it had 501)." in page
    assert database_snapshot(site.engine) == before
    with Session(site.engine) as session:
        reasons = session.exec(select(AuditEntry.reason)).all()
    assert all(len(r or "") <= FIELD_LIMITS["reason"] for r in reasons)


async def test_every_field_of_every_form_has_a_limit(site: Site):
    admin = await site.login("admin")
    token = await admin.token()
    posts = [p for m, p in routes(site.app) if m == "POST" and not is_twilio(p)]
    assert len(posts) >= 10
    before = database_snapshot(site.engine)
    for path in posts:
        url = concrete(site, path)
        for field in FIELDS:
            limit = FIELD_LIMITS.get(field, DEFAULT_FIELD_LIMIT)
            form = {"csrf_token": token, field: "å" * (limit + 1)}
            status, page, _ = await admin.post(url, form)
            assert status == 400, (path, field, status)
            assert "Inget sparades" in page, (path, field)
        many = {"csrf_token": token, **{f"f{n}": "1" for n in range(MAX_FIELDS)}}
        assert (await admin.post(url, many))[0] == 400, path
        body = f'--b\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n{token}\r\n--b--'
        multipart = {"Content-Type": "multipart/form-data; boundary=b"}
        assert (await admin.post(url, body, headers=multipart))[0] == 415, path
    assert database_snapshot(site.engine) == before
    assert (await admin.get("/settings")).status == 200  # still logged in
