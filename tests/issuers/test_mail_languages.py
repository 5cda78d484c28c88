from django.conf import settings

from issuers.models import MAIL_LANGUAGES, Member


def test_members_choose_among_exactly_the_products_languages():
    # The model spells them out (a migration must not follow a setting); the two stay equal.
    assert [code for code, _ in MAIL_LANGUAGES] == [code for code, _ in settings.LANGUAGES]
    assert Member._meta.get_field("language").default == settings.LANGUAGE_CODE
