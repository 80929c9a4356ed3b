#!/usr/bin/env python3
"""Python `websockets` side of Benchmarks/load/websocket-client.sh: small-message round trips
per second against a WebSocket echo endpoint, the same loop as epsilon-ws-client-bench (one text
message in flight per connection, each echo checked) and the same output line.

    python3 ws_client_rtt.py URL [CONNECTIONS] [SIZE] [WARMUP] [SECONDS]
"""
import asyncio
import resource
import sys
import time

from websockets.asyncio.client import connect


def cpu_seconds():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def main():
    url = sys.argv[1]
    connections = int(sys.argv[2]) if len(sys.argv) > 2 else 1
    size = int(sys.argv[3]) if len(sys.argv) > 3 else 64
    warmup = float(sys.argv[4]) if len(sys.argv) > 4 else 1.0
    seconds = float(sys.argv[5]) if len(sys.argv) > 5 else 5.0
    text = ('{"user":"bench","text":"hello"}' * (size // 32 + 1))[:size]
    state = {"counting": False, "stopping": False, "count": 0}
    samples = []
    failures = []

    async def one():
        try:
            # No compression offered, no keep-alive pings: the same as the other clients.
            async with connect(url, compression=None, ping_interval=None, max_size=1 << 16) as ws:
                while not state["stopping"]:
                    start = time.perf_counter_ns()
                    await ws.send(text)
                    echo = await ws.recv()
                    if echo != text:
                        failures.append("echo differs")
                        state["stopping"] = True
                        return
                    if state["counting"]:
                        state["count"] += 1
                        if len(samples) < 4_000_000:
                            samples.append(time.perf_counter_ns() - start)
        except Exception as error:  # reported, and the run fails
            failures.append(repr(error))
            state["stopping"] = True

    tasks = [asyncio.create_task(one()) for _ in range(connections)]
    await asyncio.sleep(warmup)
    t0, cpu0 = time.perf_counter(), cpu_seconds()
    state["counting"] = True
    await asyncio.sleep(seconds)
    state["counting"] = False
    counted, elapsed, cpu = state["count"], time.perf_counter() - t0, cpu_seconds() - cpu0
    state["stopping"] = True
    await asyncio.wait_for(asyncio.gather(*tasks), timeout=30)
    rate = counted / elapsed
    samples.sort()
    p50 = samples[len(samples) // 2] // 1000 if samples else 0
    p99 = samples[min(len(samples) - 1, int(len(samples) * 0.99))] // 1000 if samples else 0
    line = (f"rtt python-websockets: {int(rate)} round trips/s ({connections} connections, {size}-byte text), "
            f"client CPU {cpu / elapsed:.2f}, {int(rate / (cpu / elapsed)) if cpu > 0 else 0} per client CPU second, "
            f"p50 {p50} us, p99 {p99} us")
    if failures:
        print(f"{line}, {len(failures)} connections FAILED (first: {failures[0]})")
        sys.exit(1)
    print(f"{line}, all echoes checked")


asyncio.run(main())
