"""Every row status has a colour and a place in the fleet picture's stack (no drift)."""

from ecs_notebook.fleet.records import STATUSES
from ecs_notebook.widgets.picture import STACK_ORDER
from ecs_notebook.widgets.styles import STATUS_COLOURS


def test_every_status_has_a_colour() -> None:
    assert set(STATUS_COLOURS) == set(STATUSES)


def test_every_status_has_a_place_in_the_picture_stack() -> None:
    assert sorted(STACK_ORDER) == sorted(STATUSES)  # each once
