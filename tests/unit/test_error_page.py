"""The proxy's error page (deploy/proxy/50x.html): its retry script is allowed by the proxy's CSP,
by hash, and its words are no app's in particular. Its behaviour (it reloads itself once a replica
answers) is tested in Chromium: tests/browser/test_reconnect.py."""

from __future__ import annotations

import base64
import hashlib
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PAGE = ROOT / "deploy/proxy/50x.html"


def csp_script_hashes() -> set[str]:
    """The script hashes of the proxy's strict CSP, which its entrypoint renders into script-src
    (browser_policy.conf) unless the app asks for inline scripts, which allows every script."""
    entrypoint = (ROOT / "deploy/proxy/entrypoint.sh").read_text()
    assert re.search(r'^csp="\$csp; script-src \'self\' \'unsafe-eval\' \$inline', entrypoint, re.M)
    hashes = re.search(r'^inline="([^"]*)"$', entrypoint, re.M).group(1)
    return set(re.findall(r"'(sha256-[A-Za-z0-9+/=]+)'", hashes))


def test_every_inline_script_of_the_error_page_is_allowed_by_its_hash() -> None:
    scripts = re.findall(r"<script>(.*?)</script>", PAGE.read_text(), re.S)
    assert scripts, "the error page retries by itself: it has a script"
    for script in scripts:
        digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
        assert f"sha256-{digest}" in csp_script_hashes(), (
            "the proxy's CSP (deploy/proxy/entrypoint.sh) does not allow the error page's script: "
            f"add 'sha256-{digest}'"
        )


def test_the_error_page_names_no_app() -> None:
    assert "sales" not in PAGE.read_text().lower()
