/**
 * sleep(): a future that completes after a delay.
 *
 * @module
 */

import { Future } from "./future.ts";
import { markYieldOnce, ownTimer, pushEntry, resolveFuture, scheduleTimer } from "./_internal.ts";
import { checkOptions, checkSignal, checkTime } from "./_validate.ts";
import { cancelOnAbort } from "./_signal.ts";

/** Options for {@linkcode sleep}. */
export interface SleepOptions {
  /**
   * Cancels the sleep when aborted: the future is cancelled with a
   * {@linkcode CancelledError} (the signal's reason is its `cause`, or the
   * error itself when the reason is one, as for a task's signal).
   */
  signal?: AbortSignal;
}

/**
 * A future that resolves (to `undefined`) after `ms` milliseconds of loop
 * time. Cancelling it clears its timer.
 *
 * `sleep(0)` (or a negative delay) arms no timer: it lets every other ready
 * callback run once, like Python's `await asyncio.sleep(0)`. `Infinity`
 * waits until cancelled.
 *
 * Equivalent to Python's `asyncio.sleep()`, in milliseconds, with an
 * `AbortSignal` option and without the `result` argument.
 *
 * @param ms The delay in milliseconds.
 * @param options An abort signal.
 * @returns The future of the sleep.
 * @throws {TypeError} If `ms` is not a number or `signal` is not an AbortSignal.
 * @throws {RangeError} If `ms` is NaN.
 *
 * @example In a generator task and in an async function
 * ```ts
 * import * as asyncio from "@aio/asyncio";
 * import assert from "node:assert/strict";
 *
 * const clock = new asyncio.VirtualClock({ autojump: true });
 * await asyncio.run(function* () {
 *   const loop = asyncio.getRunningLoop();
 *   const start = loop.time();
 *   yield* asyncio.sleep(1_500);
 *   assert.equal(loop.time() - start, 1_500);
 * }, { clock });
 * await asyncio.run(async () => {
 *   await asyncio.sleep(250);
 * }, { clock });
 * ```
 *
 * @example Cancelled through a signal
 * ```ts
 * import * as asyncio from "@aio/asyncio";
 * import assert from "node:assert/strict";
 *
 * const controller = new AbortController();
 * const nap = asyncio.sleep(10_000, { signal: controller.signal });
 * controller.abort();
 * await assert.rejects(nap, asyncio.CancelledError);
 * assert.ok(nap.cancelled());
 * ```
 */
export function sleep(ms: number, options?: SleepOptions): Future<void> {
  checkTime("sleep()", "ms", ms);
  let signal: AbortSignal | undefined;
  if (options !== undefined) {
    checkOptions("sleep()", options);
    signal = options.signal;
    checkSignal("sleep()", signal);
  }
  const future = new Future<void>();
  if (signal !== undefined && !cancelOnAbort(future, signal)) return future;
  const loop = future.getLoop();
  if (ms <= 0) {
    // No timer: one trip through the ready queue, and the waiting task's
    // wake-up runs inline when it resolves (see Task's step).
    markYieldOnce(future);
    pushEntry(loop, resolveSleepNow, future, undefined);
  } else if (ms !== Infinity) {
    // The future owns its timer: completing it any other way cancels the timer.
    ownTimer(future, scheduleTimer(loop, loop.time() + ms, resolveSleep, future));
  }
  return future;
}

function resolveSleep(future: Future<void>): void {
  if (!future.done()) resolveFuture(future, undefined);
}

/** A zero-delay sleep's ready entry stands for the waiting task's own step: wake it inline. */
function resolveSleepNow(future: Future<void>): void {
  if (!future.done()) resolveFuture(future, undefined, true);
}
