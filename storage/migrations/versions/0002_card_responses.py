"""card responses: WeCom's one-time codes for updating a clicked card

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "card_responses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("platform", sa.String(length=16), nullable=False),
        sa.Column("card_ref", sa.String(length=128), nullable=False),
        sa.Column("user_id", sa.String(length=64), nullable=False),
        sa.Column("code", sa.String(length=255), nullable=False),
        sa.Column("received_at", storage.types.UTCDateTime(), nullable=False),
        sa.Column("used_at", storage.types.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_card_responses")),
    )
    with op.batch_alter_table("card_responses", schema=None) as batch_op:
        batch_op.create_index(
            "ix_card_response_card", ["platform", "card_ref", "user_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_card_responses_received_at"), ["received_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("card_responses", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_card_responses_received_at"))
        batch_op.drop_index("ix_card_response_card")
    op.drop_table("card_responses")
