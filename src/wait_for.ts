/**
 * waitFor(): wait for an awaitable with a deadline.
 *
 * @module
 */

import { getEventLoop } from "./event_loop.ts";
import { Future } from "./future.ts";
import { CancelledError, TimeoutError } from "./errors.ts";
import { type Coroutine, currentTask, Task } from "./task.ts";
import type { Awaitable } from "./ensure_future.ts";
import { addCallback, markInlineWake, removeCallback, resolveFuture } from "./_internal.ts";
import { checkAwaitable, toFuture } from "./_to_future.ts";
import { NO_ERROR, TimeoutScope } from "./_timeout_scope.ts";
import { checkTime, isGenerator } from "./_validate.ts";

/**
 * Waits for `aw` for at most `timeoutMs` milliseconds.
 *
 * On expiry the inner work is cancelled, `waitFor` **waits for it to
 * finish** (its `finally` blocks run), then fails with
 * {@linkcode TimeoutError} whose `cause` is the `CancelledError`. If the
 * inner work swallows the cancellation and returns a value, `waitFor`
 * returns that value. Cancelling the `waitFor` cancels the inner work.
 * `timeoutMs <= 0` times out at once unless `aw` is already done; `null`
 * waits forever.
 *
 * A generator object runs inside the waitFor task itself (as Python awaits
 * a coroutine); other awaitables go through {@linkcode ensureFuture}.
 *
 * Equivalent to Python 3.12+'s `asyncio.wait_for()`, in milliseconds.
 *
 * @typeParam T The result type.
 * @param aw What to wait for.
 * @param timeoutMs The deadline in milliseconds, or `null` for none.
 * @returns A future (a task) of the result.
 * @throws {TypeError} If `aw` is not awaitable or `timeoutMs` is neither a number nor `null`.
 * @throws {RangeError} If `timeoutMs` is NaN.
 *
 * @example A deadline that passes
 * ```ts
 * import * as asyncio from "@aio/asyncio";
 * import assert from "node:assert/strict";
 *
 * const clock = new asyncio.VirtualClock({ autojump: true });
 * const log: string[] = [];
 * await asyncio.run(function* () {
 *   const slow = asyncio.createTask(function* () {
 *     try {
 *       yield* asyncio.sleep(5_000);
 *     } finally {
 *       log.push("slow work cleaned up");
 *     }
 *   });
 *   try {
 *     yield* asyncio.waitFor(slow, 100);
 *   } catch (error) {
 *     assert.ok(error instanceof asyncio.TimeoutError);
 *     log.push(`timed out at ${asyncio.getRunningLoop().time()} ms`);
 *   }
 *   assert.ok(slow.cancelled());
 * }, { clock });
 * assert.deepEqual(log, ["slow work cleaned up", "timed out at 100 ms"]);
 * ```
 */
export function waitFor<T>(aw: Awaitable<T>, timeoutMs: number | null): Future<T> {
  if (timeoutMs !== null) {
    if (timeoutMs === undefined) {
      throw new TypeError("waitFor(): 'timeoutMs' must be a number or null, got undefined");
    }
    checkTime("waitFor()", "timeoutMs", timeoutMs);
  }
  checkAwaitable("waitFor()", "aw", aw);
  // Python runs wait_for inside the awaiting task. Our task starts eagerly
  // (so the deadline is armed, and a done future returns, within the
  // caller's step) and wakes its waiter inline when it finishes, so a
  // waiter resumes in the same iteration as in Python.
  const task = new Task(waitForBody(aw, timeoutMs), { loop: getEventLoop(), eager: true });
  markInlineWake(task);
  return task;
}

function* waitForBody<T>(aw: Awaitable<T>, timeoutMs: number | null): Coroutine<T> {
  const task = currentTask() as Task<unknown>;
  const loop = task.getLoop();
  if (timeoutMs !== null && timeoutMs <= 0) {
    const future = toFuture(loop, aw, "waitFor()", "aw") as Future<T>;
    if (future.done()) return future.result();
    yield* cancelAndWait(future);
    try {
      return future.result();
    } catch (error) {
      if (error instanceof CancelledError) {
        throw new TimeoutError(`waitFor() timed out after ${timeoutMs} ms`, { cause: error });
      }
      throw error;
    }
  }
  const scope = new TimeoutScope(
    timeoutMs === null ? null : loop.time() + timeoutMs,
    "waitFor()",
  );
  scope.enter(task);
  let result: T;
  try {
    result = isGenerator(aw)
      ? yield* aw as Coroutine<T>
      : yield* toFuture(loop, aw, "waitFor()", "aw") as Future<T>;
  } catch (error) {
    throw scope.exit(error);
  }
  scope.exit(NO_ERROR);
  return result;
}

/** Cancels `future` and waits until it is done (whatever its outcome). */
function* cancelAndWait(future: Future<unknown>): Coroutine<void> {
  const waiter = new Future<void>({ loop: future.getLoop() });
  addCallback(future, releaseWaiter, waiter);
  try {
    future.cancel();
    yield* waiter;
  } finally {
    removeCallback(future, releaseWaiter, waiter);
  }
}

function releaseWaiter(waiter: Future<void>): void {
  if (!waiter.done()) resolveFuture(waiter, undefined);
}
