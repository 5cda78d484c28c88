"""The one rule for free text an issuer sends us: characters that can be stored and rendered.

Names, wordings and reasons end up in the SVG seal, the verification page and signed credentials.
XML 1.0 (§2.2, production ``Char``) cannot carry C0 control characters other than tab, line feed
and carriage return, nor U+FFFE, U+FFFF or lone surrogates: one such character makes the seal
image unparseable. DEL and the C1 controls (U+007F-U+009F) are legal XML but "discouraged" there;
they are invisible and never meant, so they are refused too, as are the other Unicode
noncharacters. Single-line fields (names, wording) also refuse tab, line feed and carriage
return, which would break the one-line layout.

Used by the API serializers (seals.api.serializers) and the bulk import (seals.imports), so
both refuse exactly the same text.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError

# Allowed in multi-line text (descriptions, reasons); refused in single-line text.
_LINE_CHARACTERS = frozenset("\t\n\r")


def _refusal(char: str, *, multiline: bool) -> str | None:
    point = ord(char)
    if point < 0x20:
        if multiline and char in _LINE_CHARACTERS:
            return None
        if char in _LINE_CHARACTERS:
            return "a tab or line break (this field is a single line)"
        return "a control character"
    if 0x7F <= point <= 0x9F:
        return "a control character"
    if 0xD800 <= point <= 0xDFFF:
        return "a lone surrogate (not a character)"
    # The 66 noncharacters: U+FDD0-U+FDEF and the last two code points of every plane.
    if 0xFDD0 <= point <= 0xFDEF or (point & 0xFFFE) == 0xFFFE:
        return "a non-character"
    return None


def refused(char: str, *, multiline: bool = False) -> bool:
    """True for a character this rule refuses: the seal renderer drops the same characters
    from text stored before the rule existed (seals.render.layout.clean_text)."""
    return _refusal(char, multiline=multiline) is not None


def text_problem(value: str, *, multiline: bool = False) -> str | None:
    """Why ``value`` cannot be accepted, naming the first bad character and its position
    (1 = the first character), or None when it is fine."""
    for position, char in enumerate(value, start=1):
        what = _refusal(char, multiline=multiline)
        if what is not None:
            return (
                f"Contains {what}, U+{ord(char):04X}, at position {position}; "
                "remove it (text must be printable and valid in XML 1.0)."
            )
    return None


def validate_single_line_text(value: str) -> None:
    """Django/DRF validator for names, wordings and other one-line text."""
    problem = text_problem(value)
    if problem is not None:
        raise ValidationError(problem, code="invalid_character")


def validate_multi_line_text(value: str) -> None:
    """Django/DRF validator for descriptions and reasons: line breaks and tabs allowed."""
    problem = text_problem(value, multiline=True)
    if problem is not None:
        raise ValidationError(problem, code="invalid_character")
