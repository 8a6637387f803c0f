"""repairs: the facts the archived maintenance report was written from, per language (the PDF
is drawn from them again whenever it is asked for)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("repairs") as batch:
        batch.add_column(sa.Column("report_data", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("repairs") as batch:
        batch.drop_column("report_data")
