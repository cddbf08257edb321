"""deploy/nginx/pypimirror.conf, as shipped, in front of deploy/gunicorn.conf.py.

Only the deployment's paths are rewritten (socket, data directory, port, logs); nginx's workers
run as its default unprivileged user, so the store must be readable by others, as in production.
"""

import hashlib
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.support.dists import DistSpec, build_sdist, build_wheel
from tests.support.processes import free_port, wait_until_answering

pytestmark = pytest.mark.e2e

PROVENANCE = b'{"version": 1, "attestation_bundles": []}\n'
# A file published with a PEP 740 provenance document, as replication publishes one.
PUBLISH_SIGNED = """
from django.db import transaction
from apps.catalog import services
from apps.catalog.blobstore import blob_put_file, provenance_put
path, provenance = {path!r}, {provenance!r}
with open(path, "rb") as handle:
    verified = blob_put_file(handle, filename=path.rsplit("/", 1)[-1])
new = services.NewDistribution(
    file=verified, version="1.0", packagetype="bdist_wheel",
    provenance_sha256=provenance_put(provenance),
)
with transaction.atomic():
    project = services.project_lock(name="signed-project", create=True)
    services.distribution_publish(project=project, new=new)
"""

ROOT = Path(__file__).resolve().parents[2]
SITE = ROOT / "deploy" / "nginx" / "pypimirror.conf"


def _nginx() -> str | None:
    return shutil.which("nginx") or next(
        (p for p in ("/usr/sbin/nginx",) if os.access(p, os.X_OK)), None
    )


def _wait(url: str, process: subprocess.Popen, log: Path) -> None:
    wait_until_answering(
        process,
        url,
        name=url,
        log=log,
        timeout=60,
        answered=lambda response: response.status_code < 500,
        error=AssertionError,
    )


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


@pytest.fixture(scope="module")
def site():
    nginx = _nginx()
    if nginx is None:
        pytest.skip("nginx is not installed (.ci/run installs it)")
    # Not pytest's tmp_path: its folders are 0700 and nginx's workers run as another user.
    data = Path(tempfile.mkdtemp(prefix="pypimirror-nginx-"))
    data.chmod(0o755)
    processes = []
    try:
        dists = data / "dists"
        dists.mkdir()
        spec = DistSpec(name="Served.Project", version="1.0", requires_python=">=3.8")
        wheel, sdist = build_wheel(spec, dists), build_sdist(spec, dists)
        signed = build_wheel(DistSpec(name="signed-project", version="1.0"), data)
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "GUNICORN_"))},
            "DJANGO_SETTINGS_MODULE": "pypimirror.settings.production",
            "DJANGO_SECRET_KEY": "nginx-site-test",
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
            "DJANGO_SECURE_SSL_REDIRECT": "false",  # the site listens on plain http here
            "PYPIMIRROR_DATA_DIR": str(data),
            "PYPIMIRROR_X_ACCEL_REDIRECT": "/_store/",
            "PYPIMIRROR_BIND": f"unix:{data}/web.sock",
            "GUNICORN_WORKERS": "2",
            # as the web unit: nginx, the socket's peer, names the client
            "PYPIMIRROR_TRUSTED_PROXIES": "unix",
        }
        env.pop("DATABASE_URL", None)
        env.pop("PYPIMIRROR_BASE_URL", None)
        for command in (
            ["migrate", "-v0"],
            ["collectstatic", "--noinput", "-v0"],
            ["import_dists", str(dists)],
            ["shell", "-c", PUBLISH_SIGNED.format(path=str(signed), provenance=PROVENANCE)],
        ):
            subprocess.run(
                [sys.executable, "manage.py", *command],
                cwd=ROOT,
                env=env,
                check=True,
                capture_output=True,
            )

        port = free_port()
        conf = SITE.read_text()
        conf = conf.replace("unix:/run/pypimirror/web.sock", f"unix:{data}/web.sock")
        conf = conf.replace("/var/lib/pypimirror/", f"{data}/")
        conf = conf.replace("/var/log/nginx/pypimirror", f"{data}/nginx")
        conf = re.sub(r"listen 80;", f"listen 127.0.0.1:{port};", conf)
        conf = re.sub(r"\n\s*listen \[::\]:80;", "", conf)
        (data / "site.conf").write_text(conf)
        temp = " ".join(
            f"{kind}_temp_path {data}/nginx-{kind};"
            for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
        )
        (data / "nginx.conf").write_text(
            f"daemon off;\npid {data}/nginx.pid;\nerror_log {data}/nginx-main.log;\n"
            "events { worker_connections 64; }\n"
            f"http {{ include /etc/nginx/mime.types; {temp} include {data}/site.conf; }}\n"
        )

        def start(command, log):
            with log.open("wb") as out:
                process = subprocess.Popen(
                    command,
                    cwd=ROOT,
                    env=env,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            processes.append(process)
            return process

        gunicorn_log = data / "gunicorn.log"
        web = start(
            [sys.executable, "-m", "gunicorn", "-c", "deploy/gunicorn.conf.py"], gunicorn_log
        )
        front = start([nginx, "-c", str(data / "nginx.conf")], data / "nginx.log")
        url = f"http://127.0.0.1:{port}"
        _wait(f"{url}/last-modified", web, gunicorn_log)
        _wait(f"{url}/last-modified", front, data / "nginx-main.log")
        yield {"url": url, "wheel": wheel, "sdist": sdist, "data": data}
    finally:
        for process in reversed(processes):
            _stop(process)
        shutil.rmtree(data, ignore_errors=True)


def _file_url(site, path: Path) -> str:
    page = httpx.get(f"{site['url']}/simple/served-project/")
    assert page.status_code == 200
    match = re.search(rf'href="([^"#]+/{re.escape(path.name)})#sha256=', page.text)
    assert match, page.text
    return match.group(1)


def test_pages_go_through_to_django_with_the_clients_host_and_port(site):
    url = _file_url(site, site["wheel"])
    assert url.startswith(f"{site['url']}/packages/")


def test_nginx_sends_the_file_django_approved_with_its_sha256_etag(site):
    data = site["wheel"].read_bytes()
    sha256 = hashlib.sha256(data).hexdigest()

    response = httpx.get(_file_url(site, site["wheel"]))

    assert response.status_code == 200
    assert response.content == data
    assert response.headers["content-length"] == str(len(data))
    assert response.headers["etag"] == f'"{sha256}"'
    assert "x-accel-redirect" not in response.headers
    assert "immutable" in response.headers["cache-control"]


def test_nginx_answers_a_range_of_the_file(site):
    data = site["sdist"].read_bytes()

    response = httpx.get(_file_url(site, site["sdist"]), headers={"Range": "bytes=10-19"})

    assert response.status_code == 206
    assert response.content == data[10:20]


def test_the_store_location_is_internal_only(site):
    blob = next((site["data"] / "store" / "packages").rglob(f"*{site['wheel'].name}"))
    path = blob.relative_to(site["data"] / "store")

    assert httpx.get(f"{site['url']}/_store/{path}").status_code == 404


def test_nginx_sends_a_provenance_document_with_its_type_and_etag(site):
    page = httpx.get(
        f"{site['url']}/simple/signed-project/",
        headers={"Accept": "application/vnd.pypi.simple.v1+json"},
    )
    [entry] = page.json()["files"]
    assert entry["provenance"].startswith(f"{site['url']}/integrity/signed-project/1.0/")

    response = httpx.get(entry["provenance"])

    assert response.status_code == 200
    assert response.content == PROVENANCE
    assert response.headers["content-type"] == "application/vnd.pypi.integrity.v1+json"
    assert response.headers["etag"] == f'"{hashlib.sha256(PROVENANCE).hexdigest()}"'
    assert "x-accel-redirect" not in response.headers


def test_nothing_beside_the_store_is_reachable(site):
    for path in ("/packages/../db.sqlite3", "/packages/%2e%2e/db.sqlite3", "/_store/../db.sqlite3"):
        response = httpx.get(site["url"] + path)
        assert response.status_code in (400, 404), path
        assert b"SQLite format" not in response.content


def test_admin_static_files_come_from_the_collected_folder(site):
    response = httpx.get(f"{site['url']}/static/admin/css/base.css")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/css")


def test_every_response_carries_one_hsts_header(site):
    responses = {
        "page": httpx.get(f"{site['url']}/simple/served-project/"),
        "file": httpx.get(_file_url(site, site["wheel"])),
        "static": httpx.get(f"{site['url']}/static/admin/css/base.css"),
        "not found": httpx.get(f"{site['url']}/simple/no-such-project/"),
    }

    assert {
        kind: r.headers.get_list("strict-transport-security") for kind, r in responses.items()
    } == {kind: ["max-age=31536000; includeSubDomains; preload"] for kind in responses}


def test_metrics_go_through_to_django_for_a_client_on_this_host(site):
    assert httpx.get(f"{site['url']}/simple/").status_code == 200
    response = httpx.get(f"{site['url']}/metrics")
    assert response.status_code == 200, response.text
    families = {f.name: f for f in text_string_to_metric_families(response.text)}
    counts = {
        sample.labels["view"]
        for sample in families["pypimirror_http_request_duration_seconds"].samples
        if sample.name.endswith("_count")
    }
    assert "index:simple-root" in counts
