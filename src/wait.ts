/**
 * wait(): wait until some or all of a set of futures are done, without
 * touching them.
 *
 * @module
 */

import type { TimerHandle } from "./handle.ts";
import { Future } from "./future.ts";
import { currentTask } from "./task.ts";
import {
  activate,
  addAwaitedBy,
  addCallback,
  discardAwaitedBy,
  type FutureKind,
  plainCancel,
  pushEntry,
  removeCallback,
  resolveFuture,
  setKind,
  WAIT_NAME,
} from "./_internal.ts";
import { checkOptions, checkTime, describe, isGenerator } from "./_validate.ts";

/**
 * {@linkcode wait} returns as soon as any future is done (finished, failed
 * or cancelled).
 *
 * Equivalent to Python's `asyncio.FIRST_COMPLETED`.
 *
 * @example The first of two
 * ```ts
 * import * as asyncio from "@aio/asyncio";
 * import assert from "node:assert/strict";
 *
 * const clock = new asyncio.VirtualClock({ autojump: true });
 * await asyncio.run(function* () {
 *   const a = asyncio.createTask(() => asyncio.sleep(10));
 *   const b = asyncio.createTask(() => asyncio.sleep(20));
 *   const { done } = yield* asyncio.wait([a, b], { returnWhen: asyncio.FIRST_COMPLETED });
 *   assert.ok(done.size === 1 && done.has(a)); // tasks compare by identity
 *   yield* b;
 * }, { clock });
 * ```
 */
export const FIRST_COMPLETED = "FIRST_COMPLETED";
/**
 * {@linkcode wait} returns as soon as any future fails with an exception
 * (a cancelled future does not count), or when all are done.
 *
 * Equivalent to Python's `asyncio.FIRST_EXCEPTION`.
 *
 * @example Stop at the first failure
 * ```ts
 * import * as asyncio from "@aio/asyncio";
 * import assert from "node:assert/strict";
 *
 * const clock = new asyncio.VirtualClock({ autojump: true });
 * await asyncio.run(function* () {
 *   const ok = asyncio.createTask(() => asyncio.sleep(10));
 *   const broken = asyncio.createTask(function* () {
 *     yield* asyncio.sleep(20);
 *     throw new Error("broken");
 *   });
 *   const slow = asyncio.createTask(() => asyncio.sleep(1_000));
 *   const { done, pending } = yield* asyncio.wait([ok, broken, slow], {
 *     returnWhen: asyncio.FIRST_EXCEPTION,
 *   });
 *   assert.ok(done.size === 2 && done.has(ok) && done.has(broken));
 *   assert.ok(pending.size === 1 && pending.has(slow));
 *   assert.equal((broken.exception() as Error).message, "broken");
 *   slow.cancel();
 * }, { clock });
 * ```
 */
export const FIRST_EXCEPTION = "FIRST_EXCEPTION";
/**
 * {@linkcode wait} returns when every future is done (the default).
 *
 * Equivalent to Python's `asyncio.ALL_COMPLETED`.
 *
 * @example Everything, failures included
 * ```ts
 * import * as asyncio from "@aio/asyncio";
 * import assert from "node:assert/strict";
 *
 * const clock = new asyncio.VirtualClock({ autojump: true });
 * await asyncio.run(async () => {
 *   const a = asyncio.createTask(async () => 1);
 *   const b = asyncio.createTask(async () => {
 *     throw new Error("b failed");
 *   });
 *   const { done, pending } = await asyncio.wait([a, b], { returnWhen: asyncio.ALL_COMPLETED });
 *   assert.equal(done.size, 2);
 *   assert.equal(pending.size, 0);
 *   assert.ok(b.exception() instanceof Error); // wait() raises nothing itself
 * }, { clock });
 * ```
 */
export const ALL_COMPLETED = "ALL_COMPLETED";

/** When {@linkcode wait} returns: one of the three exported constants. */
export type ReturnWhen = typeof FIRST_COMPLETED | typeof FIRST_EXCEPTION | typeof ALL_COMPLETED;

/** Options for {@linkcode wait}. */
export interface WaitOptions {
  /**
   * Return after this many milliseconds even if the condition is not met;
   * `null` waits as long as it takes. Nothing is cancelled on timeout: the
   * futures still running are in `pending`.
   *
   * @default {null}
   */
  timeout?: number | null;
  /**
   * When to return: {@linkcode FIRST_COMPLETED}, {@linkcode FIRST_EXCEPTION}
   * or {@linkcode ALL_COMPLETED}.
   *
   * @default {ALL_COMPLETED}
   */
  returnWhen?: ReturnWhen;
}

/**
 * What {@linkcode wait} resolves to: the futures that are done (finished,
 * failed or cancelled) and those still pending, when it returned.
 *
 * @typeParam F The type of the futures given (for instance `Task<string>`).
 */
export interface WaitResult<F extends Future<unknown> = Future<unknown>> {
  /** The futures that are done. */
  done: Set<F>;
  /** The futures still pending. */
  pending: Set<F>;
}

const ALL = 0;
const FIRST = 1;
const EXCEPTION = 2;

/**
 * The kind of the future wait() returns (a plain Future, see FutureKind), and
 * the argument of its callbacks. Cancelling the future (which is what happens
 * when the task waiting on it is cancelled) only detaches it: the futures it
 * watches are left alone, as in Python.
 */
class Waiting<F extends Future<unknown>> implements FutureKind {
  readonly future: Future<WaitResult<F>>;
  futures: F[];
  mode: number;
  /** How many of `futures` have not completed yet (as seen by the callbacks). */
  left: number;
  timer: TimerHandle | null = null;
  /** The condition was met (or the timeout passed); the result is being made. */
  triggered = false;
  /** The task that called wait(), recorded as awaiting the futures (the call graph). */
  caller: Future<unknown> | null = null;

  constructor(futures: F[], mode: number, left: number) {
    this.future = new Future<WaitResult<F>>({ loop: futures[0].getLoop() });
    setKind(this.future, this);
    this.futures = futures;
    this.mode = mode;
    this.left = left;
  }

  /** The task tree's name for a wait on it. */
  get [WAIT_NAME](): string {
    return `wait() of ${this.left} pending`;
  }

  cancel(outer: Future<unknown>, msg: string | undefined): boolean {
    // Triggered, the wait is over: in Python its waiter is done and the
    // waiting task's step is scheduled, so a cancellation of that task
    // arrives at that step (the task's cancel sees false and defers it).
    if (this.triggered) return false;
    if (!plainCancel(outer, msg)) return false;
    this.detach();
    return true;
  }

  /** Removes every callback and the timer this wait registered. */
  detach(): void {
    this.timer?.cancel();
    this.timer = null;
    const caller = this.caller;
    this.caller = null;
    for (const future of this.futures) {
      if (!future.done()) removeCallback(future, onCompletion, this);
      if (caller !== null) discardAwaitedBy(future, caller);
    }
  }

  /**
   * The condition is met: stop watching, and sort the futures in the next
   * iteration. Like Python, where the sets are made when the waiting
   * coroutine resumes, a future that finishes in the meantime (its
   * callbacks not run yet) counts as done.
   */
  trigger(): void {
    this.triggered = true;
    this.detach();
    pushEntry(this.future.getLoop(), settle, this, undefined);
  }

  /** Sorts the futures and resolves; `inline` wakes the waiting task now (see settle()). */
  settle(inline: boolean): void {
    const done = new Set<F>();
    const pending = new Set<F>();
    for (const future of this.futures) (future.done() ? done : pending).add(future);
    resolveFuture(this.future, { done, pending }, inline);
  }
}

/**
 * The ready entry that stands for Python's wait() coroutine resuming in the
 * awaiting task: the waiter resumes right here (inline), in the same
 * iteration as in Python.
 */
function settle(waiting: Waiting<Future<unknown>>): void {
  if (!waiting.future.done()) waiting.settle(true);
}

/**
 * Waits until the given futures are done, as `returnWhen` says, or until
 * `timeout` milliseconds pass, and resolves to the sets of `done` and
 * `pending` futures. It never raises on timeout and never cancels anything:
 * look at `pending`, and cancel what you no longer need.
 *
 * Only Futures and Tasks are accepted, so that the futures in the result
 * are the ones you hold: wrap a generator or a promise with
 * {@linkcode ensureFuture} (or {@linkcode createTask}) first. A future
 * listed twice counts once. Even when the condition already holds for the
 * futures as given (for example `FIRST_COMPLETED` with one already done),
 * the returned future is done only after the loop's next iterations, when
 * the waiting task resumes in Python.
 *
 * Cancelling the returned future (or the task waiting on it) stops the
 * wait and leaves the futures running. Once the condition is met, the
 * returned future is as good as done (its result is made in the next
 * iteration): `cancel()` on it returns false, and a waiting task's
 * cancellation reaches the task when it resumes, as in Python.
 *
 * Equivalent to Python's `asyncio.wait()`, with the timeout in
 * milliseconds and `{ done, pending }` in place of the `(done, pending)`
 * tuple.
 *
 * @typeParam F The type of the futures (for instance `Task<string>`).
 * @param futures The Futures and Tasks to watch (any iterable; not empty).
 * @param options `timeout` and `returnWhen`.
 * @returns A future of `{ done, pending }`.
 * @throws {TypeError} If `futures` is not an iterable of Futures and Tasks (it names `ensureFuture` as the fix), or an option has the wrong type.
 * @throws {RangeError} If `futures` is empty, `timeout` is NaN, or `returnWhen` is not one of the three constants.
 *
 * @example Acting on the first task to finish
 * ```ts
 * import * as asyncio from "@aio/asyncio";
 * import assert from "node:assert/strict";
 *
 * const clock = new asyncio.VirtualClock({ autojump: true });
 * await asyncio.run(function* () {
 *   const fast = asyncio.createTask(function* () {
 *     yield* asyncio.sleep(10);
 *     return "fast";
 *   });
 *   const slow = asyncio.createTask(function* () {
 *     yield* asyncio.sleep(1_000);
 *     return "slow";
 *   });
 *   const { done, pending } = yield* asyncio.wait([fast, slow], {
 *     returnWhen: asyncio.FIRST_COMPLETED,
 *   });
 *   assert.ok(done.size === 1 && done.has(fast));
 *   assert.ok(pending.size === 1 && pending.has(slow));
 *   assert.equal(fast.result(), "fast");
 *   slow.cancel(); // wait() never cancels anything itself
 * }, { clock });
 * ```
 *
 * @example A timeout leaves the work running
 * ```ts
 * import * as asyncio from "@aio/asyncio";
 * import assert from "node:assert/strict";
 *
 * const clock = new asyncio.VirtualClock({ autojump: true });
 * await asyncio.run(async () => {
 *   const job = asyncio.createTask(async (signal: AbortSignal) => {
 *     await asyncio.sleep(500, { signal });
 *     return 42;
 *   });
 *   const first = await asyncio.wait([job], { timeout: 100 });
 *   assert.equal(first.pending.has(job), true);
 *   const second = await asyncio.wait([job]);
 *   assert.equal(second.done.has(job), true);
 *   assert.equal(job.result(), 42);
 * }, { clock });
 * ```
 */
export function wait<F extends Future<unknown>>(
  futures: Iterable<F>,
  options?: WaitOptions,
): Future<WaitResult<F>> {
  let timeout: number | null = null;
  let mode = ALL;
  if (options !== undefined) {
    checkOptions("wait()", options);
    const { timeout: t, returnWhen } = options;
    if (t !== undefined && t !== null) {
      checkTime("wait()", "timeout", t);
      timeout = t;
    }
    if (returnWhen !== undefined) mode = parseReturnWhen(returnWhen);
  }
  const list = toFutureList(futures);
  const waiting = new Waiting(list, mode, list.length);
  const outer = waiting.future;
  const loop = outer.getLoop();
  // A future already done counts in the next iteration, as Python's
  // add_done_callback schedules its callback with call_soon: even when the
  // condition already holds, the waiting task resumes two iterations later.
  for (const future of list) if (future.done()) pushEntry(loop, onCompletion, waiting, future);
  // The call graph shows the futures awaited by the caller (Python 3.14's _wait).
  const caller = currentTask();
  if (caller !== null && caller.getLoop() !== outer.getLoop()) waiting.caller = null;
  else waiting.caller = caller;
  for (const future of list) {
    if (!future.done()) {
      addCallback(future, onCompletion, waiting);
      if (waiting.caller !== null) addAwaitedBy(future, waiting.caller);
    }
  }
  if (timeout !== null) {
    waiting.timer = loop.callLater(timeout, onTimeout, waiting);
  }
  return outer;
}

function onCompletion(waiting: Waiting<Future<unknown>>, future: Future<unknown>): void {
  if (waiting.triggered || waiting.future.done()) return;
  waiting.left--;
  if (waiting.left <= 0 || triggers(waiting.mode, future)) waiting.trigger();
}

function onTimeout(waiting: Waiting<Future<unknown>>): void {
  waiting.timer = null;
  if (!waiting.triggered && !waiting.future.done()) waiting.trigger();
}

/** Whether a done future meets the condition on its own (FIRST_COMPLETED or a failure). */
function triggers(mode: number, future: Future<unknown>): boolean {
  if (mode === FIRST) return true;
  // Reading exception() marks it retrieved, as Python's wait() does.
  return mode === EXCEPTION && !future.cancelled() && future.exception() !== undefined;
}

function parseReturnWhen(value: unknown): number {
  switch (value) {
    case ALL_COMPLETED:
      return ALL;
    case FIRST_COMPLETED:
      return FIRST;
    case FIRST_EXCEPTION:
      return EXCEPTION;
  }
  const message =
    `wait(): 'returnWhen' must be FIRST_COMPLETED, FIRST_EXCEPTION or ALL_COMPLETED, got ${
      describe(value)
    }`;
  throw typeof value === "string" ? new RangeError(message) : new TypeError(message);
}

/** The distinct futures of `futures`, in iteration order; throws on anything else. */
function toFutureList<F extends Future<unknown>>(futures: Iterable<F>): F[] {
  if (
    futures === null || typeof futures !== "object" || futures instanceof Future ||
    isGenerator(futures) || typeof (futures as Iterable<unknown>)[Symbol.iterator] !== "function"
  ) {
    throw new TypeError(
      `wait(): 'futures' must be an iterable of Futures and Tasks, got ${describe(futures)}${
        futures instanceof Future
          ? "; pass [future]"
          : isGenerator(futures)
          ? " (taken for a coroutine); pass an array, e.g. Array.from(generator)"
          : ""
      }`,
    );
  }
  const list: F[] = [];
  const seen = new Set<F>();
  let index = 0;
  for (const item of futures) {
    if (!(item instanceof Future)) {
      throw new TypeError(
        `wait(): 'futures[${index}]' must be a Future or a Task, got ${
          describe(item)
        }; wrap it with ensureFuture() (or createTask()) first, and keep the result to find it in done or pending`,
      );
    }
    if (!seen.has(item)) {
      seen.add(item);
      list.push(item);
    }
    index++;
  }
  if (list.length === 0) {
    throw new RangeError("wait(): 'futures' must not be empty");
  }
  // Blocks of timeout()/taskGroup()/waitFor() nothing waited on yet start as tasks.
  for (const future of list) activate(future);
  return list;
}
