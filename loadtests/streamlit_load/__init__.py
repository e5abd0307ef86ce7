"""Load tests for any Streamlit app: a Locust user that learns the app from its frames
(``users.AnyAppUser``) and the fragment-vs-full figures of one run (``loadtest.py``, ``make
loadtest APP_DIR=...``). The sales dashboard's tuned scenarios stay in ``sales_load``."""
