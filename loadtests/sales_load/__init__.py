"""The example's load scenarios: the sales dashboard's users, the fragment-vs-full comparison and
the capacity ladder. Built on the load kit (``streamlit_load``), which never imports them.

  page               the dashboard as the client sees it: DATE_WIDGET, PageMode (SALES_FRAGMENT,
                     SALES_MONTH_RERUN), DashboardSession (pick_date, change_month), warm_up
  picks              the users' day streams and the outcome checks (no Locust import)
  users              Locust users speaking Streamlit's protocol (``loadtests/locustfile.py``)
  serial             one interaction at a time with the server's CPU per interaction (``make bench``)
  comparison         fragment vs full reruns under load: figures and checks of one model
  comparison_report  summary.md, report.html, comparison.png of ``make loadtest``
  loadtest           ``make loadtest``: every model, the gate's exit code
  capacity*          ``make capacity``: the ladder, its shape, report and command line
  rolling            a Swarm rolling update under load (``scripts/bench/bench_rolling_update.py``)
  media              MediaUser: images, uploads, downloads, its session state checked (apps/media_state)
  store_cost         the session store's cost per run, store on against off (ABBA windows)
  churn              session churn and the soak's samples (``scripts/bench/soak_stack.py``)
  bystander          how much an activity slows an ordinary user down (abuse tests)
  hold               many sessions held in one process (does the client scale?)

The scripts in ``scripts/`` are the command lines; ``make venv`` installs this package with the
kit (pyproject.toml).
"""
