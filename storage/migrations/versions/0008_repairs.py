"""repairs: repair and maintenance records, their steps and the parts replaced

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "repairs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=24), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("system", sa.String(length=128), nullable=False),
        sa.Column("system_type", sa.String(length=64), nullable=True),
        sa.Column("site_code", sa.String(length=32), nullable=True),
        sa.Column("task", sa.Text(), nullable=True),
        sa.Column("link_ref", sa.String(length=16), nullable=True),
        sa.Column("started_by_id", sa.Integer(), nullable=False),
        sa.Column("engineer_ids", sa.JSON(), nullable=False),
        sa.Column("owner_ids", sa.JSON(), nullable=False),
        sa.Column("checklist_items", sa.JSON(), nullable=False),
        sa.Column("checklist", sa.JSON(), nullable=False),
        sa.Column("state_before", sa.JSON(), nullable=True),
        sa.Column("state_after", sa.JSON(), nullable=True),
        sa.Column("verification", sa.JSON(), nullable=True),
        sa.Column("override", sa.JSON(), nullable=True),
        sa.Column("lessons", sa.JSON(), nullable=False),
        sa.Column("report", sa.JSON(), nullable=True),
        sa.Column("started_at", storage.types.UTCDateTime(), nullable=False),
        sa.Column("completed_at", storage.types.UTCDateTime(), nullable=True),
        sa.Column("followup_due_at", storage.types.UTCDateTime(), nullable=True),
        sa.Column("stable_at", storage.types.UTCDateTime(), nullable=True),
        sa.Column("created_at", storage.types.UTCDateTime(), nullable=False),
        sa.Column("updated_at", storage.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["started_by_id"], ["people.id"], name=op.f("fk_repairs_started_by_id_people")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_repairs")),
    )
    op.create_index(op.f("ix_repairs_link_ref"), "repairs", ["link_ref"], unique=False)
    op.create_index(op.f("ix_repairs_state"), "repairs", ["state"], unique=False)

    op.create_table(
        "repair_parts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("repair_id", sa.Integer(), nullable=False),
        sa.Column("model", sa.String(length=128), nullable=False),
        sa.Column("old_serial", sa.String(length=128), nullable=True),
        sa.Column("new_serial", sa.String(length=128), nullable=True),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("listed", sa.Boolean(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("author_id", sa.Integer(), nullable=False),
        sa.Column("at", storage.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["author_id"], ["people.id"], name=op.f("fk_repair_parts_author_id_people")
        ),
        sa.ForeignKeyConstraint(
            ["repair_id"], ["repairs.id"], name=op.f("fk_repair_parts_repair_id_repairs")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_repair_parts")),
    )
    op.create_index(op.f("ix_repair_parts_repair_id"), "repair_parts", ["repair_id"], unique=False)

    op.create_table(
        "repair_steps",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("repair_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("phase", sa.String(length=24), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("corrects", sa.Integer(), nullable=True),
        sa.Column("author_id", sa.Integer(), nullable=False),
        sa.Column("at", storage.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["author_id"], ["people.id"], name=op.f("fk_repair_steps_author_id_people")
        ),
        sa.ForeignKeyConstraint(
            ["repair_id"], ["repairs.id"], name=op.f("fk_repair_steps_repair_id_repairs")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_repair_steps")),
    )
    op.create_index(op.f("ix_repair_steps_repair_id"), "repair_steps", ["repair_id"], unique=False)


def downgrade() -> None:
    # a table's indexes go with it (MariaDB refuses to drop an index its foreign key needs)
    op.drop_table("repair_steps")
    op.drop_table("repair_parts")
    op.drop_table("repairs")
