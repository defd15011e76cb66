"""Questionnaires: versions of the questions asked per category, each report's encrypted
answers, and the yearly counts of statistical answers.

Revision ID: 0020
Revises: 0019
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "questionnaireversion",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("scope", sqlmodel.sql.sqltypes.AutoString(length=50), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("questions", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("made_on", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("scope", "number"),
    )
    op.create_table(
        "caseanswers",
        sa.Column("case_id", sa.String(length=32), nullable=False),
        sa.Column("versions", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("answers", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["case.id"]),
        sa.PrimaryKeyConstraint("case_id"),
    )
    op.create_table(
        "answercount",
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("question", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("choice", sqlmodel.sql.sqltypes.AutoString(length=50), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("year", "question", "choice"),
    )


def downgrade() -> None:
    op.drop_table("answercount")
    op.drop_table("caseanswers")
    op.drop_table("questionnaireversion")
