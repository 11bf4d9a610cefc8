/**
 * run(): run a program on a fresh event loop and clean up after it.
 *
 * @module
 */

import { EventLoop } from "./event_loop.ts";
import type { Clock } from "./clock.ts";
import { allTasks, type Task } from "./task.ts";
import type { Awaitable, AwaitedResult } from "./ensure_future.ts";
import { enterRun, exitRun } from "./_internal.ts";
import { toFuture } from "./_to_future.ts";
import { gather } from "./gather.ts";
import { checkOptions, describe } from "./_validate.ts";
import { asyncSlot } from "./_host.ts";

/** In debug mode without a host context, how long (loop ms) a cancelled left-over may take before it is reported. */
const STUCK_REPORT_MS = 1_000;

/** Options for {@linkcode run}. */
export interface RunOptions {
  /**
   * The clock of the new loop; a {@linkcode VirtualClock} makes the run deterministic.
   *
   * @default {the real clock}
   */
  clock?: Clock;
  /**
   * Debug mode for the new loop (slow-callback reports, task creation stacks).
   *
   * @default {false}
   */
  debug?: boolean;
}

/**
 * Runs `main` on a new event loop and resolves with its result.
 *
 * When `main` is done, the tasks it left pending are cancelled and awaited,
 * failures nobody retrieved are reported to the loop's exception handler,
 * and the loop is closed. The promise rejects with main's error if it
 * failed.
 *
 * Equivalent to Python's `asyncio.run()`; `main` may be anything
 * {@linkcode ensureFuture} accepts.
 *
 * @typeParam A The type of `main`.
 * @param main The program: a generator function, an async function, a generator, a future or a promise.
 * @param options The clock and debug mode.
 * @returns A promise of main's result.
 * @throws {Error} If called while another `run()` is in progress.
 * @throws {TypeError} If `main` is not awaitable or an option is invalid.
 *
 * @example A generator main
 * ```ts
 * import * as asyncio from "@aio/asyncio";
 * import assert from "node:assert/strict";
 *
 * const result = await asyncio.run(function* () {
 *   yield* asyncio.sleep(1);
 *   return "done";
 * });
 * assert.equal(result, "done");
 * ```
 *
 * @example An async main on a virtual clock
 * ```ts
 * import * as asyncio from "@aio/asyncio";
 * import assert from "node:assert/strict";
 *
 * const clock = new asyncio.VirtualClock({ autojump: true });
 * const hour = await asyncio.run(async () => {
 *   await asyncio.sleep(3_600_000);
 *   return asyncio.getRunningLoop().time();
 * }, { clock });
 * assert.equal(hour, 3_600_000);
 * ```
 */
export function run<A extends Awaitable<unknown>>(
  main: A,
  options?: RunOptions,
): Promise<AwaitedResult<A>> {
  checkOptions("run()", options);
  const { clock, debug = false } = options ?? {};
  if (typeof debug !== "boolean") {
    throw new TypeError(`run(): 'debug' must be a boolean, got ${describe(debug)}`);
  }
  if (
    clock !== undefined &&
    (clock === null || typeof clock !== "object" || typeof clock.now !== "function" ||
      typeof clock.setTimer !== "function" || typeof clock.clearTimer !== "function")
  ) {
    throw new TypeError(
      `run(): 'clock' must implement Clock (now, setTimer, clearTimer), got ${describe(clock)}`,
    );
  }
  const loop = new EventLoop(clock === undefined ? { debug } : { clock, debug });
  // The new loop is the running loop from here until run() settles, also
  // between main's end and the shutdown (as in Python, leftover tasks that
  // step then still see it).
  enterRun(loop);
  let task;
  try {
    task = toFuture(loop, main, "run()", "main");
  } catch (error) {
    exitRun(loop);
    loop.close();
    throw error;
  }
  return runOn(loop, task) as Promise<AwaitedResult<A>>;
}

async function runOn(loop: EventLoop, main: ReturnType<typeof toFuture>): Promise<unknown> {
  try {
    return await loop.runUntilComplete(main);
  } finally {
    try {
      await cancelAllTasks(loop);
    } finally {
      loop.close(); // also reports exceptions nobody retrieved
      exitRun(loop);
    }
  }
}

/** Python's `_cancel_all_tasks`: cancel what main left behind and wait for it. */
async function cancelAllTasks(loop: EventLoop): Promise<void> {
  const pending = allTasks(loop);
  if (pending.size === 0) return;
  const tasks = [...pending] as Task<unknown>[];
  for (const task of tasks) task.cancel();
  const report = loop.getDebug() && asyncSlot === null
    ? loop.callLater(STUCK_REPORT_MS, reportStuck, loop, tasks)
    : null;
  await loop.runUntilComplete(gather(tasks, { returnExceptions: true }));
  report?.cancel();
  for (const task of tasks) {
    if (task.cancelled()) continue;
    const exception = task.exception();
    if (exception !== undefined) {
      loop.callExceptionHandler({
        message: "unhandled exception during asyncio.run() shutdown",
        exception,
        task,
      });
    }
  }
}

/**
 * Debug mode, host without an async context: an async function stops only
 * where it handed its signal on, so a left-over that ignores it keeps run()
 * waiting for ever. Say which, instead of hanging silently.
 */
function reportStuck(loop: EventLoop, tasks: Task<unknown>[]): void {
  for (const task of tasks) {
    if (task.done()) continue;
    const kind = task.getCoro() === null ? "an async function" : "a coroutine";
    loop.callExceptionHandler({
      message:
        `run() is still waiting for ${task.getName()}, ${kind} cancelled ${STUCK_REPORT_MS} ms ago: ` +
        "this host has no async context, so an async function stops only where it passes its " +
        "signal (task.signal) to what it awaits",
      task,
    });
  }
}
