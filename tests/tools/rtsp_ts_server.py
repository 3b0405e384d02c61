#!/usr/bin/env python3
"""A minimal RTSP server for tests: serves an MPEG-TS file as RTP payload
type 33 (MP2T) interleaved over the RTSP TCP connection (RFC 2326 10.12,
RFC 2250), looping it at about real time, to any number of clients, one
thread each. Enough for libavformat's RTSP client with
rtsp_transport=tcp. Usage: rtsp_ts_server.py PORT FILE.ts (127.0.0.1 only).
"""
import socket
import struct
import sys
import threading
import time

PORT, FILE = int(sys.argv[1]), sys.argv[2]
DATA = open(FILE, 'rb').read()
CHUNK = 188 * 7


def read_request(f):
    lines = []
    while True:
        line = f.readline()
        if not line:
            return None
        line = line.decode('latin-1').rstrip('\r\n')
        if not line:
            return lines
        lines.append(line)


def stream(conn, stop):
    seq, t0 = 0, time.time()
    while not stop.is_set():
        for off in range(0, len(DATA) - CHUNK + 1, CHUNK):
            if stop.is_set():
                return
            ts = int((time.time() - t0) * 90000) & 0xFFFFFFFF
            rtp = struct.pack('!BBHII', 0x80, 33, seq & 0xFFFF, ts, 0x1234) + DATA[off:off + CHUNK]
            seq += 1
            try:
                conn.sendall(b'$\x00' + struct.pack('!H', len(rtp)) + rtp)
            except OSError:
                return
            time.sleep(0.002)


def client(conn):
    f = conn.makefile('rb')
    stop = threading.Event()
    try:
        while True:
            req = read_request(f)
            if req is None:
                break
            method = req[0].split(' ')[0]
            cseq = next((l.split(':', 1)[1].strip() for l in req if l.lower().startswith('cseq')), '0')
            head = 'RTSP/1.0 200 OK\r\nCSeq: %s\r\n' % cseq
            body = ''
            if method == 'OPTIONS':
                head += 'Public: OPTIONS, DESCRIBE, SETUP, PLAY, TEARDOWN\r\n'
            elif method == 'DESCRIBE':
                body = ('v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=test\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n'
                        'm=video 0 RTP/AVP 33\r\na=rtpmap:33 MP2T/90000\r\na=control:track1\r\n')
                head += 'Content-Type: application/sdp\r\nContent-Base: %s/\r\n' % req[0].split(' ')[1]
            elif method == 'SETUP':
                head += 'Transport: RTP/AVP/TCP;unicast;interleaved=0-1\r\nSession: 12345678\r\n'
            elif method == 'PLAY':
                head += 'Session: 12345678\r\n'
            head += 'Content-Length: %d\r\n\r\n' % len(body)
            conn.sendall((head + body).encode())
            if method == 'PLAY':
                threading.Thread(target=stream, args=(conn, stop), daemon=True).start()
            if method == 'TEARDOWN':
                break
    except OSError:
        pass
    stop.set()
    conn.close()


srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(('127.0.0.1', PORT))
srv.listen(16)
while True:
    c, _ = srv.accept()
    threading.Thread(target=client, args=(c,), daemon=True).start()
