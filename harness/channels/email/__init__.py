"""The e-mail channel: its declaration (``channel``), its adapters (``adapters``: SMTP sender,
IMAP mailbox, Sent-folder copier and crash lookup), the mail store that the mailbox watcher
fills and that settles each probe's answer (``store``, ``settle``), and received HTML cleaned
once at ingest (``html``). The pure reading and judging of mail is in ``probes/``.
"""
