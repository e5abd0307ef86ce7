"""``python -m streamlit_serving run <app>/streamlit_app.py``: see serve.py."""

import sys

from .serve import main

sys.exit(main())
