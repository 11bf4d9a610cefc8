/**
 * The workloads with Effect 4 (`effect@4.1.0`, pinned in deno.json): a task
 * is a fiber, forked with `Effect.forkChild` or by `Effect.forEach` with
 * `{ concurrency: "unbounded" }` (one fiber per element). "Yield once" is
 * `Effect.yieldNow`. Each workload is one program run by `Effect.runPromise`.
 *
 * @module
 */

import { Duration, Effect, Exit, Fiber, Queue, Semaphore } from "effect";
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

/** forEach over this runs one fiber per element, all at once, results dropped. */
const ALL_AT_ONCE = { concurrency: "unbounded", discard: true } as const;

function indices(n: number): number[] {
  const all = new Array<number>(n);
  for (let i = 0; i < n; i++) all[i] = i;
  return all;
}

const sleepAnHour = Effect.sleep(Duration.millis(HOUR_MS));

/** Forks n hour-long sleepers as children of the running fiber. */
const forkSleepers = (n: number) =>
  Effect.gen(function* () {
    const fibers = new Array<Fiber.Fiber<void>>(n);
    for (let i = 0; i < n; i++) fibers[i] = yield* Effect.forkChild(sleepAnHour);
    return fibers;
  });

/** Interrupts every fiber (returns once all have exited), checks each was interrupted. */
const interruptAndCheck = (fibers: Fiber.Fiber<void>[]) =>
  Effect.gen(function* () {
    yield* Fiber.interruptAll(fibers);
    check(
      fibers.every((fiber) => {
        const exit = fiber.pollUnsafe();
        return exit !== undefined && Exit.hasInterrupts(exit);
      }),
      "a fiber was not interrupted",
    );
  });

const descend = (depth: number): Effect.Effect<void> =>
  Effect.gen(function* () {
    if (depth > 0) yield* Fiber.join(yield* Effect.forkChild(descend(depth - 1)));
  });

/** The Effect workloads. */
export const effect: Workloads = {
  spawn(n) {
    // forEach, unbounded: one fiber per element, each does Effect.yieldNow.
    return Effect.runPromise(Effect.forEach(indices(n), () => Effect.yieldNow, ALL_AT_ONCE));
  },

  timeouts(n) {
    // Effect.timeout(10 s) around Effect.yieldNow, N fibers at once: the
    // timeout's sleep is interrupted (its timer cleared) when yieldNow wins.
    const deadline = Duration.millis(DEADLINE_MS);
    return Effect.runPromise(
      Effect.forEach(indices(n), () => Effect.yieldNow.pipe(Effect.timeout(deadline)), ALL_AT_ONCE),
    );
  },

  timers(n) {
    // N fibers at once, each Effect.sleep(d).
    return Effect.runPromise(
      Effect.forEach(
        indices(n),
        (i) => Effect.sleep(Duration.millis(timerDelay(i, n))),
        ALL_AT_ONCE,
      ),
    );
  },

  queue(n) {
    // Queue.bounded(100) (offer suspends while full); producer and consumer
    // forked as two fibers, then joined.
    return Effect.runPromise(Effect.gen(function* () {
      const queue = yield* Queue.bounded<number>(QUEUE_CAPACITY);
      const producer = yield* Effect.forkChild(Effect.gen(function* () {
        for (let i = 0; i < n; i++) yield* Queue.offer(queue, i);
      }));
      const consumer = yield* Effect.forkChild(Effect.gen(function* () {
        let sum = 0;
        for (let i = 0; i < n; i++) sum += yield* Queue.take(queue);
        return sum;
      }));
      yield* Fiber.join(producer);
      const sum = yield* Fiber.join(consumer);
      check(sum === queueSum(n), "the consumer did not receive every item once");
    }));
  },

  lock(n) {
    // Semaphore.make(1); withPermit(section) takes it, runs the section
    // (yieldNow inside) and gives it back; n fibers of 100 rounds each.
    return Effect.runPromise(Effect.gen(function* () {
      const semaphore = yield* Semaphore.make(1);
      const section = new CriticalSection();
      const critical = Effect.gen(function* () {
        section.enter();
        yield* Effect.yieldNow;
        section.leave();
      });
      const worker = Effect.gen(function* () {
        for (let round = 0; round < LOCK_ROUNDS; round++) yield* semaphore.withPermit(critical);
      });
      yield* Effect.forEach(indices(n), () => worker, ALL_AT_ONCE);
      check(section.rounds === n * LOCK_ROUNDS, "some lock rounds did not run");
    }));
  },

  cancel(n) {
    // forkChild N fibers sleeping an hour, yieldNow once, then
    // Fiber.interruptAll, which returns when all have exited.
    return Effect.runPromise(Effect.gen(function* () {
      const fibers = yield* forkSleepers(n);
      yield* Effect.yieldNow;
      yield* interruptAndCheck(fibers);
    }));
  },

  recursion(n) {
    // Each level forks its child fiber and joins it; n repeats of depth 100.
    return Effect.runPromise(Effect.gen(function* () {
      for (let repeat = 0; repeat < n; repeat++) {
        yield* Fiber.join(yield* Effect.forkChild(descend(RECURSION_DEPTH)));
      }
    }));
  },

  memory(n: number, probe: HeapProbe) {
    // As cancel, measured while every fiber is pending.
    return Effect.runPromise(Effect.gen(function* () {
      probe.before();
      const fibers = yield* forkSleepers(n);
      yield* Effect.yieldNow;
      probe.after();
      yield* interruptAndCheck(fibers);
    }));
  },
};
