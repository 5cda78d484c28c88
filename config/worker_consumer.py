"""The Celery worker's consumer, surviving the loss of a Redis broker while it holds messages.

Celery 5.7's ``Consumer.on_connection_error_after_connected`` first ``collect()``s the broken
connection, which leaves its kombu transport without a ``client``, and then closes it. Closing
the default channel requeues the messages the worker holds unacknowledged (``acks_late``:
every task here) through that transport, and kombu's Redis transport reads
``transport.client.hostname`` (``Channel._connparams``): ``AttributeError`` on ``None``. It is
not a connection error, so ``kombu.common.ignore_errors`` lets it through, the worker logged
"Unrecoverable error" and exited, and `make run` under honcho went down with it. It happens only
when the connection drops while the worker holds a message, which is why an idle worker rode
the same outage out.

Nothing is lost by carrying on: with the broker gone those messages could not be requeued
anyway; they stay in Redis's unacked set (requeued after the transport's visibility_timeout),
and the outbox's reconciliation jobs re-send what they stood for sooner (docs/operations.md).
"""

from __future__ import annotations

import logging

from celery.worker.consumer import Consumer as CeleryConsumer

log = logging.getLogger(__name__)


class Consumer(CeleryConsumer):
    def on_connection_error_after_connected(self, exc: Exception) -> None:
        try:
            super().on_connection_error_after_connected(exc)
        except AttributeError:
            # The base method has already dropped the connection (self.connection is None), so
            # the consumer's restart that follows reconnects as after any connection error.
            log.warning("broker lost while holding messages; they are requeued by Redis later")
