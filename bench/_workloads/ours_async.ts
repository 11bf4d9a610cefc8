/**
 * The workloads with @aio/asyncio's async-function tasks
 * (`(signal) => Promise`), the style of a user coming from plain
 * async/await. As in the peer harness, the measured peer covers spawn,
 * cancel and memory, where the task style is what is measured;
 * `ASYNC_EXTRAS` adds queue and lock as extra rows, since an `await` on our
 * futures costs more than a `yield*` and users should see by how much.
 *
 * @module
 */

import * as asyncio from "../../mod.ts";
import {
  check,
  CriticalSection,
  type HeapProbe,
  HOUR_MS,
  LOCK_ROUNDS,
  QUEUE_CAPACITY,
  queueSum,
  type Workloads,
} from "./shared.ts";

async function yieldOnce(): Promise<void> {
  await asyncio.sleep(0);
}

async function sleepAnHour(signal: AbortSignal): Promise<void> {
  await asyncio.sleep(HOUR_MS, { signal });
}

/** Cancels every task (which aborts its signal), gathers them, checks all ended cancelled. */
async function cancelAll(tasks: asyncio.Task<void>[]): Promise<void> {
  for (let i = 0; i < tasks.length; i++) tasks[i].cancel();
  const outcomes = await asyncio.gather(tasks, { returnExceptions: true });
  check(
    outcomes.every((o) => o instanceof asyncio.CancelledError),
    "a task was not cancelled",
  );
}

/** The async-function-task workloads of the peer "ours-async". */
export const oursAsync: Workloads = {
  spawn(n) {
    // createTask(async () => { await sleep(0) }) N times, then gather.
    return asyncio.run(async () => {
      const tasks = new Array<asyncio.Task<void>>(n);
      for (let i = 0; i < n; i++) tasks[i] = asyncio.createTask(yieldOnce);
      await asyncio.gather(tasks);
    });
  },

  cancel(n) {
    // N tasks `await sleep(1 hour, { signal })`; task.cancel() aborts the
    // signal and the sleep rejects with CancelledError; gather them all.
    return asyncio.run(async () => {
      const tasks = new Array<asyncio.Task<void>>(n);
      for (let i = 0; i < n; i++) tasks[i] = asyncio.createTask(sleepAnHour);
      await asyncio.sleep(0);
      await cancelAll(tasks);
    });
  },

  memory(n: number, probe: HeapProbe) {
    // As cancel, measured while every task is pending.
    return asyncio.run(async () => {
      probe.before();
      const tasks = new Array<asyncio.Task<void>>(n);
      for (let i = 0; i < n; i++) tasks[i] = asyncio.createTask(sleepAnHour);
      await asyncio.sleep(0);
      probe.after();
      await cancelAll(tasks);
    });
  },
};

/** Extra rows: queue and lock with async-function tasks. */
export const ASYNC_EXTRAS: Workloads = {
  queue(n) {
    // Queue(100), one producer and one consumer async-function task.
    return asyncio.run(async () => {
      const queue = new asyncio.Queue<number>(QUEUE_CAPACITY);
      const producer = asyncio.createTask(async () => {
        for (let i = 0; i < n; i++) await queue.put(i);
      });
      const consumer = asyncio.createTask(async () => {
        let sum = 0;
        for (let i = 0; i < n; i++) sum += await queue.get();
        return sum;
      });
      const [, sum] = await asyncio.gather([producer, consumer]);
      check(sum === queueSum(n), "the consumer did not receive every item once");
    });
  },

  lock(n) {
    // Lock: await acquire(), await sleep(0) inside, release in finally.
    return asyncio.run(async () => {
      const lock = new asyncio.Lock();
      const section = new CriticalSection();
      const worker = async (): Promise<void> => {
        for (let round = 0; round < LOCK_ROUNDS; round++) {
          await lock.acquire();
          try {
            section.enter();
            await asyncio.sleep(0);
            section.leave();
          } finally {
            lock.release();
          }
        }
      };
      const tasks = new Array<asyncio.Task<void>>(n);
      for (let i = 0; i < n; i++) tasks[i] = asyncio.createTask(worker);
      await asyncio.gather(tasks);
      check(section.rounds === n * LOCK_ROUNDS, "some lock rounds did not run");
    });
  },
};
