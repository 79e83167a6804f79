"""A password box that never keeps the password in synced widget state.

A ``Password`` widget's ``value`` is widget state: it is echoed back to the browser and saved
in the notebook's widget metadata, displayed or not. Here the typed text is taken as a
:class:`Secret` the moment it reaches the kernel (a trait validator, so the trait never holds
it), the box is cleared in the browser, and only "password set (N characters)" is shown.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import ipywidgets as widgets
from traitlets import Unicode, validate

from ..secrets import Secret, secret_or_none
from .styles import classed, esc

SecretListener = Callable[[Secret | None], object]


class _WriteOnlyPassword(widgets.Password):  # type: ignore[misc]
    """A ``Password`` whose ``value`` is always empty: what is typed goes to ``capture``."""

    # echo_update=False: the kernel must not send the typed text back as an echo.
    value = Unicode("", help="Always empty; see SecretInput.").tag(sync=True, echo_update=False)

    def __init__(self, capture: Callable[[Secret], None], **kwargs: Any) -> None:
        self._capture = capture
        super().__init__(**kwargs)

    @validate("value")
    def _take_secret(self, proposal: Any) -> str:
        text = proposal["value"]
        if text:
            self._capture(Secret(text))
        return ""


class SecretInput(widgets.VBox):  # type: ignore[misc]
    """A write-only password input: ``.secret`` holds the last password entered, as a Secret.

    The box sends on Enter or when it loses focus (``continuous_update=False``): it is
    cleared after each entry, so it cannot validate keystroke by keystroke (a box that sent
    every keystroke would have to keep the text in the browser's widget state).
    """

    def __init__(self, description: str = "password", css_class: str = "ecs-secret") -> None:
        self._secret: Secret | None = None
        self._listeners: list[SecretListener] = []
        self.box = classed(
            _WriteOnlyPassword(
                self._captured,
                description=description,
                placeholder="type it, then Tab or Enter",
                continuous_update=False,
            ),
            css_class,
        )
        self.status = classed(widgets.HTML(), f"{css_class}-status")
        self.clear_button = classed(
            widgets.Button(description="clear", tooltip="forget the password", disabled=True),
            f"{css_class}-clear",
        )
        self.clear_button.layout.width = "5em"
        self.clear_button.on_click(lambda _: self.clear())
        super().__init__([widgets.HBox([self.box, self.clear_button]), self.status])
        self._show()

    @property
    def secret(self) -> Secret | None:
        """The password entered last, or ``None``."""
        return self._secret

    def set(self, value: str | Secret | None) -> None:
        """Set (or with ``None``/``""`` forget) the password from code."""
        self._secret = secret_or_none(value)
        self._show()
        for listener in list(self._listeners):
            listener(self._secret)

    def clear(self) -> None:
        """Forget the password."""
        self.set(None)

    def on_change(self, listener: SecretListener) -> None:
        """Call ``listener(secret_or_none)`` whenever the password is set or cleared."""
        self._listeners.append(listener)

    def _captured(self, secret: Secret) -> None:
        self.set(secret)

    def _show(self) -> None:
        if self._secret is None:
            self.status.value = '<span class="ecs-info">no password set</span>'
        else:
            n = len(self._secret)
            self.status.value = esc(f"password set ({n} character{'s' if n != 1 else ''})")
        self.clear_button.disabled = self._secret is None

    def __repr__(self) -> str:
        state = "set" if self._secret is not None else "empty"
        return f"SecretInput({state})"
