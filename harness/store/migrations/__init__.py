"""Alembic migrations of the kkik-harness schema (run them with ``kkik db upgrade``)."""
