"""case key epochs

Revision ID: 0014
Revises: 0013
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("case", schema=None) as batch_op:
        batch_op.add_column(sa.Column("epoch", sa.Integer(), server_default="1", nullable=False))
        batch_op.add_column(
            sa.Column("rekey_due", sa.Boolean(), server_default="0", nullable=False)
        )
        batch_op.add_column(sa.Column("reporter_public", sa.LargeBinary(), nullable=True))
        batch_op.add_column(sa.Column("reporter_sealed", sa.LargeBinary(), nullable=True))
    with op.batch_alter_table("entry", schema=None) as batch_op:
        batch_op.add_column(sa.Column("epoch", sa.Integer(), server_default="1", nullable=False))
    with op.batch_alter_table("attachment", schema=None) as batch_op:
        batch_op.add_column(sa.Column("epoch", sa.Integer(), server_default="1", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("attachment", schema=None) as batch_op:
        batch_op.drop_column("epoch")
    with op.batch_alter_table("entry", schema=None) as batch_op:
        batch_op.drop_column("epoch")
    with op.batch_alter_table("case", schema=None) as batch_op:
        batch_op.drop_column("reporter_sealed")
        batch_op.drop_column("reporter_public")
        batch_op.drop_column("rekey_due")
        batch_op.drop_column("epoch")
