"""One-time form values: the keyed hash of each reporter form already filed, kept to the day
after, so that the same form sent again files nothing.

Revision ID: 0019
Revises: 0017
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "spentformvalue",
        sa.Column("digest", sa.LargeBinary(), nullable=False),
        sa.Column("keep_until", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint("digest"),
    )
    with op.batch_alter_table("spentformvalue", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_spentformvalue_keep_until"), ["keep_until"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("spentformvalue", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_spentformvalue_keep_until"))
    op.drop_table("spentformvalue")
