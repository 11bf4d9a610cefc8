/**
 * shield(): wait for something without letting a cancellation reach it.
 *
 * @module
 */

import { getEventLoop } from "./event_loop.ts";
import { Future } from "./future.ts";
import type { Awaitable } from "./ensure_future.ts";
import { currentTask } from "./task.ts";
import {
  addAwaitedBy,
  addCallback,
  cancelFuture,
  discardAwaitedBy,
  failFuture,
  type FutureKind,
  plainCancel,
  removeCallback,
  resolveFuture,
  setKind,
  WAIT_NAME,
} from "./_internal.ts";
import { toFuture } from "./_to_future.ts";

/**
 * The kind of the future shield() returns (a plain Future, see FutureKind):
 * it follows the inner future, and cancelling it detaches it from the inner
 * future at once (synchronously, so no completion of the inner one can slip
 * in between and be swallowed).
 */
class Shield implements FutureKind {
  inner: Future<unknown>;

  constructor(inner: Future<unknown>) {
    this.inner = inner;
  }

  /** The task tree's name for a wait on it. */
  get [WAIT_NAME](): string {
    return `shield() of ${this.inner}`;
  }

  cancel(outer: Future<unknown>, msg: string | undefined): boolean {
    if (!plainCancel(outer, msg)) return false;
    removeCallback(this.inner, innerDone, outer);
    return true;
  }
}

/**
 * Returns a future that follows `aw` (its result, its exception, its
 * cancellation) but whose cancellation does not reach `aw`: a task waiting
 * on `shield(work)` can be cancelled while `work` carries on.
 *
 * If `aw` itself is cancelled, the returned future is cancelled too. When
 * `aw` is already done, it is returned as it is.
 *
 * A failure of `aw` after the returned future was cancelled is not
 * swallowed: nobody is waiting for it any more, so it stays an unretrieved
 * exception and is reported to the loop's exception handler ("exception was
 * never retrieved") unless you retrieve it yourself (for example by keeping
 * the task and awaiting it later).
 *
 * Keep a reference to a task you shield if you want its result after a
 * cancellation: the shield only protects it.
 *
 * Equivalent to Python's `asyncio.shield()`, except that Python marks the
 * exception of `aw` as retrieved when it arrives after the outer future was
 * cancelled but before that cancellation was processed, which loses it; and
 * a cancellation of `aw` keeps its message in the returned future.
 *
 * @typeParam T The result type.
 * @param aw What to protect: a Future or Task, or anything {@linkcode ensureFuture} takes (it then becomes a task).
 * @returns A future that follows `aw`, or `aw` itself when it is already done.
 * @throws {TypeError} If `aw` is not awaitable.
 *
 * @example A cancellation stops the waiter, not the work
 * ```ts
 * import * as asyncio from "@aio/asyncio";
 * import assert from "node:assert/strict";
 *
 * const clock = new asyncio.VirtualClock({ autojump: true });
 * const log: string[] = [];
 * await asyncio.run(function* () {
 *   const save = asyncio.createTask(function* () {
 *     yield* asyncio.sleep(100);
 *     log.push("saved");
 *     return "ok";
 *   });
 *   const waiter = asyncio.createTask(function* () {
 *     try {
 *       yield* asyncio.shield(save);
 *     } catch (error) {
 *       assert.ok(error instanceof asyncio.CancelledError);
 *       log.push("waiter cancelled");
 *       throw error;
 *     }
 *   });
 *   yield* asyncio.sleep(10);
 *   waiter.cancel();
 *   assert.equal(yield* save, "ok");
 *   assert.ok(waiter.cancelled());
 * }, { clock });
 * assert.deepEqual(log, ["waiter cancelled", "saved"]);
 * ```
 *
 * @example With waitFor: give up waiting, keep the work
 * ```ts
 * import * as asyncio from "@aio/asyncio";
 * import assert from "node:assert/strict";
 *
 * const clock = new asyncio.VirtualClock({ autojump: true });
 * await asyncio.run(async () => {
 *   const report = asyncio.createTask(async (signal: AbortSignal) => {
 *     await asyncio.sleep(1_000, { signal });
 *     return "report";
 *   });
 *   await assert.rejects(asyncio.waitFor(asyncio.shield(report), 100), asyncio.TimeoutError);
 *   assert.equal(report.done(), false);
 *   assert.equal(await report, "report");
 * }, { clock });
 * ```
 */
export function shield<T>(aw: Awaitable<T>): Future<T> {
  const inner = toFuture(getEventLoop(), aw, "shield()", "aw") as Future<T>;
  if (inner.done()) return inner;
  const outer = new Future<T>({ loop: inner.getLoop() });
  setKind(outer, new Shield(inner));
  addCallback(inner, innerDone, outer);
  // The call graph shows the inner future awaited by the caller (Python 3.14),
  // until it is done, even if the caller stops waiting for the shield.
  const caller = currentTask();
  if (caller !== null && caller.getLoop() === inner.getLoop()) {
    addAwaitedBy(inner, caller);
    addCallback(inner, clearAwaitedBy, caller);
  }
  return outer;
}

function clearAwaitedBy(caller: Future<unknown>, inner: Future<unknown>): void {
  discardAwaitedBy(inner, caller);
}

function innerDone(outer: Future<unknown>, inner: Future<unknown>): void {
  // Cancelled in the meantime: leave the inner outcome untouched, so that an
  // exception nobody retrieves is still reported.
  if (outer.done()) return;
  if (inner.cancelled()) {
    // As Python's `outer.cancel()`: the waiter sees a CancelledError without the inner's message.
    cancelFuture(outer, undefined);
    return;
  }
  const error = inner.exception(); // moves the duty to report it to `outer`
  if (error !== undefined) failFuture(outer, error);
  else resolveFuture(outer, inner.result());
}
