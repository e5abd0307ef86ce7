"""The ``script_finished`` statuses a Streamlit run ends with (ForwardMsg.script_finished),
the names an ``Interaction``'s outcomes hold."""

from __future__ import annotations

SUCCESS = "FINISHED_SUCCESSFULLY"
FRAGMENT_SUCCESS = "FINISHED_FRAGMENT_RUN_SUCCESSFULLY"
EARLY_FOR_RERUN = "FINISHED_EARLY_FOR_RERUN"
COMPILE_ERROR = "FINISHED_WITH_COMPILE_ERROR"
