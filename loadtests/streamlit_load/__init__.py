"""The load kit: load-test any Streamlit app over its own WebSocket protocol, no browser.

Public API (import the module you need; nothing here imports Locust until you ask for a user):

  client             ``StreamlitSession``: one browser-like session (connect, widgets learnt
                     from the frames, ``change``/``click``/``rerun``, reconnect, TLS, sign-in
                     through ``client.signin``); ``client.widgets.new_state`` a value a person
                     could pick for any widget
  users              ``AnyAppUser``: a Locust user for any app; subclass it in your locustfile
                     (``loadtests/examples/locustfile.py``)
  loadtest           ``make loadtest APP_DIR=...``: an app's fragment runs against its full runs
  harness            machine and date header, command-line parser, Report (print and record
                     figures), fd limits
  targets            a server under test and its probes: local, a URL, the compose stack
  local_server       starts an app on a free local port through the serving layer
  server_probe       server CPU / memory / live sessions: psutil, cgroups, /_stcore/metrics
  locust_runs        one headless Locust run and reading its CSVs
  dev_provider       the development OpenID provider (deploy/oidc-dev) as a local process
  prometheus         the stack's own Prometheus read beside Locust's figures
  swarm_engine       the Swarm engine of the tests and benchmarks

An app's own scenarios import the kit, never the other way round (the example's are
``sales_load``; tests/unit/test_load_kit.py checks it).
"""
