/**
 * waitFor(): wait for an awaitable with a deadline.
 *
 * @module
 */

import { getEventLoop } from "./event_loop.ts";
import { Future } from "./future.ts";
import { CancelledError, TimeoutError } from "./errors.ts";
import type { Coroutine, Task } from "./task.ts";
import type { Awaitable } from "./ensure_future.ts";
import { addCallback, labelWait, removeCallback, resolveFuture } from "./_internal.ts";
import { checkAwaitable, toFuture } from "./_to_future.ts";
import { NO_ERROR, TimeoutScope } from "./_timeout_scope.ts";
import { isGeneratorFunction } from "./_body.ts";
import { type BlockMode, BodySignal, followBody, makeBlock } from "./_block.ts";
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
 * Like Python's `wait_for` coroutine, the returned future does nothing
 * until it is first waited on, and runs inside the task that waits on it
 * (`yield*`, or `await` in an async-function task); the deadline counts
 * from then. Handed to `gather`, `createTask` or any other function that
 * takes futures, it runs as a task of its own, in order with the others. A
 * coroutine runs inside that task too, as Python awaits it: a generator or
 * generator function, and in an async-function task an async function (or
 * the promise it returned); anything else is waited on as a future
 * ({@linkcode ensureFuture}).
 *
 * Equivalent to Python 3.12+'s `asyncio.wait_for()`, in milliseconds.
 *
 * @typeParam T The result type.
 * @param aw What to wait for.
 * @param timeoutMs The deadline in milliseconds, or `null` for none.
 * @returns A future of the result, started when first waited on.
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
  const loop = aw instanceof Future ? aw.getLoop() : getEventLoop();
  return makeBlock(
    loop,
    waitForBody<T>,
    aw,
    timeoutMs,
    !isGenerator(aw) && !(aw instanceof Future) && !isGeneratorFunction(aw),
    "waitFor()",
  );
}

/**
 * Python 3.12's `wait_for` coroutine, run by the task that waits on the
 * block (its owner); the deadline counts from here, as Python's does from
 * when the coroutine starts.
 */
function* waitForBody<T>(
  owner: Task<unknown>,
  mode: BlockMode,
  aw: Awaitable<T>,
  timeoutMs: number | null,
): Coroutine<T> {
  const loop = owner.getLoop();
  if (timeoutMs !== null && timeoutMs <= 0) {
    // Python: ensure_future(fut); done: its result; else cancel it, wait, TimeoutError.
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
  scope.enter(owner);
  // A coroutine function that runs here and declares a signal gets the block's.
  const bodySignal = typeof aw === "function" && aw.length > 0 &&
      (isGeneratorFunction(aw) || mode === "async")
    ? new BodySignal(owner)
    : null;
  scope.bodySignal = bodySignal;
  let result: T;
  try {
    // A future (the common case) is waited on here, without a generator of its own.
    result = aw instanceof Future
      ? yield* aw as Future<T>
      : yield* awaited(owner, mode, aw, bodySignal);
  } catch (error) {
    bodySignal?.close();
    throw scope.exit(error);
  }
  bodySignal?.close();
  scope.exit(NO_ERROR);
  return result;
}

/**
 * Python's `await fut` inside wait_for: a coroutine runs right here (a
 * generator, or in the owner's context an async function or the promise
 * it returned); anything else is waited on as a future.
 */
function* awaited<T>(
  owner: Task<unknown>,
  mode: BlockMode,
  aw: Awaitable<T>,
  bodySignal: BodySignal | null,
): Coroutine<T> {
  if (isGenerator(aw)) return yield* aw as Coroutine<T>;
  if (aw instanceof Future) return yield* aw as Future<T>;
  if (isGeneratorFunction(aw)) {
    const fn = aw as (signal: AbortSignal) => Coroutine<T>;
    return yield* (fn.length === 0 ? (fn as () => Coroutine<T>)() : fn(bodySignal!.signal));
  }
  const loop = owner.getLoop();
  if (mode === "async") {
    if (typeof aw === "function") {
      const fn = aw as (signal: AbortSignal) => unknown;
      const value = fn.length === 0 ? (fn as () => unknown)() : fn(bodySignal!.signal);
      return isGenerator(value) ? yield* value as Coroutine<T> : yield* followBody<T>(loop, value);
    }
    // A promise made in this task: its awaits are the owner's waits already.
    return yield* followBody<T>(loop, aw);
  }
  return yield* toFuture(loop, aw, "waitFor()", "aw") as Future<T>;
}

/** Cancels `future` and waits until it is done (whatever its outcome). */
function* cancelAndWait(future: Future<unknown>): Coroutine<void> {
  const waiter = new Future<void>({ loop: future.getLoop() });
  labelWait(waiter, { what: "waitFor() cancelling", owner: future });
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
