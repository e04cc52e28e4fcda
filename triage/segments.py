"""How many SMS segments a text costs, and in which encoding (GSM-7 or UCS-2).

A single GSM-7 SMS holds 160 characters (153 per part when concatenated); one character outside
the GSM 03.38 alphabet - an "á", a curly quote, an emoji - switches the whole message to UCS-2,
70 characters (67 per part), which is why staff see the offending character in admin.
"""

from __future__ import annotations

from dataclasses import dataclass

GSM7_BASIC = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENDED = set("^{}\\[~]|€\f")  # each costs two septets (escape + char)


@dataclass(frozen=True)
class SegmentInfo:
    encoding: str  # "GSM-7" or "UCS-2"
    length: int  # characters as counted by the encoding (septets or UTF-16 units)
    segments: int
    non_gsm: tuple[str, ...]  # the characters that forced UCS-2, if any

    def __str__(self) -> str:
        return f"{self.segments} × {self.encoding} ({self.length} chars)"


def segment_info(text: str) -> SegmentInfo:
    text = text or ""
    non_gsm = tuple(
        dict.fromkeys(c for c in text if c not in GSM7_BASIC and c not in GSM7_EXTENDED)
    )
    if not non_gsm:
        length = sum(2 if c in GSM7_EXTENDED else 1 for c in text)
        segments = 1 if length <= 160 else -(-length // 153)
        return SegmentInfo("GSM-7", length, max(segments, 1), ())
    length = len(text.encode("utf-16-le")) // 2
    segments = 1 if length <= 70 else -(-length // 67)
    return SegmentInfo("UCS-2", length, max(segments, 1), non_gsm)
