"""The public register: who is listed (an issuer default, each member's choice) and the index of
its ?country= search.

The index is built CONCURRENTLY on PostgreSQL (config.db_indexes.AddIndexOnline), hence not
atomic. Both columns are added with a constant default, which PostgreSQL 11+ records in the
catalogue without rewriting the member table.
"""

from django.db import migrations, models

from config.db_indexes import AddIndexOnline


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ('issuers', '0009_issuer_time_zone'),
    ]

    operations = [
        migrations.AddField(
            model_name='issuer',
            name='register_lists_members',
            field=models.BooleanField(
                default=True,
                help_text='Members appear in the public register unless they opt out.',
            ),
        ),
        migrations.AddField(
            model_name='member',
            name='register_listed',
            field=models.BooleanField(
                blank=True, default=None, help_text='Listed in the public register.', null=True
            ),
        ),
        AddIndexOnline(
            model_name='member',
            index=models.Index(
                fields=['issuer', 'country', 'display_name', 'id'], name='member_country'
            ),
        ),
    ]
