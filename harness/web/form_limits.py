"""How much the dashboard's forms may send: the numbers the middleware (:mod:`harness.web.limits`)
enforces and the forms' ``maxlength`` shows (:mod:`harness.web.render`)."""

from __future__ import annotations

from harness.core.accounts import MAX_NAME_LENGTH, MAX_PASSWORD_LENGTH

MAX_FORM_BYTES = 32 * 1024
MAX_KB = MAX_FORM_BYTES // 1024
MAX_FIELDS = 30
# Characters per field, by name; any other field: DEFAULT_FIELD_LIMIT.
FIELD_LIMITS = {
    "csrf_token": 100,
    "name": MAX_NAME_LENGTH,
    "password": MAX_PASSWORD_LENGTH,
    "next": 2000,
    "back": 2000,
    "reason": 500,
    "note": 1000,
    # an e-mail answer's sender details (harness.services.mail_assess.MAX_FIELD)
    "sender_name": 200,
    "sender_title": 200,
    "sender_phone": 60,
    "sender_address": 300,
}
DEFAULT_FIELD_LIMIT = 40
