"""Evidence attachments: streamed, encrypted uploads with metadata stripping.

- :mod:`~intake.attachments.upload` reads multipart uploads as they stream in, under limits;
- :mod:`~intake.attachments.staging` keeps them encrypted in unnamed temporary files meanwhile;
- :mod:`~intake.attachments.cleaning` strips identifying metadata from known formats;
- :mod:`~intake.attachments.prepare` cleans and encrypts each file for its case;
- :mod:`~intake.attachments.store` keeps them in the database, lists, streams and deletes them.
"""

from intake.attachments.prepare import Cleaning, PreparedAttachment
from intake.attachments.store import StoredAttachment, delete_for_case, list_for_case

__all__ = [
    "Cleaning",
    "PreparedAttachment",
    "StoredAttachment",
    "delete_for_case",
    "list_for_case",
]
