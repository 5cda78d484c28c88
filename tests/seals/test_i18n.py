"""Languages of the public surface: choice, translations, dates, right-to-left, caching."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime

import polib
import pytest
import time_machine
from django.conf import settings
from PIL import Image

from issuers.models import Issuer
from seals import snapshot
from seals.links import embed_snippet
from seals.management.commands.compiletranslations import catalogs, compiled
from tests.factories import MemberFactory, award
from tests.seals.public_helpers import seal_in

LANGS = ("en", "fr", "de", "es", "ar")
NOON = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


# --- catalogs -------------------------------------------------------------------------------
def test_every_language_has_a_catalog_in_each_app():
    found = {(p.parts[-5], p.parts[-3]) for p in catalogs()}
    assert found == {
        (app, lang)
        for app in ("seals", "issuers", "console", "effects", "portal", "privacy")
        for lang in LANGS
    }
    assert [code for code, _name in settings.LANGUAGES] == list(LANGS)


@pytest.mark.parametrize("po_path", catalogs(), ids=lambda p: f"{p.parts[-5]}-{p.parts[-3]}")
def test_the_committed_mo_is_what_its_po_compiles_to(po_path):
    mo_path = po_path.with_suffix(".mo")
    assert mo_path.exists(), f"run: python manage.py compiletranslations ({mo_path} missing)"
    assert mo_path.read_bytes() == compiled(po_path), (
        f"{mo_path} is out of date: run python manage.py compiletranslations"
    )


@pytest.mark.parametrize("po_path", [p for p in catalogs() if p.parts[-3] != "en"])
def test_every_string_is_translated_and_keeps_its_placeholders(po_path):
    po = polib.pofile(str(po_path))
    assert len(po) > 0
    for entry in po:
        assert "fuzzy" not in entry.flags
        placeholders = sorted(re.findall(r"%\(\w+\)s", entry.msgid))
        if entry.msgid_plural:
            forms = [entry.msgstr_plural[i] for i in sorted(entry.msgstr_plural)]
            nplurals = re.search(r"nplurals=(\d+)", po.metadata["Plural-Forms"])
            assert nplurals and len(forms) == int(nplurals.group(1)), entry.msgid
            assert all(forms), f"{po_path}: a plural form of {entry.msgid!r} is missing"
            # Forms for one number alone may spell it out ("two entries"); the general
            # form, the last, keeps every placeholder.
            last = sorted(re.findall(r"%\(\w+\)s", forms[-1]))
            assert last == placeholders, entry.msgid
            continue
        assert entry.msgstr, f"{po_path}: no translation for {entry.msgid!r}"
        assert sorted(re.findall(r"%\(\w+\)s", entry.msgstr)) == placeholders, entry.msgid


# --- the verification page ------------------------------------------------------------------
PAGE_WORDS = {
    "en": ("Valid", "Valid from", "November 22, 2026"),
    "fr": ("Valide", "Valable à partir du", "22 novembre 2026"),
    "de": ("Gültig", "Gültig ab", "22. November 2026"),
    "es": ("Válido", "Válido desde", "22 de noviembre de 2026"),
    "ar": ("صالح", "صالح من", "22 نوفمبر، 2026"),
}


@pytest.mark.django_db
@pytest.mark.parametrize("lang", LANGS)
def test_the_page_speaks_the_language_of_lang_with_its_dates(client, lang):
    with time_machine.travel(NOON, tick=False):
        seal = seal_in("active")
        response = client.get(f"/verify/{seal.public_id}?lang={lang}")
    html = response.content.decode()
    word, label, day = PAGE_WORDS[lang]
    assert response["Content-Language"] == lang
    assert f'<html lang="{lang}" dir="{"rtl" if lang == "ar" else "ltr"}">' in html
    assert f"<strong>{word}</strong>" in html
    assert f"<dt>{label}</dt>" in html
    assert day.replace("November", "Nov.") in html if lang == "en" else day in html
    # ?lang= fixes the language, so the answer does not depend on Accept-Language.
    assert "Accept-Language" not in response.get("Vary", "")


@pytest.mark.django_db
def test_the_page_follows_accept_language_by_weight_and_says_it_varies(client):
    seal = seal_in("suspended")
    response = client.get(
        f"/verify/{seal.public_id}", HTTP_ACCEPT_LANGUAGE="it;q=1.0, de-AT;q=0.8, fr;q=0.5"
    )
    assert response["Content-Language"] == "de"
    assert "<strong>Ausgesetzt</strong>" in response.content.decode()
    assert "Accept-Language" in response["Vary"]
    assert "Cookie" not in response["Vary"]
    assert not response.cookies


@pytest.mark.django_db
def test_lang_wins_over_accept_language_and_unknown_values_fall_back_to_english(client):
    seal = seal_in("revoked")
    fixed = client.get(f"/verify/{seal.public_id}?lang=es", HTTP_ACCEPT_LANGUAGE="de")
    assert "<strong>Revocado</strong>" in fixed.content.decode()
    unknown = client.get(f"/verify/{seal.public_id}?lang=xx", HTTP_ACCEPT_LANGUAGE="zz, *")
    assert unknown["Content-Language"] == "en"
    assert "<strong>Revoked</strong>" in unknown.content.decode()


@pytest.mark.django_db
def test_history_words_and_issuer_kind_are_translated(client):
    seal = seal_in("suspended")
    html = client.get(f"/verify/{seal.public_id}?lang=fr").content.decode()
    assert "<td>Délivré</td>" in html
    assert "<td>Suspendu</td>" in html
    assert "<dd>Association professionnelle</dd>" in html


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("lang", "words"),
    [
        ("en", ("has 1 entry;", "has 2 entries;")),
        ("de", ("hat 1 Eintrag;", "hat 2 Einträge;")),
        ("fr", ("compte 1 entrée ;", "compte 2 entrées ;")),
        ("ar", ("إدخالًا واحدًا", "إدخالين")),
    ],
)
def test_the_length_of_the_history_is_counted_in_the_plural_rules_of_the_language(
    client, lang, words
):
    seal = seal_in("active")
    pages = []
    for length in (1, 2):
        Issuer.objects.filter(pk=seal.issuer_id).update(chain_length=length)
        snapshot.invalidate_issuer(Issuer.objects.get(pk=seal.issuer_id))
        pages.append(client.get(f"/verify/{seal.public_id}?lang={lang}").content.decode())
    assert words[0] in pages[0] and words[1] not in pages[0]
    assert words[1] in pages[1]


@pytest.mark.django_db
def test_the_misuse_warning_is_translated(client):
    seal = seal_in("active")
    html = client.get(
        f"/verify/{seal.public_id}?lang=de", HTTP_REFERER="https://copycat.example/page"
    ).content.decode()
    assert "Achtung: Dieses Siegel wurde auf copycat.example angezeigt" in html


# --- the seal image -------------------------------------------------------------------------
IMAGE_WORDS = {
    "en": ("Valid", "checked 22 Nov 2026"),
    "fr": ("Valide", "vérifié le 22/11/2026"),
    "de": ("Gültig", "geprüft am 22.11.2026"),
    "es": ("Válido", "verificado el 22/11/2026"),
    "ar": ("صالح", "تم التحقق في 22 نوفمبر 2026"),
}


@pytest.mark.django_db
@pytest.mark.parametrize("lang", LANGS)
def test_the_image_speaks_the_language_of_lang_only(client, lang):
    with time_machine.travel(NOON, tick=False):
        seal = seal_in("active")
        response = client.get(f"/s/{seal.public_id}.svg?lang={lang}", HTTP_ACCEPT_LANGUAGE="de")
    svg = response.content.decode()
    word, tail = IMAGE_WORDS[lang]
    assert word in svg
    assert tail in svg
    assert "Accept-Language" not in response.get("Vary", "")


@pytest.mark.django_db
def test_the_image_ignores_accept_language_so_shared_caches_stay_correct(client):
    seal = seal_in("active")
    plain = client.get(f"/s/{seal.public_id}.svg")
    german = client.get(f"/s/{seal.public_id}.svg", HTTP_ACCEPT_LANGUAGE="de")
    assert plain.content == german.content
    assert plain["ETag"] == german["ETag"]
    assert "Vary" not in german or "Accept-Language" not in german["Vary"]


@pytest.mark.django_db
def test_each_image_language_has_its_own_etag(client):
    seal = seal_in("active")
    tags = {client.get(f"/s/{seal.public_id}.png?lang={lang}")["ETag"] for lang in LANGS}
    assert len(tags) == len(LANGS)


def _ink_columns(png: bytes, row_from: int, row_to: int) -> tuple[int, int]:
    """Leftmost and rightmost column with the text's dark ink in these rows (the rosette's
    accent is lighter than that)."""
    img = Image.open(io.BytesIO(png)).convert("L")
    xs = [
        x
        for x in range(3, img.width - 3)
        for y in range(row_from, row_to)
        if img.getpixel((x, y)) < 60
    ]
    return min(xs), max(xs)


@pytest.mark.django_db
def test_arabic_images_set_their_text_against_the_right_edge(client):
    seal = award(MemberFactory(display_name="Ab"))
    ltr = client.get(f"/s/{seal.public_id}.png?lang=en").content
    rtl = client.get(f"/s/{seal.public_id}.png?lang=ar").content
    # The member line (short name "Ab") starts right of the rosette in English; in Arabic the
    # rosette is on the right and the line ends against it.
    ltr_left, ltr_right = _ink_columns(ltr, 3, 17)
    rtl_left, rtl_right = _ink_columns(rtl, 3, 17)
    assert 78 < ltr_left < 86 and ltr_right < 105
    assert rtl_left > 135 and 152 < rtl_right < 161


@pytest.mark.django_db
def test_arabic_svg_isolates_right_to_left_text(client):
    seal = seal_in("active")
    svg = client.get(f"/s/{seal.public_id}.svg?lang=ar").content.decode()
    # The status word and its date are one isolate, so the browser orders them as the PNG
    # shows them: the word first from the right, then the date after an EN SPACE.
    line = re.search(r'<text [^>]*text-anchor="end"><tspan[^>]*>(.*?)</text>', svg).group(1)
    pieces = re.findall(r">([^<]*)</tspan>", "<x>" + line)
    assert pieces[0] == "\u2067صالح"  # noqa: RUF001 - Arabic on purpose
    assert pieces[1].startswith("\u2002") and pieces[1].endswith("\u2069")


@pytest.mark.django_db
def test_the_embed_snippet_fixes_the_image_language_in_its_urls():
    seal = seal_in("active")
    snippet = embed_snippet(seal, size="small", lang="fr")
    assert f"/s/{seal.public_id}.png?size=small&amp;lang=fr" in snippet
    assert f"/s/{seal.public_id}.png?size=small&amp;lang=fr&amp;scale=2 2x" in snippet
    assert f'/verify/{seal.public_id}?lang=fr"' in snippet
    assert "label" in snippet.split('alt="')[1]  # the alt text is French too
    assert "lang=" not in embed_snippet(seal, size="small")


@pytest.mark.django_db
def test_the_embed_page_passes_lang_into_both_snippets(client):
    seal = seal_in("active")
    html = client.get(f"/embed/{seal.public_id}?lang=de&format=text").content.decode()
    assert "lang=de" in html
