"""Confidential reporting: a reporter's identity sealed under two halves, the custodians' half
sealed to each identity custodian, and officers' requests to open it with their decisions.

Revision ID: 0021
Revises: 0020
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('caseidentity',
    sa.Column('case_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('sealed', sa.LargeBinary(), nullable=True),
    sa.Column('officers_half', sa.LargeBinary(), nullable=True),
    sa.Column('epoch', sa.Integer(), nullable=False),
    sa.Column('given_on', sa.Date(), nullable=False),
    sa.Column('withdrawn_on', sa.Date(), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['case.id'], ),
    sa.PrimaryKeyConstraint('case_id')
    )
    op.create_table('identityhalf',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('case_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('custodian_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('sealed', sa.LargeBinary(), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['case.id'], ),
    sa.ForeignKeyConstraint(['custodian_id'], ['staff.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('case_id', 'custodian_id')
    )
    with op.batch_alter_table('identityhalf', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_identityhalf_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_identityhalf_custodian_id'), ['custodian_id'], unique=False)

    op.create_table('identityrequest',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('case_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('requester_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('requester_role', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('requested_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('reason', sa.LargeBinary(), nullable=False),
    sa.Column('reason_epoch', sa.Integer(), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('decided_by', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('decided_on', sa.Date(), nullable=True),
    sa.Column('released', sa.LargeBinary(), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['case.id'], ),
    sa.ForeignKeyConstraint(['decided_by'], ['staff.id'], ),
    sa.ForeignKeyConstraint(['requester_id'], ['staff.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('identityrequest', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_identityrequest_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_identityrequest_requester_id'), ['requester_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_identityrequest_status'), ['status'], unique=False)

    op.create_table('identityreason',
    sa.Column('request_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('custodian_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('sealed', sa.LargeBinary(), nullable=False),
    sa.ForeignKeyConstraint(['custodian_id'], ['staff.id'], ),
    sa.ForeignKeyConstraint(['request_id'], ['identityrequest.id'], ),
    sa.PrimaryKeyConstraint('request_id', 'custodian_id')
    )


def downgrade() -> None:
    op.drop_table('identityreason')
    with op.batch_alter_table('identityrequest', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_identityrequest_status'))
        batch_op.drop_index(batch_op.f('ix_identityrequest_requester_id'))
        batch_op.drop_index(batch_op.f('ix_identityrequest_case_id'))

    op.drop_table('identityrequest')
    with op.batch_alter_table('identityhalf', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_identityhalf_custodian_id'))
        batch_op.drop_index(batch_op.f('ix_identityhalf_case_id'))

    op.drop_table('identityhalf')
    op.drop_table('caseidentity')
