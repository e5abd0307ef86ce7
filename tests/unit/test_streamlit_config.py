"""The production server options docs/operations.md relies on: the template's
.streamlit/config.toml (the options an app may change), the options the serving layer pins
(streamlit_serving/pinned.py, their one home) and the proxy limit that must match one of them."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from streamlit_serving.app_settings import Limits
from streamlit_serving.pinned import PINS, PROXY_BODY_LIMIT_MB

ROOT = Path(__file__).resolve().parents[2]
CONFIG = tomllib.loads((ROOT / ".streamlit/config.toml").read_text())
PINNED = {pin.key: pin.value for pin in PINS}


def test_xsrf_and_cors_protection_stay_on():
    assert PINNED["server.enableXsrfProtection"] is True
    assert PINNED["server.enableCORS"] is True


def test_the_pinned_options_have_one_home_not_the_templates_config():
    template = {f"{section}.{name}" for section, options in CONFIG.items() for name in options}
    assert template == {"server.disconnectedSessionTTL", "runner.postScriptGC", "logger.level"}
    assert not template & set(PINNED)


def test_closed_sessions_are_kept_30_s_for_a_reconnect():
    assert CONFIG["server"]["disconnectedSessionTTL"] == 30


def test_nginx_body_limit_matches_streamlits_upload_limit():
    """One value: nginx.conf takes client_max_body_size from the entrypoint's rendering of
    PROXY_UPLOAD_MB, whose default is Streamlit's default upload cap and [limits] upload_mb's."""
    nginx = (ROOT / "nginx.conf").read_text()
    assert not re.findall(r"^\s*client_max_body_size\s", nginx, flags=re.M)  # no second value
    assert re.search(r"^    include /tmp/nginx/body_size\.conf;", nginx, flags=re.M)
    entrypoint = (ROOT / "deploy/proxy/entrypoint.sh").read_text()
    (default,) = re.findall(r'^: "\$\{PROXY_UPLOAD_MB:=(\d+)\}"', entrypoint, flags=re.M)
    assert 'echo "client_max_body_size ${PROXY_UPLOAD_MB}m;" >"$conf/body_size.conf"' in entrypoint
    assert int(default) == PROXY_BODY_LIMIT_MB == PINNED["server.maxUploadSize"] == Limits().upload_mb
