/**
 * The single-purpose promise libraries a user reaches for instead of a task
 * library: `p-timeout@8.0.0` for the deadline around a promise (timeouts) and
 * `async-mutex@0.5.0` for the mutex (lock), both pinned in deno.json. They
 * have no idiom for the other workloads (there, users write the native code).
 *
 * @module
 */

import pTimeout from "p-timeout";
import { Mutex } from "async-mutex";
import { check, CriticalSection, DEADLINE_MS, LOCK_ROUNDS, type Workloads } from "./shared.ts";

async function yieldOnce(): Promise<void> {
  await null;
}

/** p-timeout's workload. */
export const pTimeoutWorkloads: Workloads = {
  async timeouts(n) {
    // pTimeout(work, { milliseconds: 10 s }) around an async function doing
    // `await null`: it arms a setTimeout and clears it when the work settles.
    const all = new Array<Promise<void>>(n);
    for (let i = 0; i < n; i++) all[i] = pTimeout(yieldOnce(), { milliseconds: DEADLINE_MS });
    await Promise.all(all);
  },
};

/** async-mutex's workload. */
export const asyncMutexWorkloads: Workloads = {
  async lock(n) {
    // Mutex#runExclusive(section): acquire, run (`await null` inside),
    // release in finally; n async functions of 100 rounds each.
    const mutex = new Mutex();
    const section = new CriticalSection();
    const critical = async (): Promise<void> => {
      section.enter();
      await null;
      section.leave();
    };
    const worker = async (): Promise<void> => {
      for (let round = 0; round < LOCK_ROUNDS; round++) await mutex.runExclusive(critical);
    };
    const all = new Array<Promise<void>>(n);
    for (let i = 0; i < n; i++) all[i] = worker();
    await Promise.all(all);
    check(section.rounds === n * LOCK_ROUNDS, "some lock rounds did not run");
  },
};
