"""Load tests and benchmarks of the sales dashboard (the protocol client is ``streamlit_load.client``).

  harness            the shared core: machine and date header, command-line parser, Report
                     (print and record figures), fd limits
  targets            a server under test and its probes: local, a URL, the compose stack
  server_probe       server CPU / memory / live sessions: psutil, cgroups, /_stcore/metrics
  local_server       starts the app on a free local port (tests, benchmarks)
  dev_provider       the development OpenID provider (deploy/oidc-dev) as a local process
  locust_runs        one headless Locust run and reading its CSVs
  picks              the users' day streams and the outcome checks (no Locust import)
  users              Locust users speaking Streamlit's protocol (``loadtests/locustfile.py``)
  serial             one interaction at a time with the server's CPU per interaction (``make bench``)
  comparison         fragment vs full reruns under load: figures and checks of one model
  comparison_report  summary.md, report.html, comparison.png of ``make loadtest``
  loadtest           ``make loadtest``: every model, the gate's exit code
  churn              session churn and the soak's samples (``scripts/soak_stack.py``)
  bystander          how much an activity slows an ordinary user down (abuse tests)

The scripts in ``scripts/`` are the command lines; ``make venv`` puts ``app/`` and ``loadtests/``
on the venv's path (a ``.pth`` file), as pyproject's ``pythonpath`` does for pytest.
"""
