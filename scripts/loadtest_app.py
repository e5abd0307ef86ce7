#!/usr/bin/env python3
"""`make loadtest APP_DIR=...`: any app under load, its fragment runs against its full runs
(streamlit_load.loadtest; --help)."""

import sys

from streamlit_load.loadtest import main

if __name__ == "__main__":
    sys.exit(main())
