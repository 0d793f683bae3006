"""``python -m harness`` runs the ``kkik`` command."""

from harness.cli import main

main()
