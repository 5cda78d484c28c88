"""For seals.selectors._holders_id_range, which finds the lowest and the highest member holding
a seal the member list's filters ask for from indexes alone: the seals of each issuer by stored
status in member order, with the columns the filters test; and the member beside the expiry
index (the new one is built before the old one goes, so the lists are never without one).

Built CONCURRENTLY (config.db_indexes): seals keep taking writes while it builds, hence not
atomic; a run that stopped half-way is simply run again.
"""

from django.db import migrations, models

from config.db_indexes import AddIndexOnline, RemoveIndexOnline


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
        AddIndexOnline(
            model_name='seal',
            index=models.Index(
                fields=['issuer', 'status', 'expires_at'],
                include=('member',),
                name='seal_status_expiry_holder',
            ),
        ),
        RemoveIndexOnline(model_name='seal', name='seal_status_expiry'),
    ]
