"""QR codes of self-assessment links, drawn by the app as inline SVG (segno): nothing is fetched
from elsewhere, and the code prints as sharply as the text around it."""

from __future__ import annotations

import segno
from django.utils.safestring import SafeString, mark_safe


def qr_svg(text: str, *, title: str) -> SafeString:
    """An inline SVG QR code of `text`, sized by CSS (it has a viewBox, no width or height).

    Error correction M keeps a slip readable when the paper is creased or smudged; the four
    modules of white border are the quiet zone scanners need, drawn white so that the code reads
    on a dark screen too.
    """
    code = segno.make(text, error="m", micro=False, boost_error=False)
    svg = code.svg_inline(
        border=4,
        omitsize=True,
        svgclass="qr",
        lineclass=None,
        title=title,
        dark="#000",
        light="#fff",
    )
    # segno writes the SVG itself and escapes the title; `text` only shapes the modules.
    return mark_safe(svg.replace("<svg ", '<svg role="img" ', 1))  # noqa: S308
