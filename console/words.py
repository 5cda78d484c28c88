"""The lower layers' choice labels (statuses, roles, states, kinds), in the console's languages.

Those models keep plain English labels (they are also the API's and the admin's), so the
console marks them here for its own catalog and translates them where it shows them: the
``word``, ``status_word`` and ``event_word`` template filters (console.templatetags.console)
and ``translated_choices`` for its forms' select boxes. Seal statuses and event kinds take a
context, as languages inflect them differently from, say, a key's state.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.utils.functional import Promise, lazy
from django.utils.translation import gettext, gettext_noop, pgettext, pgettext_lazy

SEAL_STATUS = "seal status"
SEAL_EVENT = "seal event"

# Literal contexts: xgettext reads only literals (SEAL_STATUS and SEAL_EVENT are the same words).
_MARKED = (
    # seals.SealStatus
    pgettext_lazy("seal status", "Pending"),
    pgettext_lazy("seal status", "Active"),
    pgettext_lazy("seal status", "Suspended"),
    pgettext_lazy("seal status", "Revoked"),
    pgettext_lazy("seal status", "Expired"),
    # seals.SealEvent.Kind
    pgettext_lazy("seal event", "Issued"),
    pgettext_lazy("seal event", "Renewed"),
    pgettext_lazy("seal event", "Activated"),
    pgettext_lazy("seal event", "Suspended"),
    pgettext_lazy("seal event", "Reinstated"),
    pgettext_lazy("seal event", "Revoked"),
    pgettext_lazy("seal event", "Expired"),
    pgettext_lazy("seal event", "Details changed"),
    pgettext_lazy("seal event", "Erased"),
    # issuers.StaffRole, SigningKey.State, ApiKey.Scope, Programme.Theme
    gettext_noop("Owner"),
    gettext_noop("Manager"),
    gettext_noop("Viewer"),
    gettext_noop("Active"),
    gettext_noop("Retired (still published)"),
    gettext_noop("Revoked (withdrawn)"),
    gettext_noop("Read"),
    gettext_noop("Write"),
    gettext_noop("Light"),
    gettext_noop("Dark"),
    # ImportJob state and mode, WebhookDelivery state
    gettext_noop("Queued"),
    gettext_noop("Running"),
    gettext_noop("Succeeded"),
    gettext_noop("Failed"),
    gettext_noop("All or nothing"),
    gettext_noop("Partial"),
    gettext_noop("Checking"),
    gettext_noop("Writing"),
    gettext_noop("Pending"),
    gettext_noop("Delivering"),
    gettext_noop("Delivered"),
    # DataRequest kind and state
    gettext_noop("Access"),
    gettext_noop("Rectification"),
    gettext_noop("Erasure"),
    gettext_noop("Restriction"),
    gettext_noop("Objection"),
    gettext_noop("Portability"),
    gettext_noop("Received"),
    gettext_noop("In progress"),
    gettext_noop("Completed"),
    gettext_noop("Rejected"),
)


def word(label: object) -> str:
    return gettext(str(label))


def status_word(label: object) -> str:
    return pgettext(SEAL_STATUS, str(label))


def event_word(label: object) -> str:
    return pgettext(SEAL_EVENT, str(label))


_lazy_word = lazy(word, str)
_lazy_status = lazy(status_word, str)
_lazy_event = lazy(event_word, str)


def translated_choices(
    choices: Iterable[tuple[str, str]], *, context: str = ""
) -> list[tuple[str, str | Promise]]:
    """``choices`` with labels translated when the form renders (lazily: forms are built once)."""
    translate = {SEAL_STATUS: _lazy_status, SEAL_EVENT: _lazy_event}.get(context, _lazy_word)
    return [(value, translate(label)) for value, label in choices]
