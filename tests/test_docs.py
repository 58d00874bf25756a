"""The API documentation works without internet: Swagger UI and ReDoc come with their
assets from this application, under a policy that runs only those and Swagger UI's own
start-up script."""

from __future__ import annotations

import base64
import hashlib
import re

import pytest
from fastapi.testclient import TestClient

from tests.conftest import PAGES_ONLY


@PAGES_ONLY  # the documentation pages are the same whatever the database
@pytest.mark.parametrize("page", ["/docs", "/redoc", "/docs/oauth2-redirect"])
def test_the_documentation_loads_nothing_from_elsewhere(client: TestClient, page: str) -> None:
    response = client.get(page)
    assert response.status_code == 200
    html = response.text
    assert "http://" not in html.replace("http://www.w3.org", "") and "https://" not in html
    for asset in re.findall(r'(?:src|href)="([^"]+)"', html):
        assert asset.startswith("/docs/assets/"), asset
        served = client.get(asset)
        assert served.status_code == 200 and len(served.content) > 1000, asset
    policy = response.headers["content-security-policy"]
    scripts = re.search(r"script-src ([^;]+)", policy)
    assert scripts is not None and "'unsafe-inline'" not in scripts[1] and "'unsafe-eval'" not in scripts[1]
    assert "frame-ancestors 'none'" in policy
    for inline in re.findall(r"<script>(.*?)</script>", html, re.DOTALL):
        digest = base64.b64encode(hashlib.sha256(inline.encode()).digest()).decode()
        assert f"'sha256-{digest}'" in scripts[1]
