"""The e-mail channel: its declaration (``channel``), its adapters (``adapters``: SMTP sender,
IMAP mailbox, Sent-folder copier and crash lookup), the mail store that the mailbox watcher
fills (``store``), a stored message's fields and effects (``message_row``), what counts as a
probe's answer (``settle``), and received HTML cleaned once at ingest (``html``). The pure
reading and judging of mail is in ``probes/``.
"""
