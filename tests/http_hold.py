#!/usr/bin/env python3
"""http_hold.py - a hostile HTTP client for tests/cli_http_limits.sh.

  http_hold.py conns PORT N FIFO
      Opens N connections to 127.0.0.1:PORT that send nothing, prints
      "opened N", then each time a line arrives on FIFO prints how many of
      them the node still holds open ("open K"); exits at "quit".

  http_hold.py uploads PORT PATH N LENGTH PID
      Opens N requests to PATH declaring LENGTH bytes and sends LENGTH - 1 of
      each (one byte short, so the node must keep them). Once every byte
      sent is read by the node (its receive queues on PORT are empty), prints
      one JSON line: the node's VmRSS (kB) before and while held, how many
      requests it kept, and the status and body of each early answer; then
      holds them until killed.
"""
import json
import signal
import select
import socket
import sys
import time


def connect(port):
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.setblocking(False)
    return s


def still_open(s):
    """False once the node answered on s or closed it: it sends nothing to
    an idle connection but a refusal before closing it."""
    r, _, _ = select.select([s], [], [], 0)
    return not r


def conns(port, n, fifo):
    held = [connect(port) for _ in range(n)]
    print(f"opened {len(held)}", flush=True)
    with open(fifo) as f:
        for line in f:
            if line.strip() == "quit":
                return
            print(f"open {sum(1 for s in held if still_open(s))}", flush=True)


def rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return -1


def rx_queued(port):
    """Bytes waiting in the node's receive queues of connections on port."""
    total = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as f:
            next(f)
            for line in f:
                fields = line.split()
                if int(fields[1].split(":")[1], 16) == port:
                    total += int(fields[4].split(":")[1], 16)
    return total


def read_answer(s):
    """The early answer on s, as (status, body), or None."""
    data = b""
    s.setblocking(True)
    s.settimeout(5)
    try:
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    except (ConnectionResetError, socket.timeout):
        pass
    if not data.startswith(b"HTTP/1.1 "):
        return None
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split()[1]), body.decode("utf-8", "replace")


def upload(port, path, length):
    """Sends the head and LENGTH - 1 body bytes; returns (socket, refused)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    head = (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            f"Content-Length: {length}\r\n\r\n").encode()
    s.sendall(head)
    chunk = b"x" * (256 * 1024)
    left = length - 1
    try:
        while left > 0:
            # an answer before the body is all sent is a refusal
            if select.select([s], [], [], 0)[0]:
                return s, True
            n = s.send(chunk[: min(left, len(chunk))])
            left -= n
    except (BrokenPipeError, ConnectionResetError):
        return s, True
    return s, False


def uploads(port, path, n, length, pid):
    before = rss_kb(pid)
    held, answers = [], []
    for _ in range(n):
        s, refused = upload(port, path, length)
        if refused:
            answers.append(read_answer(s))
            s.close()
        else:
            held.append(s)
    end = time.time() + 30
    while rx_queued(port) and time.time() < end:
        time.sleep(0.05)
    print(json.dumps({"rss_before_kb": before, "rss_held_kb": rss_kb(pid),
                      "drained": rx_queued(port) == 0, "kept": len(held),
                      "answers": [{"status": a[0], "body": a[1]} if a else None
                                  for a in answers]}), flush=True)
    signal.pause()  # holds them until the test kills this process


if __name__ == "__main__":
    if sys.argv[1] == "conns":
        conns(int(sys.argv[2]), int(sys.argv[3]), sys.argv[4])
    else:
        uploads(int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), int(sys.argv[5]),
                int(sys.argv[6]))
