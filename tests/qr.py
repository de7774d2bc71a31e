"""Reading the app's QR codes back, as a phone would: the inline SVG is drawn into a bitmap
module by module and decoded by ZXing (zxing-cpp), a decoder independent of the generator."""

from __future__ import annotations

import re

import zxingcpp

PIXELS_PER_MODULE = 4


def qr_svgs(html: str) -> list[str]:
    """Every QR code SVG of a page, in page order."""
    return re.findall(r'<svg role="img" viewBox="[^"]+" class="qr">.*?</svg>', html, re.S)


def decode_qr_svg(svg: str) -> str:
    """The text a QR code SVG (as `titles.qr.qr_svg` writes it) encodes.

    The dark modules are drawn as horizontal strokes one module wide through the middle of each
    row ("M x y+½ h n", relative "m" moves between runs); anything else fails the test.
    """
    width, height = (int(n) for n in re.search(r'viewBox="0 0 (\d+) (\d+)"', svg).groups())
    path = re.search(r'<path stroke="#000" d="([^"]+)"', svg).group(1)
    dark = [[False] * width for _ in range(height)]
    x = y = 0.0
    for command, first, second in re.findall(r"([A-Za-z])(-?[\d.]+)(?: (-?[\d.]+))?", path):
        if command == "M":
            x, y = float(first), float(second)
        elif command == "m":
            x, y = x + float(first), y + float(second)
        elif command == "h":
            for column in range(int(x), int(x + float(first))):
                dark[int(y)][column] = True
            x += float(first)
        else:
            raise AssertionError(f"unexpected path command {command!r}")
    scale = PIXELS_PER_MODULE
    pixels = bytearray()
    for row in dark:
        line = bytearray()
        for cell in row:
            line += (b"\x00" if cell else b"\xff") * scale
        pixels += bytes(line) * scale
    image = memoryview(pixels).cast("B", shape=[height * scale, width * scale])
    found = zxingcpp.read_barcode(image, formats=zxingcpp.BarcodeFormat.QRCode)
    assert found is not None, "no QR code could be read from the SVG"
    return found.text
