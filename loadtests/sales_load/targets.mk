# The example's load scenarios' make targets, included by the repository's Makefile (which names
# no app): the fragment-vs-full comparison `make loadtest` runs without APP_DIR, and the capacity
# ladder. A copy of the template without the example drops this folder and these targets with it.
EXAMPLE_LOADTEST := sales_load.loadtest

capacity: venv ## concurrent users the stack serves at p95 <= 250 ms, fragments on/off (CAPACITY_ARGS=--quick; APP_DIR=...: your app's)
	$(PY) -m sales_load.capacity_cli $(CAPACITY_ARGS)
