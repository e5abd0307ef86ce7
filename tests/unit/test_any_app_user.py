"""AnyAppUser's client address (loadtests/streamlit_load/users.py): with ``--forwarded-for`` (as `make
capacity APP_DIR=...` runs it) each simulated user sends an X-Forwarded-For address of its own, so
the proxy in load-balancer mode applies its per-client limits to each user, not to the load
generator as one client (without it, `make capacity` on an app failed every user past the proxy's
per-client WebSocket limit with 429); without the option no header is sent."""

from argparse import Namespace

from locust.env import Environment

from sales_load.users import StreamlitUser
from streamlit_load.users import AnyAppUser, client_address


def users(count: int, **options: object) -> list[AnyAppUser]:
    environment = Environment(
        user_classes=[AnyAppUser], host="http://127.0.0.1:9", parsed_options=Namespace(**options)
    )
    return [AnyAppUser(environment) for _ in range(count)]


def test_with_forwarded_for_every_user_sends_an_address_of_its_own():
    addresses = [user.headers["X-Forwarded-For"] for user in users(300, forwarded_for=True)]
    assert len(set(addresses)) == 300
    assert all(address.startswith("10.0.") for address in addresses)


def test_without_it_no_header_is_sent():
    assert [user.headers for user in users(2)] == [{}, {}]


def test_the_examples_users_take_their_address_from_the_same_place():
    environment = Environment(host="http://127.0.0.1:9", parsed_options=Namespace())
    assert client_address(environment, 258) == "10.0.1.2"
    assert StreamlitUser.address(Namespace(number=258), environment) == "10.0.1.2"
