"""faults: whether the business was down, as answered at the declaration

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("faults") as batch:
        batch.add_column(sa.Column("business_down", sa.Boolean(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("faults") as batch:
        batch.drop_column("business_down")
