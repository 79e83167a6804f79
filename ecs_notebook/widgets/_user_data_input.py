"""User data, typed in a box or uploaded as a file (text goes into the box; binary is held)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import ipywidgets as widgets

from ..model import UserData
from .styles import classed, esc

UserDataListener = Callable[[UserData | None], object]


class UserDataInput(widgets.VBox):  # type: ignore[misc]
    """A Textarea and a FileUpload; ``.value`` is the :class:`UserData` to send, or ``None``.

    An uploaded text file is loaded into the box (to read and edit); a binary one (gzip) is
    used as is until the user types. The upload is cleared at once, so the file's bytes do
    not stay in the widget state saved with the notebook.
    """

    def __init__(self) -> None:
        self._uploaded: UserData | None = None
        self._loading = False
        self._listeners: list[UserDataListener] = []
        self.text = classed(
            widgets.Textarea(
                description="user data",
                placeholder="#cloud-config ... (at most 32 KB before base64)",
                continuous_update=True,
                rows=6,
            ),
            "ecs-user-data",
        )
        self.upload = classed(
            widgets.FileUpload(description="upload user data", multiple=False),
            "ecs-user-data-upload",
        )
        self.note = classed(widgets.HTML(), "ecs-user-data-note")
        super().__init__([self.text, widgets.HBox([self.upload, self.note])])
        self.text.observe(self._typed, "value")
        self.upload.observe(self._uploaded_file, "value")

    @property
    def value(self) -> UserData | None:
        """What will be sent: the uploaded binary file, else the box's text (empty: none)."""
        if self._uploaded is not None:
            return self._uploaded
        return UserData.from_text(self.text.value) if self.text.value else None

    def load(self, data: UserData) -> None:
        """Use ``data`` (as an upload does): text goes into the box, binary is held."""
        self._loading = True
        try:
            if data.text is not None:
                self._uploaded = None
                self.text.value = data.text
                note = f"loaded {data.source} ({data.size:,} bytes) into the box"
            else:
                self._uploaded = data
                self.text.value = ""
                note = f"using {data.source} ({data.size:,} bytes, binary); type to replace it"
        finally:
            self._loading = False
        self.note.value = f'<span class="ecs-info">{esc(note)}</span>'
        self._notify()

    def on_change(self, listener: UserDataListener) -> None:
        """Call ``listener(user_data_or_none)`` after every change."""
        self._listeners.append(listener)

    def _notify(self) -> None:
        value = self.value
        for listener in list(self._listeners):
            listener(value)

    def _typed(self, _change: Any) -> None:
        if self._loading:
            return
        if self._uploaded is not None:
            self._uploaded = None
            self.note.value = ""
        self._notify()

    def _uploaded_file(self, change: Any) -> None:
        files = change["new"]
        if not files:
            return
        upload = files[0]
        data = UserData.from_bytes(bytes(upload["content"]), source=str(upload["name"]))
        self.upload.value = ()  # out of the saved widget state and the browser's model
        self.load(data)
