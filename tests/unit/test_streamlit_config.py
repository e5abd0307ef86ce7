"""The production server options of .streamlit/config.toml that docs/operations.md relies on, and
the proxy limit that must match one of them."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CONFIG = tomllib.loads((ROOT / ".streamlit/config.toml").read_text())


def test_xsrf_and_cors_protection_stay_on():
    assert CONFIG["server"]["enableXsrfProtection"] is True
    assert CONFIG["server"]["enableCORS"] is True


def test_closed_sessions_are_kept_30_s_for_a_reconnect():
    assert CONFIG["server"]["disconnectedSessionTTL"] == 30


def test_nginx_body_limit_matches_streamlits_upload_limit():
    nginx = (ROOT / "nginx.conf").read_text()
    (limit,) = re.findall(r"^\s*client_max_body_size\s+(\d+)m;", nginx, flags=re.M)
    assert int(limit) == CONFIG["server"]["maxUploadSize"]
