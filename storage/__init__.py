"""Persistence: SQLAlchemy models, the unit of work, atomic claims and Alembic migrations.

Imports nothing of ours; the domain (handlers/) builds on it.
"""
