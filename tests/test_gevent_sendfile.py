"""gevent sockets send files with the kernel's sendfile once pypimirror/gevent_sendfile.py is
installed (gunicorn's gevent workers): nothing is read into the process, the bytes are exact,
an offset and a count are kept, and a slow reader makes the sender wait, not fail."""

import io
import os

import gevent
import gevent.socket
import pytest
from gevent import _socket3

from pypimirror import gevent_sendfile


class CountingFile(io.FileIO):
    """A file that counts the reads made of it: the zero-copy path makes none."""

    reads = 0

    def read(self, size=-1):
        self.reads += 1
        return super().read(size)


@pytest.fixture
def installed():
    original = _socket3.socket.sendfile
    assert gevent_sendfile.install()
    yield
    _socket3.socket.sendfile = original


def send(path, **kwargs) -> tuple[int, bytes, int]:
    """(bytes sent, bytes a slow reader received, reads made of the file)."""
    sender, receiver = gevent.socket.socketpair()
    sender.settimeout(10)
    received = []

    def read_slowly():
        while chunk := receiver.recv(64 * 1024):
            received.append(chunk)
            gevent.sleep(0.0005)

    reader = gevent.spawn(read_slowly)
    with CountingFile(path, "rb") as handle:
        sent = sender.sendfile(handle, **kwargs)
        sender.close()
        reader.join(timeout=10)
        receiver.close()
        return sent, b"".join(received), handle.reads


def test_a_file_goes_by_the_kernel_whole_and_exact(installed, tmp_path):
    data = os.urandom(6 * 1024 * 1024)  # far more than a socket buffer: the sender must wait
    path = tmp_path / "document"
    path.write_bytes(data)

    sent, received, reads = send(path)

    assert (sent, received, reads) == (len(data), data, 0)


def test_an_offset_and_a_count_are_kept(installed, tmp_path):
    data = os.urandom(300_000)
    path = tmp_path / "blob"
    path.write_bytes(data)

    sent, received, reads = send(path, offset=1000, count=200_000)

    assert (sent, received, reads) == (200_000, data[1000:201_000], 0)


def test_without_it_gevent_reads_the_file_in_pieces(tmp_path):
    data = os.urandom(300_000)
    path = tmp_path / "blob"
    path.write_bytes(data)

    sent, received, reads = send(path)

    assert (sent, received) == (len(data), data)
    assert reads > 30  # 8 kB at a time: what the module spares gunicorn's gevent workers


def test_a_file_without_a_descriptor_is_sent_by_reading(installed):
    sender, receiver = gevent.socket.socketpair()
    data = os.urandom(100_000)
    reader = gevent.spawn(lambda: b"".join(iter(lambda: receiver.recv(65536), b"")))
    assert sender.sendfile(io.BytesIO(data)) == len(data)
    sender.close()
    assert reader.get(timeout=10) == data
