"""storage budget: each attachment's stored length, and the current hour's upload sum

Revision ID: 0015
Revises: 0014

``uploadhour`` is UNLOGGED on PostgreSQL: the sum of the hour now running never reaches the
write-ahead log, its archives or replicas, and a crash that empties it only resets that hour.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "uploadhour",
        sa.Column("hour", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("stored_bytes", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("hour"),
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE uploadhour SET UNLOGGED")
    with op.batch_alter_table("attachment", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("stored_bytes", sa.BigInteger(), nullable=False, server_default="0")
        )
    # Attachments stored before: their length is the header's and their chunks'.
    op.execute(
        "UPDATE attachment SET stored_bytes = length(header) + coalesce(("
        "SELECT sum(length(data)) FROM attachmentchunk "
        "WHERE attachmentchunk.attachment_id = attachment.id), 0)"
    )
    with op.batch_alter_table("attachment", schema=None) as batch_op:
        batch_op.alter_column("stored_bytes", server_default=None)


def downgrade() -> None:
    with op.batch_alter_table("attachment", schema=None) as batch_op:
        batch_op.drop_column("stored_bytes")
    op.drop_table("uploadhour")
