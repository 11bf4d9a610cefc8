/**
 * The errors shared by the whole package: cancellation, timeouts, misuse
 * of a future's state, and the interrupt that ends a program.
 *
 * @module
 */

import { keepShape } from "./_shapes.ts";

/**
 * Thrown into a task's coroutine when the task is cancelled, and raised by
 * `result()`, `await` and `yield*` of a cancelled {@linkcode Future}.
 *
 * A coroutine may catch it to clean up; re-throwing it (or letting it escape)
 * marks the task cancelled, swallowing it lets the task finish normally.
 *
 * Equivalent to Python's `asyncio.CancelledError`. Python derives it from
 * `BaseException` so that `except Exception` does not catch it; JavaScript
 * has no such split, so test for it with `instanceof CancelledError`.
 *
 * @example Telling a cancellation apart from a failure
 * ```ts
 * import * as asyncio from "@aio/asyncio";
 * import assert from "node:assert/strict";
 *
 * const fut = new asyncio.Future<number>();
 * fut.cancel("no longer needed");
 * const error = fut.exception.bind(fut);
 * assert.throws(error, asyncio.CancelledError);
 * assert.throws(error, { message: "no longer needed" });
 * ```
 */
export class CancelledError extends Error {
  /**
   * Creates a cancellation error.
   *
   * @param message The cancel message given to `cancel(msg)`, if any.
   * @param options Standard error options (`cause`).
   */
  constructor(message?: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "CancelledError";
  }
}

/**
 * Raised when a deadline set by {@linkcode waitFor} (or a timeout scope)
 * passes before the awaited work finishes. Its `cause` is the
 * {@linkcode CancelledError} that stopped the work.
 *
 * Equivalent to Python's `TimeoutError` (which `asyncio.TimeoutError`
 * aliases since Python 3.11).
 *
 * @example Catching a timeout
 * ```ts
 * import * as asyncio from "@aio/asyncio";
 * import assert from "node:assert/strict";
 *
 * const clock = new asyncio.VirtualClock({ autojump: true });
 * await assert.rejects(
 *   asyncio.run(() => asyncio.waitFor(asyncio.sleep(1_000), 10), { clock }),
 *   asyncio.TimeoutError,
 * );
 * ```
 */
export class TimeoutError extends Error {
  /**
   * Creates a timeout error.
   *
   * @param message What timed out.
   * @param options Standard error options (`cause`).
   */
  constructor(message?: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "TimeoutError";
  }
}

/**
 * Raised when an operation does not fit the state of a
 * {@linkcode Future}: asking a pending future for its result, or setting
 * the result of a future that is already done.
 *
 * Equivalent to Python's `asyncio.InvalidStateError`.
 *
 * @example Reading a result too early
 * ```ts
 * import * as asyncio from "@aio/asyncio";
 * import assert from "node:assert/strict";
 *
 * const fut = new asyncio.Future<number>();
 * assert.throws(() => fut.result(), asyncio.InvalidStateError);
 * fut.setResult(1);
 * assert.throws(() => fut.setResult(2), asyncio.InvalidStateError);
 * ```
 */
export class InvalidStateError extends Error {
  /**
   * Creates an invalid-state error.
   *
   * @param message What was attempted and in which state.
   * @param options Standard error options (`cause`).
   */
  constructor(message?: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "InvalidStateError";
  }
}

/**
 * Raised by {@linkcode run} and {@linkcode Runner.run} when Ctrl-C (SIGINT)
 * stopped the program: the first SIGINT cancels the main task, its
 * `finally` blocks run, and the call then rejects with this error, whose
 * `cause` is the main task's {@linkcode CancelledError}. Catch it to exit
 * with the conventional status 130.
 *
 * Equivalent to Python's `KeyboardInterrupt` as `asyncio.run()` raises it
 * since Python 3.11. Python derives it from `BaseException`; here it is an
 * `Error` like the others, told apart with `instanceof`.
 *
 * @example Telling an interrupted program from a failed one
 * ```ts
 * import * as asyncio from "@aio/asyncio";
 * import assert from "node:assert/strict";
 *
 * const cancelled = new asyncio.CancelledError();
 * const error: unknown = new asyncio.KeyboardInterrupt(undefined, { cause: cancelled });
 * assert.ok(error instanceof asyncio.KeyboardInterrupt);
 * assert.equal(String(error), "KeyboardInterrupt");
 * assert.equal((error as Error).cause, cancelled);
 * ```
 */
export class KeyboardInterrupt extends Error {
  /**
   * Creates a keyboard-interrupt error.
   *
   * @param message What was interrupted (Python's has none).
   * @param options Standard error options (`cause`: the main task's cancellation).
   */
  constructor(message?: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "KeyboardInterrupt";
  }
}

/**
 * Rejects {@linkcode run} when its program can never move again: on a
 * {@linkcode VirtualClock} with `autojump`, the loop has nothing ready, no
 * timer is armed, nothing outside the loop is known to be in flight, and
 * nothing woke the loop for the clock's `deadlockAfterMs` (real time).
 * Instead of hanging until a test runner's timeout, the run fails at once
 * with the task tree ({@linkcode formatTaskTree}) as its message: who
 * waits on what, from `main` down. Its `cause` is the error `main` ended
 * with once cancelled.
 *
 * Python has no such error (a deadlocked asyncio program hangs).
 *
 * @example Two tasks that each wait for the other
 * ```ts
 * import * as asyncio from "@aio/asyncio";
 * import assert from "node:assert/strict";
 *
 * const clock = new asyncio.VirtualClock({ autojump: true });
 * await assert.rejects(
 *   asyncio.run(function* main() {
 *     const ping = new asyncio.Event();
 *     const pong = new asyncio.Event();
 *     yield* asyncio.taskGroup(function* (tg) {
 *       tg.createTask(function* alice() {
 *         yield* pong.wait();
 *         ping.set();
 *       }, { name: "alice" });
 *       tg.createTask(function* bob() {
 *         yield* ping.wait();
 *         pong.set();
 *       }, { name: "bob" });
 *     });
 *   }, { clock }),
 *   (error) => {
 *     assert.ok(error instanceof asyncio.DeadlockError);
 *     assert.match(error.message, /alice: generator alice\(\), waiting on Event\.wait\(\)/);
 *     assert.match(error.message, /bob: generator bob\(\), waiting on Event\.wait\(\)/);
 *     return true;
 *   },
 * );
 * ```
 */
export class DeadlockError extends Error {
  /**
   * Creates a deadlock error.
   *
   * @param message What cannot move (the task tree).
   * @param options Standard error options (`cause`).
   */
  constructor(message?: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "DeadlockError";
  }
}

// Inert instances keep these classes' maps alive between runs (see _shapes.ts).
keepShape([new CancelledError(), new TimeoutError(), new InvalidStateError()]);
