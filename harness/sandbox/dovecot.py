"""Dovecot 2.3 as a subprocess, from a generated config in a private temporary directory.

Realism tier for IMAP: real IDLE (inotify, with Dovecot's hard-coded 500 ms notify delay),
implicit TLS, SASL XOAUTH2 and LMTP delivery. Nothing outside the temporary directory is read
or written (no /etc/dovecot, no system service, no port below 1024).

Example::

    with DovecotSandbox([Account("kommun@kommun.test", "pw", xoauth2_token="tok")], ca=ca) as dc:
        dc.lmtp_deliver("kommun@kommun.test", "sender@example.test", raw_bytes)
        # IMAP on dc.host:dc.imap_port (plaintext, STARTTLS offered) or dc.imaps_port (TLS)

Authentication: LOGIN / AUTHENTICATE PLAIN/LOGIN check ``Account.password``; AUTHENTICATE
XOAUTH2/OAUTHBEARER check ``Account.xoauth2_token`` (a second passwd-file passdb restricted to
those mechanisms: Dovecot compares the bearer token like a password). A wrong password is
answered within 0.5 s (Dovecot 2.3.19 ignores ``auth_failure_delay = 0``), and the per-IP anvil
penalty that would delay the *next* logins from 127.0.0.1 by 2-15 s is disabled. Note that
aioimaplib's ``xoauth2()`` hangs on a *failed* XOAUTH2 (it never answers the error challenge).

As root, mail is stored as uid/gid 5000 (Dovecot refuses uid 0 for mail); the default internal
users ``dovecot``/``dovenull`` that the Debian package creates run the helpers. As any other
user, every process runs as that user (no chroot, no privilege changes).
"""

from __future__ import annotations

import contextlib
import grp
import os
import pwd
import shutil
import signal
import smtplib
import socket
import ssl
import subprocess
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from harness.core.clock import Clock, SystemClock
from harness.sandbox.accounts import Account, check_accounts
from harness.sandbox.certs import SandboxCA
from harness.sandbox.ports import LOOPBACK, free_ports, wait_for_port
from harness.sandbox.service import SyncService

__all__ = ["DovecotError", "DovecotSandbox", "dovecot_unavailable_reason", "find_dovecot"]

#: Mail owner when running as root (any unused uid >= first_valid_uid works; 0 is refused).
ROOT_MAIL_UID = 5000


class DovecotError(RuntimeError):
    """Dovecot did not start (or stop) as expected; the message includes its log."""


def find_dovecot() -> Path | None:
    """Path of the ``dovecot`` master binary, or None when Dovecot is not installed."""
    found = shutil.which("dovecot") or shutil.which("dovecot", path="/usr/sbin:/sbin")
    return Path(found) if found else None


def dovecot_unavailable_reason() -> str | None:
    """None when Dovecot with IMAP and LMTP is installed, else why not (for skip messages)."""
    binary = find_dovecot()
    if binary is None:
        return "the dovecot binary is not installed (Debian: dovecot-imapd dovecot-lmtpd)"
    # Debian layout: /usr/sbin/dovecot -> /usr/lib/dovecot/{imap,lmtp}. Other layouts: trust it.
    libexec = binary.resolve().parent.parent / "lib" / "dovecot"
    if libexec.is_dir():
        missing = [name for name in ("imap", "lmtp") if not (libexec / name).exists()]
        if missing:
            packages = " ".join(f"dovecot-{name}d" for name in missing)
            return f"Dovecot is installed without {', '.join(missing)} (Debian: {packages})"
    return None


@dataclass(frozen=True, slots=True)
class _Ports:
    imap: int
    imaps: int
    lmtp: int


class DovecotSandbox(SyncService):
    """A private Dovecot instance; synchronous API (start/stop block), usable as a context manager.

    Args:
        accounts: the logins; each gets a Maildir on first use.
        ca: issues the TLS certificate for IMAPS/STARTTLS; a fresh :class:`SandboxCA` if omitted.
        workdir: where config, sockets, logs and mail go; a new temporary directory (removed
            on stop) when omitted. A given directory is left in place.
        start_timeout: seconds to wait for the listeners.
        extra_config: appended verbatim to the generated dovecot.conf (later settings win).
    """

    def __init__(
        self,
        accounts: Iterable[Account] = (),
        *,
        ca: SandboxCA | None = None,
        workdir: Path | None = None,
        host: str = LOOPBACK,
        binary: Path | None = None,
        start_timeout: float = 10.0,
        extra_config: str = "",
    ) -> None:
        self.accounts = list(check_accounts(accounts))
        self.ca = ca if ca is not None else SandboxCA()
        self.host = host
        self.binary = binary
        self.start_timeout = start_timeout
        self.extra_config = extra_config
        # Start-up deadlines are real time even when the harness runs on a FakeClock.
        self._clock: Clock = SystemClock()
        self._given_workdir = workdir
        self._workdir: Path | None = None
        self._ports: _Ports | None = None
        self._process: subprocess.Popen[bytes] | None = None

    # -- addresses ---------------------------------------------------------------------------

    def _require_ports(self) -> _Ports:
        if self._ports is None or self._process is None:
            raise RuntimeError("the Dovecot sandbox is not running")
        return self._ports

    @property
    def imap_port(self) -> int:
        """Plaintext IMAP (STARTTLS offered, LOGIN allowed without it)."""
        return self._require_ports().imap

    @property
    def imaps_port(self) -> int:
        """IMAP over implicit TLS; trust :attr:`ca` (``ca.client_context()``)."""
        return self._require_ports().imaps

    @property
    def lmtp_port(self) -> int:
        """LMTP, for delivering mail into the mailboxes (see :meth:`lmtp_deliver`)."""
        return self._require_ports().lmtp

    @property
    def workdir(self) -> Path:
        if self._workdir is None:
            raise RuntimeError("the Dovecot sandbox is not running")
        return self._workdir

    @property
    def config_path(self) -> Path:
        return self.workdir / "dovecot.conf"

    @property
    def log_path(self) -> Path:
        return self.workdir / "dovecot.log"

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def read_log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except (OSError, RuntimeError):
            return ""

    # -- accounts ----------------------------------------------------------------------------

    def _write_passwd_files(self) -> None:
        workdir = self.workdir
        # passwd-file format: user:password:uid:gid:gecos:home:shell:extra
        users = "".join(f"{a.username}:{{PLAIN}}{a.password}::::::\n" for a in self.accounts)
        tokens = "".join(
            f"{a.username}:{{PLAIN}}{a.xoauth2_token}::::::\n"
            for a in self.accounts
            if a.xoauth2_token
        )
        # Dovecot re-reads a passwd-file when its mtime changes; replace atomically.
        for name, text in (("users", users), ("tokens", tokens)):
            tmp = workdir / f".{name}.tmp"
            tmp.write_text(text)
            tmp.chmod(0o644)
            tmp.replace(workdir / name)

    def add_account(self, account: Account) -> None:
        """Add a login while Dovecot runs (the passwd files are re-read on change)."""
        self.accounts = list(check_accounts([*self.accounts, account]))
        self._write_passwd_files()

    # -- config ------------------------------------------------------------------------------

    def _render_config(self, ports: _Ports, cert: Path, key: Path) -> str:
        d = self.workdir
        if os.geteuid() == 0:
            mail_uid = mail_gid = ROOT_MAIL_UID
            privileges = f"first_valid_uid = {ROOT_MAIL_UID}\n"
        else:
            mail_uid, mail_gid = os.geteuid(), os.getegid()
            user = pwd.getpwuid(mail_uid).pw_name
            group = grp.getgrgid(mail_gid).gr_name
            privileges = (
                f"first_valid_uid = {mail_uid}\n"
                f"first_valid_gid = {mail_gid}\n"
                f"default_internal_user = {user}\n"
                f"default_internal_group = {group}\n"
                f"default_login_user = {user}\n"
                "service anvil {\n  chroot =\n}\n"
                "service imap-login {\n  chroot =\n}\n"
                "service auth {\n  user = $default_internal_user\n}\n"
            )
        return f"""\
# Generated by harness.sandbox.dovecot; throwaway instance, nothing outside {d}.
base_dir = {d}/run
state_dir = {d}/state
log_path = {d}/dovecot.log
protocols = imap lmtp
listen = {self.host}
shutdown_clients = yes
ssl = yes
ssl_cert = <{cert}
ssl_key = <{key}
disable_plaintext_auth = no
auth_mechanisms = plain login xoauth2 oauthbearer
# Dovecot 2.3.19 still queues a failed login for up to 0.5 s with this (the setting is only
# honoured from 2.3.20 on); the growing per-IP anvil penalty is disabled in start().
auth_failure_delay = 0
login_trusted_networks = 127.0.0.0/8 ::1/128
mail_location = maildir:~/Maildir
{privileges}
passdb {{
  driver = passwd-file
  mechanisms = plain login
  args = scheme=PLAIN username_format=%u {d}/users
}}
passdb {{
  driver = passwd-file
  mechanisms = xoauth2 oauthbearer
  args = scheme=PLAIN username_format=%u {d}/tokens
}}
userdb {{
  driver = passwd-file
  args = username_format=%u {d}/users
  default_fields = uid={mail_uid} gid={mail_gid} home={d}/mail/%u
}}
service imap-login {{
  inet_listener imap {{
    port = {ports.imap}
  }}
  inet_listener imaps {{
    port = {ports.imaps}
    ssl = yes
  }}
}}
service lmtp {{
  inet_listener lmtp {{
    port = {ports.lmtp}
  }}
}}
{self.extra_config}
"""

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> None:
        """Start Dovecot and return once IMAP, IMAPS and LMTP accept connections."""
        if self._process is not None:
            raise RuntimeError("already started")
        binary = self.binary or find_dovecot()
        if binary is None:
            raise DovecotError("dovecot is not installed (Debian: dovecot-imapd dovecot-lmtpd)")
        if self._given_workdir is not None:
            self._given_workdir.mkdir(parents=True, exist_ok=True)
            self._workdir = self._given_workdir
        else:
            self._workdir = Path(tempfile.mkdtemp(prefix="kkik-dovecot-"))
        try:
            self._start_in_workdir(binary)
        except BaseException:
            self.stop()
            raise

    def _start_in_workdir(self, binary: Path) -> None:
        d = self.workdir
        d.chmod(0o755)  # the mail uid and Dovecot's unprivileged helpers must traverse it
        pems = self.ca.write_server_pems(d / "tls")
        (d / "tls").chmod(0o755)
        mail = d / "mail"
        mail.mkdir(exist_ok=True)
        if os.geteuid() == 0:
            os.chown(mail, ROOT_MAIL_UID, ROOT_MAIL_UID)
        self._write_passwd_files()
        imap, imaps, lmtp = free_ports(3, self.host)
        ports = _Ports(imap=imap, imaps=imaps, lmtp=lmtp)
        self.config_path.write_text(self._render_config(ports, pems.cert_chain, pems.key))
        self._ports = ports
        # -F: the master stays in the foreground, so this PID is the master and SIGTERM stops
        # everything. A new session keeps terminal signals (Ctrl-C) for the test runner.
        with (d / "dovecot.stderr").open("wb") as stderr:  # the child keeps its own copy
            self._process = subprocess.Popen(
                [str(binary), "-F", "-c", str(self.config_path)],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=stderr,
                cwd=d,
                start_new_session=True,
            )
        process = self._process

        def died(seconds: float) -> bool:
            try:
                process.wait(timeout=seconds)
            except subprocess.TimeoutExpired:
                return False
            return True

        try:
            deadline = self._clock.monotonic() + self.start_timeout
            self._disable_auth_penalty(died, deadline)
            for port in (ports.imap, ports.imaps, ports.lmtp):
                remaining = max(0.1, deadline - self._clock.monotonic())
                wait_for_port(self.host, port, timeout=remaining, pause=died, clock=self._clock)
            # An accepting port only means the master is listening. Wait for each service's
            # greeting too, so that "started" means the login/LMTP processes are serving
            # (and TLS works); stopping Dovecot while they still initialise takes ~6 s.
            timeout = max(0.1, deadline - self._clock.monotonic())
            self._read_greeting(ports.imap, b"* OK", None, timeout)
            self._read_greeting(ports.imaps, b"* OK", self.ca.client_context(), timeout)
            self._read_greeting(ports.lmtp, b"220 ", None, timeout)
        except (TimeoutError, ConnectionError, OSError) as exc:
            raise DovecotError(f"Dovecot did not start: {exc}\n{self._diagnostics()}") from exc

    def _read_greeting(
        self, port: int, prefix: bytes, tls: ssl.SSLContext | None, timeout: float
    ) -> None:
        with contextlib.ExitStack() as stack:
            sock = stack.enter_context(socket.create_connection((self.host, port), timeout))
            if tls is not None:
                sock = stack.enter_context(tls.wrap_socket(sock, server_hostname=self.host))
            line = stack.enter_context(sock.makefile("rb")).readline(1024)
        if not line.startswith(prefix):
            raise ConnectionError(f"unexpected greeting on port {port}: {line!r}")

    def _disable_auth_penalty(self, died: Callable[[float], bool], deadline: float) -> None:
        """Remove the anvil-auth-penalty socket before any auth process starts.

        Dovecot 2.3.19 makes each failed login from an IP delay that IP's next logins by
        2, 4, 8 then 15 s (anvil "auth penalty"), which would make every later test that
        logs in from 127.0.0.1 wait. login_trusted_networks does not exempt clients in this
        version, and the "nodelay" passdb field is not returned on failures. The auth
        process disables penalties silently when that socket does not exist (ENOENT), and it
        connects only when it starts, which happens on the first login connection. The
        master creates all listeners (sockets and TCP ports) together before starting any
        service, so removing the socket here, before probing a port, is race-free.
        """
        socket_path = self.workdir / "run" / "anvil-auth-penalty"
        interval = 0.002
        while not socket_path.exists():
            if self._clock.monotonic() >= deadline:
                raise TimeoutError(f"{socket_path} did not appear")
            if died(interval):
                raise ConnectionError("dovecot exited during start-up")
            interval = min(interval * 2, 0.05)
        socket_path.unlink()

    def _diagnostics(self) -> str:
        stderr = ""
        if self._workdir is not None:
            with contextlib.suppress(OSError):
                stderr = (self._workdir / "dovecot.stderr").read_text(errors="replace")
        code = self._process.returncode if self._process is not None else None
        return f"exit code: {code}\nstderr:\n{stderr}\nlog:\n{self.read_log()[-4000:]}"

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM the master and wait for it (about 1.1 s: the master lets its log process
        drain); SIGKILL after ``timeout``; then kill any leftover helper in the process
        group and remove a temporary workdir."""
        process, self._process = self._process, None
        if process is not None:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(timeout=timeout)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
            # Helpers normally exit with the master; make sure none of ours outlive it.
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(process.pid, signal.SIGKILL)
        self._ports = None
        if self._workdir is not None and self._given_workdir is None:
            shutil.rmtree(self._workdir, ignore_errors=True)
        self._workdir = None

    # -- delivery ----------------------------------------------------------------------------

    def lmtp_deliver(
        self, rcpt: str, mail_from: str, message: bytes, *, timeout: float = 10.0
    ) -> None:
        """Deliver ``message`` to ``rcpt``'s INBOX over LMTP (blocking; wrap in asyncio.to_thread).

        One recipient per call: stdlib smtplib reads a single reply after DATA, whereas LMTP
        sends one per recipient. ``message`` should use CRLF line endings. Raises
        :class:`smtplib.SMTPException` when Dovecot refuses the recipient or the data.
        """
        with smtplib.LMTP(self.host, self.lmtp_port, timeout=timeout) as lmtp:
            lmtp.sendmail(mail_from, [rcpt], message)
