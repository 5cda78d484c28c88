"""The worker's consumer carries on when kombu fails to requeue through a lost Redis connection."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from celery.worker.consumer import Consumer as CeleryConsumer

from config.worker_consumer import Consumer


class LostConnection:
    """What Celery 5.7 holds after Redis went away with messages unacknowledged: collect()
    works, close() fails inside kombu's Redis channel (``None.hostname``), not with a
    connection error."""

    connection_errors = channel_errors = ()

    def __init__(self) -> None:
        self.collected = self.closed = False

    def collect(self, socket_timeout: float | None = None) -> None:
        self.collected = True

    def close(self) -> None:
        self.closed = True
        raise AttributeError("'NoneType' object has no attribute 'hostname'")


def _consumer(cls: type) -> CeleryConsumer:
    consumer = object.__new__(cls)
    consumer.connection = LostConnection()
    conf = SimpleNamespace(worker_cancel_long_running_tasks_on_connection_loss=True)
    consumer.app = SimpleNamespace(conf=conf)
    return consumer


def test_celerys_own_consumer_dies_of_it():
    with pytest.raises(AttributeError):
        CeleryConsumer.on_connection_error_after_connected(_consumer(CeleryConsumer), OSError())


def test_ours_drops_the_connection_and_carries_on_to_reconnect():
    consumer = _consumer(Consumer)
    lost = consumer.connection
    consumer.on_connection_error_after_connected(OSError("Connection closed by server."))
    assert lost.collected and lost.closed
    assert consumer.connection is None  # the restart that follows opens a new one


def test_the_worker_uses_it():
    from config.celery import app

    assert app.conf.worker_consumer == "config.worker_consumer:Consumer"
