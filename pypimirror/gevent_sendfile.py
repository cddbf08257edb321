"""The kernel's sendfile for gevent's sockets, which gunicorn's gevent workers hand files to.

gevent's socket sends a file by reading and writing 8 kB at a time (its ``sendfile`` never tries
``os.sendfile``): a 55 MB whole-index document took some 7,000
reads and sends, 20 ms more than nginx sending the same file. Its sockets are non-blocking
underneath, so ``os.sendfile`` cooperates as any send does: whatever the socket takes now is sent,
and on EAGAIN the greenlet waits for the socket to be writable, as gevent's own ``send`` waits
(and times out as it does). Installed by deploy/gunicorn.conf.py in gevent workers only.
"""

import io
import os
import socket


def install() -> bool:
    """Give gevent's socket class a cooperative ``os.sendfile``; False (nothing changed) when
    this gevent lacks what it needs."""
    try:
        from gevent import _socket3
    except ImportError:
        return False
    gevent_socket = _socket3.socket
    needed = ("_wait", "_check_sendfile_params", "_sendfile_use_send")
    if not all(hasattr(gevent_socket, name) for name in needed):
        return False
    gevent_socket.sendfile = _sendfile
    return True


def _sendfile(self, file, offset: int = 0, count: int | None = None) -> int:
    """``socket.sendfile``: by the kernel when the file has a descriptor, else by reading."""
    try:
        return _sendfile_use_sendfile(self, file, offset, count)
    except socket._GiveupOnSendfile:
        return self._sendfile_use_send(file, offset, count)


def _sendfile_use_sendfile(self, file, offset: int = 0, count: int | None = None) -> int:
    """``socket.sendfile``'s zero-copy path for a gevent socket; gives up (the caller then
    sends by reading) on a file without a descriptor, as the standard library does."""
    self._check_sendfile_params(file, offset, count)
    try:
        source = file.fileno()
        size = os.fstat(source).st_size
    except (AttributeError, io.UnsupportedOperation, OSError) as error:
        raise socket._GiveupOnSendfile(error) from None
    if not size:
        return 0
    target = self.fileno()
    blocksize = min(count or size, 1 << 30)
    sent_total = 0
    try:
        while True:
            if count:
                blocksize = min(count - sent_total, blocksize)
                if blocksize <= 0:
                    break
            try:
                sent = os.sendfile(target, source, offset, blocksize)
            except BlockingIOError:
                self._wait(self._write_event)  # raises socket.timeout past the socket's timeout
                continue
            if sent == 0:
                break  # end of the file
            offset += sent
            sent_total += sent
        return sent_total
    finally:
        if sent_total > 0 and hasattr(file, "seek"):
            file.seek(offset)
