"""Label files the fake serves after a purchase, made with the standard library only.

- PNG: EasyPost's default label format, 4 x 6 in at 300 dpi (1200 x 1800), 1-bit: a border,
  a thick rule and bars derived from the tracking code (a stand-in, not a scannable barcode).
- ZPL: a minimal ``^XA … ^XZ`` label with a Code 128 of the tracking code.
- PDF: one 288 x 432 pt page with the tracking code in Helvetica.
"""

from __future__ import annotations

import struct
import zlib

PNG_WIDTH, PNG_HEIGHT = 1200, 1800


def _chunk(kind: bytes, data: bytes) -> bytes:
    return (
        struct.pack(">I", len(data))
        + kind
        + data
        + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    )


def label_png(tracking_code: str) -> bytes:
    row_bytes = PNG_WIDTH // 8
    black = b"\x00" * row_bytes
    border = bytes([0x00]) + b"\xff" * (row_bytes - 2) + bytes([0x00])
    bars = bytearray(b"\xff" * row_bytes)
    for index, char in enumerate(tracking_code[:40]):
        start = 10 + index * 2
        if start < row_bytes - 10:
            bars[start] = 0x00 if ord(char) % 2 else 0x0F
    rows = []
    for y in range(PNG_HEIGHT):
        if y < 12 or y >= PNG_HEIGHT - 12 or 590 <= y < 610:
            row = black
        elif 1300 <= y < 1600:
            row = bytes(bars)
        else:
            row = border
        rows.append(b"\x00" + row)
    header = struct.pack(">IIBBBBB", PNG_WIDTH, PNG_HEIGHT, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(b"".join(rows), 9))
        + _chunk(b"IEND", b"")
    )


def label_zpl(tracking_code: str, service: str) -> bytes:
    return (
        "^XA\n^PW812\n^LL1218\n"
        f"^FO40,40^A0N,60,60^FD{service.upper()}^FS\n"
        f"^FO60,880^BY3^BCN,152,N,N,N^FD{tracking_code}^FS\n"
        f"^FO60,1050^A0N,36,36^FD{tracking_code}^FS\n"
        "^XZ\n"
    ).encode()


def label_pdf(tracking_code: str) -> bytes:
    stream = f"BT /F1 14 Tf 20 400 Td (EASYPOST SANDBOX {tracking_code}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 288 432] "
        b"/Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    for offset in offsets:
        out += f"{offset:010d} 00000 n \n".encode()
    out += (
        f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    )
    return bytes(out)
