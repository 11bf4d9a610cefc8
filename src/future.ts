/**
 * Future: a result that will be set later, awaitable with `await` and with
 * `yield*` from a generator coroutine.
 *
 * @module
 */

import { type EventLoop, getEventLoop } from "./event_loop.ts";
import type { TimerHandle } from "./handle.ts";
import type { Task } from "./task.ts";
import {
  addAsyncWait,
  addAwaitedBy,
  asyncWaitDone,
  awaitingTask,
  discardAwaitedBy,
  type FutureKind,
  hooks,
  installFutureInternals,
  noteSuspend,
  pushEntry,
  SUSPEND,
  SUSPEND_SITES,
  TRUSTED_LOOP,
} from "./_internal.ts";
import { type CancelledError, InvalidStateError } from "./errors.ts";
import { cancelledError } from "./_cancelled.ts";
import { checkFunction, checkOptions, describe } from "./_validate.ts";
import { keepShapeOf } from "./_shapes.ts";

const PENDING = 0;
const FINISHED = 1;
const FAILED = 2;
const CANCELLED = 3;
/** The bits of #flags that hold the state. */
const STATE = 3;
const STATE_NAMES = ["pending", "finished", "finished", "cancelled"];

/** Flag: the exception is set and nobody has looked at it yet. */
const LOG_EXCEPTION = 4;
/** Flag: a zero-delay sleep; a task waiting on it treats it as Python's bare yield (see Task). */
const YIELD_ONCE = 8;
/** Flag: a promise was handed out for this future, so a failure will reach someone. */
const RETRIEVING = 16;
/**
 * Flag: cancelled by a CancelledError that ended it (a task's coroutine let it
 * escape), not yet handed to anyone: Python's `_cancelled_exc`.
 */
const GIVEN_ERROR = 64;
/** Flag: cancelled without a message of its own (Python's `_cancel_message` is None). */
const NO_MESSAGE = 128;
/** Flag: pending, with a TimerHandle in #value to cancel when done (a sleep; no callback needed). */
const OWNS_TIMER = 32;
/** Flag: awaiting it makes it no wait of the awaiting task (a block's view of its async body). */
const NOT_A_WAIT = 256;
/**
 * Flag: pending, with the operation it stands for in #value (a primitive's
 * waiter that a task waits on directly, see _wait_op.ts): what the task
 * tree names as the wait. Costs no field.
 */
const LABELED = 512;
/**
 * Flag: a combinator's future (see FutureKind in _internal.ts); while it is
 * pending, #value holds the kind. Costs no field and no map entry.
 */
const HAS_KIND = 1024;
/** Flag: with HAS_KIND, `cancel()` once done returns false and leaves the exception unretrieved (gather). */
const QUIET_WHEN_DONE = 2048;
/** A pending future with a kind. */
const KIND_PENDING = HAS_KIND | PENDING;

// deno-lint-ignore no-explicit-any
type InternalCallback = (arg: any, future: Future<any>) => void;
// deno-lint-ignore no-explicit-any
type DoneCallback = (future: Future<any>) => unknown;

/** Options for {@linkcode Future}. */
export interface FutureOptions {
  /**
   * The loop whose iterations run the done callbacks.
   *
   * @default {the current loop ({@linkcode getEventLoop})}
   */
  loop?: EventLoop;
}

// The first instance the program makes keeps the class's map alive (see _shapes.ts).
let futureShaped = false;

/**
 * A result that will be available later: set by `setResult`,
 * `setException` or `cancel`, observed by done callbacks, `await`,
 * `then`, and `yield*` inside a generator task.
 *
 * Done callbacks never run synchronously from `setResult`: they are
 * scheduled on the loop with `callSoon` and run in its next iteration.
 *
 * Equivalent to Python's `asyncio.Future`; it also implements
 * `PromiseLike` (plus `catch` and `finally`) and `Iterable` for `yield*`.
 *
 * @typeParam T The result type.
 *
 * @example Setting and awaiting a result
 * ```ts
 * import * as asyncio from "@aio/asyncio";
 * import assert from "node:assert/strict";
 *
 * const fut = new asyncio.Future<string>();
 * setTimeout(() => fut.setResult("ready"), 0);
 * assert.equal(await fut, "ready");
 * assert.equal(fut.result(), "ready");
 * ```
 *
 * @example Waiting with yield* in a generator task
 * ```ts
 * import * as asyncio from "@aio/asyncio";
 * import assert from "node:assert/strict";
 *
 * const answer = await asyncio.run(function* () {
 *   const fut = asyncio.getRunningLoop().createFuture<number>();
 *   asyncio.getRunningLoop().callSoon(() => fut.setResult(42));
 *   const value: number = yield* fut;
 *   return value;
 * });
 * assert.equal(answer, 42);
 * ```
 */
export class Future<T> implements PromiseLike<T> {
  // The private helpers are static, taking the future first: private
  // instance methods would put a brand in every future and task (8 bytes).
  #loop: EventLoop;
  /** The state (PENDING, FINISHED, FAILED, CANCELLED) in the low two bits, then the flags. */
  #flags = PENDING;
  /**
   * The result; the exception; cancelled: the cancel message until the
   * CancelledError is made, then the error; pending with OWNS_TIMER: the timer.
   */
  #value: unknown = undefined;
  // Callbacks: the first pair in fields (the common single waiter allocates
  // nothing), the rest in an array of [fn, arg, fn, arg, ...]. A user callback
  // has arg === undefined and is called as fn(future).
  #fn0: InternalCallback | DoneCallback | null = null;
  #arg0: unknown = undefined;
  #more: unknown[] | null = null;
  /**
   * Who awaits this future besides the tasks that wait on it directly
   * (those are found from the tasks, see graph.ts): Python's
   * `_asyncio_awaited_by`, filled by {@linkcode futureAddToAwaitedBy}. Made
   * lazily: null, one future, or a Set of several.
   */
  #awaitedBy: Future<unknown> | Set<Future<unknown>> | null = null;

  /**
   * Creates a pending future.
   *
   * @param options The loop to bind to.
   * @throws {TypeError} If `options.loop` is not an {@linkcode EventLoop}.
   */
  constructor(options?: FutureOptions) {
    if (options === undefined) {
      this.#loop = getEventLoop();
    } else if (options === TRUSTED_LOOP) {
      // The package's own subclasses pass a checked loop this way: no validation, no allocation.
      this.#loop = TRUSTED_LOOP.loop as EventLoop;
    } else {
      checkOptions("Cannot create Future", options);
      const loop = options.loop;
      if (loop === undefined) this.#loop = getEventLoop();
      else if (!isEventLoop(loop)) {
        throw new TypeError(
          `Cannot create Future: 'loop' must be an EventLoop, got ${describe(loop)}`,
        );
      } else this.#loop = loop;
    }
    if (!futureShaped && new.target === Future) {
      futureShaped = true;
      keepShapeOf((loop) => new Future({ loop }));
    }
  }

  /**
   * Whether the future has a result, an exception, or was cancelled.
   *
   * @returns `true` once done.
   */
  done(): boolean {
    return (this.#flags & STATE) !== PENDING;
  }

  /**
   * Whether the future was cancelled.
   *
   * @returns `true` if cancelled.
   */
  cancelled(): boolean {
    return (this.#flags & STATE) === CANCELLED;
  }

  /**
   * The result. Reading it counts as retrieving the exception, if any.
   *
   * @returns The value given to `setResult`.
   * @throws {InvalidStateError} If the future is pending.
   * @throws {CancelledError} If the future was cancelled.
   * @throws {unknown} The future's exception, if it failed.
   */
  result(): T {
    const state = this.#flags & STATE;
    if (state === FINISHED) return this.#value as T;
    if (state === FAILED) {
      if (this.#flags & LOG_EXCEPTION) Future.#retrieved(this);
      throw this.#value;
    }
    if (state === CANCELLED) throw Future.#cancelledError(this);
    throw new InvalidStateError("Future.result(): the result is not set yet");
  }

  /**
   * The exception, or `undefined` when the future succeeded. Counts as
   * retrieving it.
   *
   * @returns The exception given to `setException`, or `undefined`.
   * @throws {InvalidStateError} If the future is pending.
   * @throws {CancelledError} If the future was cancelled.
   */
  exception(): unknown {
    const state = this.#flags & STATE;
    if (state === FINISHED) return undefined;
    if (state === FAILED) {
      if (this.#flags & LOG_EXCEPTION) Future.#retrieved(this);
      return this.#value;
    }
    if (state === CANCELLED) throw Future.#cancelledError(this);
    throw new InvalidStateError("Future.exception(): the exception is not set yet");
  }

  /**
   * Marks the future done with `value` and schedules its done callbacks.
   *
   * @param value The result.
   * @throws {InvalidStateError} If the future is already done.
   */
  setResult(value: T): void;
  /** Marks a `Future<void>` done. */
  setResult(this: Future<void>): void;
  setResult(value?: T): void {
    if ((this.#flags & STATE) !== PENDING) {
      throw new InvalidStateError(
        `Future.setResult(): the future is already ${Future.#stateName(this)}`,
      );
    }
    Future.#finish(this, FINISHED, value);
  }

  /**
   * Marks the future failed with `exception` and schedules its done
   * callbacks. If nobody retrieves the exception, it is reported to the
   * loop's exception handler.
   *
   * @param exception The error (anything but `undefined`).
   * @throws {InvalidStateError} If the future is already done.
   * @throws {TypeError} If `exception` is `undefined`.
   */
  setException(exception: unknown): void {
    if ((this.#flags & STATE) !== PENDING) {
      throw new InvalidStateError(
        `Future.setException(): the future is already ${Future.#stateName(this)}`,
      );
    }
    if (exception === undefined) {
      throw new TypeError("Future.setException(): 'exception' must not be undefined");
    }
    // As in Python, even a CancelledError is stored as the exception: the
    // future is then done but not cancelled(), and awaiting it raises it.
    Future.#fail(this, exception);
  }

  /**
   * Cancels the future and schedules its done callbacks.
   *
   * @param msg A message for the {@linkcode CancelledError}.
   * @returns `false` if the future was already done, else `true`.
   * @throws {TypeError} If `msg` is neither a string nor `undefined`.
   */
  cancel(msg?: string): boolean {
    const flags = this.#flags;
    if (flags & HAS_KIND) {
      if ((flags & (HAS_KIND | STATE)) === KIND_PENDING) {
        return (this.#value as FutureKind).cancel(this, msg);
      }
      if (flags & QUIET_WHEN_DONE) return false;
    }
    return Future.#plainCancel(this, msg);
  }

  static #plainCancel<T>(self: Future<T>, msg: string | undefined): boolean {
    if (msg !== undefined && typeof msg !== "string") {
      throw new TypeError(`Future.cancel(): 'msg' must be a string, got ${describe(msg)}`);
    }
    if (self.#flags & LOG_EXCEPTION) Future.#retrieved(self);
    if ((self.#flags & STATE) !== PENDING) return false;
    Future.#finish(self, CANCELLED, msg);
    return true;
  }

  /**
   * Calls `callback(future)` once the future is done, in a later loop
   * iteration (at once scheduled if it is already done).
   *
   * @param callback The function to call.
   * @throws {TypeError} If `callback` is not a function.
   */
  addDoneCallback(callback: (future: this) => unknown): void {
    checkFunction("Future.addDoneCallback()", "callback", callback);
    if ((this.#flags & STATE) !== PENDING) {
      pushEntry(this.#loop, callDone, callback, this);
      return;
    }
    Future.#addCallback(this, callback, undefined);
  }

  /**
   * Removes every registration of `callback`.
   *
   * @param callback The function given to {@linkcode Future.addDoneCallback}.
   * @returns How many registrations were removed.
   */
  removeDoneCallback(callback: (future: this) => unknown): number {
    return Future.#removeCallback(this, callback, undefined);
  }

  /**
   * The loop the future is bound to.
   *
   * @returns The loop.
   */
  getLoop(): EventLoop {
    return this.#loop;
  }

  /**
   * Promise interoperability: `await future` and `future.then(...)`.
   * A cancelled future rejects with {@linkcode CancelledError}.
   *
   * @typeParam R1 The fulfilment handler's result.
   * @typeParam R2 The rejection handler's result.
   * @param onfulfilled Called with the result.
   * @param onrejected Called with the exception.
   * @returns A promise, as `Promise.prototype.then`.
   */
  then<R1 = T, R2 = never>(
    onfulfilled?: ((value: T) => R1 | PromiseLike<R1>) | null,
    // deno-lint-ignore no-explicit-any
    onrejected?: ((reason: any) => R2 | PromiseLike<R2>) | null,
  ): Promise<R1 | R2> {
    if ((this.#flags & (HAS_KIND | STATE)) === KIND_PENDING) {
      const kind = this.#value as FutureKind;
      if (kind.then !== undefined) {
        return kind.then(
          this,
          onfulfilled as (value: unknown) => unknown,
          onrejected,
        ) as Promise<R1 | R2>;
      }
    }
    return Future.#asPromise(this).then(onfulfilled, onrejected);
  }

  /**
   * Promise interoperability: like `Promise.prototype.catch`.
   *
   * @typeParam R The rejection handler's result.
   * @param onrejected Called with the exception.
   * @returns A promise.
   */
  // deno-lint-ignore no-explicit-any
  catch<R = never>(onrejected?: ((reason: any) => R | PromiseLike<R>) | null): Promise<T | R> {
    return Future.#asPromise(this).catch(onrejected);
  }

  /**
   * Promise interoperability: like `Promise.prototype.finally`.
   *
   * @param onfinally Called when the future is done.
   * @returns A promise.
   */
  finally(onfinally?: (() => void) | null): Promise<T> {
    return Future.#asPromise(this).finally(onfinally);
  }

  /**
   * Lets a generator coroutine wait with `const x = yield* future`: the task
   * suspends until the future is done, then gets its result or its exception.
   *
   * @returns An iterator that yields the future once while it is pending.
   */
  [Symbol.iterator](): Iterator<Future<unknown>, T, unknown> {
    if ((this.#flags & (HAS_KIND | STATE)) === KIND_PENDING) {
      const kind = this.#value as FutureKind;
      if (kind.iterator !== undefined) {
        return kind.iterator(this) as Iterator<Future<unknown>, T, unknown>;
      }
    }
    // The future is its own iterator (see `next`/`throw` below the class):
    // waiting allocates nothing.
    return this as unknown as Iterator<Future<unknown>, T, unknown>;
  }

  /** `"Future"` (or the subclass name): with `then`, `catch` and `finally`, this lets a Future be used where a `Promise` is expected. */
  get [Symbol.toStringTag](): string {
    // Compared by identity, not by name: bundlers rename self-referencing
    // classes (`deno bundle` and esbuild emit `var Future = class _Future`).
    return this.constructor === Future ? "Future" : this.constructor.name;
  }

  /** A description like Python's repr: `<Future finished result=1>`. */
  toString(): string {
    return `<${this[Symbol.toStringTag]} ${Future.#stateName(this)}${Future.#describeState(this)}>`;
  }

  /** Shows the future like Python's repr in Deno's inspector. */
  [Symbol.for("Deno.customInspect")](): string {
    return this.toString();
  }

  /** Shows the future like Python's repr in Node's inspector. */
  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return this.toString();
  }

  // ------------------------------------------------------------ internals

  static #stateName<T>(self: Future<T>): string {
    return STATE_NAMES[self.#flags & STATE];
  }

  static #describeState<T>(self: Future<T>): string {
    if ((self.#flags & STATE) === FINISHED) return ` result=${short(self.#value)}`;
    if ((self.#flags & STATE) === FAILED) return ` exception=${short(self.#value)}`;
    return "";
  }

  /**
   * Completes the future and hands its callbacks to the loop. With `inline`,
   * the wake-ups of waiting tasks and promises run now instead of in the next
   * iteration: used only from inside a loop callback that stands for the
   * waiter's own step (a zero-delay sleep, or a waitFor finishing), so that
   * the waiter resumes when it would in Python, where no extra future exists.
   */
  static #finish<T>(self: Future<T>, state: number, value: unknown, inline = false): void {
    if (self.#flags & (OWNS_TIMER | LABELED)) {
      if (self.#flags & OWNS_TIMER) (self.#value as TimerHandle).cancel(); // a no-op if the timer is what fired
      self.#flags &= ~(OWNS_TIMER | LABELED);
    }
    self.#flags = (self.#flags & ~STATE) | state;
    self.#value = value;
    const fn0 = self.#fn0;
    if (fn0 === null) return;
    const loop = self.#loop;
    self.#fn0 = null;
    const arg0 = self.#arg0;
    self.#arg0 = undefined;
    const more = self.#more;
    self.#more = null;
    if (!inline) {
      Future.#schedule(self, loop, fn0, arg0);
      if (more !== null) {
        for (let i = 0; i < more.length; i += 2) {
          Future.#schedule(self, loop, more[i] as InternalCallback, more[i + 1]);
        }
      }
      return;
    }
    // Other callbacks keep their scheduled turn; the wake-ups run after they are queued.
    const wakeFirst = arg0 !== undefined && isInlineWaker(fn0);
    if (!wakeFirst) Future.#schedule(self, loop, fn0, arg0);
    let woken: unknown[] | null = null;
    if (more !== null) {
      for (let i = 0; i < more.length; i += 2) {
        const fn = more[i] as InternalCallback;
        if (more[i + 1] !== undefined && isInlineWaker(fn)) (woken ??= []).push(fn, more[i + 1]);
        else Future.#schedule(self, loop, fn, more[i + 1]);
      }
    }
    if (wakeFirst) (fn0 as InternalCallback)(arg0, self);
    if (woken !== null) {
      for (let i = 0; i < woken.length; i += 2) (woken[i] as InternalCallback)(woken[i + 1], self);
    }
  }

  static #schedule<T>(
    self: Future<T>,
    loop: EventLoop,
    fn: InternalCallback | DoneCallback,
    arg: unknown,
  ): void {
    // A user callback is called with the future only (callDone drops the extra argument).
    if (arg === undefined) pushEntry(loop, callDone, fn, self);
    else pushEntry(loop, fn, arg, self);
  }

  static #fail<T>(self: Future<T>, exception: unknown, inline = false): void {
    if (exception === undefined) {
      // `exception()` returns undefined for success; `throw undefined` and
      // `Promise.reject()` must still read as failures.
      exception = new Error("A coroutine or promise failed with undefined");
    }
    if ((self.#flags & RETRIEVING) === 0) {
      self.#flags |= LOG_EXCEPTION;
      track(self, self.#loop, exception);
    }
    Future.#finish(self, FAILED, exception, inline);
  }

  static #cancelWith<T>(self: Future<T>, error: CancelledError, inline = false): void {
    self.#flags |= GIVEN_ERROR | NO_MESSAGE;
    Future.#finish(self, CANCELLED, error, inline);
  }

  /**
   * Python's `_make_cancelled_error()`: the error that ended the future goes
   * to its first retriever; after that (or for a future cancelled with a
   * message) every retriever gets an error carrying the cancel message.
   * Python makes a new one each time; one is made and reused here.
   */
  static #cancelledError<T>(self: Future<T>): CancelledError {
    const value = self.#value;
    const flags = self.#flags;
    if (typeof value === "object") {
      if ((flags & GIVEN_ERROR) === 0 && (flags & NO_MESSAGE) !== 0 && (value as Error).message) {
        // Handed over already: later retrievers get one without the message.
        const plain = cancelledError(undefined, undefined, self.#loop.getDebug());
        self.#value = plain;
        return plain;
      }
      self.#flags = flags & ~GIVEN_ERROR;
      return value as CancelledError;
    }
    const error = cancelledError(value as string | undefined, undefined, self.#loop.getDebug());
    self.#value = error;
    return error;
  }

  /** Python's `_cancel_message`: the message given to `cancel()`, if this future was cancelled so. */
  static #cancelMessage<T>(self: Future<T>): string | undefined {
    if ((self.#flags & STATE) !== CANCELLED || (self.#flags & NO_MESSAGE) !== 0) return undefined;
    const value = self.#value;
    return typeof value === "object"
      ? (value as Error).message || undefined
      : value as string | undefined;
  }

  /**
   * The CancelledError gather() puts in its results for a cancelled child:
   * one carrying the cancel message (or none), as Python's
   * `CancelledError('' if fut._cancel_message is None else ...)`; the stored
   * error is reused when its message is that one.
   */
  static #cancelledErrorForResults<T>(self: Future<T>): CancelledError {
    const message = Future.#cancelMessage(self);
    const value = self.#value;
    if (typeof value === "object" && (value as Error).message === (message ?? "")) {
      return value as CancelledError;
    }
    return cancelledError(message, undefined, self.#loop.getDebug());
  }

  static #addAwaitedBy<T>(self: Future<T>, waiter: Future<unknown>): void {
    const by = self.#awaitedBy;
    if (by === null) self.#awaitedBy = waiter;
    else if (by instanceof Future) {
      if (by !== waiter) self.#awaitedBy = new Set([by, waiter]);
    } else by.add(waiter);
  }

  static #discardAwaitedBy<T>(self: Future<T>, waiter: Future<unknown>): void {
    const by = self.#awaitedBy;
    if (by === waiter) self.#awaitedBy = null;
    else if (by !== null && !(by instanceof Future)) {
      by.delete(waiter);
      if (by.size === 0) self.#awaitedBy = null;
    }
  }

  static #retrieved<T>(self: Future<T>): void {
    self.#flags &= ~LOG_EXCEPTION;
    untrack(self);
  }

  static #addCallback<T>(self: Future<T>, fn: InternalCallback | DoneCallback, arg: unknown): void {
    if ((self.#flags & STATE) !== PENDING) {
      // Already done: the callback still runs, in a later iteration.
      Future.#schedule(self, self.#loop, fn, arg);
    } else if (self.#fn0 === null && self.#more === null) {
      self.#fn0 = fn;
      self.#arg0 = arg;
    } else if (self.#more === null) {
      self.#more = [fn, arg];
    } else {
      self.#more.push(fn, arg);
    }
  }

  static #hasCallback<T>(self: Future<T>, fn: unknown, arg: unknown): boolean {
    if (self.#fn0 === fn && self.#arg0 === arg) return true;
    const more = self.#more;
    if (more === null) return false;
    for (let i = 0; i < more.length; i += 2) {
      if (more[i] === fn && more[i + 1] === arg) return true;
    }
    return false;
  }

  static #removeCallback<T>(self: Future<T>, fn: unknown, arg: unknown): number {
    let removed = 0;
    if (self.#fn0 === fn && self.#arg0 === arg) {
      self.#fn0 = null;
      self.#arg0 = undefined;
      removed++;
    }
    const more = self.#more;
    if (more !== null) {
      let kept = 0;
      for (let i = 0; i < more.length; i += 2) {
        if (more[i] === fn && more[i + 1] === arg) {
          removed++;
        } else {
          more[kept++] = more[i];
          more[kept++] = more[i + 1];
        }
      }
      more.length = kept;
      // Keep the first pair in the fields so the order of the rest is kept.
      if (self.#fn0 === null && kept > 0) {
        self.#fn0 = more[0] as InternalCallback;
        self.#arg0 = more[1];
        more.splice(0, 2);
      }
      if (more.length === 0) self.#more = null;
    }
    return removed;
  }

  /**
   * A promise of the outcome, for `then`/`catch`/`finally`. Not cached: a
   * field for it would cost every future, and most are never awaited this way.
   */
  static #asPromise<T>(self: Future<T>, outcome: Outcome | null = null): Promise<T> {
    const state = self.#flags & STATE;
    if (state === PENDING) {
      // Awaited inside an async-function task: the future becomes one of its
      // waits (see task.ts), as the future a generator task `yield*`s on.
      let task = (self.#flags & NOT_A_WAIT) === 0 ? awaitingTask() : null;
      if (task !== null) {
        if (task === self as unknown) {
          return Promise.reject(new Error(`Task cannot wait on itself: ${self}`));
        }
        if (task.getLoop() !== self.#loop) task = null;
      }
      // Awaiting counts as retrieving, even if the failure comes later;
      // except for a task's wait, whose failure may go unread if the task is
      // cancelled meanwhile (it is then reported, as for a generator task).
      if (task === null) self.#flags |= RETRIEVING;
      // A shared executor (no closure per call) hands over the resolvers.
      const promise = new Promise<T>(captureResolvers);
      Future.#addCallback(
        self,
        settlePromise,
        new Resolvers(capturedResolve, capturedReject, task, outcome),
      );
      if (task !== null) addAsyncWait(task, self);
      return promise;
    }
    self.#flags |= RETRIEVING;
    if (state === FINISHED && outcome === null) return Promise.resolve(self.#value as T);
    // Rejected now; the caller attaches its handlers in the same turn.
    try {
      return Promise.resolve((outcome === null ? self.result() : outcome(self)) as T);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  static {
    installFutureInternals({
      resolveFuture: (future, value, inline) => Future.#finish(future, FINISHED, value, inline),
      failFuture: (future, exception, inline) => Future.#fail(future, exception, inline),
      cancelFutureWith: (future, error, inline) => Future.#cancelWith(future, error, inline),
      addCallback: (future, fn, arg) => Future.#addCallback(future, fn, arg),
      removeCallback: (future, fn, arg) => Future.#removeCallback(future, fn, arg),
      hasCallback: (future, fn, arg) => Future.#hasCallback(future, fn, arg),
      markYieldOnce: (future) => {
        future.#flags |= YIELD_ONCE;
      },
      isYieldOnce: (future) => (future.#flags & YIELD_ONCE) !== 0,
      cancelledErrorOf: (future) => Future.#cancelledError(future),
      cancelledErrorForResults: (future) => Future.#cancelledErrorForResults(future),
      cancelFuture: (future, msg, inline) => {
        if ((future.#flags & STATE) === PENDING) Future.#finish(future, CANCELLED, msg, inline);
      },
      cancelFutureAs: (future, error) => {
        // As cancel(error.message), with that very error made already: every
        // retriever gets it (cancel(msg) would make one later, with the same message).
        if ((future.#flags & STATE) !== PENDING) return false;
        Future.#finish(future, CANCELLED, error);
        return true;
      },
      ownTimer: (future, timer) => {
        future.#flags |= OWNS_TIMER;
        future.#value = timer;
      },
      setTaskWaker: (fn) => {
        taskWaker = fn;
      },
      peekFailure: (future) => (future.#flags & STATE) === FAILED ? future.#value : undefined,
      silence: (future) => {
        if (future.#flags & LOG_EXCEPTION) Future.#retrieved(future);
      },
      promiseOf: (future, outcome) => Future.#asPromise(future, outcome),
      markNotAWait: (future) => {
        future.#flags |= NOT_A_WAIT;
      },
      addAwaitedBy: (future, waiter) => Future.#addAwaitedBy(future, waiter),
      discardAwaitedBy: (future, waiter) => Future.#discardAwaitedBy(future, waiter),
      awaitedByOf: (future) => {
        const by = future.#awaitedBy;
        if (by === null) return [];
        return by instanceof Future ? [by] : [...by];
      },
      labelWait: (future, op) => {
        const flags = future.#flags;
        if ((flags & (STATE | OWNS_TIMER | LABELED)) !== PENDING || future.#value !== undefined) {
          return;
        }
        future.#flags = flags | LABELED;
        future.#value = op;
      },
      waitLabelOf: (future) => (future.#flags & LABELED) !== 0 ? future.#value : undefined,
      timerOf: (future) =>
        (future.#flags & OWNS_TIMER) !== 0 ? future.#value as TimerHandle : undefined,
      setKind: (future, kind, quietWhenDone = false) => {
        future.#value = kind;
        future.#flags |= quietWhenDone ? HAS_KIND | QUIET_WHEN_DONE : HAS_KIND;
      },
      kindOf: (future) =>
        (future.#flags & (HAS_KIND | STATE)) === KIND_PENDING
          ? future.#value as FutureKind
          : undefined,
      plainCancel: (future, msg) => Future.#plainCancel(future, msg),
      callbackArgs: (future, fn) => {
        const args: unknown[] = [];
        if (future.#fn0 === fn) args.push(future.#arg0);
        const more = future.#more;
        if (more !== null) {
          for (let i = 0; i < more.length; i += 2) if (more[i] === fn) args.push(more[i + 1]);
        }
        return args;
      },
    });
    hooks.createFuture = (loop) => new Future({ loop });
    hooks.doneCallbackTrampoline = callDone as (a: unknown, b: unknown) => void;
  }
}

// The iterator protocol of `yield* future`, on the prototype but outside the
// class body so it stays out of Future's public type: `next()` suspends once
// while the future is pending (yielding the shared SUSPEND result), then
// returns its result or throws its exception; `throw(e)` rethrows at the
// `yield*`, which is how a task delivers a cancellation. It keeps no state,
// so any number of waiters can iterate the same future.
Object.defineProperties(Future.prototype, {
  next: {
    value: function next(this: Future<unknown>): IteratorResult<Future<unknown>, unknown> {
      if (!this.done()) {
        SUSPEND.value = this;
        // Debug mode: where the waiting task suspends (its frames are on the stack now).
        if (SUSPEND_SITES.on) noteSuspend();
        return SUSPEND as IteratorYieldResult<Future<unknown>>;
      }
      return { done: true, value: this.result() };
    },
    writable: true,
    configurable: true,
  },
  throw: {
    value: function throw_(error: unknown): never {
      throw error;
    },
    writable: true,
    configurable: true,
  },
});

/**
 * Records that `waiter` awaits `fut`, for the call graph
 * ({@linkcode captureCallGraph}) and the task tree: for a library that
 * builds its own combinator, where the waiting task does not wait on `fut`
 * itself (the package's combinators record their children so). A task
 * waiting on a future directly needs no record. Recording the same pair
 * twice is one record.
 *
 * Equivalent to Python's `asyncio.future_add_to_awaited_by()`; unlike
 * Python's, it throws on arguments that are not futures instead of
 * ignoring them.
 *
 * @param fut The future being awaited.
 * @param waiter The future (usually a task) that awaits it.
 * @throws {TypeError} If `fut` or `waiter` is not a {@linkcode Future}.
 *
 * @example A combinator of one's own shows in the call graph
 * ```ts
 * import * as asyncio from "@aio/asyncio";
 * import assert from "node:assert/strict";
 *
 * await asyncio.run(function* () {
 *   const me = asyncio.currentTask()!;
 *   const child = asyncio.createTask(function* () {
 *     yield* asyncio.sleep(0);
 *     return asyncio.captureCallGraph()!.awaitedBy.map((g) => g.future);
 *   });
 *   asyncio.futureAddToAwaitedBy(child, me);
 *   const seen = new asyncio.Future<void>();
 *   child.addDoneCallback(() => {
 *     asyncio.futureDiscardFromAwaitedBy(child, me);
 *     seen.setResult();
 *   });
 *   yield* seen;
 *   assert.equal(child.result().length, 1);
 *   assert.equal(child.result()[0], me); // the very task: compare by identity
 * });
 * ```
 */
export function futureAddToAwaitedBy(fut: Future<unknown>, waiter: Future<unknown>): void {
  checkFuture("futureAddToAwaitedBy()", "fut", fut);
  checkFuture("futureAddToAwaitedBy()", "waiter", waiter);
  addAwaitedBy(fut, waiter);
}

/**
 * Removes the record that `waiter` awaits `fut` (see
 * {@linkcode futureAddToAwaitedBy}); nothing happens if there is none.
 *
 * Equivalent to Python's `asyncio.future_discard_from_awaited_by()`; it
 * throws on arguments that are not futures.
 *
 * @param fut The future that was awaited.
 * @param waiter The future that awaited it.
 * @throws {TypeError} If `fut` or `waiter` is not a {@linkcode Future}.
 *
 * @example
 * ```ts
 * import * as asyncio from "@aio/asyncio";
 * import assert from "node:assert/strict";
 *
 * const loop = new asyncio.EventLoop();
 * const fut = loop.createFuture<void>();
 * const waiter = loop.createFuture<void>();
 * asyncio.futureAddToAwaitedBy(fut, waiter);
 * const awaitedBy = asyncio.captureCallGraph(fut)!.awaitedBy;
 * assert.equal(awaitedBy.length, 1);
 * assert.equal(awaitedBy[0].future, waiter);
 * asyncio.futureDiscardFromAwaitedBy(fut, waiter);
 * assert.deepEqual(asyncio.captureCallGraph(fut)!.awaitedBy, []);
 * loop.close();
 * ```
 */
export function futureDiscardFromAwaitedBy(fut: Future<unknown>, waiter: Future<unknown>): void {
  checkFuture("futureDiscardFromAwaitedBy()", "fut", fut);
  checkFuture("futureDiscardFromAwaitedBy()", "waiter", waiter);
  discardAwaitedBy(fut, waiter);
}

function checkFuture(where: string, arg: string, value: unknown): void {
  if (!(value instanceof Future)) {
    throw new TypeError(`${where}: '${arg}' must be a Future, got ${describe(value)}`);
  }
}

/** Runs a user's done callback with the future as its only argument. */
function callDone(callback: DoneCallback, future: Future<unknown>): void {
  callback(future);
}

/** Wake-ups that may run inline (see #finish): they never throw and only resume a waiter. */
let taskWaker: unknown = null;
function isInlineWaker(fn: unknown): boolean {
  return fn === taskWaker || fn === settlePromise;
}

/** Reads a done future's outcome for a promise in place of `result()` (see promiseOf). */
type Outcome = (future: Future<unknown>) => unknown;

/** A promise's resolve and reject functions, kept as one done-callback argument. */
class Resolvers {
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
  /** The async-function task whose wait this promise is, or null. */
  task: Task<unknown> | null;
  outcome: Outcome | null;

  constructor(
    resolve: (value: unknown) => void,
    reject: (error: unknown) => void,
    task: Task<unknown> | null,
    outcome: Outcome | null,
  ) {
    this.resolve = resolve;
    this.reject = reject;
    this.task = task;
    this.outcome = outcome;
  }
}

// deno-lint-ignore no-explicit-any
let capturedResolve: (value: any) => void = () => {};
let capturedReject: (error: unknown) => void = () => {};
/** The executor of every promise made by #asPromise: runs synchronously inside `new Promise`. */
// deno-lint-ignore no-explicit-any
function captureResolvers(resolve: (value: any) => void, reject: (error: unknown) => void): void {
  capturedResolve = resolve;
  capturedReject = reject;
}

function settlePromise(resolvers: Resolvers, future: Future<unknown>): void {
  const task = resolvers.task;
  if (task !== null) {
    // The wait is over; a cancel request that came meanwhile wins, as it
    // does at a generator task's wake-up.
    const instead = asyncWaitDone(task, future);
    if (instead !== undefined) {
      resolvers.reject(instead);
      return;
    }
  }
  try {
    const outcome = resolvers.outcome;
    resolvers.resolve(outcome === null ? future.result() : outcome(future));
  } catch (error) {
    resolvers.reject(error);
  }
}

function isEventLoop(value: unknown): value is EventLoop {
  return value !== null && typeof value === "object" &&
    typeof (value as EventLoop).callSoon === "function" &&
    typeof (value as EventLoop).time === "function";
}

function short(value: unknown): string {
  if (value instanceof Error) return `${value.name}(${JSON.stringify(value.message)})`;
  try {
    const text = typeof value === "string" ? JSON.stringify(value) : String(value);
    return text.length > 60 ? text.slice(0, 57) + "..." : text;
  } catch {
    return describe(value);
  }
}

// ------------------------------------------------- unretrieved exceptions
//
// A failed future registers here until someone looks at its exception. Two
// ways to report one nobody looked at: when the future is garbage-collected
// (FinalizationRegistry, where the host has it), and when its loop closes,
// which `run()` does on the way out, so nothing fails silently even if GC
// never comes. Only failures pay for this.

interface Unretrieved {
  loop: EventLoop;
  exception: unknown;
  message: string;
}

type FutureRef = WeakRef<Future<unknown>> | Future<unknown>;

// Each tracked future's ref, with what to report. The registry's unregister
// token is the ref (alive while tracked), not the future: a future collected
// before its finalizer ran is still reported when its loop closes, once.
const tracked = new Map<FutureRef, Unretrieved>();
const refOf = new WeakMap<Future<unknown>, FutureRef>();
const registry = typeof FinalizationRegistry === "function"
  ? new FinalizationRegistry<FutureRef>((ref) => {
    const held = tracked.get(ref);
    if (held === undefined) return;
    tracked.delete(ref);
    report(held, undefined);
  })
  : null;

/** Rename-proof, unlike `constructor.name` (bundlers emit `class _Task`): only tasks have getCoro. */
function isTask(future: Future<unknown>): boolean {
  return typeof (future as { getCoro?: unknown }).getCoro === "function";
}

function reportMessage(future: Future<unknown>): string {
  return `${isTask(future) ? "Task" : "Future"} exception was never retrieved`;
}

function track(future: Future<unknown>, loop: EventLoop, exception: unknown): void {
  const ref = typeof WeakRef === "function" ? new WeakRef(future) : future;
  tracked.set(ref, { loop, exception, message: reportMessage(future) });
  refOf.set(future, ref);
  // The held value (the ref) must not hold the future strongly, or it would never be collected.
  if (ref !== future) registry?.register(future, ref, ref);
}

function untrack(future: Future<unknown>): void {
  const ref = refOf.get(future);
  if (ref === undefined) return;
  refOf.delete(future);
  tracked.delete(ref);
  registry?.unregister(ref);
}

function report(held: Unretrieved, future: Future<unknown> | undefined): void {
  const context: Record<string, unknown> = { message: held.message, exception: held.exception };
  if (future !== undefined) {
    context.future = future;
    if (isTask(future)) context.task = future;
  }
  held.loop.callExceptionHandler(context as { message: string });
}

/** Reports, once, every failed future of `loop` whose exception nobody retrieved. */
function reportUnretrieved(loop: EventLoop): void {
  for (const [ref, held] of [...tracked]) {
    if (held.loop !== loop) continue;
    const future = ref instanceof Future ? ref : (ref as WeakRef<Future<unknown>>).deref();
    if (future === undefined) {
      // Collected, its finalizer not yet run: report it now, and not again.
      tracked.delete(ref);
      registry?.unregister(ref);
      report(held, undefined);
      continue;
    }
    future.exception(); // untracks it
    report(held, future);
  }
}

hooks.loopClosing = reportUnretrieved;
