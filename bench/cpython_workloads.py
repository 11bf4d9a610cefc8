"""The eight workloads of `deno task bench:peers` in CPython's asyncio.

One measurement per process, as for the JavaScript peers (bench/peers.ts):

    python3 bench/cpython_workloads.py <workload> <n>

runs the workload once at n/10 to warm up, collects garbage, times one run
at n (time.perf_counter() around asyncio.run(), which makes and closes its
loop), checks the result, and prints one JSON line:
{"peer", "workload", "n", "items", "ms"} plus "heap_bytes_per_item" for
memory. Standard library only; Python 3.12 or newer (the asyncio whose
semantics the package follows: wait_for built on asyncio.timeout).

The constants mirror bench/_workloads/shared.ts; the idioms are the ones a
Python user writes: create_task + gather, wait_for, asyncio.sleep, Queue(100),
`async with Lock()`, task.cancel() + gather(return_exceptions=True).
"""

import asyncio
import gc
import json
import sys
import time
import tracemalloc

WORKLOADS = ("spawn", "timeouts", "timers", "queue", "lock", "cancel", "recursion", "memory")
HOUR_S = 3600.0
DEADLINE_S = 10.0
QUEUE_CAPACITY = 100
LOCK_ROUNDS = 100
RECURSION_DEPTH = 100


def timer_delay_s(i, n):
    """Delay of timer i of n: spread over [1, 100) ms in a scrambled order (as shared.ts)."""
    return (1 + (99 * ((i * 7919) % n)) / n) / 1000


def items_of(workload, n):
    if workload == "lock":
        return n * LOCK_ROUNDS
    if workload == "recursion":
        return n * (RECURSION_DEPTH + 1)
    return n


def check(condition, what):
    if not condition:
        raise AssertionError(f"Benchmark result is wrong: {what}")


class CriticalSection:
    """Fails when two tasks are inside at once; counts completed rounds."""

    def __init__(self):
        self.busy = False
        self.rounds = 0

    def enter(self):
        check(not self.busy, "two tasks hold the lock")
        self.busy = True

    def leave(self):
        self.busy = False
        self.rounds += 1


class NoProbe:
    def before(self):
        pass

    def after(self):
        pass


class HeapProbe:
    """tracemalloc from right before the tasks exist to when all are pending."""

    def __init__(self):
        self.bytes = None

    def before(self):
        gc.collect()
        tracemalloc.start()

    def after(self):
        gc.collect()
        current, _peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        self.bytes = current


async def yield_once():
    await asyncio.sleep(0)


async def sleep_an_hour():
    await asyncio.sleep(HOUR_S)


async def descend(depth):
    if depth > 0:
        await asyncio.create_task(descend(depth - 1))


async def cancel_all(tasks):
    for task in tasks:
        task.cancel()
    outcomes = await asyncio.gather(*tasks, return_exceptions=True)
    check(all(isinstance(o, asyncio.CancelledError) for o in outcomes), "a task was not cancelled")


async def spawn(n, _probe):
    # create_task(yield_once()) N times, then gather.
    tasks = [asyncio.create_task(yield_once()) for _ in range(n)]
    await asyncio.gather(*tasks)


async def timeouts(n, _probe):
    # gather over N wait_for(sleep(0), 10 s): a deadline set, then cleared.
    await asyncio.gather(*[asyncio.wait_for(asyncio.sleep(0), DEADLINE_S) for _ in range(n)])


async def timers(n, _probe):
    # gather over N sleep(d), d spread over 1..100 ms.
    await asyncio.gather(*[asyncio.sleep(timer_delay_s(i, n)) for i in range(n)])


async def queue(n, _probe):
    # Queue(100), one producer task, one consumer task.
    q = asyncio.Queue(QUEUE_CAPACITY)

    async def producer():
        for i in range(n):
            await q.put(i)

    async def consumer():
        total = 0
        for _ in range(n):
            total += await q.get()
        return total

    _, total = await asyncio.gather(asyncio.create_task(producer()), asyncio.create_task(consumer()))
    check(total == n * (n - 1) // 2, "the consumer did not receive every item once")


async def lock(n, _probe):
    # N tasks, each taking one shared Lock 100 times, sleep(0) inside.
    the_lock = asyncio.Lock()
    section = CriticalSection()

    async def worker():
        for _ in range(LOCK_ROUNDS):
            async with the_lock:
                section.enter()
                await asyncio.sleep(0)
                section.leave()

    await asyncio.gather(*[asyncio.create_task(worker()) for _ in range(n)])
    check(section.rounds == n * LOCK_ROUNDS, "some lock rounds did not run")


async def cancel(n, _probe):
    # N tasks sleeping an hour; after one sleep(0), cancel each, then gather.
    tasks = [asyncio.create_task(sleep_an_hour()) for _ in range(n)]
    await asyncio.sleep(0)
    await cancel_all(tasks)


async def recursion(n, _probe):
    # Each level create_task()s its child and awaits it; n repeats of depth 100.
    for _ in range(n):
        await asyncio.create_task(descend(RECURSION_DEPTH))


async def memory(n, probe):
    # As cancel, measured while every task is pending.
    probe.before()
    tasks = [asyncio.create_task(sleep_an_hour()) for _ in range(n)]
    await asyncio.sleep(0)
    probe.after()
    await cancel_all(tasks)


def main(argv):
    if len(argv) != 3 or argv[1] not in WORKLOADS:
        print(f"usage: {argv[0]} <{'|'.join(WORKLOADS)}> <n>", file=sys.stderr)
        return 2
    if sys.version_info < (3, 12):
        print("bench/cpython_workloads.py needs Python 3.12 or newer", file=sys.stderr)
        return 2
    name, n = argv[1], int(argv[2])
    workload = globals()[name]
    asyncio.run(workload(max(1, n // 10), NoProbe()))  # warm-up
    gc.collect()
    probe = HeapProbe() if name == "memory" else NoProbe()
    t0 = time.perf_counter()
    asyncio.run(workload(n, probe))
    ms = (time.perf_counter() - t0) * 1000
    line = {"peer": "cpython", "workload": name, "n": n, "items": items_of(name, n), "ms": ms}
    if name == "memory":
        line["heap_bytes_per_item"] = probe.bytes / n
    print(json.dumps(line))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
