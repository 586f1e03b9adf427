"""Errors raised by the signing library.

Every error carries ``reason``: a sentence in Chinese that can be shown to the person who
triggered it. The English ``str()`` of the exception stays free of key material and of
personal data beyond what the caller passed in.
"""

from __future__ import annotations

__all__ = [
    "KeyStoreError",
    "PkiError",
    "SigningError",
    "StampGlyphMissing",
    "TimestampUnavailable",
]


class SigningError(Exception):
    """Base class: something in the PKI or PAdES pipeline refused to go on.

    :param reason: Human-readable reason in Chinese.
    :param detail: Optional technical detail (English) for logs; never secrets.
    """

    def __init__(self, reason: str, detail: str | None = None) -> None:
        super().__init__(f"{reason} ({detail})" if detail else reason)
        self.reason = reason
        self.detail = detail


class TimestampUnavailable(SigningError):
    """The TSA did not answer with a usable token; nothing was signed.

    Signing never falls back to the server clock: a signature without a trusted time
    would be indistinguishable from one back-dated by whoever controls the server.
    """

    def __init__(self, detail: str | None = None) -> None:
        super().__init__("时间戳服务不可用，未能完成签署，请稍后重试。", detail)


class KeyStoreError(SigningError):
    """A stored private key could not be decrypted, read or written."""


class PkiError(SigningError):
    """A certificate could not be issued, imported, revoked or found."""


class StampGlyphMissing(SigningError):
    """No installed font can draw every character of a visible stamp.

    Raised instead of drawing an empty box, so a name is never silently mangled.
    """

    def __init__(self, missing: str) -> None:
        codepoints = ", ".join(f"U+{ord(c):04X}" for c in missing)
        super().__init__(f"签章中的字符“{missing}”无可用字体，无法生成可见签章。", codepoints)
        self.missing = missing
