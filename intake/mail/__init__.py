"""Mail: a durable outbox, content-free notices, daily digests, and their delivery.

- ``outbox``: writing, inside the event's own transaction (``queue_case_notice``);
- ``compose``: what an email says (nothing about any case);
- ``digest``: the daily counts of deadlines;
- ``transport``: SMTP (aiosmtplib) or .eml files, and plain-language failures;
- ``worker``: claiming, sending, retrying; run by ``quietline serve`` and ``quietline mail run``.
"""

from intake.mail.outbox import (
    NOTIFY_MODES,
    queue_case_notice,
    queue_notice,
    queue_notices,
    reporter_audience,
    set_notify_mode,
)

__all__ = [
    "NOTIFY_MODES",
    "queue_case_notice",
    "queue_notice",
    "queue_notices",
    "reporter_audience",
    "set_notify_mode",
]
