"""After the whole container tier (this module runs last; conftest.py orders it): the stack the
user started with `make up` before `make test` still answers, unchanged (users_stack.py)."""

from __future__ import annotations

import urllib.request

from sales_load.page import DashboardSession
from streamlit_load.client.tls import client_context


def test_the_users_stack_answers_unchanged_after_the_whole_tier(users_stack):
    before = users_stack.before
    assert before is not None
    after = users_stack.snapshot()
    # The same containers, never restarted; the same published port.
    assert after.containers == before.containers
    assert len(after.containers) == 2  # one app replica and the proxy, as `make up` starts them
    assert after.published == before.published == f"127.0.0.1:{users_stack.port}"  # this machine only
    # The host's engine was never put into a swarm by the tier (its Swarm tests have their own engine)
    # and still holds its NAT rules for the port (a second dockerd with iptables on would flush them).
    assert after.host_swarm == before.host_swarm
    assert after.nat_rules == before.nat_rules
    assert after.bridges_missing == before.bridges_missing == ()
    assert any("DNAT" in rule for rule in after.nat_rules), after.nat_rules
    url = f"https://127.0.0.1:{users_stack.tls_port}"
    with urllib.request.urlopen(f"{url}/_stcore/health", timeout=10, context=client_context()) as response:
        assert response.status == 200
    with DashboardSession(url, timeout=60) as session:
        assert session.pick_date("2023-01-20").outcomes == ["FINISHED_FRAGMENT_RUN_SUCCESSFULLY"]
