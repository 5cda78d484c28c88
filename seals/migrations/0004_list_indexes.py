"""Indexes for the seal list at a million seals: the cursor order, alone and per status.

Built CONCURRENTLY on PostgreSQL (config.db_indexes.AddIndexOnline), hence not atomic.
"""

from django.db import migrations, models

from config.db_indexes import AddIndexOnline, RemoveIndexOnline


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ('seals', '0003_privacy_monthly_stats'),
    ]

    operations = [
        AddIndexOnline(
            model_name='seal',
            index=models.Index(fields=['issuer', 'created_at', 'id'], name='seal_created'),
        ),
        AddIndexOnline(
            model_name='seal',
            index=models.Index(
                fields=['issuer', 'status', 'created_at', 'id'], name='seal_status_created'
            ),
        ),
        AddIndexOnline(
            model_name='seal',
            index=models.Index(fields=['issuer', 'status', 'expires_at'], name='seal_status_expiry'),
        ),
        AddIndexOnline(
            model_name='seal',
            index=models.Index(fields=['issuer', 'expires_at'], name='seal_expiry'),
        ),
        AddIndexOnline(
            model_name='seal',
            index=models.Index(
                fields=['programme', 'created_at', 'id'], name='seal_programme_created'
            ),
        ),
        # Served by seal_status_created, of which it is a prefix.
        RemoveIndexOnline(
            model_name='seal',
            name='seals_seal_issuer__b70674_idx',
        ),
    ]
