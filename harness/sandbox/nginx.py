"""nginx as a subprocess, running the repository's own site file in a private temporary directory.

The site is ``docs/deploy/nginx/kkik.conf``, the file an administrator installs: this sandbox
replaces only the literal example values its header lists (server name, ports, certificate
paths, upstream servers), each of which must be found, so the file and the tests cannot drift
apart. Around it goes a minimal main configuration: no system paths (pid file, logs, temporary
files all in the directory), an access log that records which upstream served each request, and
TLS from the test CA (:mod:`harness.sandbox.certs`). The Debian service is never used.

Example::

    with NginxSandbox([("127.0.0.1", 8001), ("127.0.0.1", 8002)], ca=ca) as proxy:
        # https://localhost:{proxy.https_port}/ reaches the two servers
        ...
"""

from __future__ import annotations

import contextlib
import grp
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path

from harness.core.clock import Clock, SystemClock
from harness.sandbox.certs import SandboxCA
from harness.sandbox.ports import LOOPBACK, free_ports, wait_for_port
from harness.sandbox.service import SyncService

__all__ = ["SITE_FILE", "NginxError", "NginxSandbox", "find_nginx", "render_site"]

SITE_FILE = Path(__file__).resolve().parents[2] / "docs" / "deploy" / "nginx" / "kkik.conf"
# The example values of the site file, as its header lists them.
SERVER_NAME = "kkik.example.se"
HTTPS_LISTEN = "listen 443 ssl http2;"
HTTP_LISTEN = "listen 80;"
CERT = "/etc/ssl/kkik/fullchain.pem"
KEY = "/etc/ssl/kkik/privkey.pem"
UPSTREAMS = ("server 127.0.0.1:8001 ", "server 127.0.0.1:8002 ")


class NginxError(RuntimeError):
    """nginx did not start (or its configuration was refused); the message has its error log."""


def find_nginx() -> Path | None:
    """The nginx binary, or None when it is not installed (Debian: nginx)."""
    found = shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/sbin")
    return Path(found) if found else None


def render_site(
    template: str,
    *,
    server_name: str,
    host: str,
    https_port: int,
    http_port: int,
    cert: Path,
    key: Path,
    upstreams: Sequence[tuple[str, int]],
) -> str:
    """The site file with its example values replaced; ValueError if one is missing."""
    if len(upstreams) != len(UPSTREAMS):
        raise ValueError(f"the site file lists {len(UPSTREAMS)} upstream servers")
    replacements = [
        (HTTPS_LISTEN, f"listen {host}:{https_port} ssl http2;"),
        (HTTP_LISTEN, f"listen {host}:{http_port};"),
        (CERT, str(cert)),
        (KEY, str(key)),
        (SERVER_NAME, server_name),
        *(
            (example, f"server {up_host}:{up_port} ")
            for example, (up_host, up_port) in zip(UPSTREAMS, upstreams, strict=True)
        ),
    ]
    for example, value in replacements:
        # Outside the comments only: the header lists every example value too.
        lines = template.splitlines(keepends=True)
        found = False
        for i, line in enumerate(lines):
            if not line.lstrip().startswith("#") and example in line:
                lines[i] = line.replace(example, value)
                found = True
        if not found:
            raise ValueError(f"the site file has no {example!r} to replace")
        template = "".join(lines)
    return template


class NginxSandbox(SyncService):
    """A private nginx running :data:`SITE_FILE` in front of ``upstreams``.

    Args:
        upstreams: the two ``(host, port)`` servers nginx forwards to.
        ca: issues the TLS certificate (for :data:`server_name` among others).
        server_name: the name clients use (the certificate is valid for it).
        workdir: where everything goes; a new temporary directory (removed on stop) if omitted.
    """

    def __init__(
        self,
        upstreams: Sequence[tuple[str, int]],
        *,
        ca: SandboxCA,
        server_name: str = "localhost",
        host: str = LOOPBACK,
        https_port: int | None = None,
        workdir: Path | None = None,
        binary: Path | None = None,
        start_timeout: float = 10.0,
    ) -> None:
        self.upstreams = list(upstreams)
        self.ca = ca
        self.server_name = server_name
        self.host = host
        self.binary = binary
        self.start_timeout = start_timeout
        self._wanted_https = https_port
        self._given_workdir = workdir
        self._workdir: Path | None = None
        self._ports: tuple[int, int] | None = None
        self._process: subprocess.Popen[bytes] | None = None
        # Start-up deadlines are real time even when the harness runs on a FakeClock.
        self._clock: Clock = SystemClock()

    @property
    def https_port(self) -> int:
        if self._ports is None:
            raise RuntimeError("the nginx sandbox is not running")
        return self._ports[0]

    @property
    def http_port(self) -> int:
        if self._ports is None:
            raise RuntimeError("the nginx sandbox is not running")
        return self._ports[1]

    @property
    def url(self) -> str:
        return f"https://{self.server_name}:{self.https_port}"

    @property
    def workdir(self) -> Path:
        if self._workdir is None:
            raise RuntimeError("the nginx sandbox is not running")
        return self._workdir

    @property
    def access_log(self) -> Path:
        """One line per request: ``status upstream-address method path``."""
        return self.workdir / "access.log"

    @property
    def error_log(self) -> Path:
        return self.workdir / "error.log"

    def upstreams_used(self) -> list[str]:
        """The upstream address of every request logged so far, in order."""
        try:
            lines = self.access_log.read_text().splitlines()
        except OSError:
            return []
        return [line.split()[1] for line in lines if len(line.split()) > 1]

    def _main_config(self, site: Path) -> str:
        d = self.workdir
        user = ""
        if os.geteuid() == 0:
            # The master must start as root to read the key; its workers drop to nobody.
            uid, gid = _nobody()
            user = f"user {pwd.getpwuid(uid).pw_name} {grp.getgrgid(gid).gr_name};"
        temp = "\n".join(
            f"    {kind}_temp_path {d}/tmp/{kind};"
            for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
        )
        return f"""\
# Generated by harness.sandbox.nginx; throwaway instance, nothing outside {d}.
{user}
daemon off;
master_process on;
worker_processes 1;
pid {d}/nginx.pid;
error_log {d}/error.log warn;
events {{
    worker_connections 256;
}}
http {{
    log_format upstreams '$status $upstream_addr $request_method $request_uri';
    access_log {d}/access.log upstreams;
{temp}
    include {site};
}}
"""

    def start(self) -> None:
        """Start nginx and return once its HTTPS port accepts connections."""
        if self._process is not None:
            raise RuntimeError("already started")
        binary = self.binary or find_nginx()
        if binary is None:
            raise NginxError("nginx is not installed (Debian: nginx)")
        if self._given_workdir is not None:
            self._given_workdir.mkdir(parents=True, exist_ok=True)
            self._workdir = self._given_workdir
        else:
            self._workdir = Path(tempfile.mkdtemp(prefix="kkik-nginx-"))
        try:
            self._start_in_workdir(binary)
        except BaseException:
            self.stop()
            raise

    def _start_in_workdir(self, binary: Path) -> None:
        d = self.workdir
        d.chmod(0o755)
        pems = self.ca.write_server_pems(d / "tls")
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"):
            (d / "tmp" / kind).mkdir(parents=True, exist_ok=True)
            if os.geteuid() == 0:
                os.chown(d / "tmp" / kind, *_nobody())
        https, http = free_ports(2, self.host)
        if self._wanted_https is not None:
            # The two free ports differ, so at least one of them is not the wanted one.
            https, http = self._wanted_https, (http if http != self._wanted_https else https)
        ports = (https, http)
        site = d / "kkik.conf"
        site.write_text(
            render_site(
                SITE_FILE.read_text(),
                server_name=self.server_name,
                host=self.host,
                https_port=ports[0],
                http_port=ports[1],
                cert=pems.cert_chain,
                key=pems.key,
                upstreams=self.upstreams,
            )
        )
        config = d / "nginx.conf"
        config.write_text(self._main_config(site))
        self._ports = ports
        # -e: the error log before the configuration is read (else /var/log/nginx/error.log).
        command = [str(binary), "-p", str(d), "-e", str(self.error_log), "-c", str(config)]
        checked = subprocess.run(
            [*command, "-t"], capture_output=True, text=True, timeout=30, check=False
        )
        if checked.returncode != 0:
            raise NginxError(f"nginx refused the configuration:\n{checked.stderr}")
        with (d / "nginx.stderr").open("wb") as stderr:
            self._process = subprocess.Popen(
                command,
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
            wait_for_port(
                self.host, ports[0], timeout=self.start_timeout, pause=died, clock=self._clock
            )
        except (TimeoutError, ConnectionError) as exc:
            raise NginxError(f"nginx did not start: {exc}\n{self._diagnostics()}") from exc

    def _diagnostics(self) -> str:
        parts = []
        for name in ("nginx.stderr", "error.log"):
            with contextlib.suppress(OSError, RuntimeError):
                parts.append(f"{name}:\n{(self.workdir / name).read_text(errors='replace')}")
        return "\n".join(parts)

    def stop(self, timeout: float = 10.0) -> None:
        """SIGQUIT (graceful: finish the requests in flight), SIGKILL after ``timeout``; then
        remove a temporary workdir."""
        process, self._process = self._process, None
        if process is not None:
            if process.poll() is None:
                process.send_signal(signal.SIGQUIT)
                try:
                    process.wait(timeout=timeout)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(process.pid, signal.SIGKILL)  # a worker that outlived its master
        self._ports = None
        if self._workdir is not None and self._given_workdir is None:
            shutil.rmtree(self._workdir, ignore_errors=True)
        self._workdir = None


def _nobody() -> tuple[int, int]:
    """The uid and gid nginx's workers run as when started as root."""
    entry = pwd.getpwnam("nobody")
    return entry.pw_uid, entry.pw_gid
