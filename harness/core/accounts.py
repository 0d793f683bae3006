"""Dashboard accounts: roles, the rules for names and passwords, and password hashing.

Shared by the user services (``kkik user``, the Users page) and the login, so both apply the
same rules. Only an argon2id hash of a password is ever stored.
"""

from __future__ import annotations

import unicodedata

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

__all__ = [
    "MAX_NAME_LENGTH",
    "MAX_PASSWORD_LENGTH",
    "MIN_PASSWORD_LENGTH",
    "ROLES",
    "hash_password",
    "password_needs_rehash",
    "user_key",
    "valid_user_name",
    "verify_password",
]

ROLES = ("viewer", "staff", "admin")  # ordered by power: each may do what the ones before may
MIN_PASSWORD_LENGTH = 12
# Longer input is refused before hashing: argon2 would take it, but nobody types it.
MAX_PASSWORD_LENGTH = 1024
MAX_NAME_LENGTH = 100

_HASHER = PasswordHasher()  # argon2id with the library's current recommended parameters


# --- passwords ---------------------------------------------------------------------------------


def hash_password(password: str) -> str:
    """An argon2id hash of ``password``, with its own random salt and the parameters used."""
    return _HASHER.hash(password)


def verify_password(stored: str, password: str) -> bool:
    """Whether ``password`` matches the ``stored`` hash; a malformed hash never matches."""
    try:
        return _HASHER.verify(stored, password)
    except (VerificationError, InvalidHashError):  # VerifyMismatchError is a VerificationError
        return False


def password_needs_rehash(stored: str) -> bool:
    """Whether ``stored`` was made with other parameters than today's (rehash at next login)."""
    try:
        return _HASHER.check_needs_rehash(stored)
    except InvalidHashError:
        return False


def user_key(name: str) -> str:
    """The one form of a user name that lookup, creation and the login limiter compare.

    NFKC, case-folded, NFKC again (folding can undo normalisation): "Sara", "SARA", "ſara"
    (long s), "ｓａｒａ" and, for "stina", "ﬆina" and "ﬅina" are one name. Everything that
    decides "is this that user?" must use this: when the limiter keyed on ``lower()`` while the
    lookup folded, "ſara" was a fresh lock key that still logged in as the locked "sara".
    """
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", name.strip()).casefold())


def valid_user_name(name: str) -> bool:
    """1-100 printable characters without spaces: what ``kkik user add`` accepts."""
    return (
        0 < len(name) <= MAX_NAME_LENGTH
        and name.isprintable()
        and not any(c.isspace() for c in name)
    )
