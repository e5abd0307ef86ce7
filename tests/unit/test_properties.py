"""Property tests (Hypothesis): the protocol client's decoding and the app's date handling."""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd
from google.protobuf.message import DecodeError
from hypothesis import given, settings
from hypothesis import strategies as st
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

from sales_dashboard.data import generate_sales
from sales_dashboard.panels import best_and_worst, month_of, month_start
from streamlit_load.client import StreamlitSession
from streamlit_load.client.messages import ELEMENT_ID_PREFIX, MessageCache, date_state, user_key_of

DATA = generate_sales(26, 2023, 2023)
DAYS = st.dates(min_value=date(2023, 1, 1), max_value=date(2023, 12, 31))
TEXT = st.text(max_size=200)


def markdown_msg(body: str, fragment: str, cacheable: bool, hash_: str) -> ForwardMsg:
    msg = ForwardMsg()
    msg.hash = hash_
    msg.metadata.cacheable = cacheable
    msg.delta.fragment_id = fragment
    msg.delta.new_element.markdown.body = body
    return msg


@given(st.binary(max_size=512))
def test_decoding_arbitrary_bytes_gives_a_message_or_a_decode_error(payload):
    session = StreamlitSession("http://127.0.0.1:9", message_cache=False)
    try:
        msg, hit = session._decode(payload)
    except DecodeError:
        return
    assert isinstance(msg, ForwardMsg)
    assert hit is False


@given(TEXT, st.text(alphabet="0123456789abcdef", max_size=32), st.text(min_size=1, max_size=40))
def test_cached_messages_resolve_to_what_was_sent(body, fragment, hash_):
    """A cacheable message, later referenced by ref_hash, decodes to the same delta."""
    session = StreamlitSession("http://127.0.0.1:9")
    original = markdown_msg(body, fragment, True, hash_)
    first, hit = session._decode(original.SerializeToString())
    assert (first.delta, hit) == (original.delta, False)
    ref = ForwardMsg(ref_hash=hash_)
    ref.metadata.delta_path.extend([0, 1])
    resolved, hit = session._decode(ref.SerializeToString())
    assert hit is True
    assert resolved.delta == original.delta
    assert list(resolved.metadata.delta_path) == [0, 1]


@given(st.lists(st.booleans(), min_size=1, max_size=12))
def test_cache_forgets_what_went_unused_for_more_than_max_age_runs(used_each_run):
    """The browser's rule: an entry unused for more than max_age finished runs is dropped."""
    cache = MessageCache(max_age=2)
    msg = markdown_msg("x", "", True, "h")
    cache.remember(msg, msg.SerializeToString())
    last_used = cache.run_count
    for used in used_each_run:
        if "h" not in cache.entries:
            break
        if used:
            assert cache.resolve(ForwardMsg(ref_hash="h")) is not None
            last_used = cache.run_count
        cache.end_run([])
        assert ("h" in cache.entries) == (cache.run_count - last_used <= 2)


@given(TEXT)
def test_user_key_of_never_raises(element_id):
    key = user_key_of(element_id)
    assert key is None or element_id.startswith(ELEMENT_ID_PREFIX)


@given(
    st.text(alphabet="0123456789abcdef", min_size=1, max_size=32),
    st.from_regex(r"[a-z_][a-z0-9_]{0,20}", fullmatch=True),
)
def test_user_key_round_trips(widget_hash, key):
    assert user_key_of(f"{ELEMENT_ID_PREFIX}{widget_hash}-{key}") == (None if key == "None" else key)


@given(st.one_of(st.none(), DAYS, TEXT))
def test_date_state_sends_one_iso_string_or_an_empty_array(value):
    state = date_state("$$ID-abc-date", value)
    assert state.WhichOneof("value") == "string_array_value"
    data = list(state.string_array_value.data)
    if value is None:
        assert data == []
    elif isinstance(value, date):
        assert data == [value.isoformat()]
    else:
        assert data == [value]


@given(DAYS)
def test_month_start_is_the_first_of_the_same_month(day):
    start = month_start(day)
    assert (start.year, start.month, start.day) == (day.year, day.month, 1)
    assert 0 <= (day - start).days < 31


@settings(max_examples=60, deadline=None)
@given(DAYS, st.integers(min_value=1, max_value=26))
def test_best_and_worst_are_the_extremes_of_that_day(day, n):
    best, worst = best_and_worst(DATA, day, n)
    sales = DATA.loc[pd.Timestamp(day)]
    assert len(best) == len(worst) == n
    assert list(best) == sorted(best, reverse=True)
    assert list(worst) == sorted(worst)
    assert best.iloc[0] == sales.max()
    assert worst.iloc[0] == sales.min()


@settings(max_examples=60, deadline=None)
@given(DAYS)
def test_month_of_holds_exactly_the_days_of_that_month(day):
    month = month_of(DATA, day)
    first = month_start(day)
    following = (first + timedelta(days=32)).replace(day=1)
    assert list(month.index.date) == [first + timedelta(days=i) for i in range((following - first).days)]
