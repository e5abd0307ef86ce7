"""The serving layer: what any Streamlit app needs in production (settings, sign-in gate, rerun
limit, drain, failover, metrics, warm-up hook), around Streamlit's own command line. It imports no
app; an app plugs in through ``serve_hooks.py`` beside its main script (hooks.py)."""
