/**
 * The workloads with Effection 4 (`effection@4.1.1`, pinned in deno.json),
 * structured concurrency on generators: the closest JavaScript relative of
 * generator-task asyncio. Each workload runs in its own `run()`.
 *
 * "Yield once" is `yield* until(Promise.resolve())`: Effection has no
 * yieldNow, and its `sleep(0)` arms a real `setTimeout(0)` (which Deno
 * clamps to about 2 ms when nested); waiting on a resolved promise resumes on
 * a microtask, like native `await null`.
 *
 * Effection has no lock or semaphore, so it has no lock workload.
 *
 * @module
 */

import {
  all,
  createQueue,
  type Operation,
  race,
  run,
  sleep,
  spawn,
  suspend,
  type Task,
  until,
} from "effection";
import {
  check,
  DEADLINE_MS,
  type HeapProbe,
  HOUR_MS,
  QUEUE_CAPACITY,
  queueSum,
  RECURSION_DEPTH,
  timerDelay,
  type Workloads,
} from "./shared.ts";

function yieldOnce(): Operation<void> {
  return until(Promise.resolve());
}

/** Effection's deadline idiom: race the work against a sleep that throws. */
function* expireAfter(ms: number): Operation<never> {
  yield* sleep(ms);
  throw new Error("timed out");
}

function* descend(depth: number): Operation<void> {
  if (depth > 0) yield* yield* spawn(() => descend(depth - 1));
}

/**
 * Spawns n hour-long sleepers under one parent task, waits until they have
 * started, halts the parent (which halts every child and returns once all
 * have exited) and checks that each sleeper was torn down. `probe.after()`
 * runs while all are pending.
 */
function* sleepThenHalt(n: number, probe: HeapProbe): Operation<void> {
  let started = 0;
  let halted = 0;
  const sleeper = function* (): Operation<void> {
    started++;
    try {
      yield* sleep(HOUR_MS);
    } finally {
      halted++; // the sleep never ends: only a halt gets here
    }
  };
  // The handles are kept, as every peer keeps its N task handles.
  const tasks = new Array<Task<void>>(n);
  const parent = yield* spawn(function* () {
    for (let i = 0; i < n; i++) tasks[i] = yield* spawn(sleeper);
    yield* suspend();
  });
  yield* yieldOnce();
  probe.after();
  check(started === n, "a sleeper had not started before the halt");
  yield* parent.halt();
  check(halted === n, "a sleeper was not halted");
}

/** The Effection workloads (no lock). */
export const effection: Workloads = {
  spawn(n) {
    // spawn N children that each yield once, then join every task.
    return run(function* () {
      const tasks = new Array<Task<void>>(n);
      for (let i = 0; i < n; i++) tasks[i] = yield* spawn(yieldOnce);
      for (let i = 0; i < n; i++) yield* tasks[i];
    });
  },

  timeouts(n) {
    // all() over N race([yield once, sleep(10 s) then throw]); the losing
    // sleep is halted, which clears its setTimeout.
    return run(function* () {
      const guarded = new Array<Operation<void>>(n);
      for (let i = 0; i < n; i++) guarded[i] = race([yieldOnce(), expireAfter(DEADLINE_MS)]);
      yield* all(guarded);
    });
  },

  timers(n) {
    // all() over N sleep(d), each its own setTimeout.
    return run(function* () {
      const sleeps = new Array<Operation<void>>(n);
      for (let i = 0; i < n; i++) sleeps[i] = sleep(timerDelay(i, n));
      yield* all(sleeps);
    });
  },

  queue(n) {
    // createQueue() is unbounded, so the bound of 100 comes from a second
    // queue of 100 "free slot" credits: the producer takes one before each
    // add(), the consumer gives one back after each next().
    return run(function* () {
      const items = createQueue<number, void>();
      const slots = createQueue<true, void>();
      for (let i = 0; i < QUEUE_CAPACITY; i++) slots.add(true);
      const producer = yield* spawn(function* () {
        for (let i = 0; i < n; i++) {
          yield* slots.next();
          items.add(i);
        }
      });
      const consumer = yield* spawn(function* () {
        let sum = 0;
        for (let i = 0; i < n; i++) {
          const next = yield* items.next();
          sum += next.value as number;
          slots.add(true);
        }
        return sum;
      });
      yield* producer;
      const sum = yield* consumer;
      check(sum === queueSum(n), "the consumer did not receive every item once");
    });
  },

  cancel(n) {
    // Structured cancellation: halt the parent of N sleepers.
    return run(() => sleepThenHalt(n, { before() {}, after() {} }));
  },

  recursion(n) {
    // Each level spawns its child task and joins it; n repeats of depth 100.
    return run(function* () {
      for (let repeat = 0; repeat < n; repeat++) {
        yield* yield* spawn(() => descend(RECURSION_DEPTH));
      }
    });
  },

  memory(n: number, probe: HeapProbe) {
    // As cancel, measured while every sleeper is pending.
    return run(function* () {
      probe.before();
      yield* sleepThenHalt(n, probe);
    });
  },
};
