"""Visitor-facing words for issuer codes, translated in issuers/locale.

The model choices keep their English labels (relabelling them would be a migration); these are
what the public pages and certificates print.
"""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

ISSUER_KINDS = {
    "association": gettext_noop("Trade association"),
    "regulator": gettext_noop("Regulator"),
    "certifier": gettext_noop("Certification body"),
    "other": gettext_noop("Other"),
}


def issuer_kind_word(kind: str) -> str:
    return _(ISSUER_KINDS[kind]) if kind in ISSUER_KINDS else kind
