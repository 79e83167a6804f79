"""Record what widgets would send to the browser, and act as the browser would.

:class:`CommRecorder` stands in for the kernel's comms (as ipywidgets' own tests do): every
widget created while it is installed sends its open, update and close messages to it. Tests
and benchmarks use it to prove that a secret never leaves the kernel and to measure bytes.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from typing import Any

import comm
from comm.base_comm import BaseComm


@dataclass(frozen=True)
class Message:
    """One comm message: ``comm_open``, ``comm_msg`` or ``comm_close``."""

    kind: str
    comm_id: str
    text: str  # the JSON payload as the kernel would serialise it
    buffers: tuple[bytes, ...] = ()

    @property
    def size(self) -> int:
        """Bytes on the wire for the payload (JSON in UTF-8 plus binary buffers)."""
        return len(self.text.encode("utf-8")) + sum(len(b) for b in self.buffers)

    @property
    def data(self) -> Any:
        """The payload, parsed."""
        return json.loads(self.text)


def _default(value: Any) -> str:
    return repr(value)


class _RecordingComm(BaseComm):
    def __init__(self, recorder: CommRecorder, **kwargs: Any) -> None:
        self._recorder = recorder
        super().__init__(**kwargs)

    def publish_msg(
        self,
        msg_type: str,
        data: dict[str, Any] | None = None,
        metadata: dict[str, Any] | None = None,
        buffers: list[bytes] | None = None,
        **keys: Any,
    ) -> None:
        self._recorder.record(msg_type, self.comm_id, data, buffers)


class CommRecorder:
    """Replace ``comm.create_comm`` and keep every message widgets send (thread-safe)."""

    def __init__(self) -> None:
        self.messages: list[Message] = []
        self._lock = threading.Lock()
        self._saved: Any = None

    def install(self) -> CommRecorder:
        """Start recording comms created from now on."""
        self._saved = comm.create_comm
        comm.create_comm = lambda *args, **kwargs: _RecordingComm(self, **kwargs)
        return self

    def uninstall(self) -> None:
        """Put the original comm factory back."""
        if self._saved is not None:
            comm.create_comm = self._saved
            self._saved = None

    def __enter__(self) -> CommRecorder:
        return self.install()

    def __exit__(self, *exc_info: object) -> None:
        self.uninstall()

    def record(self, kind: str, comm_id: str, data: Any, buffers: list[Any] | None = None) -> None:
        """Keep one message (called by the recording comms)."""
        text = json.dumps(data or {}, default=_default, ensure_ascii=False)
        blobs = tuple(bytes(b) for b in buffers or ())
        with self._lock:
            self.messages.append(Message(kind, comm_id, text, blobs))

    def mark(self) -> int:
        """A position to measure from (``since(mark)``)."""
        with self._lock:
            return len(self.messages)

    def since(self, mark: int = 0) -> list[Message]:
        """The messages recorded after ``mark``."""
        with self._lock:
            return self.messages[mark:]

    def bytes_since(self, mark: int = 0) -> int:
        """Bytes sent after ``mark``."""
        return sum(m.size for m in self.since(mark))

    def transcript(self) -> str:
        """Every payload, for searching (``secret not in recorder.transcript()``)."""
        with self._lock:
            parts = [m.text for m in self.messages]
            parts += [b.decode("utf-8", "replace") for m in self.messages for b in m.buffers]
        return "\n".join(parts)


def send_from_browser(widget: Any, buffers: list[bytes] | None = None, **state: Any) -> None:
    """Change traits as the browser would: an ``update`` message on the widget's comm.

    With ``buffers``, the state may hold binary values at ``buffer_paths`` given as the
    ``_buffer_paths`` keyword.
    """
    paths = state.pop("_buffer_paths", [])
    widget._handle_msg(
        {
            "content": {"data": {"method": "update", "state": state, "buffer_paths": paths}},
            "buffers": [memoryview(b) for b in buffers or ()],
        }
    )


def upload_from_browser(upload: Any, name: str, content: bytes, mime: str = "") -> None:
    """Upload a file into a ``FileUpload`` widget as the browser would."""
    entry = {"name": name, "type": mime, "size": len(content), "last_modified": 0, "content": None}
    send_from_browser(
        upload, buffers=[content], value=[entry], _buffer_paths=[["value", 0, "content"]]
    )
