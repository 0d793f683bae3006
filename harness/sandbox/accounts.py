"""Mailbox accounts that the sandbox servers are configured with."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

__all__ = ["Account", "check_accounts"]


@dataclass(frozen=True, slots=True)
class Account:
    """One login on a sandbox server.

    ``password`` is accepted by AUTH PLAIN/LOGIN (SMTP) and LOGIN/AUTHENTICATE PLAIN (IMAP).
    ``xoauth2_token``, when set, is the bearer token accepted by SASL XOAUTH2 (SMTP and
    Dovecot); the sandboxes do not validate it any further than string equality.
    """

    username: str
    password: str
    xoauth2_token: str | None = None


def check_accounts(accounts: Iterable[Account]) -> tuple[Account, ...]:
    """Return ``accounts`` as a tuple after rejecting duplicates and unsafe names.

    The names end up in colon-separated passwd files (Dovecot), so ``:`` and control
    characters are refused everywhere to keep the servers' behaviour identical.
    """
    result = tuple(accounts)
    seen: set[str] = set()
    for account in result:
        for field in (account.username, account.password, account.xoauth2_token or ""):
            if ":" in field or any(ord(ch) < 0x20 or ch == "\x7f" for ch in field):
                raise ValueError(f"unsupported character in account field of {account.username!r}")
        if not account.username or not account.password:
            raise ValueError("accounts need a non-empty username and password")
        if account.username in seen:
            raise ValueError(f"duplicate account {account.username!r}")
        seen.add(account.username)
    return result
