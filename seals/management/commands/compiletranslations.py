"""Compile every app's ``locale/*/LC_MESSAGES/django.po`` to ``django.mo`` with polib.

The build runs it (``make install``, the Dockerfile), because Django's ``compilemessages``
needs GNU gettext, which a machine with only Python lacks. The compiled files are committed
too, so a checkout used without the build still serves every language;
``tests/seals/test_i18n.py`` fails when a committed ``.mo`` is not what its ``.po`` compiles to.
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
    import polib

    return polib.pofile(str(po_path)).to_binary()


class Command(BaseCommand):
    help = "Compile the .po translation catalogs to .mo (pure Python, no gettext needed)."

    def handle(self, *args, **options) -> None:
        for po_path in catalogs():
            po_path.with_suffix(".mo").write_bytes(compiled(po_path))
            if options["verbosity"] > 0:
                self.stdout.write(f"compiled {po_path.relative_to(settings.BASE_DIR)}")
