"""What ``kkik doctor`` says went wrong on the network, whatever library wrapped the OS's error."""

from __future__ import annotations

import errno
import socket
import ssl

import aiohttp
import aiosmtplib
import pytest

from harness.campaign.doctor.check import NETWORK, Check, network_reason
from probes.imap_wire import ImapConnectionLost, ImapError


def _wrapped(outer: BaseException, cause: BaseException) -> BaseException:
    try:
        try:
            raise cause
        except BaseException as exc:
            raise outer from exc
    except BaseException as raised:
        return raised


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        (ConnectionRefusedError(errno.ECONNREFUSED, "refused"), "refused"),
        # aiosmtplib wraps the OS's error in a ConnectionError of its own: named by the cause.
        (_wrapped(aiosmtplib.SMTPConnectError("x"), ConnectionRefusedError()), "refused"),
        (
            _wrapped(aiosmtplib.SMTPConnectError("x"), OSError(errno.ENETUNREACH, "u")),
            "unreachable",
        ),
        (
            _wrapped(aiosmtplib.SMTPConnectError("x"), aiosmtplib.SMTPServerDisconnected("gone")),
            "lost",
        ),
        (aiosmtplib.SMTPConnectTimeoutError("x"), "timeout"),
        (
            _wrapped(ImapError("unreachable"), socket.gaierror(-2, "Name or service not known")),
            "no_host",
        ),
        (_wrapped(ImapError("x"), ssl.SSLCertVerificationError("bad cert")), "certificate"),
        (_wrapped(ImapError("x"), ssl.SSLError("handshake")), "tls"),
        (ImapConnectionLost("connection lost"), "lost"),
        (aiohttp.ServerDisconnectedError(), "lost"),
        (TimeoutError(), "timeout"),
        (OSError(errno.EIO, "i/o"), "other"),
        (ValueError("not the network at all"), "other"),
    ],
)
def test_it_names_what_happened(error: BaseException, reason: str):
    assert network_reason(error) is NETWORK[reason]  # type: ignore[index]


def test_a_cause_hidden_with_from_none_is_not_read():
    def hide() -> None:
        try:
            raise ConnectionRefusedError()
        except ConnectionRefusedError:
            raise OSError(errno.EIO, "i/o") from None

    with pytest.raises(OSError, match="i/o") as raised:
        hide()
    assert network_reason(raised.value) is NETWORK["other"]


def test_a_line_is_columns_as_wide_as_the_longest_label():
    check = Check("secret", "warning", "…")
    assert check.line("sv") == "OBS hemlighet …"
    assert check.line("en") == "WARN secret   …"
