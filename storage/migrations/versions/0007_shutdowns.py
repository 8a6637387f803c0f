"""shutdowns: shutdown requests, their windows, approval chain and records

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "shutdowns",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=24), nullable=False),
        sa.Column("requester_id", sa.Integer(), nullable=False),
        sa.Column("site_code", sa.String(length=32), nullable=False),
        sa.Column("systems", sa.JSON(), nullable=False),
        sa.Column("starts_at", storage.types.UTCDateTime(), nullable=False),
        sa.Column("ends_at", storage.types.UTCDateTime(), nullable=False),
        sa.Column("planned_end_at", storage.types.UTCDateTime(), nullable=False),
        sa.Column("extend_to", storage.types.UTCDateTime(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("impact", sa.Text(), nullable=False),
        sa.Column("rollback", sa.Text(), nullable=False),
        sa.Column("backup", sa.String(length=256), nullable=False),
        sa.Column("notify", sa.JSON(), nullable=False),
        sa.Column("engineer_ids", sa.JSON(), nullable=False),
        sa.Column("link_ref", sa.String(length=16), nullable=True),
        sa.Column("emergency", sa.Boolean(), nullable=False),
        sa.Column("chain", sa.JSON(), nullable=False),
        sa.Column("approved_steps", sa.Integer(), nullable=False),
        sa.Column("approver_ids", sa.JSON(), nullable=False),
        sa.Column("decision_note", sa.Text(), nullable=True),
        sa.Column("state_before", sa.JSON(), nullable=True),
        sa.Column("verification", sa.JSON(), nullable=True),
        sa.Column("begun_at", storage.types.UTCDateTime(), nullable=True),
        sa.Column("completed_at", storage.types.UTCDateTime(), nullable=True),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("created_at", storage.types.UTCDateTime(), nullable=False),
        sa.Column("updated_at", storage.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["requester_id"], ["people.id"], name=op.f("fk_shutdowns_requester_id_people")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shutdowns")),
    )
    op.create_index(op.f("ix_shutdowns_state"), "shutdowns", ["state"], unique=False)
    op.create_index(op.f("ix_shutdowns_starts_at"), "shutdowns", ["starts_at"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_shutdowns_starts_at"), table_name="shutdowns")
    op.drop_index(op.f("ix_shutdowns_state"), table_name="shutdowns")
    op.drop_table("shutdowns")
