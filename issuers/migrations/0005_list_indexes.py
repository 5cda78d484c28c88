"""Indexes for the member list at a million members: one per cursor order, trigram search.

Built CONCURRENTLY on PostgreSQL (config.db_indexes.AddIndexOnline), hence not atomic; pg_trgm
is a trusted extension (PostgreSQL 13+): the database owner may create it. Nothing here needs
the extension on SQLite, where the trigram indexes are no-ops.
"""

from django.contrib.postgres.indexes import OpClass
from django.db import migrations, models
from django.db.models.functions import Upper

from config.db_indexes import (
    AddIndexOnline,
    PostgresGinIndex,
    RemoveIndexOnline,
    TrigramExtensionKept,
)


def analyze_members(apps, schema_editor):
    # Statistics of an expression index come from ANALYZE only; until autovacuum gets round to
    # it the planner would guess how many names match a ?q= and may walk the whole list.
    if schema_editor.connection.vendor == 'postgresql':
        schema_editor.execute('ANALYZE issuers_member')


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ('issuers', '0004_webhook_attempts_import_errors'),
    ]

    operations = [
        TrigramExtensionKept(),
        AddIndexOnline(
            model_name='member',
            index=models.Index(fields=['issuer', 'created_at', 'id'], name='member_created'),
        ),
        AddIndexOnline(
            model_name='member',
            index=models.Index(fields=['issuer', 'updated_at', 'id'], name='member_updated'),
        ),
        AddIndexOnline(
            model_name='member',
            index=models.Index(fields=['issuer', 'display_name', 'id'], name='member_display_name'),
        ),
        AddIndexOnline(
            model_name='member',
            index=models.Index(fields=['issuer', 'legal_name', 'id'], name='member_legal_name'),
        ),
        AddIndexOnline(
            model_name='member',
            index=PostgresGinIndex(
                OpClass(Upper('legal_name'), name='gin_trgm_ops'), name='member_legal_name_trgm'
            ),
        ),
        AddIndexOnline(
            model_name='member',
            index=PostgresGinIndex(
                OpClass(Upper('display_name'), name='gin_trgm_ops'),
                name='member_display_name_trgm',
            ),
        ),
        AddIndexOnline(
            model_name='member',
            index=PostgresGinIndex(
                fields=['domains'], opclasses=['jsonb_path_ops'], name='member_domains'
            ),
        ),
        AddIndexOnline(
            model_name='member',
            index=models.Index(Upper('external_ref'), name='member_ref_upper'),
        ),
        # Served by member_display_name, of which it is a prefix.
        RemoveIndexOnline(
            model_name='member',
            name='issuers_mem_issuer__c14626_idx',
        ),
        migrations.RunPython(analyze_members, migrations.RunPython.noop, elidable=True),
    ]
