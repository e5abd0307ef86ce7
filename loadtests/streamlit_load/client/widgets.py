"""The widgets of an app the client has never seen, as its frames describe them, and a new value
for each as a person would set it: what a load user for any app needs (``streamlit_load.AnyAppUser``).

Every widget element carries its id, label, fragment, form and the proto of its kind (options,
bounds, step); ``new_state`` returns a ``WidgetState`` with a value the widget accepts, sent in the
field Streamlit 1.67 registers for that kind (``value_type`` in ``streamlit/elements/widgets``),
or None for a widget a load user leaves alone: one in a form (it reruns only on submit), a
disabled one, and kinds with no value to make up (file and camera inputs, chat input, data editor).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from streamlit.proto.Delta_pb2 import Delta
from streamlit.proto.WidgetStates_pb2 import WidgetState

from .messages import delta_widget

WORDS = ("north", "south", "widgets", "march", "total", "alpha", "beta", "report")
DAY = timedelta(days=1)


@dataclass(frozen=True)
class Widget:
    """One widget of the page: its id, kind (the element's proto type: ``slider``, ``selectbox``...),
    label, the fragment it lives in ("" = none: changing it reruns the whole script) and its proto."""

    id: str
    kind: str
    label: str
    fragment_id: str
    proto: Any

    @property
    def changeable(self) -> bool:
        return (
            self.kind in MAKERS
            and not getattr(self.proto, "form_id", "")
            and not getattr(self.proto, "disabled", False)
        )


def widget_of(delta: Delta) -> Widget | None:
    """The widget a delta draws, None for any other delta."""
    found = delta_widget(delta)
    if found is None:
        return None
    widget_id, label, kind = found
    proto = type(getattr(delta.new_element, kind))()
    proto.CopyFrom(getattr(delta.new_element, kind))
    return Widget(widget_id, kind, label, delta.fragment_id, proto)


def new_state(widget: Widget, rng: random.Random) -> WidgetState | None:
    """A value for ``widget`` a person could set, or None for one a load user leaves alone."""
    if not widget.changeable:
        return None
    state = WidgetState(id=widget.id)
    MAKERS[widget.kind](widget.proto, state, rng)
    return state


def _stepped(low: float, high: float, step: float, rng: random.Random) -> float:
    if step <= 0 or high <= low:
        return low
    return low + rng.randrange(int((high - low) / step) + 1) * step


def _slider(proto: Any, state: WidgetState, rng: random.Random) -> None:
    if proto.options:  # a select_slider: formatted options, one or two (a range)
        count = min(len(proto.default) or 1, len(proto.options))
        picks = sorted(rng.sample(range(len(proto.options)), count))
        state.string_array_value.data.extend(proto.options[i] for i in picks)
        return
    values = sorted(_stepped(proto.min, proto.max, proto.step, rng) for _ in proto.default or [0])
    state.double_array_value.data.extend(values)


def _number(proto: Any, state: WidgetState, rng: random.Random) -> None:
    low = proto.min if proto.has_min else (proto.default or 0) - 10 * (proto.step or 1)
    high = proto.max if proto.has_max else (proto.default or 0) + 10 * (proto.step or 1)
    value = _stepped(low, high, proto.step or 1, rng)
    if proto.data_type == proto.INT:
        state.int_value = int(value)
    else:
        state.double_value = value


def _choice(proto: Any, state: WidgetState, rng: random.Random) -> None:
    if proto.options:
        state.string_value = rng.choice(list(proto.options))


def _multi(proto: Any, state: WidgetState, rng: random.Random) -> None:
    options = list(proto.options)
    limit = proto.max_selections or len(options)
    state.string_array_value.data.extend(rng.sample(options, rng.randint(0, min(limit, len(options)))))


def _text(_proto: Any, state: WidgetState, rng: random.Random) -> None:
    state.string_value = " ".join(rng.sample(WORDS, 2))


def _date(proto: Any, state: WidgetState, rng: random.Random) -> None:
    low = date.fromisoformat(proto.min) if proto.min else date.today() - 365 * DAY
    high = date.fromisoformat(proto.max) if proto.max else date.today() + 365 * DAY
    days = sorted(low + rng.randrange((high - low).days + 1) * DAY for _ in range(2 if proto.is_range else 1))
    state.string_array_value.data.extend(day.isoformat() for day in days)


def _time(_proto: Any, state: WidgetState, rng: random.Random) -> None:
    state.string_value = f"{rng.randrange(24):02d}:{rng.randrange(0, 60, 15):02d}"


def _bool(_proto: Any, state: WidgetState, rng: random.Random) -> None:
    state.bool_value = rng.random() < 0.5


def _click(_proto: Any, state: WidgetState, _rng: random.Random) -> None:
    state.trigger_value = True


def _colour(_proto: Any, state: WidgetState, rng: random.Random) -> None:
    state.string_value = f"#{rng.randrange(1 << 24):06x}"


MAKERS = {
    "slider": _slider,
    "number_input": _number,
    "selectbox": _choice,
    "radio": _choice,
    "multiselect": _multi,
    "text_input": _text,
    "text_area": _text,
    "date_input": _date,
    "time_input": _time,
    "checkbox": _bool,
    "button": _click,
    "color_picker": _colour,
}
