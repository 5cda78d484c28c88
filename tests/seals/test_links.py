"""The embed snippet's text: what a member's page receives from us."""

from __future__ import annotations

from seals.links import embed_snippet, seal_alt
from tests.factories import MemberFactory, award


def test_the_alt_text_drops_characters_that_no_page_may_carry(db):
    member = MemberFactory(display_name="Evil\x01Co\ufffe")
    seal = award(member)
    assert seal_alt(seal).startswith("EvilCo: ")
    snippet = embed_snippet(seal)
    assert "\x01" not in snippet and "\ufffe" not in snippet
    assert 'alt="EvilCo: ' in snippet
