"""The embedded default's broker writes each message whole: a reader in another process sees a
complete message or none, never the empty file kombu's own writer briefly leaves."""

from __future__ import annotations

import os
from queue import Empty

import pytest
from kombu import Connection

import config.celery  # noqa: F401  (installs the transport for "filesystem://")
from config import broker_files


@pytest.fixture
def channel(tmp_path):
    folders = {"data_folder_in": str(tmp_path), "data_folder_out": str(tmp_path)}
    with Connection("filesystem://", transport_options=folders) as connection:
        yield connection.default_channel


def test_filesystem_urls_use_the_whole_message_transport(channel):
    assert isinstance(channel, broker_files.Channel)


def test_a_reader_never_sees_a_message_being_written(channel, monkeypatch):
    seen_while_writing = []
    replace = os.replace

    def look_then_replace(src, dst):
        try:
            seen_while_writing.append(channel._get("jobs"))
        except Empty:
            seen_while_writing.append(None)
        replace(src, dst)

    monkeypatch.setattr(broker_files.os, "replace", look_then_replace)

    channel._put("jobs", {"body": "whole"})

    assert seen_while_writing == [None]  # written, not yet in place: invisible to readers
    assert channel._get("jobs") == {"body": "whole"}
    with pytest.raises(Empty):
        channel._get("jobs")
