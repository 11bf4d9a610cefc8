/**
 * asCompleted(): iterate over awaitables in the order they finish.
 *
 * @module
 */

import type { EventLoop } from "./event_loop.ts";
import { getEventLoop } from "./event_loop.ts";
import type { TimerHandle } from "./handle.ts";
import { Future } from "./future.ts";
import type { Awaitable, AwaitedResult } from "./ensure_future.ts";
import { TimeoutError } from "./errors.ts";
import { currentTask } from "./task.ts";
import {
  addAwaitedBy,
  addCallback,
  discardAwaitedBy,
  failFuture,
  promiseOf,
  pushEntry,
  removeCallback,
  resolveFuture,
  SUSPEND,
} from "./_internal.ts";
import { checkAwaitable, toFuture } from "./_to_future.ts";
import { Deque } from "./_deque.ts";
import { checkOptions, checkTime, describe, isGenerator } from "./_validate.ts";

/** Options for {@linkcode asCompleted}. */
export interface AsCompletedOptions {
  /**
   * Milliseconds after which the awaitables not finished yet raise
   * {@linkcode TimeoutError} (nothing is cancelled); `null` for no limit.
   *
   * @default {null}
   */
  timeout?: number | null;
}

/**
 * What plain iteration of {@linkcode asCompleted} yields: an awaitable of
 * the result of "the next awaitable to finish". Like the coroutines Python
 * yields, it takes its place in the completion order when it is first
 * waited on (`yield*`, `await`, `then`, or {@linkcode ensureFuture}), not
 * when it is yielded.
 *
 * Wait on it with `yield*` in a generator task or `await` in an async
 * function; waiting again gives the same outcome.
 *
 * @typeParam T The result type.
 */
export interface AsCompletedAwaitable<T> extends PromiseLike<T> {
  /** Lets a generator task wait with `const value = yield* awaitable`. */
  [Symbol.iterator](): Iterator<unknown, T, unknown>;
}

/**
 * A finished future as `for await` over {@linkcode asCompleted} yields it:
 * at run time the very Future or Task you passed in, typed without its
 * Promise methods (`then`, `catch`, `finally`). TypeScript assumes that
 * `for await` awaits thenable values, and would type the loop variable as
 * the result instead of the future; read the outcome with `result()` or
 * `exception()`, or with `yield*` in a generator task.
 *
 * @typeParam T The result type.
 */
export type CompletedFuture<T> = Omit<Future<T>, "then" | "catch" | "finally">;

/**
 * What {@linkcode asCompleted} returns. Plain iteration yields
 * {@linkcode AsCompletedAwaitable}s of the results in completion order;
 * `for await` yields the input Futures and Tasks themselves (other inputs
 * as the tasks or futures made for them) as each one finishes. Breaking
 * out of a loop keeps the iterator usable: a later loop resumes it.
 *
 * @typeParam T The result type.
 */
export interface AsCompletedIterator<T> extends Iterator<AsCompletedAwaitable<T>, undefined> {
  /**
   * Yields one awaitable per input, each resolving to the result of the next
   * input to finish (or failing with its error, or with `TimeoutError`).
   */
  next(): IteratorResult<AsCompletedAwaitable<T>, undefined>;
  /** Plain iteration: the iterator itself. */
  [Symbol.iterator](): AsCompletedIterator<T>;
  /**
   * Asynchronous iteration (`for await`): yields each input future once it
   * is done. Its `next()` returns a {@linkcode Future}, so a generator task
   * can also step it with `yield* it.next()`.
   */
  [Symbol.asyncIterator](): AsyncIterator<CompletedFuture<T>, undefined>;
}

/**
 * The slots handed out by the async iterator: they resolve to the iterator
 * result directly. Plain futures, marked here rather than by a subclass: every
 * Future subclass is one more hidden class for Future's methods to meet (past
 * four, V8's inline caches go megamorphic for the whole program).
 */
const asyncSlots = new WeakSet<Future<unknown>>();

// Module-level callbacks reach the iterator's #private state through these,
// assigned in its static block (no closure per registration).
let onCompletion: (iterator: CompletionIterator<unknown>, future: Future<unknown>) => void;
let onTimeout: (iterator: CompletionIterator<unknown>) => void;

/**
 * Python's `_AsCompletedIterator`: a queue of finished futures (with `null`
 * standing for "timed out"), and a queue of slots waiting for one.
 */
class CompletionIterator<T> implements AsCompletedIterator<T> {
  #loop: EventLoop;
  #todo: Set<Future<T>>;
  /** How many more awaitables iteration may hand out. */
  #left: number;
  #finished = new Deque<Future<T> | null>();
  #slots = new Deque<Future<unknown>>();
  #timer: TimerHandle | null = null;
  #timeout: number | null;
  #asyncView: AsyncIterator<CompletedFuture<T>, undefined> | null = null;
  /** The task that called asCompleted(), recorded as awaiting the inputs (the call graph). */
  #caller: Future<unknown> | null;

  constructor(loop: EventLoop, futures: Future<T>[], timeout: number | null) {
    this.#loop = loop;
    this.#timeout = timeout;
    this.#left = futures.length;
    const caller = currentTask();
    this.#caller = caller !== null && caller.getLoop() === loop ? caller : null;
    const todo = new Set<Future<T>>();
    for (const future of futures) {
      todo.add(future);
      if (future.done()) {
        // Python's add_done_callback on a done future: the callback runs in
        // the next iteration (call_soon), not now.
        pushEntry(loop, onCompletion, this, future);
      } else {
        addCallback(future, onCompletion, this as CompletionIterator<unknown>);
        if (this.#caller !== null) addAwaitedBy(future, this.#caller);
      }
    }
    this.#todo = todo;
    if (todo.size > 0 && timeout !== null) {
      this.#timer = loop.callLater(timeout, onTimeout, this as CompletionIterator<unknown>);
    }
  }

  next(): IteratorResult<AsCompletedAwaitable<T>, undefined> {
    if (this.#left === 0) return { done: true, value: undefined };
    this.#left--;
    return { done: false, value: new NextCompleted(this) };
  }

  [Symbol.iterator](): this {
    return this;
  }

  [Symbol.asyncIterator](): AsyncIterator<CompletedFuture<T>, undefined> {
    return this.#asyncView ??= {
      next: () => this.#nextDone(),
      [Symbol.asyncIterator]() {
        return this;
      },
    } as AsyncIterator<CompletedFuture<T>, undefined>;
  }

  /** Takes the next place in the completion order: a future of the finished input (or `null`). */
  claim(): Future<Future<T> | null> {
    const slot = new Future<Future<T> | null>({ loop: this.#loop });
    if (this.#finished.length > 0) resolveFuture(slot, this.#finished.shift() as Future<T> | null);
    else this.#slots.push(slot);
    return slot;
  }

  timeoutError(): TimeoutError {
    return new TimeoutError(`asCompleted(): timed out after ${this.#timeout} ms`);
  }

  #nextDone(): Future<IteratorResult<Future<T>, undefined>> {
    const slot = new Future<IteratorResult<Future<T>, undefined>>({ loop: this.#loop });
    asyncSlots.add(slot);
    if (this.#left === 0) {
      resolveFuture(slot, { done: true, value: undefined });
      return slot;
    }
    this.#left--;
    if (this.#finished.length > 0) this.#fill(slot, this.#finished.shift() as Future<T> | null);
    else this.#slots.push(slot);
    return slot;
  }

  /** Hands a finished input (or the timeout) to the oldest live slot, or queues it. */
  #deliver(item: Future<T> | null): void {
    const slots = this.#slots;
    while (slots.length > 0) {
      const slot = slots.shift() as Future<unknown>;
      // A slot whose waiter was cancelled is skipped; the item goes to the next one.
      if (!slot.done()) {
        this.#fill(slot, item);
        return;
      }
    }
    this.#finished.push(item);
  }

  #fill(slot: Future<unknown>, item: Future<T> | null): void {
    if (asyncSlots.has(slot)) {
      if (item === null) failFuture(slot, this.timeoutError());
      else resolveFuture(slot, { done: false, value: item });
    } else {
      resolveFuture(slot, item);
    }
  }

  static {
    onCompletion = (iterator, future) => {
      // After a timeout the callbacks are gone, but one may already have been scheduled.
      if (!iterator.#todo.delete(future)) return;
      if (iterator.#caller !== null) discardAwaitedBy(future, iterator.#caller);
      iterator.#deliver(future);
      if (iterator.#todo.size === 0 && iterator.#timer !== null) {
        iterator.#timer.cancel();
        iterator.#timer = null;
      }
    };
    onTimeout = (iterator) => {
      iterator.#timer = null;
      // Every input still running counts as timed out; nothing is cancelled.
      for (const future of iterator.#todo) {
        removeCallback(future, onCompletion, iterator);
        if (iterator.#caller !== null) discardAwaitedBy(future, iterator.#caller);
        iterator.#deliver(null);
      }
      iterator.#todo.clear();
    };
  }
}

/**
 * One place in the completion order, claimed on first use. It behaves like
 * a coroutine object: `yield*` steps it directly, {@linkcode ensureFuture}
 * wraps it in a task (it has `next` and `throw`), and `then` makes it
 * awaitable from async functions.
 */
class NextCompleted<T> implements AsCompletedAwaitable<T> {
  #owner: CompletionIterator<T>;
  #slot: Future<Future<T> | null> | null = null;
  #promise: Promise<T> | null = null;

  constructor(owner: CompletionIterator<T>) {
    this.#owner = owner;
  }

  next(): IteratorResult<unknown, T> {
    const slot = this.#slot ??= this.#owner.claim();
    if (!slot.done()) {
      SUSPEND.value = slot;
      return SUSPEND;
    }
    return { done: true, value: this.outcome(slot) };
  }

  throw(error: unknown): IteratorResult<unknown, T> {
    throw error;
  }

  return(value: T): IteratorResult<unknown, T> {
    return { done: true, value };
  }

  [Symbol.iterator](): this {
    return this;
  }

  then<R1 = T, R2 = never>(
    onfulfilled?: ((value: T) => R1 | PromiseLike<R1>) | null,
    // deno-lint-ignore no-explicit-any
    onrejected?: ((reason: any) => R2 | PromiseLike<R2>) | null,
  ): Promise<R1 | R2> {
    return this.#asPromise().then(onfulfilled, onrejected);
  }

  /** The outcome of a filled slot: the finished input's result, or its error. */
  outcome(slot: Future<Future<T> | null>): T {
    const finished = slot.result(); // a cancelled wait raises CancelledError here
    if (finished === null) throw this.#owner.timeoutError();
    return finished.result();
  }

  #asPromise(): Promise<T> {
    let promise = this.#promise;
    if (promise !== null) return promise;
    const slot = this.#slot ??= this.#owner.claim();
    if (slot.done()) {
      try {
        promise = Promise.resolve(this.outcome(slot));
      } catch (error) {
        promise = Promise.reject(error);
      }
    } else {
      // Not slot.then(): a promise cannot hold a Future (it would adopt it).
      // Still the slot's promise, so an async-function task awaiting it waits on the slot.
      promise = promiseOf(
        slot,
        (filled) => this.outcome(filled as Future<Future<T> | null>),
      ) as Promise<T>;
    }
    this.#promise = promise;
    return promise;
  }
}

/**
 * Runs awaitables concurrently and lets you handle each as it finishes.
 *
 * - Plain iteration (`for (const next of asCompleted(aws))`) yields one
 *   awaitable per input; waiting on it (`yield*` or `await`) gives the
 *   result of the next input to finish, or throws its error. Each one takes
 *   its place in the completion order when it is first waited on.
 * - Asynchronous iteration (`for await (const done of asCompleted(aws))`)
 *   yields the input Futures and Tasks themselves as they finish (other
 *   inputs as the task or future made for them), so you can tell which
 *   one finished; read it with `result()` (see {@linkcode CompletedFuture}
 *   for its type).
 *
 * With `timeout`, the inputs not finished when it passes raise
 * {@linkcode TimeoutError} (from the awaitable in plain iteration, from the
 * loop in `for await`); they are not cancelled. An input listed twice is
 * one input. The callbacks on the inputs are removed as they finish or on
 * timeout, and the timer when the last one finishes.
 *
 * Equivalent to Python 3.13's `asyncio.as_completed()`, with the timeout in
 * milliseconds.
 *
 * @typeParam A The type of the awaitables (a result is typed as the union of their result types).
 * @param aws The awaitables: Futures, Tasks, generators, functions or promises (as for {@linkcode ensureFuture}).
 * @param options `timeout`.
 * @returns An iterator for `for...of` and `for await...of`.
 * @throws {TypeError} If `aws` is not an iterable of awaitables (a single Future, generator or promise is rejected), or `timeout` is not a number.
 * @throws {RangeError} If `timeout` is NaN.
 *
 * @example Results in completion order (generator task)
 * ```ts
 * import * as asyncio from "@aio/asyncio";
 * import assert from "node:assert/strict";
 *
 * const clock = new asyncio.VirtualClock({ autojump: true });
 * const order = await asyncio.run(function* () {
 *   const after = (ms: number) =>
 *     function* () {
 *       yield* asyncio.sleep(ms);
 *       return ms;
 *     };
 *   const results: number[] = [];
 *   for (const next of asyncio.asCompleted([after(30), after(10), after(20)])) {
 *     results.push(yield* next);
 *   }
 *   return results;
 * }, { clock });
 * assert.deepEqual(order, [10, 20, 30]);
 * ```
 *
 * @example The finished tasks themselves, with for await
 * ```ts
 * import * as asyncio from "@aio/asyncio";
 * import assert from "node:assert/strict";
 *
 * const clock = new asyncio.VirtualClock({ autojump: true });
 * await asyncio.run(async () => {
 *   const slow = asyncio.createTask(() => asyncio.sleep(50));
 *   const quick = asyncio.createTask(() => asyncio.sleep(5));
 *   const order: string[] = [];
 *   for await (const task of asyncio.asCompleted([slow, quick])) {
 *     assert.ok(task.done());
 *     order.push(task === quick ? "quick" : "slow");
 *   }
 *   assert.deepEqual(order, ["quick", "slow"]);
 * }, { clock });
 * ```
 *
 * @example A timeout
 * ```ts
 * import * as asyncio from "@aio/asyncio";
 * import assert from "node:assert/strict";
 *
 * const clock = new asyncio.VirtualClock({ autojump: true });
 * await asyncio.run(async () => {
 *   const never = asyncio.createTask(() => asyncio.sleep(Infinity));
 *   const [only] = asyncio.asCompleted([never], { timeout: 100 });
 *   await assert.rejects(Promise.resolve(only), asyncio.TimeoutError);
 *   assert.equal(never.done(), false); // not cancelled
 *   never.cancel();
 * }, { clock });
 * ```
 */
export function asCompleted<A extends Awaitable<unknown>>(
  aws: Iterable<A>,
  options?: AsCompletedOptions,
): AsCompletedIterator<AwaitedResult<A>>;
/**
 * {@linkcode asCompleted} with the result type written out
 * (`asCompleted<number>(aws)`); without a type argument, the overload above
 * infers it, also for inputs of different result types.
 *
 * @typeParam T The result type.
 * @param aws The awaitables.
 * @param options `timeout`.
 * @returns An iterator for `for...of` and `for await...of`.
 */
export function asCompleted<T>(
  aws: Iterable<Awaitable<T>>,
  options?: AsCompletedOptions,
): AsCompletedIterator<T>;
export function asCompleted<T>(
  aws: Iterable<Awaitable<T>>,
  options?: AsCompletedOptions,
): AsCompletedIterator<T> {
  let timeout: number | null = null;
  if (options !== undefined) {
    checkOptions("asCompleted()", options);
    const t = options.timeout;
    if (t !== undefined && t !== null) {
      checkTime("asCompleted()", "timeout", t);
      timeout = t;
    }
  }
  if (
    aws === null || typeof aws !== "object" || aws instanceof Future || isGenerator(aws) ||
    typeof (aws as unknown as PromiseLike<unknown>).then === "function" ||
    typeof (aws as Iterable<unknown>)[Symbol.iterator] !== "function"
  ) {
    throw new TypeError(
      `asCompleted(): 'aws' must be an iterable of awaitables, got ${describe(aws)}${
        aws instanceof Future ? "; pass [future]" : ""
      }`,
    );
  }
  const items = Array.isArray(aws) ? aws : Array.from(aws);
  // Check everything before wrapping anything, so a bad input starts no task.
  for (let i = 0; i < items.length; i++) checkAwaitable("asCompleted()", `aws[${i}]`, items[i]);
  const first = items[0];
  const loop = first instanceof Future ? first.getLoop() : getEventLoop();
  // An awaitable listed twice is one input (Python makes a set).
  const seen = new Set<unknown>();
  const futures: Future<T>[] = [];
  for (let i = 0; i < items.length; i++) {
    const item = items[i];
    if (seen.has(item)) continue;
    seen.add(item);
    futures.push(toFuture(loop, item, "asCompleted()", `aws[${i}]`) as Future<T>);
  }
  return new CompletionIterator(loop, futures, timeout);
}
