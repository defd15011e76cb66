"""shared limits

Revision ID: 0013
Revises: 0011

The rate limits and the sign-in failure count that every process of a PostgreSQL database
shares (intake/storage/limits.py). UNLOGGED there: the rows are counters that need no
write-ahead log, and a crash that empties them only forgets the last minute's counts.
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision = '0013'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('sharedlimit',
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('tat', sa.Float(), nullable=False),
    sa.PrimaryKeyConstraint('name')
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE sharedlimit SET UNLOGGED")


def downgrade() -> None:
    op.drop_table('sharedlimit')
