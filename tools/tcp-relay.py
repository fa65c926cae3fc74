#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Joins a TCP server that wants its client at once (Bochs's com2
mode=socket-server blocks its start until one connects) to a client that
comes later (GDB's `target remote`).

    tcp-relay.py CONNECT_PORT LISTEN_PORT [SECONDS]

Connects to localhost:CONNECT_PORT (retrying until it listens), listens on
localhost:LISTEN_PORT for one client, then copies bytes both ways until
either side closes or SECONDS (default 3600) pass.  What the server sends
before the client comes is kept and handed over.  Standard library only.
"""
import select
import socket
import sys
import time


def main():
    cport, lport = int(sys.argv[1]), int(sys.argv[2])
    limit = time.monotonic() + (float(sys.argv[3]) if len(sys.argv) > 3 else 3600)
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("localhost", lport))
    listener.listen(1)
    while True:
        try:
            server = socket.create_connection(("localhost", cport))
            break
        except OSError:
            if time.monotonic() > limit:
                return 1
            time.sleep(0.05)
    client, pending = None, b""
    while time.monotonic() < limit:
        socks = [server, listener] if client is None else [server, client]
        r, _, _ = select.select(socks, [], [], 1.0)
        for s in r:
            if s is listener:
                client, _ = listener.accept()
                if pending:
                    client.sendall(pending)
                    pending = b""
                continue
            data = s.recv(65536)
            if not data:
                return 0
            if s is server:
                if client is None:
                    pending += data
                else:
                    client.sendall(data)
            else:
                server.sendall(data)
    return 0


if __name__ == "__main__":
    sys.exit(main())
