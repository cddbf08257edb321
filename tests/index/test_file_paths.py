"""The pure parser of ``/packages/`` paths (apps/index/files.py): bounded, never raising but its
own way, never naming anything but a plain filename. The view's behaviour is in test_files.py."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from apps.catalog.blobstore import METADATA_SUFFIX, BlobError, file_url_path, validate_filename
from apps.index.files import FilePath, file_path_parse
from tests.support.fuzz import FUZZ, PARSE_BUDGET, assert_all_fast, grammar_text, timed_call

DIGEST = "ab" + "cd" + "e" * 60
PREFIX = f"{DIGEST[:2]}/{DIGEST[2:4]}/{DIGEST[4:]}/"
HOSTILE_PATHS = [
    PREFIX + "x" * 300,
    PREFIX + "x" * 8000,
    "a/" * 4000,
    "/" * 8000,
    PREFIX + "." * 255,
    PREFIX + "\\" * 4000,
    PREFIX + "x.metadata" * 25,
    PREFIX + "\x00" * 4000,
    "ab/cd/" + "e" * 8000 + "/x.whl",
    (PREFIX + "x") * 100,
]
PATH_PIECES = ["ab", "cd", "e" * 60, "/", "\\", ".", "..", "x.whl", ".metadata", "%2f", "\x00", "é"]


def test_file_path_parse_reads_pypis_layout():
    assert file_path_parse(PREFIX + "demo-1.0-py3-none-any.whl") == FilePath(
        sha256=DIGEST, filename="demo-1.0-py3-none-any.whl", metadata=False
    )
    assert file_path_parse(PREFIX + "demo-1.0.tar.gz.metadata") == FilePath(
        sha256=DIGEST, filename="demo-1.0.tar.gz", metadata=True
    )


@pytest.mark.parametrize(
    "path",
    [PREFIX + "a\x00b", PREFIX + "..", PREFIX + ".metadata", PREFIX + "x" * 256, DIGEST + "/x"],
)
def test_file_path_parse_refuses_what_names_no_file(path):
    assert file_path_parse(path) is None


def test_no_hostile_file_path_takes_over_10_ms():
    assert_all_fast(file_path_parse, HOSTILE_PATHS)
    assert_all_fast(
        validate_filename, [p.rsplit("/", 1)[-1] for p in HOSTILE_PATHS], allowed=(BlobError,)
    )


@FUZZ
@given(path=st.one_of(grammar_text(PATH_PIECES), st.text().map(lambda name: PREFIX + name)))
def test_fuzz_file_path_parse_never_raises_and_gives_only_plain_filenames(path):
    parsed, seconds = timed_call(file_path_parse, path)
    assert seconds <= PARSE_BUDGET, (seconds, path[:80])
    if parsed is not None:
        assert validate_filename(parsed.filename) == parsed.filename
        suffix = METADATA_SUFFIX if parsed.metadata else ""
        url_path = file_url_path(sha256=parsed.sha256, filename=parsed.filename)
        assert url_path == "packages/" + path.removesuffix(suffix)


@FUZZ
@given(filename=st.one_of(grammar_text(PATH_PIECES), st.text(max_size=400)))
def test_fuzz_validate_filename_raises_only_blob_error(filename):
    _, seconds = timed_call(validate_filename, filename, allowed=(BlobError,))
    assert seconds <= PARSE_BUDGET, (seconds, filename[:80])
