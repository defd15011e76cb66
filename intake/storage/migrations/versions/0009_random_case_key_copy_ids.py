"""random case key copy ids

A case key copy's id was an auto-increment integer: its order placed the copies written when a
report arrived among those written by grants, whose audit events carry exact times. Ids become
random text like every other table's; existing rows get fresh random ids (nothing refers to
them).

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('ALTER TABLE casekey ALTER COLUMN id DROP DEFAULT')
        op.execute(
            'ALTER TABLE casekey ALTER COLUMN id TYPE VARCHAR(32) '
            "USING replace(gen_random_uuid()::text, '-', '')"
        )
        op.execute('DROP SEQUENCE IF EXISTS casekey_id_seq')
        return
    with op.batch_alter_table('casekey', schema=None) as batch_op:
        batch_op.alter_column('id',
               existing_type=sa.INTEGER(),
               type_=sqlmodel.sql.sqltypes.AutoString(length=32),
               existing_nullable=False)
    op.execute('UPDATE casekey SET id = lower(hex(randomblob(16)))')


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('CREATE SEQUENCE casekey_id_seq OWNED BY casekey.id')
        op.execute(
            "ALTER TABLE casekey ALTER COLUMN id TYPE INTEGER USING nextval('casekey_id_seq')"
        )
        op.execute("ALTER TABLE casekey ALTER COLUMN id SET DEFAULT nextval('casekey_id_seq')")
        return
    # Numbers in the order of the random ids: the old order is not kept anywhere.
    op.execute(
        'UPDATE casekey SET id = '
        '(SELECT count(*) FROM casekey AS other WHERE other.id <= casekey.id)'
    )
    with op.batch_alter_table('casekey', schema=None) as batch_op:
        batch_op.alter_column('id',
               existing_type=sqlmodel.sql.sqltypes.AutoString(length=32),
               type_=sa.INTEGER(),
               existing_nullable=False)
