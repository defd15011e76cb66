"""The authenticator QR code shown once, when an administrator creates or resets an account: an
inline SVG drawn on the server by segno (no script, nothing fetched from anywhere). It is built
for that one answer and neither logged nor kept.
"""

from __future__ import annotations

import io

import segno
from markupsafe import Markup

from intake import i18n
from intake.i18n import N_

TITLE = N_("QR code to scan with an authenticator app")


def qr_svg(otpauth_uri: str) -> Markup:
    """The ``otpauth://`` address as an SVG QR code, ready to be placed in a page."""
    code = segno.make(otpauth_uri, error="m", micro=False)
    out = io.BytesIO()
    code.save(
        out,
        kind="svg",
        scale=4,
        border=4,
        xmldecl=False,
        svgns=True,
        nl=False,
        title=i18n.gettext(TITLE),
        svgclass="enrolment-qr",
    )
    svg = out.getvalue().decode("utf-8").replace("<svg ", '<svg role="img" ', 1)
    # segno draws geometry and escapes the title; nothing a person typed is in it.
    return Markup(svg)  # noqa: S704  # nosec B704
