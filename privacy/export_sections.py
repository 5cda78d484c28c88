"""Parts of a member's export that apps above ``privacy`` hold (announcements received, say).

``privacy.services.member_export`` cannot import them (layers go one way), so each such app
registers a function here from its ``AppConfig.ready``; the export then has one key per
registered section, with what the function returns for the member.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from issuers.models import Member

Section = Callable[[Member], list[dict[str, Any]]]

_sections: dict[str, Section] = {}


def register(name: str, section: Section) -> None:
    """Add ``name`` to every member export; registering the same name again replaces it."""
    _sections[name] = section


def collect(member: Member) -> dict[str, list[dict[str, Any]]]:
    return {name: section(member) for name, section in sorted(_sections.items())}
