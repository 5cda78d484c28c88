"""Compile every app's ``locale/*/LC_MESSAGES/django.po`` to ``django.mo`` with polib.

The compiled files are committed, so a fresh machine (Python only, no GNU gettext, which
Django's ``compilemessages`` needs) serves every language at once; ``tests/seals/test_i18n.py``
fails when a ``.mo`` is not what its ``.po`` compiles to. Run this after editing a ``.po``.
"""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand


def catalogs() -> list[Path]:
    return sorted(
        path
        for folder in settings.LOCALE_PATHS
        for path in Path(folder).glob("*/LC_MESSAGES/django.po")
    )


def compiled(po_path: Path) -> bytes:
    import polib  # a development dependency: only editing translations needs it

    return polib.pofile(str(po_path)).to_binary()


class Command(BaseCommand):
    help = "Compile the .po translation catalogs to .mo (pure Python, no gettext needed)."

    def handle(self, *args, **options) -> None:
        for po_path in catalogs():
            po_path.with_suffix(".mo").write_bytes(compiled(po_path))
            self.stdout.write(f"compiled {po_path.relative_to(settings.BASE_DIR)}")
