"""A Warehouse-shaped test upstream: real distributions, served on loopback, misbehaving on demand.

The state (``WarehouseUpstream``) is a model of PyPI: projects → releases → files, one global
serial that every change takes, and Warehouse's journal. ``write()`` renders it as a static
tree (Warehouse's JSON API, PEP 691 JSON and PEP 503 HTML pages, files and PEP 658
``.metadata``), and a server serves that tree: ``UpstreamServer`` (Python, with content
negotiation, XML-RPC, a request log and faults) for tests, ``NginxUpstream`` for benchmarks.

    upstream = WarehouseUpstream(tmp_path / "upstream")
    upstream.add_release("Alpha", "1.0", requires=["beta>=1"])      # wheel (+.metadata) + sdist
    upstream.add_release("beta", "1.0", requires_python=">=3.8")
    upstream.add_raw_file("old", "2004d", "old-2004d.tar.bz2", b"...", requires_python=">=3.6,")
    with UpstreamServer(upstream) as server:                         # sets base_url, writes
        sync_from(server.url)
        upstream.yank("alpha", "1.0", "broken")
        upstream.delete_project("beta")
        upstream.write()                                             # the server sees it now
        server.clear_requests()
        sync_from(server.url)
        assert server.requested_projects() == {"alpha", "beta"}
        server.add_fault(Fault(status=503), project="alpha")
        server.add_fault(Fault(corrupt=True), project="old", kind="file")
        server.add_fault(Fault(stale=True, times=2), project="beta", kind="simple")
        server.clear_faults()

    with NginxUpstream(upstream) as nginx:                           # benchmarks
        upstream.populate(20_000)                                    # pkg-0 ... pkg-19999
        nginx.publish()                                              # write + reload serials

A tree of 20,000 projects is 100,000 small files: on a busy disk writing them is I/O-bound,
so benchmarks put ``root`` on tmpfs (``tempfile.mkdtemp(dir="/dev/shm")``).

Facts follow Warehouse's source (legacy/api/json.py, packaging/utils.py, api/simple.py, the
simple templates) and what bandersnatch 8 reads: the JSON root's ``projects[]._last-serial``,
``/pypi/<p>/json`` with ``X-PyPI-Last-Serial``, file URLs under ``/packages/``, and
``<url>.metadata`` when a file dict has ``core-metadata``. File paths are Warehouse's, by
blake2b-256, not sha256. Upload times derive from serials, so a rebuilt tree is the same.
"""

from .faults import Fault
from .model import JournalEntry, UpstreamFile, UpstreamProject, UpstreamRelease
from .nginx import NginxUpstream, find_nginx, nginx_config
from .routes import negotiate
from .server import LoggedRequest, UpstreamServer
from .tree import WarehouseUpstream

__all__ = [
    "Fault",
    "JournalEntry",
    "LoggedRequest",
    "NginxUpstream",
    "UpstreamFile",
    "UpstreamProject",
    "UpstreamRelease",
    "UpstreamServer",
    "WarehouseUpstream",
    "find_nginx",
    "negotiate",
    "nginx_config",
]
