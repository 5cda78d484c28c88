"""The embedded default's broker: kombu's file-system transport, with messages written whole.

kombu's writer opens ``<time>_<uuid>.<queue>.msg`` in the queue folder and then writes it; a
reader in another process lists the folder, moves the file away and reads it, taking no lock.
A reader that comes between the open and the write moves an empty file: the payload is lost and
``json.loads`` raises inside the worker's drain loop, which kills the worker (seen with two
beats and a worker publishing every few seconds). Here a message is written under a name the
readers skip (it does not end in ``.<queue>.msg``) and renamed into place when complete; a
rename within one folder is atomic, so a reader sees a whole message or none.
"""

from __future__ import annotations

import os
import uuid
from time import monotonic
from typing import Any

from kombu.exceptions import ChannelError
from kombu.transport import filesystem
from kombu.utils.encoding import str_to_bytes
from kombu.utils.json import dumps


class Channel(filesystem.Channel):
    # The stubs of kombu's base and file-system channels name this argument differently.
    def _put(self, queue: str, payload: dict[str, Any], **kwargs: Any) -> None:  # type: ignore[override]
        name = f"{round(monotonic() * 1000)}_{uuid.uuid4()}.{queue}.msg"
        final = os.path.join(self.data_folder_out, name)
        partial = os.path.join(self.data_folder_out, f".partial-{name}")
        try:
            with open(partial, "wb", buffering=0) as f:
                f.write(str_to_bytes(dumps(payload)))
            os.replace(partial, final)
        except OSError as exc:
            raise ChannelError(f"Cannot add file {final!r} to directory") from exc


class Transport(filesystem.Transport):
    Channel = Channel
