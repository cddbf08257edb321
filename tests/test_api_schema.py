"""The API's OpenAPI schema (/api/schema/, drf-spectacular) and its pages (/api/docs/,
/api/redoc/), served from this node: the sidecar's Swagger UI and Redoc, no CDN."""

import re
import subprocess
import sys

import pytest
from django.contrib.staticfiles import finders

from tests.support.servers import PROJECT_ROOT


def test_the_schema_validates_without_a_warning():
    result = subprocess.run(
        [sys.executable, "manage.py", "spectacular", "--validate", "--fail-on-warn",
         "--format", "openapi-json", "--file", "/dev/null"],
        cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=120,
    )  # fmt: skip

    assert result.returncode == 0, result.stdout + result.stderr
    assert "Warning" not in result.stderr


@pytest.mark.django_db
def test_the_schema_covers_the_whole_api_and_nothing_else(client):
    response = client.get("/api/schema/", {"format": "json"})

    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    assert set(schema["paths"]) == {
        "/api/v1/mirrors/",
        "/api/v1/mirrors/{name}/",
        "/api/v1/mirrors/{name}/reports/",
        "/api/v1/mirrors/{mirror_name}/probes/",
        "/api/v1/mirrors/best/",
        "/api/v1/network/status/",
        "/api/v1/reports/",
        "/api/v1/sync-runs/",
        "/api/v1/sync-runs/{id}/",
        "/api/v1/takedowns/",
        "/api/v1/takedowns/{id}/",
        "/api/v1/verify-runs/",
        "/api/v1/verify-runs/{id}/",
        "/api/v1/verify-findings/",
        "/api/v1/verify-findings/{id}/",
    }
    best = schema["paths"]["/api/v1/mirrors/best/"]["get"]
    assert {p["name"] for p in best["parameters"]} == {"country", "protocol", "trace"}
    runs = schema["paths"]["/api/v1/sync-runs/"]["get"]
    assert {"upstream", "state", "page"} <= {p["name"] for p in runs["parameters"]}
    findings = schema["paths"]["/api/v1/verify-findings/"]["get"]
    assert {"run", "kind", "page"} <= {p["name"] for p in findings["parameters"]}
    report = schema["paths"]["/api/v1/mirrors/{name}/reports/"]["post"]
    assert report["security"] == [{"mirrorToken": []}]
    assert schema["components"]["securitySchemes"]["mirrorToken"]["scheme"] == "bearer"


@pytest.mark.django_db
def test_the_docs_page_loads_everything_from_this_node(client):
    response = client.get("/api/docs/")

    assert response.status_code == 200
    page = response.content.decode()
    assert "/api/schema/" in page
    assets = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in assets
    assert all(asset.startswith("/") for asset in assets), assets
    assert "https://" not in page and "http://" not in page
    for asset in assets:
        assert finders.find(asset.removeprefix("/static/")), f"{asset}: no such static file"
