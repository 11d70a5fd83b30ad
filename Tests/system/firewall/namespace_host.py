#!/usr/bin/env python3
"""What one of the firewall tests' hosts runs inside its network namespace: TCP listeners that
answer any connection with `NAME:PORT` (an HTTP/1.0 answer, so busybox wget can read it) and log
every peer, and optionally a tiny DNS server. Stdlib only.

Usage: namespace_host.py --name NAME --log FILE [--listen LISTEN...] [--dns ADDR:PORT NAME=IPV4 ...]
LISTEN is ADDR:PORT (`::` listens on IPv6 and IPv4 at once). Prints `ready` once every socket is
bound. The log gets one line per connection or DNS question: `tcp PORT PEER` / `dns PEER QNAME`.
"""

from __future__ import annotations

import argparse
import socket
import struct
import sys
import threading


def log_line(path: str, lock: threading.Lock, text: str) -> None:
    with lock, open(path, "a") as f:
        f.write(text + "\n")


def serve_tcp(sock: socket.socket, name: str, port: int, log: str, lock: threading.Lock) -> None:
    while True:
        conn, peer = sock.accept()
        log_line(log, lock, f"tcp {port} {peer[0]}")
        body = f"{name}:{port}".encode()
        try:
            conn.sendall(b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\nContent-Length: "
                         + str(len(body)).encode() + b"\r\nConnection: close\r\n\r\n" + body)
        except OSError:
            pass
        conn.close()


def dns_answer(query: bytes, names: dict[str, str]) -> bytes | None:
    """An answer to a one-question query: the A record of a known name, else NXDOMAIN."""
    if len(query) < 17:
        return None
    qid, _flags, qdcount = struct.unpack(">HHH", query[:6])
    if qdcount != 1:
        return None
    i, labels = 12, []
    while i < len(query) and query[i]:
        labels.append(query[i + 1:i + 1 + query[i]].decode("ascii", "replace"))
        i += 1 + query[i]
    qtype = struct.unpack(">H", query[i + 1:i + 3])[0]
    question = query[12:i + 5]
    address = names.get(".".join(labels).lower())
    if address and qtype == 1:
        return (struct.pack(">HHHHHH", qid, 0x8180, 1, 1, 0, 0) + question
                + b"\xc0\x0c" + struct.pack(">HHIH", 1, 1, 60, 4) + socket.inet_aton(address))
    # A known name with no record of that type: an empty answer; an unknown one: NXDOMAIN.
    return struct.pack(">HHHHHH", qid, 0x8180 if address else 0x8183, 1, 0, 0, 0) + question


def serve_dns(sock: socket.socket, names: dict[str, str], log: str, lock: threading.Lock) -> None:
    while True:
        query, peer = sock.recvfrom(512)
        answer = dns_answer(query, names)
        qname = "?"
        if answer:
            labels, i = [], 12
            while query[i]:
                labels.append(query[i + 1:i + 1 + query[i]].decode("ascii", "replace"))
                i += 1 + query[i]
            qname = ".".join(labels)
            sock.sendto(answer, peer)
        log_line(log, lock, f"dns {peer[0]} {qname}")


def split(endpoint: str) -> tuple[str, int]:
    address, _, port = endpoint.rpartition(":")
    return address.strip("[]"), int(port)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--name", required=True)
    parser.add_argument("--log", required=True)
    parser.add_argument("--dns", nargs="+", default=[], metavar="ADDR:PORT NAME=IPV4")
    parser.add_argument("--listen", nargs="+", default=[], metavar="ADDR:PORT")
    args = parser.parse_args()
    lock = threading.Lock()
    threads = []
    for endpoint in args.listen:
        address, port = split(endpoint)
        family = socket.AF_INET6 if ":" in address else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if family == socket.AF_INET6:
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        sock.bind((address, port))
        sock.listen(16)
        threads.append(threading.Thread(target=serve_tcp, args=(sock, args.name, port, args.log, lock), daemon=True))
    if args.dns:
        address, port = split(args.dns[0])
        names = dict(entry.lower().split("=", 1) for entry in args.dns[1:])
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.bind((address, port))
        threads.append(threading.Thread(target=serve_dns, args=(sock, names, args.log, lock), daemon=True))
    for thread in threads:
        thread.start()
    print("ready", flush=True)
    threading.Event().wait()


if __name__ == "__main__":
    sys.exit(main())
