#!/usr/bin/env python3
"""Shaped routes for `make bench`: userspace TCP relays that cap bandwidth and add delay per route.

Usage: shaper.py CONFIG.json
CONFIG: {"routes": [{"name": "direct", "listen": 12345, "upstream": 23456,
                     "mbps": 40, "rtt_ms": 20, "pass_from": ["127.0.0.3"],
                     "die_after_bytes": 0}, ...]}
  listen, upstream   ports on 127.0.0.1 (the relay listens on one and connects to the other)
  mbps               the route's bandwidth in MB/s (10^6 bytes), shared by all its connections,
                     each direction on its own (as a link is)
  rtt_ms             added round-trip time: a new connection waits one RTT before its first byte
                     (the handshake), and every chunk is delayed half of it in each direction
  pass_from          peers (source addresses) relayed without shaping: the proxies, which bind
                     their outgoing connections to addresses of their own (tinyproxy's Bind,
                     microsocks -b), reach the registry through the direct route's relay unshaped;
                     their own route is shaped by the relay in front of them
  die_after_bytes    when > 0: once the route has carried this many bytes toward the client, it
                     fails: every connection of it is reset and new ones are refused (a route
                     failing midway); it never carries more (the chunk that reaches the limit is
                     cut there)
Prints "ready" on stdout once every relay listens. Runs until killed.
"""
import asyncio
import json
import socket
import sys
import time

CHUNK = 16384


class Link:
    """One direction of a route: a serializing queue at `rate` bytes/s with `delay` s of latency."""

    def __init__(self, rate, delay):
        self.rate = rate
        self.delay = delay
        self.next_free = 0.0

    def departure(self, size, arrival):
        # The chunk leaves the link once the link is free and it is serialized, then travels `delay`.
        start = max(arrival, self.next_free)
        self.next_free = start + size / self.rate
        return self.next_free + self.delay


class Route:
    def __init__(self, config):
        self.name = config["name"]
        self.listen = config["listen"]
        self.upstream = config["upstream"]
        rate = float(config["mbps"]) * 1e6
        delay = float(config["rtt_ms"]) / 2000
        self.rtt = float(config["rtt_ms"]) / 1000
        self.down = Link(rate, delay)
        self.up = Link(rate, delay)
        self.pass_from = set(config.get("pass_from", []))
        self.die_after = int(config.get("die_after_bytes", 0))
        self.carried = 0
        self.dead = False
        self.writers = set()

    def fail(self):
        self.dead = True
        for writer in list(self.writers):
            sock = writer.get_extra_info("socket")
            if sock is not None:
                # A reset, not an orderly close: the client sees the route break.
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
            writer.close()

    async def pipe(self, reader, writer, link, downstream):
        queue = asyncio.Queue(maxsize=64)

        async def pump():
            while True:
                data = await reader.read(CHUNK)
                now = time.monotonic()
                if not data:
                    await queue.put((None, now))
                    return
                await queue.put((data, link.departure(len(data), now) if link else now))

        pumping = asyncio.ensure_future(pump())
        try:
            while True:
                data, at = await queue.get()
                if data is None:
                    if writer.can_write_eof():
                        writer.write_eof()
                    return
                wait = at - time.monotonic()
                if wait > 0:
                    await asyncio.sleep(wait)
                if self.dead:
                    return
                if downstream and self.die_after:
                    # Never past the limit: the chunk that reaches it is cut there, and counted
                    # before the write (another connection of the route may write meanwhile).
                    data = data[:max(0, self.die_after - self.carried)]
                    self.carried += len(data)
                writer.write(data)
                await writer.drain()
                if downstream and self.die_after and self.carried >= self.die_after:
                    self.fail()
                    return
        except (ConnectionError, OSError):
            pass
        finally:
            pumping.cancel()

    async def serve(self, reader, writer):
        if self.dead:
            self.writers.add(writer)
            self.fail()
            return
        peer = writer.get_extra_info("peername")[0]
        shaped = peer not in self.pass_from
        try:
            if shaped and self.rtt:
                await asyncio.sleep(self.rtt)  # the TCP handshake over the route
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.upstream)
        except OSError:
            writer.close()
            return
        self.writers.update((writer, up_writer))
        try:
            await asyncio.gather(
                self.pipe(reader, up_writer, self.up if shaped else None, False),
                self.pipe(up_reader, writer, self.down if shaped else None, shaped))
        finally:
            for w in (writer, up_writer):
                self.writers.discard(w)
                w.close()


async def main(path):
    config = json.load(open(path))
    servers = []
    for entry in config["routes"]:
        route = Route(entry)
        servers.append(await asyncio.start_server(route.serve, "127.0.0.1", route.listen, reuse_address=True))
    print("ready", flush=True)
    await asyncio.gather(*(s.serve_forever() for s in servers))


if __name__ == "__main__":
    try:
        asyncio.run(main(sys.argv[1]))
    except KeyboardInterrupt:
        pass
