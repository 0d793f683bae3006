"""A throwaway certificate authority for the sandbox servers (trustme).

Nothing here touches the system trust store: clients must be given
:meth:`SandboxCA.client_context` (or the PEM from :meth:`SandboxCA.write_ca_pem`).
"""

from __future__ import annotations

import os
import ssl
from dataclasses import dataclass, field
from pathlib import Path

import trustme

__all__ = ["DEFAULT_IDENTITIES", "PemFiles", "SandboxCA"]

#: Names the server certificate is valid for: every way a test addresses loopback.
DEFAULT_IDENTITIES: tuple[str, ...] = ("127.0.0.1", "localhost", "::1")


@dataclass(frozen=True, slots=True)
class PemFiles:
    """PEM files on disk, for servers that read certificates from files (Dovecot)."""

    cert_chain: Path  # leaf first, then the CA
    key: Path  # unencrypted private key, mode 0600
    ca: Path  # the CA certificate alone (what a client must trust)


@dataclass(slots=True)
class SandboxCA:
    """A fresh CA plus one server certificate issued by it for ``identities``."""

    identities: tuple[str, ...] = DEFAULT_IDENTITIES
    ca: trustme.CA = field(default_factory=trustme.CA)
    server_cert: trustme.LeafCert = field(init=False)

    def __post_init__(self) -> None:
        self.server_cert = self.ca.issue_cert(*self.identities)

    def server_context(self) -> ssl.SSLContext:
        """A server-side context that presents the certificate and asks nothing of clients."""
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self.server_cert.configure_cert(ctx)
        return ctx

    def client_context(self) -> ssl.SSLContext:
        """A client-side context that trusts only this CA, with hostname checking on."""
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        self.ca.configure_trust(ctx)
        return ctx

    def write_ca_pem(self, path: Path) -> Path:
        """Write the CA certificate to ``path`` and return it."""
        self.ca.cert_pem.write_to_path(str(path))
        return path

    def write_server_pems(self, directory: Path) -> PemFiles:
        """Write ``cert.pem`` (chain), ``key.pem`` and ``ca.pem`` into ``directory``."""
        directory.mkdir(parents=True, exist_ok=True)
        cert = directory / "cert.pem"
        key = directory / "key.pem"
        cert.write_bytes(b"")
        for blob in self.server_cert.cert_chain_pems:
            blob.write_to_path(str(cert), append=True)
        fd = os.open(key, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(self.server_cert.private_key_pem.bytes())
        return PemFiles(cert_chain=cert, key=key, ca=self.write_ca_pem(directory / "ca.pem"))
