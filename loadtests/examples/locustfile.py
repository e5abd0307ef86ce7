"""Load-test your own Streamlit app with the kit's user for any app (docs/load-testing.md).

Run: ``locust -f loadtests/examples/locustfile.py --headless -u 20 -r 5 -t 1m --host URL``
"""

from locust import between

from streamlit_load import users  # the module, so that Locust runs only the user defined here


class MyAppUser(users.AnyAppUser):
    """Opens your page, learns its widgets from the frames and changes one a task, as a person
    would: a slider moved, an option picked, a button pressed, now and then another page."""

    host = "http://127.0.0.1:8501"  # `streamlit run`'s default; --host overrides it
    wait_time = between(1, 3)  # a person reads the page between two moves
