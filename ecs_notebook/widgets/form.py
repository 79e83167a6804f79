"""The reinstall form: every ``os-reinstall`` option, validated by the request model as typed.

The form holds display state only. It builds a :class:`ReinstallRequest` from its inputs
after every change and shows what ``ReinstallRequest.validate`` says, next to each field,
once the user has touched that field (or tried to submit): a fresh form shows no error,
only a neutral "still needed" line by the button. The admin password is typed twice; the
two are compared as soon as the second box is left (Tab) or Enter is pressed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Final

import ipywidgets as widgets

from ..client import SyncEcsClient
from ..errors import EcsNotebookError
from ..model import WITH_STOP_SERVER, Problem, ReinstallRequest, ValidationError
from ..model.problems import errors
from ..model.servers import Keypair
from ._problems import OTHER, route
from ._secret_input import SecretInput
from ._user_data_input import UserDataInput
from .styles import (
    OTHER_PROBLEMS,
    PROBLEM_CLASSES,
    classed,
    esc,
    responsive,
    style_widget,
)

LOGIN_KEYPAIR: Final = "key pair"
LOGIN_PASSWORD: Final = "password"  # noqa: S105 - a label, not a password
LOGIN_NONE: Final = "user data only"
_NO_KEYPAIR: Final = ("choose a key pair", "")

RequestListener = Callable[[ReinstallRequest], object]

#: The password is typed twice; these are the form's own problems about the second box.
PASSWORDS_DIFFER: Final = "the two passwords differ: type the same password in both boxes"
PASSWORD_NOT_REPEATED: Final = "type the password again in the second box"  # noqa: S105


def _text(description: str, css: str, placeholder: str = "") -> Any:
    return classed(
        widgets.Text(description=description, placeholder=placeholder, continuous_update=True),
        css,
    )


class ReinstallForm(widgets.VBox):  # type: ignore[misc]
    """Compose one ``os-reinstall`` request; Submit stays disabled while any error remains.

    ``client`` fills the key pair list (``list_keypairs``) and looks up a key pair's user id
    (``get_keypair``); without one, pass ``keypairs``. ``region`` turns on its warnings.
    """

    def __init__(
        self,
        client: SyncEcsClient | None = None,
        *,
        keypairs: Sequence[Keypair] | None = None,
        region: str | None = None,
        os_type: str | None = None,
    ) -> None:
        self.client = client
        self.region = region
        self.os_type = os_type
        self.request = ReinstallRequest()
        self.problems: tuple[Problem, ...] = ()
        self._keypairs: dict[str, Keypair] = {}
        self._loading = False
        self._lookup_note = ""
        self._change_listeners: list[RequestListener] = []
        self._touched: set[str] = set()
        self._show_all = False
        self._submit_listeners: list[RequestListener] = []

        self.login = classed(
            widgets.ToggleButtons(
                options=[LOGIN_KEYPAIR, LOGIN_PASSWORD, LOGIN_NONE], description="log in with"
            ),
            "ecs-login",
        )
        self.keyname = classed(
            widgets.Dropdown(options=[_NO_KEYPAIR], value="", description="key pair"),
            "ecs-keyname",
        )
        self.userid = _text("user id", "ecs-userid", "IAM user id, 32 hex characters")
        self.adminpass = SecretInput("admin password", "ecs-adminpass")
        self.adminpass_repeat = SecretInput("repeat password", "ecs-adminpass-repeat")
        self.mode = classed(
            widgets.Checkbox(value=True, description=f"stop the server first ({WITH_STOP_SERVER})"),
            "ecs-mode",
        )
        self.byol = classed(
            widgets.Checkbox(description="BYOL (bring your own licence)"), "ecs-byol"
        )
        self.encrypt = classed(
            widgets.Checkbox(description="encrypt the system disk"), "ecs-encrypt"
        )
        self.cmk_id = _text("CMK id", "ecs-cmkid", "KMS key id, 36 characters")
        self.user_data_input = classed(UserDataInput(), "ecs-user-data-input")
        self.user_data = self.user_data_input.text
        self.upload = self.user_data_input.upload
        self.user_data_note = self.user_data_input.note
        self.problem_areas: dict[str, Any] = {
            field: classed(widgets.HTML(), "ecs-problem", css)
            for field, css in {**PROBLEM_CLASSES, OTHER: OTHER_PROBLEMS}.items()
        }
        self.submit_button = classed(
            widgets.Button(
                description="Plan reinstall",
                button_style="primary",
                disabled=True,
                tooltip="review the servers and confirm; nothing is sent yet",
            ),
            "ecs-submit",
        )
        self.message = classed(widgets.HTML(), "ecs-form-message")
        self.todo = classed(widgets.HTML(), "ecs-form-todo")

        p = self.problem_areas
        self._keypair_group = widgets.VBox([self.keyname, p["keyname"], self.userid, p["userid"]])
        self._password_group = widgets.VBox([self.adminpass, self.adminpass_repeat, p["adminpass"]])
        super().__init__(
            [
                style_widget(),
                self.login,
                self._keypair_group,
                self._password_group,
                self.mode,
                p["mode"],
                self.byol,
                p["BYOL"],
                self.encrypt,
                p["__system__encrypted"],
                self.cmk_id,
                p["__system__cmkid"],
                self.user_data_input,
                p["user_data"],
                p[OTHER],
                widgets.HBox([self.submit_button, self.todo]),
                self.message,
            ]
        )
        self.add_class("ecs-form")
        responsive(self)

        touches = {
            self.userid: ("userid",),
            self.mode: ("mode",),
            self.byol: ("BYOL",),
            self.encrypt: ("__system__encrypted", "__system__cmkid"),
            self.cmk_id: ("__system__cmkid",),
        }
        for control, names in touches.items():
            control.observe(self._touch_handler(*names), "value")
        self.login.observe(self._login_changed, "value")
        self.keyname.observe(self._keyname_changed, "value")
        self.user_data_input.on_change(lambda _: self._touch("user_data"))
        self.adminpass.on_change(lambda _: self._touch("adminpass"))
        self.adminpass_repeat.on_change(lambda _: self._touch("adminpass"))
        self.submit_button.on_click(lambda _: self._click_submit())

        if keypairs is not None:
            self.set_keypairs(keypairs)
        elif client is not None:
            self.refresh_keypairs()
        self._changed()

    # -- code API --------------------------------------------------------------------------

    def on_change(self, listener: RequestListener) -> None:
        """Call ``listener(request)`` after every change (valid or not)."""
        self._change_listeners.append(listener)

    def on_submit(self, listener: RequestListener) -> None:
        """Call ``listener(request)`` when a valid request is submitted."""
        self._submit_listeners.append(listener)

    def submit(self) -> ReinstallRequest:
        """Hand the current request to the submit listeners; ``ValidationError`` if invalid.

        From then on every problem is shown, touched or not.
        """
        self._show_all = True
        request = self._changed()
        own = [p for p in self._own_problems() if p.severity == "error"]
        if own:
            raise ValidationError(own)
        request.body()  # the model decides: raises ValidationError while errors remain
        for listener in list(self._submit_listeners):
            listener(request)
        return request

    def set_password(self, password: str | None) -> None:
        """Set the admin password from code, in both boxes (kept as a Secret, never in widget
        state)."""
        self.adminpass.set(password)
        self.adminpass_repeat.set(password)

    def set_keypairs(self, keypairs: Sequence[Keypair]) -> None:
        """Fill the key pair list."""
        self._keypairs = {k.name: k for k in keypairs}
        current = self.keyname.value
        self.keyname.options = [_NO_KEYPAIR, *((k.name, k.name) for k in keypairs)]
        if current in self._keypairs:
            self.keyname.value = current
        else:  # the only key pair there is: preselect it
            self.keyname.value = keypairs[0].name if len(keypairs) == 1 else ""

    def refresh_keypairs(self) -> None:
        """Reload the key pair list from the client."""
        if self.client is None:
            return
        try:
            self.set_keypairs(self.client.list_keypairs())
        except EcsNotebookError as exc:
            self._lookup_note = f"could not list key pairs: {exc}"
            self._changed()

    @property
    def sendable(self) -> bool:
        """True when no error remains."""
        return not errors(self.problems)

    # -- building the request ----------------------------------------------------------------

    def _build(self) -> ReinstallRequest:
        login = self.login.value
        keyed = login == LOGIN_KEYPAIR
        return ReinstallRequest(
            adminpass=self.adminpass.secret if login == LOGIN_PASSWORD else None,
            keyname=(self.keyname.value or None) if keyed else None,
            userid=self.userid.value if keyed else None,
            mode=WITH_STOP_SERVER if self.mode.value else None,
            user_data=self.user_data_input.value,
            byol=True if self.byol.value else None,
            encrypt_system_disk=True if self.encrypt.value else None,
            cmk_id=self.cmk_id.value,
            os_type=self.os_type,
        )

    def _changed(self, _change: Any = None) -> ReinstallRequest:
        if self._loading:
            return self.request
        login = self.login.value
        self._keypair_group.layout.display = "" if login == LOGIN_KEYPAIR else "none"
        self._password_group.layout.display = "" if login == LOGIN_PASSWORD else "none"
        request = self._build()
        self.request = request
        self.problems = (*request.validate(region=self.region), *self._own_problems())
        self._show_problems(login)
        self.submit_button.disabled = not self.sendable
        for listener in list(self._change_listeners):
            listener(request)
        return request

    def _own_problems(self) -> list[Problem]:
        """The second password box: it must hold the same password as the first."""
        if self.login.value != LOGIN_PASSWORD or self.adminpass.secret is None:
            return []
        repeat = self.adminpass_repeat.secret
        if repeat is None:
            return [Problem("adminpass", PASSWORD_NOT_REPEATED)]
        if repeat != self.adminpass.secret:
            return [Problem("adminpass", PASSWORDS_DIFFER)]
        return []

    def _touch(self, *fields: str) -> None:
        self._touched.update(fields)
        self._changed()

    def _login_changed(self, change: Any) -> None:
        # "user data only": the user data is now what the user is working on.
        self._touch(*(("user_data",) if change["new"] == LOGIN_NONE else ()))

    def _touch_handler(self, *fields: str) -> Callable[[Any], None]:
        return lambda _change: self._touch(*fields)

    def _untouched(self, problem: Problem) -> bool:
        """An error about a field the user has not been to yet (kept off the screen)."""
        return (
            not self._show_all
            and problem.severity == "error"
            and problem.field in PROBLEM_CLASSES
            and problem.field not in self._touched
        )

    def _show_problems(self, login: str) -> None:
        hidden = set()
        if login != LOGIN_KEYPAIR:
            hidden |= {"keyname", "userid"}
        if login != LOGIN_PASSWORD:
            hidden.add("adminpass")
        quiet = [p for p in self.problems if self._untouched(p)]
        loud = [p for p in self.problems if not self._untouched(p)]
        shown = route(loud, self.problem_areas, hidden)
        needed = list(dict.fromkeys(p.label for p in quiet))
        self.todo.value = (
            f'<span class="ecs-info">still needed: {esc(", ".join(needed))}</span>'
            if needed
            else ""
        )
        if self._lookup_note:
            shown["keyname"] += f'<div class="ecs-info">{esc(self._lookup_note)}</div>'
        for field, area in self.problem_areas.items():
            area.value = shown[field]

    # -- events ------------------------------------------------------------------------------

    def _keyname_changed(self, change: Any) -> None:
        name = change["new"]
        self._lookup_note = ""
        self._touched |= {"keyname", "userid"}  # a pair: the user id comes with the key
        if name:
            user_id = self._keypair_user_id(name)
            if user_id:
                self._loading = True
                try:
                    self.userid.value = user_id
                finally:
                    self._loading = False
        self._changed()

    def _keypair_user_id(self, name: str) -> str | None:
        known = self._keypairs.get(name)
        if known is not None and known.user_id:
            return known.user_id
        if self.client is None:
            return None
        try:
            found = self.client.get_keypair(name)
        except EcsNotebookError as exc:
            self._lookup_note = f"could not look up the key pair's user id: {exc}"
            return None
        self._keypairs[name] = found
        if not found.user_id:
            self._lookup_note = "the API does not say which user owns this key pair"
        return found.user_id

    def _click_submit(self) -> None:
        try:
            self.submit()
        except ValidationError as exc:
            self.message.value = f'<div class="ecs-err">{esc(exc)}</div>'
        else:
            self.message.value = ""

    def __repr__(self) -> str:
        return f"ReinstallForm({self.request!r})"
