"""How the console names who did something: seal histories record ``staff:<user id>``
(console.access.actor_of); people read the address beside it."""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib.auth import get_user_model

STAFF_PREFIX = "staff:"


def actor_labels(actors: Iterable[str]) -> dict[str, str]:
    """``{"staff:12": "ada@example.org", ...}`` for the staff actors among ``actors``. The ids
    come from the issuer's own (scoped) history, so only its people's addresses are shown,
    former staff included."""
    ids = {
        int(actor[len(STAFF_PREFIX) :])
        for actor in actors
        if actor.startswith(STAFF_PREFIX) and actor[len(STAFF_PREFIX) :].isdigit()
    }
    if not ids:
        return {}
    users = get_user_model().objects.filter(pk__in=ids).values_list("pk", "email")
    return {f"{STAFF_PREFIX}{pk}": email for pk, email in users}
