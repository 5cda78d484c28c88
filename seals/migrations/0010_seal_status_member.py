"""The seals of each issuer by stored status in member order, with the columns the member list's
seal filters test, for seals.selectors._holders_id_range to find the lowest and the highest
member holding a matching seal from the index alone.

Built CONCURRENTLY (config.db_indexes): seals keep taking writes while it builds, hence not
atomic; a run that stopped half-way is simply run again.
"""

from django.db import migrations, models

from config.db_indexes import AddIndexOnline


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ('issuers', '0020_member_search_names'),
        ('seals', '0009_misuse_reports'),
    ]

    operations = [
        AddIndexOnline(
            model_name='seal',
            index=models.Index(
                fields=['issuer', 'status', 'member', 'expires_at', 'valid_from', 'programme'],
                name='seal_status_member',
            ),
        ),
    ]
