"""Blobs must be readable by a front server running as another user (nginx X-Accel-Redirect)."""

import io
import stat

from apps.catalog.blobstore import blob_put_file, metadata_put


def test_stored_blob_and_metadata_get_file_upload_permissions(blob_store):
    verified = blob_put_file(io.BytesIO(b"wheel bytes"), filename="demo-1.0-py3-none-any.whl")
    metadata_put(blob_path=verified.blob_path, data=b"Metadata-Version: 2.1\n")

    for name in (verified.blob_path, f"{verified.blob_path}.metadata"):
        mode = stat.S_IMODE((blob_store / name).stat().st_mode)
        assert mode == 0o644, f"{name}: {oct(mode)}"
