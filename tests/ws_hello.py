#!/usr/bin/env python3
"""ws_hello.py PORT PATH COOKIE ORIGIN - opens the live-events WebSocket
(subprotocol lt-events) on 127.0.0.1:PORT with the given Cookie and Origin
headers ("" leaves a header out) and prints what came first: "hello <json>"
for a text message, "closed <code>" for a close frame, "refused <status>"
when the upgrade was not accepted. For tests/cli_http_limits.sh."""
import base64
import os
import socket
import struct
import sys


def read_exact(s, n):
    data = b""
    while len(data) < n:
        chunk = s.recv(n - len(data))
        if not chunk:
            raise EOFError("closed without a frame")
        data += chunk
    return data


def main(port, path, cookie, origin):
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    key = base64.b64encode(os.urandom(16)).decode()
    head = (f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
            "Sec-WebSocket-Protocol: lt-events\r\n")
    if cookie:
        head += f"Cookie: {cookie}\r\n"
    if origin:
        head += f"Origin: {origin}\r\n"
    s.sendall((head + "\r\n").encode())
    resp = b""
    while b"\r\n\r\n" not in resp:
        chunk = s.recv(4096)
        if not chunk:
            break
        resp += chunk
    status = resp.split(b" ", 2)[1].decode() if resp else "none"
    if status != "101":
        print(f"refused {status}")
        return
    rest = resp.split(b"\r\n\r\n", 1)[1]
    hdr = rest[:2] if len(rest) >= 2 else rest + read_exact(s, 2 - len(rest))
    rest = rest[2:]
    opcode, n = hdr[0] & 0x0F, hdr[1] & 0x7F
    if n == 126:
        ext = (rest + read_exact(s, max(0, 2 - len(rest))))
        n, rest = struct.unpack(">H", ext[:2])[0], ext[2:]
    payload = rest + read_exact(s, max(0, n - len(rest)))
    if opcode == 0x1:
        print("hello " + payload[:n].decode())
    elif opcode == 0x8:
        print(f"closed {struct.unpack('>H', payload[:2])[0] if n >= 2 else 0}")
    else:
        print(f"opcode {opcode}")


if __name__ == "__main__":
    main(int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4])
