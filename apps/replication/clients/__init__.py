"""Upstream clients: one module per protocol behind the one interface of ``base.UpstreamClient``."""

from .base import (
    ProjectListing,
    RemoteFile,
    RemoteProject,
    UpstreamClient,
    UpstreamError,
    UpstreamUnusable,
)
from .detect import client_for, detect_protocol

__all__ = [
    "ProjectListing",
    "RemoteFile",
    "RemoteProject",
    "UpstreamClient",
    "UpstreamError",
    "UpstreamUnusable",
    "client_for",
    "detect_protocol",
]
