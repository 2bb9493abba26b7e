"""Free loopback ports for the servers tests start, in a range of their own (18400-18499)
so they never collide with other checkouts' servers on the same machine."""

from __future__ import annotations

import random
import socket

PORT_RANGE = range(18400, 18500)
_handed_out: set[int] = set()


def free_port() -> int:
    """A port in PORT_RANGE that nothing listens on and this session has not handed out."""
    candidates = [port for port in PORT_RANGE if port not in _handed_out]
    random.shuffle(candidates)
    for port in candidates:
        with socket.socket() as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
        _handed_out.add(port)
        return port
    raise RuntimeError(f"no free loopback port in {PORT_RANGE.start}-{PORT_RANGE.stop - 1}")
