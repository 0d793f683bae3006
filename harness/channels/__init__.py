"""The channels: each way of asking a question (e-mail, phone) is one package that declares to the
registry how it is configured, dispatched and resolved after a crash (``channel.py``), builds its
adapters (``adapters.py``) and keeps its evidence (``store.py``). The runner, the assembly point
and the evidence readers ask :mod:`harness.channels.registry` instead of branching on a channel.
"""
