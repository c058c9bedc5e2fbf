"""A TCP proxy that a test can cut: stands between the service and a server (the object
store), so that the server becomes unreachable for a while without being stopped.

Cut, it resets every open connection and refuses new ones (its listening socket is closed, so
a client gets "connection refused" at once, as from a server that is down); restored, it
listens on the same port again. While cut, a socket bound to the port but not listening holds
it, so no other socket can take it before the restore. One thread accepts, two threads a
connection copy bytes.
"""

import contextlib
import socket
import threading
from collections.abc import Iterator

_BUFFER_BYTES = 64 * 1024


class TcpProxy:
    """Forwards ``127.0.0.1:port`` to ``target`` (``host:port``) until :meth:`close`."""

    def __init__(self, target: str) -> None:
        host, port = target.rsplit(":", 1)
        self._target = (host, int(port))
        self._lock = threading.Lock()
        self._connections: set[socket.socket] = set()
        self._listener: socket.socket | None = None
        self._holder: socket.socket | None = None
        """Bound to the port, not listening, while cut."""
        self.port = 0
        self.restore()

    @property
    def address(self) -> str:
        """``host:port`` to give the client instead of the target's."""
        return f"127.0.0.1:{self.port}"

    @property
    def cut(self) -> bool:
        return self._listener is None

    def restore(self) -> None:
        """Accept connections again, on the same port as before."""
        with self._lock:
            if self._listener is not None:
                return
            listener, self._holder = self._holder, None
            if listener is None:
                listener = socket.create_server(("127.0.0.1", self.port), reuse_port=True)
            else:
                listener.listen()
            self.port = listener.getsockname()[1]
            self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def cut_off(self) -> None:
        """Reset every open connection and refuse new ones until :meth:`restore`."""
        with self._lock:
            listener, self._listener = self._listener, None
            connections, self._connections = self._connections, set()
            if listener is not None and self._holder is None:
                self._holder = _holding(self.port)
        if listener is not None:
            # close() alone leaves it listening while the accept thread is blocked on it (the
            # thread holds the socket), so a connection would still be taken, then reset, and
            # the port stay bound; shutdown() stops it listening and wakes the thread up.
            with contextlib.suppress(OSError):
                listener.shutdown(socket.SHUT_RDWR)
            _close(listener)
        for connection in connections:
            with contextlib.suppress(OSError):  # RST rather than FIN: an outage, not an end
                connection.setsockopt(
                    socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00"
                )
            _close(connection)

    def close(self) -> None:
        self.cut_off()
        with self._lock:
            holder, self._holder = self._holder, None
        if holder is not None:
            _close(holder)

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:  # closed by cut_off
                return
            try:
                server = socket.create_connection(self._target, timeout=5.0)
                server.settimeout(None)
            except OSError:
                _close(client)
                continue
            with self._lock:
                if self._listener is not listener:  # cut while connecting
                    _close(client)
                    _close(server)
                    return
                self._connections.update((client, server))
            for source, sink in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        """Copy ``source`` to ``sink`` until either ends; then close both."""
        try:
            while data := source.recv(_BUFFER_BYTES):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            with self._lock:
                self._connections.difference_update((source, sink))
            _close(source)
            _close(sink)


@contextlib.contextmanager
def tcp_proxy(target: str) -> Iterator[TcpProxy]:
    proxy = TcpProxy(target)
    try:
        yield proxy
    finally:
        proxy.close()


def _holding(port: int) -> socket.socket:
    """A socket bound to ``127.0.0.1:port`` beside its listener (both SO_REUSEPORT), listening
    on nothing: connections to the port are refused, and no other socket can take it."""
    holder = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    holder.bind(("127.0.0.1", port))
    return holder


def _close(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.close()
