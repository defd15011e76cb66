"""Every case's first_reply_on filled in from its messages: the day of the office's first
message to the reporter, for cases whose messages predate the column (0007). The statistics
and retention then read the column alone instead of searching each case's entries.

Revision ID: 0022
Revises: 0021
"""

from __future__ import annotations

from alembic import op


revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Only the cases the office has written to: the others keep their NULL, unwritten.
    op.execute(
        'UPDATE "case" SET first_reply_on = ('
        '  SELECT min(entry."on") FROM entry WHERE entry.case_id = "case".id'
        "  AND entry.kind = 'message' AND entry.author = 'office'"
        ") WHERE first_reply_on IS NULL AND EXISTS ("
        '  SELECT 1 FROM entry WHERE entry.case_id = "case".id'
        "  AND entry.kind = 'message' AND entry.author = 'office'"
        ")"
    )


def downgrade() -> None:
    # The filled-in days are true facts of each case: nothing to undo.
    pass
