"""The store: the database (SQLModel tables, the engine, Alembic migrations) and the plain
reads and writes on it that several layers share (probes, plans, users, hand-entered measures,
reference figures, the runner lock).
"""
