"""entry position encrypted

An entry's number (``seq``) was its place in the case, in the clear: it ordered a reporter's
messages among the office's within a day, whose audit events carry exact times. The place moves
into ``position``, encrypted with the case key; ``seq`` of new entries is random, so it is no
longer unique within a case. Existing entries keep their ``seq`` (their place) and an empty
``position``, and are read in that order.

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

# SQLite's unique constraint has no name: batch mode names it by this convention to drop it.
_NAMES = {"uq": "uq_%(table_name)s_%(column_0_name)s_%(column_1_name)s"}


def upgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.drop_constraint('entry_case_id_seq_key', 'entry', type_='unique')
        op.add_column('entry', sa.Column('position', sa.LargeBinary(), nullable=True))
        return
    with op.batch_alter_table('entry', schema=None, naming_convention=_NAMES) as batch_op:
        batch_op.drop_constraint('uq_entry_case_id_seq', type_='unique')
        batch_op.add_column(sa.Column('position', sa.LargeBinary(), nullable=True))


def downgrade() -> None:
    # Entries written since have random numbers: they cannot take back their places in the
    # clear without the case key, so a downgrade keeps the numbers as they are.
    with op.batch_alter_table('entry', schema=None) as batch_op:
        batch_op.drop_column('position')
        batch_op.create_unique_constraint('entry_case_id_seq_key', ['case_id', 'seq'])
