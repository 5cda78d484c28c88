"""Expiry notices are sent through the outbox: one message for each notice still owed.

Before, each pending notice was a Celery message (or a retry countdown) in the broker plus a
lease on the row (``claimed_at``); the outbox now holds both. Every notice still pending or
claimed gets its message (keyed by the notice, as ``effects.notices`` keys them), due when the
notice is, so none is stranded by the switch.
"""

from django.db import migrations
from django.utils import timezone

TOPIC = "notice.send"


def owe_pending_notices(apps, schema_editor):
    Notice = apps.get_model("seals", "Notice")
    Message = apps.get_model("outbox", "Message")
    now = timezone.now()
    owed = Notice.objects.filter(state__in=["pending", "claimed"]).values_list(
        "pk", "state", "due_at"
    )
    Message.objects.bulk_create(
        (
            Message(
                topic=TOPIC,
                payload={"notice_id": pk},
                key=str(pk),
                due_at=now if state == "claimed" else due,
            )
            for pk, state, due in owed.iterator()
        ),
        batch_size=500,
        ignore_conflicts=True,
    )


def forget_messages(apps, schema_editor):
    apps.get_model("outbox", "Message").objects.filter(topic=TOPIC).delete()


class Migration(migrations.Migration):

    dependencies = [
        ("seals", "0006_cancelled_status_entries"),
        ("outbox", "0002_message_again"),
    ]

    operations = [
        migrations.RunPython(owe_pending_notices, forget_messages),
        migrations.RemoveField(model_name="notice", name="claimed_at"),
    ]
