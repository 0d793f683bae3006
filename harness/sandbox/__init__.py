"""Real servers on 127.0.0.1 for integration tests and the offline demo.

Everything here starts a genuine server on a loopback port, with throwaway state, and cleans
up after itself. Nothing binds a non-loopback address, touches system services or the system
trust store, or needs the network.

Modules (import them directly; this package imports nothing, because ``aiosmtpd``, ``pymap``
and ``trustme`` are development dependencies only):

``harness.sandbox.accounts``
    :class:`Account` (username, password, optional XOAUTH2 bearer token).
``harness.sandbox.certs``
    :class:`SandboxCA`: a trustme CA and a server certificate for 127.0.0.1/localhost/::1;
    ``server_context()``, ``client_context()``, ``write_server_pems(dir)`` (for Dovecot).
``harness.sandbox.ports``
    ``free_port()``, ``free_ports(n)``, ``wait_for_port(...)``.
``harness.sandbox.smtp``
    :class:`SmtpSandbox`: aiosmtpd inside the running event loop (async context manager),
    STARTTLS, AUTH PLAIN/LOGIN/XOAUTH2; records every message as a ``ReceivedMessage``.
``harness.sandbox.pymap``
    :class:`PymapSandbox`: in-memory IMAP (pymap dict backend) inside the running event loop;
    ``deliver(user, bytes, when=...)`` stores a message with a chosen INTERNALDATE.
``harness.sandbox.dovecot``
    :class:`DovecotSandbox`: Dovecot 2.3 subprocess (sync context manager): IMAP, IMAPS,
    IDLE, XOAUTH2, and ``lmtp_deliver(rcpt, mail_from, bytes)``.
``harness.sandbox.postgres``
    :class:`PostgresSandbox`: initdb + pg_ctl cluster on a free port (sync context manager);
    ``create_database(name)`` returns a ``postgresql+psycopg://`` URL.
``harness.sandbox.twilio_sim``
    :class:`TwilioSimulator`: Twilio Voice's REST API on loopback, scripted call playback on the
    injected clock, TwiML and signed callbacks (async context manager); :class:`SimulatorThread`
    runs it on a thread of its own. Built from ``twilio_calls`` (``SwitchboardScript``,
    ``CallbackFaults``, ``SimCall``, recordings), ``twilio_callbacks`` (action queue, signed
    callbacks), ``twilio_player`` (call progress, TwiML runner) and ``twilio_rest`` (REST
    handlers).

System packages (Debian): ``scripts/system-deps.sh`` installs ``dovecot-imapd``,
``dovecot-lmtpd`` and ``postgresql``; ``find_dovecot()`` / ``find_pg_bindir()`` report
whether they are present.
"""
