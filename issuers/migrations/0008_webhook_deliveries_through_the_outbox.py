"""Webhook deliveries are delivered through the outbox: one message for each one still owed.

Before, each pending delivery was a Celery message (or a retry countdown) in the broker plus a
lease on the row (``claimed_at``); the outbox now holds both. Every delivery not yet delivered
or failed gets its message, due when the delivery is, so none is stranded by the switch.
"""

from django.db import migrations
from django.utils import timezone

TOPIC = "webhook.deliver"


def owe_pending_deliveries(apps, schema_editor):
    WebhookDelivery = apps.get_model("issuers", "WebhookDelivery")
    Message = apps.get_model("outbox", "Message")
    now = timezone.now()
    owed = WebhookDelivery.objects.filter(state__in=["pending", "delivering"]).values_list(
        "pk", "state", "next_attempt_at"
    )
    Message.objects.bulk_create(
        (
            Message(
                topic=TOPIC,
                payload={"delivery_id": pk},
                due_at=now if state == "delivering" else due,
            )
            for pk, state, due in owed.iterator()
        ),
        batch_size=500,
    )


def forget_messages(apps, schema_editor):
    apps.get_model("outbox", "Message").objects.filter(topic=TOPIC).delete()


class Migration(migrations.Migration):

    dependencies = [
        ("issuers", "0007_import_resume"),
        ("outbox", "0002_message_again"),
    ]

    operations = [
        migrations.RunPython(owe_pending_deliveries, forget_messages),
        migrations.RemoveField(model_name="webhookdelivery", name="claimed_at"),
    ]
