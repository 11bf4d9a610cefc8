/**
 * timeout() and timeoutAt(): run a body under a deadline that can be moved.
 *
 * @module
 */

import { getEventLoop } from "./event_loop.ts";
import type { Future } from "./future.ts";
import type { Coroutine, Task } from "./task.ts";
import { NO_ERROR, TimeoutScope } from "./_timeout_scope.ts";
import { isGeneratorFunction, startBodyTask } from "./_body.ts";
import { type BlockMode, BodySignal, followBody, makeBlock } from "./_block.ts";
import { checkFunction, checkTime, describe, isGenerator } from "./_validate.ts";

/**
 * The deadline of a {@linkcode timeout} or {@linkcode timeoutAt} call, as
 * its body sees it (the body's second argument).
 *
 * Equivalent to Python's `asyncio.Timeout`, with loop times in milliseconds.
 *
 * @example Looking at the deadline from the body, and after it
 * ```ts
 * import * as asyncio from "@aio/asyncio";
 * import assert from "node:assert/strict";
 *
 * const clock = new asyncio.VirtualClock({ autojump: true });
 * await asyncio.run(function* () {
 *   let scope: asyncio.Timeout | undefined;
 *   try {
 *     yield* asyncio.timeout(50, function* (_signal, cm) {
 *       scope = cm;
 *       assert.equal(cm.when(), 50);
 *       assert.equal(cm.expired(), false);
 *       yield* asyncio.sleep(1_000);
 *     });
 *   } catch (error) {
 *     assert.ok(error instanceof asyncio.TimeoutError);
 *   }
 *   assert.equal(scope?.expired(), true);
 *   assert.equal(String(scope), "<Timeout [expired]>");
 * }, { clock });
 * ```
 */
export interface Timeout {
  /**
   * The deadline, in loop time (milliseconds, compare
   * {@linkcode EventLoop.time}), or `null` for none.
   *
   * @returns The deadline.
   */
  when(): number | null;
  /**
   * Moves the deadline to loop time `whenMs` (a time already past expires
   * at the next loop iteration), or removes it with `null`. Only while the
   * body runs and the deadline has not passed.
   *
   * @param whenMs The new deadline in loop time (ms), or `null`.
   * @throws {TypeError} If `whenMs` is neither a number nor `null`.
   * @throws {RangeError} If `whenMs` is NaN.
   * @throws {Error} If the body has finished or the deadline has already passed.
   */
  reschedule(whenMs: number | null): void;
  /**
   * Whether the deadline passed while the body ran (the body was then
   * cancelled).
   *
   * @returns `true` once expired.
   */
  expired(): boolean;
}

/**
 * The body of {@linkcode timeout} and {@linkcode timeoutAt}: a generator
 * function or an async function, run inside the task that waits on the
 * call. It receives an `AbortSignal` that aborts when the deadline passes
 * (or the task is cancelled), and the {@linkcode Timeout}.
 *
 * @typeParam T The body's result type.
 */
export type TimeoutBody<T> = (
  signal: AbortSignal,
  scope: Timeout,
) => Coroutine<T> | PromiseLike<T> | T;

/** Passed as `scope` to a body that does not declare it (it cannot read it anyway). */
const NO_VIEW = undefined as unknown as Timeout;

/** The scope object the body sees: the public face of the package's TimeoutScope. */
class TimeoutView implements Timeout {
  #scope: TimeoutScope;

  constructor(scope: TimeoutScope) {
    this.#scope = scope;
  }

  when(): number | null {
    return this.#scope.when();
  }

  reschedule(whenMs: number | null): void {
    if (whenMs !== null) {
      if (whenMs === undefined) {
        throw new TypeError(
          "Timeout.reschedule(): 'whenMs' must be a number or null, got undefined",
        );
      }
      checkTime("Timeout.reschedule()", "whenMs", whenMs);
    }
    const state = this.#scope.state;
    if (state !== "active") {
      throw new Error(
        `Timeout.reschedule(): cannot reschedule a timeout that is ${state}; ` +
          "reschedule it from its body, before the deadline passes",
      );
    }
    this.#scope.reschedule(whenMs);
  }

  expired(): boolean {
    return this.#scope.expired();
  }

  /** A description like Python's repr: `<Timeout [active] when=1500>`. */
  toString(): string {
    const state = this.#scope.state;
    return state === "active"
      ? `<Timeout [active] when=${this.#scope.when()}>`
      : `<Timeout [${state}]>`;
  }

  /** Shows the scope like Python's repr in Deno's inspector. */
  [Symbol.for("Deno.customInspect")](): string {
    return this.toString();
  }
}

/**
 * Runs `body` and cancels it if it has not finished `ms` milliseconds after
 * it started; the returned future then fails with {@linkcode TimeoutError}
 * whose `cause` is the {@linkcode CancelledError} that stopped the body.
 * `null` never expires; `0` or less expires at the next loop iteration.
 *
 * Like a coroutine, the returned future does nothing until it is first
 * waited on, and then runs inside the task that waits on it: `yield*` in a
 * generator task, `await` in an async-function task (where the host has
 * an async context). That task is the timeout's own, as in Python's
 * `async with`: `currentTask()` in the body, and the task the deadline
 * cancels; on expiry {@linkcode CancelledError} is raised at the body's
 * current wait (its `finally` blocks run, and it may even catch it and
 * return a value, which then stands). Handed to `gather`, `createTask` or
 * any other function that takes futures, it runs as a task of its own,
 * scheduled like a new task. The deadline counts from the start.
 *
 * The body is called with `(signal, scope)`: a signal of its own, which
 * aborts at the deadline and when the waiting task is cancelled, and the
 * scope, to read and move the deadline. An async body inside a generator
 * task runs as a child task, which the call waits for.
 *
 * Cancellation is told apart as in Python's `asyncio.timeout()`: only a
 * cancellation that the deadline caused becomes a `TimeoutError`; if the
 * task is also (or only) cancelled from outside, the call ends with
 * `CancelledError`. A deadline that passes while the body is already
 * failing with another error leaves that error as it is.
 *
 * Equivalent to Python's `async with asyncio.timeout(delay)`, with the
 * delay in milliseconds and the block passed as a function.
 *
 * @typeParam T The body's result type.
 * @param ms The delay in milliseconds, or `null` for no deadline.
 * @param body A generator function or an async function, called with `(signal, scope)`.
 * @returns A future of the body's result, started when first waited on.
 * @throws {TypeError} If `ms` is neither a number nor `null`, or `body` is not a function.
 * @throws {RangeError} If `ms` is NaN.
 *
 * @example A deadline that passes (generator body)
 * ```ts
 * import * as asyncio from "@aio/asyncio";
 * import assert from "node:assert/strict";
 *
 * const clock = new asyncio.VirtualClock({ autojump: true });
 * const log: string[] = [];
 * await asyncio.run(function* () {
 *   try {
 *     yield* asyncio.timeout(100, function* () {
 *       try {
 *         yield* asyncio.sleep(10_000);
 *       } finally {
 *         log.push("body cleaned up");
 *       }
 *     });
 *   } catch (error) {
 *     assert.ok(error instanceof asyncio.TimeoutError);
 *     assert.ok(error.cause instanceof asyncio.CancelledError);
 *     log.push(`timed out at ${asyncio.getRunningLoop().time()} ms`);
 *   }
 * }, { clock });
 * assert.deepEqual(log, ["body cleaned up", "timed out at 100 ms"]);
 * ```
 *
 * @example An async body and its signal, moving the deadline
 * ```ts
 * import * as asyncio from "@aio/asyncio";
 * import assert from "node:assert/strict";
 *
 * const clock = new asyncio.VirtualClock({ autojump: true });
 * const result = await asyncio.run(async () => {
 *   return await asyncio.timeout(100, async (signal, scope) => {
 *     // Needs 150 ms: give it more time.
 *     scope.reschedule(scope.when()! + 100);
 *     await asyncio.sleep(150, { signal });
 *     assert.equal(scope.expired(), false);
 *     return "finished in time";
 *   });
 * }, { clock });
 * assert.equal(result, "finished in time");
 * ```
 */
export function timeout<T>(ms: number | null, body: TimeoutBody<T>): Future<T> {
  checkDeadline("timeout()", "ms", ms);
  checkFunction("timeout()", "body", body);
  return block("timeout()", ms, true, body);
}

/**
 * Like {@linkcode timeout}, with the deadline given as a loop time in
 * milliseconds (compare {@linkcode EventLoop.time}); `null` never expires,
 * a time already past expires at the next loop iteration.
 *
 * Equivalent to Python's `async with asyncio.timeout_at(when)`, with the
 * time in milliseconds and the block passed as a function.
 *
 * @typeParam T The body's result type.
 * @param whenMs The deadline in loop time (ms), or `null`.
 * @param body A generator function or an async function, called with `(signal, scope)`.
 * @returns A future of the body's result, started when first waited on.
 * @throws {TypeError} If `whenMs` is neither a number nor `null`, or `body` is not a function.
 * @throws {RangeError} If `whenMs` is NaN.
 *
 * @example A deadline shared by several steps
 * ```ts
 * import * as asyncio from "@aio/asyncio";
 * import assert from "node:assert/strict";
 *
 * const clock = new asyncio.VirtualClock({ autojump: true });
 * await asyncio.run(function* () {
 *   const deadline = asyncio.getRunningLoop().time() + 250;
 *   const steps: number[] = [];
 *   try {
 *     yield* asyncio.timeoutAt(deadline, function* (_signal, scope) {
 *       assert.equal(scope.when(), deadline);
 *       for (let step = 1; step <= 5; step++) {
 *         yield* asyncio.sleep(100);
 *         steps.push(step);
 *       }
 *     });
 *   } catch (error) {
 *     assert.ok(error instanceof asyncio.TimeoutError);
 *   }
 *   assert.deepEqual(steps, [1, 2]);
 * }, { clock });
 * ```
 */
export function timeoutAt<T>(whenMs: number | null, body: TimeoutBody<T>): Future<T> {
  checkDeadline("timeoutAt()", "whenMs", whenMs);
  checkFunction("timeoutAt()", "body", body);
  return block("timeoutAt()", whenMs, false, body);
}

function checkDeadline(where: string, arg: string, value: unknown): void {
  if (value === null) return;
  if (value === undefined) {
    throw new TypeError(`${where}: '${arg}' must be a number or null, got ${describe(value)}`);
  }
  checkTime(where, arg, value);
}

/** Makes the block of a timeout: `deadline` is relative to its start when `relative`. */
function block<T>(
  label: string,
  deadline: number | null,
  relative: boolean,
  body: TimeoutBody<T>,
): Future<T> {
  return makeBlock(
    getEventLoop(),
    relative ? runRelative<T> : runAbsolute<T>,
    deadline,
    body,
    !isGeneratorFunction(body),
    label,
  );
}

/** The block's coroutine of timeout(ms): the deadline counts from its start. */
function runRelative<T>(
  owner: Task<unknown>,
  mode: BlockMode,
  ms: number | null,
  body: TimeoutBody<T>,
): Coroutine<T> {
  return runScope(owner, mode, "timeout()", ms, true, body);
}

/** The block's coroutine of timeoutAt(whenMs). */
function runAbsolute<T>(
  owner: Task<unknown>,
  mode: BlockMode,
  whenMs: number | null,
  body: TimeoutBody<T>,
): Coroutine<T> {
  return runScope(owner, mode, "timeoutAt()", whenMs, false, body);
}

/**
 * Python's `async with timeout(...)` around the body, run by the task that
 * waits on the block (its owner). The deadline of `timeout(ms)` counts from
 * here, when the block starts, as for Python's `async with` in a coroutine.
 */
function* runScope<T>(
  owner: Task<unknown>,
  mode: BlockMode,
  label: string,
  deadline: number | null,
  relative: boolean,
  body: TimeoutBody<T>,
): Coroutine<T> {
  const loop = owner.getLoop();
  const when = deadline === null ? null : relative ? loop.time() + deadline : deadline;
  const scope = new TimeoutScope(when, label);
  const inline = isGeneratorFunction(body) || mode === "async";
  // The signal and the view are made only for a body that declares them.
  const bodySignal = inline && body.length > 0 ? new BodySignal(owner) : null;
  scope.bodySignal = bodySignal;
  scope.enter(owner);
  let result: T;
  try {
    if (isGeneratorFunction(body)) {
      // Inline: the deadline cancels the owner, at the body's yield*.
      const coro = body.length === 0 ? (body as () => Coroutine<T>)() : body(
        (bodySignal as BodySignal).signal,
        body.length === 1 ? NO_VIEW : new TimeoutView(scope),
      );
      result = yield* coro as Coroutine<T>;
    } else if (mode === "async") {
      // In the owner's context: the body's awaits are the owner's waits.
      const value = body.length === 0 ? (body as () => unknown)() : body(
        (bodySignal as BodySignal).signal,
        body.length === 1 ? NO_VIEW : new TimeoutView(scope),
      );
      result = isGenerator(value)
        ? yield* value as Coroutine<T>
        : yield* followBody<T>(loop, value);
    } else {
      // A generator task cannot host an async function: a child task does.
      result = yield* startBodyTask(
        loop,
        (signal) => body(signal, body.length < 2 ? NO_VIEW : new TimeoutView(scope)),
        body.length > 0,
      );
    }
  } catch (error) {
    bodySignal?.close();
    throw scope.exit(error);
  }
  bodySignal?.close();
  scope.exit(NO_ERROR);
  return result;
}
