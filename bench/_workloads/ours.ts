/**
 * The workloads with @aio/asyncio's generator tasks (`function*` bodies that
 * wait with `yield*`), written as a user would from SPEC.md. Each run is its
 * own `asyncio.run()` (a fresh loop), as Python's `asyncio.run(main())`.
 * "Yield once" is `yield* asyncio.sleep(0)`: one loop iteration, no timer.
 *
 * @module
 */

import * as asyncio from "../../mod.ts";
import {
  check,
  CriticalSection,
  DEADLINE_MS,
  type HeapProbe,
  HOUR_MS,
  LOCK_ROUNDS,
  QUEUE_CAPACITY,
  queueSum,
  RECURSION_DEPTH,
  timerDelay,
  type Workloads,
} from "./shared.ts";

function* yieldOnce(): asyncio.Coroutine<void> {
  yield* asyncio.sleep(0);
}

function* sleepAnHour(): asyncio.Coroutine<void> {
  yield* asyncio.sleep(HOUR_MS);
}

function* descend(depth: number): asyncio.Coroutine<void> {
  if (depth > 0) yield* asyncio.createTask(descend(depth - 1));
}

/** Cancels every task, gathers them and checks that all ended cancelled. */
function* cancelAll(tasks: asyncio.Task<void>[]): asyncio.Coroutine<void> {
  for (let i = 0; i < tasks.length; i++) tasks[i].cancel();
  const outcomes = yield* asyncio.gather(tasks, { returnExceptions: true });
  check(
    outcomes.every((o) => o instanceof asyncio.CancelledError),
    "a task was not cancelled",
  );
}

/** Runs the lock workload: n tasks, each running `worker` on one shared lock. */
function lockWith(
  n: number,
  worker: (lock: asyncio.Lock, section: CriticalSection) => asyncio.Coroutine<void>,
): Promise<void> {
  return asyncio.run(function* () {
    const lock = new asyncio.Lock();
    const section = new CriticalSection();
    const tasks = new Array<asyncio.Task<void>>(n);
    for (let i = 0; i < n; i++) tasks[i] = asyncio.createTask(worker(lock, section));
    yield* asyncio.gather(tasks);
    check(section.rounds === n * LOCK_ROUNDS, "some lock rounds did not run");
  });
}

/** The generator-task workloads. */
export const ours: Workloads = {
  spawn(n) {
    // createTask(function* () { yield* sleep(0) }) N times, then gather.
    return asyncio.run(function* () {
      const tasks = new Array<asyncio.Task<void>>(n);
      for (let i = 0; i < n; i++) tasks[i] = asyncio.createTask(yieldOnce);
      yield* asyncio.gather(tasks);
    });
  },

  timeouts(n) {
    // gather over N waitFor(sleep(0), 10 s): a deadline set on the loop's
    // timer heap, then cleared because sleep(0) finished first.
    return asyncio.run(function* () {
      const waits = new Array<asyncio.Future<void>>(n);
      for (let i = 0; i < n; i++) waits[i] = asyncio.waitFor(asyncio.sleep(0), DEADLINE_MS);
      yield* asyncio.gather(waits);
    });
  },

  timers(n) {
    // gather over N sleep(d): sleep returns a future, so no task per sleep.
    return asyncio.run(function* () {
      const sleeps = new Array<asyncio.Future<void>>(n);
      for (let i = 0; i < n; i++) sleeps[i] = asyncio.sleep(timerDelay(i, n));
      yield* asyncio.gather(sleeps);
    });
  },

  queue(n) {
    // Queue(100), one producer task and one consumer task, gathered.
    return asyncio.run(function* () {
      const queue = new asyncio.Queue<number>(QUEUE_CAPACITY);
      const producer = asyncio.createTask(function* () {
        for (let i = 0; i < n; i++) yield* queue.put(i);
      });
      const consumer = asyncio.createTask(function* () {
        let sum = 0;
        for (let i = 0; i < n; i++) sum += yield* queue.get();
        return sum;
      });
      const [, sum] = yield* asyncio.gather([producer, consumer]);
      check(sum === queueSum(n), "the consumer did not receive every item once");
    });
  },

  lock(n) {
    // Lock: acquire, sleep(0) inside, release in finally (Python's `async with`).
    return lockWith(n, function* (lock, section) {
      for (let round = 0; round < LOCK_ROUNDS; round++) {
        yield* lock.acquire();
        try {
          section.enter();
          yield* asyncio.sleep(0);
          section.leave();
        } finally {
          lock.release();
        }
      }
    });
  },

  cancel(n) {
    // N tasks sleeping an hour; after one sleep(0), task.cancel() on each,
    // then gather(..., { returnExceptions: true }).
    return asyncio.run(function* () {
      const tasks = new Array<asyncio.Task<void>>(n);
      for (let i = 0; i < n; i++) tasks[i] = asyncio.createTask(sleepAnHour);
      yield* asyncio.sleep(0);
      yield* cancelAll(tasks);
    });
  },

  recursion(n) {
    // Each level createTask()s its child and waits for it; n repeats of depth 100.
    return asyncio.run(function* () {
      for (let repeat = 0; repeat < n; repeat++) {
        yield* asyncio.createTask(descend(RECURSION_DEPTH));
      }
    });
  },

  memory(n: number, probe: HeapProbe) {
    // As cancel, measured while every task is pending.
    return asyncio.run(function* () {
      probe.before();
      const tasks = new Array<asyncio.Task<void>>(n);
      for (let i = 0; i < n; i++) tasks[i] = asyncio.createTask(sleepAnHour);
      yield* asyncio.sleep(0);
      probe.after();
      yield* cancelAll(tasks);
    });
  },
};

/**
 * The lock workload spelled with `using`: the `Disposable` that `acquire()`
 * resolves to releases the lock when the block ends (an extra row in the
 * lock group; the same semantics as `ours.lock`).
 */
export function lockUsing(n: number): Promise<void> {
  return lockWith(n, function* (lock, section) {
    for (let round = 0; round < LOCK_ROUNDS; round++) {
      using _held = yield* lock.acquire();
      section.enter();
      yield* asyncio.sleep(0);
      section.leave();
    }
  });
}
