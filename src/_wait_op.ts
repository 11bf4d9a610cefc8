/**
 * The operation future behind every blocking call of the synchronization
 * primitives and queues (`Lock.acquire`, `Queue.get`, `Event.wait`, ...).
 * Private to the package; this is the only place where those operations
 * suspend and resume.
 *
 * ## Why a special future
 *
 * CPython's primitives are coroutines: `Lock.acquire` appends a waiter
 * future `w` to the lock's FIFO, `await w` (so the task's `fut_waiter` is
 * `w`), and the code after `await w` runs in the task's own step, where a
 * pending cancellation can still pre-empt it. The SPEC wants every wait to
 * return a Future, yet the differential fuzzer wants CPython's exact order
 * of events for generator tasks. So each slow-path operation is written
 * once, as a generator *body* that mirrors the CPython coroutine line by
 * line (`yield* w` where CPython has `await w`), and is run in one of two
 * modes:
 *
 * 1. **Future mode** (the default, eager). The call runs the body at once up
 *    to its first `yield* w`, so the waiter is queued immediately (JS users
 *    expect `const f = lock.acquire()` to hold its place). An internal done
 *    callback on `w` resumes the body one loop iteration after the wake-up,
 *    exactly when CPython would step the task; the body re-checks, takes
 *    the resource and the driver resolves the operation future (or the
 *    body queues a new waiter if it lost a race). `cancel()` or an aborted
 *    `{ signal }` cancels `w` and runs the body's `except`/`finally`
 *    cleanup synchronously (remove `w`, pass the wake-up on).
 * 2. **Coroutine mode**. When a generator task does `yield* op` while the
 *    body is parked on a pending `w`, `[Symbol.iterator]()` takes over: it
 *    removes the internal callback from `w` and hands the task an iterator
 *    that drives the body inside the task's own steps. The task then waits
 *    on `w` itself (so `task.cancel()` cancels `w`, as in CPython), the code
 *    after `yield* w` runs in the task's step, and a `CancelledError`
 *    delivered with `throw()` runs the body's cleanup. The operation future
 *    is settled as well, for anyone else watching it.
 *
 * Fast paths (lock free, item available) never come here: they return an
 * already-completed future, so `yield*` does not suspend, as in CPython.
 * Async-function callers get future mode; its order within one loop
 * iteration may differ slightly from CPython's, which is fine for that
 * cooperative style.
 *
 * @module
 */

import type { EventLoop } from "./event_loop.ts";
import { getEventLoop } from "./event_loop.ts";
import { Future } from "./future.ts";
import {
  addCallback,
  awaitingTask,
  cancelFutureWith,
  driveCoroutine,
  failFuture,
  type FutureKind,
  isSuspend,
  kindOf,
  labelWait,
  noteSuspend,
  plainCancel,
  promiseOf,
  removeCallback,
  resolveFuture,
  setKind,
  silence,
  SUSPEND,
  SUSPEND_SITES,
  TRUSTED_LOOP,
  waitLabelOf,
} from "./_internal.ts";
import { CancelledError } from "./errors.ts";
import { cancelledError } from "./_cancelled.ts";
import { abortError } from "./_signal.ts";
import { checkOptions, checkSignal, describe } from "./_validate.ts";
import { keepShapeOf } from "./_shapes.ts";

/**
 * A body: the CPython coroutine of one operation, waiting with `yield*
 * future` (so each wait yields the shared SUSPEND result). Usually a
 * generator; a hot one may be a hand-written state machine with the same
 * `next`/`throw` protocol.
 */
export interface Body<T> {
  /** Runs until the next wait (returns SUSPEND) or the end (returns the result). */
  next(): IteratorResult<unknown, T>;
  /** Raises `error` at the current wait and runs until the next wait or the end. */
  throw(error: unknown): IteratorResult<unknown, T>;
}

/** `Symbol.dispose`, or its registered stand-in where the host lacks it (Node 20). */
export const DISPOSE: typeof Symbol.dispose =
  (Symbol.dispose ?? Symbol.for("Symbol.dispose")) as typeof Symbol.dispose;

const NO_ERROR: unique symbol = Symbol("no error");
const FUTURE_MODE = 0;
const COROUTINE_MODE = 1;

// Assigned in Op's static block.
// deno-lint-ignore no-explicit-any
let advance: (op: Op<any>, error: unknown) => void;
// deno-lint-ignore no-explicit-any
let onWoken: (op: Op<any>, waiter: Future<unknown>) => void;
// deno-lint-ignore no-explicit-any
let resumeInTask: (op: Op<any>, error: unknown) => IteratorResult<unknown, any>;
// deno-lint-ignore no-explicit-any
let requestCancel: (op: Op<any>, error: CancelledError) => void;
// deno-lint-ignore no-explicit-any
let settle: (op: Op<any>, ok: boolean, value: unknown) => void;
// deno-lint-ignore no-explicit-any
let listen: (op: Op<any>, signal: AbortSignal) => void;
// deno-lint-ignore no-explicit-any
let handBack: (op: Op<any>) => void;

// The first instance the program makes keeps the class's map alive (see _shapes.ts).
let opShaped = false;

/**
 * A blocking operation that could not complete at once, and the kind of the
 * plain Future it returns (see FutureKind in _internal.ts; not a Future
 * subclass, so that Future's methods keep meeting few hidden classes). See
 * the module doc for the two modes.
 *
 * State: `body` is the suspended body (null once settled); `waiter` is the
 * future the body waits on (its internal callback `onWoken` registered in
 * future mode only).
 */
class Op<T> implements FutureKind {
  /** The operation's future, what the caller waits on. */
  readonly future: Future<T>;
  body: Body<T> | null;
  waiter: Future<unknown> | null = null;
  mode = FUTURE_MODE;
  /** The body is executing (a cancel from inside it is deferred). */
  running = false;
  /** A cancellation to deliver at the next resumption. */
  pendingCancel: CancelledError | null = null;
  listener: AbortListener | null = null;
  /** The operation, as the task tree names it ("Lock.acquire()"). */
  readonly what: string;
  /** The primitive or queue it waits on. */
  readonly owner: object;

  constructor(body: Body<T>, loop: EventLoop, what: string, owner: object) {
    // The package's trusted-loop path: no options object, no second check.
    TRUSTED_LOOP.loop = loop;
    this.future = new Future<T>(TRUSTED_LOOP as never);
    TRUSTED_LOOP.loop = undefined;
    setKind(this.future, this);
    this.body = body;
    this.what = what;
    this.owner = owner;
    if (!opShaped) {
      opShaped = true;
      keepShapeOf((loop) => new Op(null as never, loop, what, loop));
    }
  }

  /**
   * Requests cancellation, like `Task.cancel()`: the operation's waiter is
   * cancelled and its cleanup runs (at once in future mode, in the waiting
   * task's next step in coroutine mode). Usually the future is cancelled
   * when this returns; `Condition.wait()` first re-acquires its lock.
   */
  cancel(future: Future<unknown>, msg: string | undefined): boolean {
    if (future.done()) return plainCancel(future, msg); // false; also marks a failure as seen
    if (msg !== undefined && typeof msg !== "string") {
      throw new TypeError(`Future.cancel(): 'msg' must be a string, got ${describe(msg)}`);
    }
    requestCancel(this, cancelledError(msg));
    return true;
  }

  /** Lets a generator task drive the operation itself (coroutine mode); see the module doc. */
  iterator(future: Future<unknown>): Iterator<Future<unknown>, unknown, unknown> {
    const waiter = this.waiter;
    if (
      this.mode === FUTURE_MODE && this.body !== null && !this.running && waiter !== null &&
      !waiter.done() && this.pendingCancel === null
    ) {
      removeCallback(waiter, onWoken, this);
      this.mode = COROUTINE_MODE;
      return this as unknown as Iterator<Future<unknown>, unknown, unknown>;
    }
    // Done, already driven by another task, or woken already (its resumption
    // is queued): wait on the operation future like on any other.
    return future as unknown as Iterator<Future<unknown>, unknown, unknown>;
  }

  /**
   * Awaited inside an async-function task (in the host's context): the
   * operation goes over to coroutine mode as for `yield*`, driven from that
   * task's context, so it waits on the waiter itself and the code after the
   * body's `yield* w` runs in the task's own step, as in CPython.
   */
  then(
    future: Future<unknown>,
    onfulfilled: ((value: unknown) => unknown) | null | undefined,
    onrejected: ((reason: unknown) => unknown) | null | undefined,
  ): Promise<unknown> {
    if (this.mode === FUTURE_MODE && !future.done()) {
      const task = awaitingTask();
      if (task !== null && task.getLoop() === future.getLoop()) {
        const iterator = this.iterator(future);
        if (iterator === (this as unknown)) {
          return driveCoroutine(iterator).then(onfulfilled, onrejected);
        }
      }
    }
    return promiseOf(future, null as never).then(onfulfilled, onrejected); // null: the plain outcome
  }

  // In coroutine mode the operation is the iterator a generator task drives
  // (one per operation: no separate iterator object per wait).

  next(): IteratorResult<Future<unknown>, T> {
    return resumeInTask(this, NO_ERROR) as IteratorResult<Future<unknown>, T>;
  }

  throw(error: unknown): IteratorResult<Future<unknown>, T> {
    // A task delivers CancelledError this way when its waiter was already done.
    return resumeInTask(this, error) as IteratorResult<Future<unknown>, T>;
  }

  return(value?: T): IteratorResult<Future<unknown>, T> {
    // Nobody will resume the body: run its cleanup as for a cancellation, so
    // no wake-up is lost. A cleanup that must wait (Condition re-acquiring
    // its lock) goes on in future mode.
    if (!this.future.done()) {
      try {
        resumeInTask(this, new CancelledError("operation abandoned"));
      } catch {
        // The cleanup rethrows the cancellation; the caller asked to stop.
      }
      if (!this.future.done()) handBack(this);
    }
    return { done: true, value: value as T };
  }

  [Symbol.iterator](): this {
    return this;
  }

  static {
    advance = (op, error) => {
      const body = op.body as Body<unknown>;
      let result: IteratorResult<unknown, unknown>;
      op.running = true;
      try {
        result = error === NO_ERROR ? body.next() : body.throw(error);
      } catch (thrown) {
        op.running = false;
        settle(op, false, thrown);
        return;
      }
      op.running = false;
      if (result.done) {
        settle(op, true, result.value);
        return;
      }
      const waiter = takeSuspended(result);
      op.waiter = waiter;
      addCallback(waiter, onWoken, op);
      const pending = op.pendingCancel;
      if (pending !== null) {
        op.pendingCancel = null;
        requestCancel(op, pending);
      }
    };

    onWoken = (op, waiter) => {
      // Stale after a take-over or a synchronous cancel: the body moved on.
      if (op.waiter !== waiter || op.mode !== FUTURE_MODE || op.body === null) return;
      op.waiter = null;
      advance(op, NO_ERROR);
    };

    resumeInTask = (op, error) => {
      const body = op.body;
      if (body === null) {
        // Settled meanwhile by someone else's cancel while the task was queued.
        return { done: true, value: op.future.result() };
      }
      const pending = op.pendingCancel;
      if (pending !== null && error === NO_ERROR) {
        op.pendingCancel = null;
        error = pending;
      }
      let result: IteratorResult<unknown, unknown>;
      op.running = true;
      try {
        result = error === NO_ERROR ? body.next() : body.throw(error);
      } catch (thrown) {
        op.running = false;
        settle(op, false, thrown);
        // The task receives the error here, so the future's copy is not "unretrieved".
        silence(op.future);
        throw thrown;
      }
      op.running = false;
      if (result.done) {
        settle(op, true, result.value);
        return result;
      }
      // Pass the shared SUSPEND result through untouched: the task reads it.
      const waiter = SUSPEND.value as Future<unknown>;
      op.waiter = waiter;
      // The task waits on the waiter itself: it names the operation (task tree).
      labelWait(waiter, op);
      if (SUSPEND_SITES.on) noteSuspend();
      const again = op.pendingCancel;
      if (again !== null && !waiter.done()) {
        op.pendingCancel = null;
        cancelFutureWith(waiter, again);
      }
      return result;
    };

    requestCancel = (op, error) => {
      if (op.body === null) return;
      if (op.running) {
        // Called from inside the body (a predicate, a callback): deliver it
        // when the body next waits or resumes.
        op.pendingCancel = error;
        return;
      }
      const waiter = op.waiter;
      if (op.mode === COROUTINE_MODE) {
        // The task drives the body: cancel what it waits on, as task.cancel() would.
        if (waiter !== null && !waiter.done()) cancelFutureWith(waiter, error);
        else if (waiter === null || !waiter.cancelled()) op.pendingCancel = error;
        return;
      }
      op.waiter = null;
      if (waiter !== null && !waiter.done()) {
        removeCallback(waiter, onWoken, op);
        cancelFutureWith(waiter, error);
        // The body sees the cancelled waiter, as CPython's `await w` would.
        advance(op, NO_ERROR);
      } else {
        // Woken but not resumed yet (its onWoken is queued and will find
        // the waiter changed): throw into the body, as a task's must-cancel does.
        advance(op, error);
      }
    };

    settle = (op, ok, value) => {
      op.body = null;
      op.waiter = null;
      op.pendingCancel = null;
      const listener = op.listener;
      if (listener !== null) {
        op.listener = null;
        listener.signal.removeEventListener("abort", listener);
      }
      if (ok) resolveFuture(op.future, value);
      else if (value instanceof CancelledError) cancelFutureWith(op.future, value);
      else failFuture(op.future, value);
    };

    handBack = (op) => {
      // Coroutine mode without a task any more: future mode drives the rest.
      op.mode = FUTURE_MODE;
      const waiter = op.waiter;
      if (op.body === null || waiter === null) return;
      SUSPEND.value = undefined;
      if (waiter.done()) advance(op, NO_ERROR);
      else addCallback(waiter, onWoken, op);
    };

    listen = (op, signal) => {
      const listener = new AbortListener(op, signal);
      op.listener = listener;
      signal.addEventListener("abort", listener, { once: true });
    };
  }
}

/** Reads the waiter out of the shared SUSPEND result a body yielded. */
function takeSuspended(result: IteratorResult<unknown, unknown>): Future<unknown> {
  if (!isSuspend(result)) {
    // Bodies only ever `yield*` futures; anything else is a bug in this package.
    throw new TypeError("internal error: an operation body yielded something other than a future");
  }
  const waiter = SUSPEND.value as Future<unknown>;
  SUSPEND.value = undefined;
  return waiter;
}

/** One object serves as the abort listener; no closure per operation. */
class AbortListener {
  op: Op<unknown>;
  signal: AbortSignal;

  constructor(op: Op<unknown>, signal: AbortSignal) {
    this.op = op;
    this.signal = signal;
  }

  handleEvent(): void {
    if (!this.op.future.done()) requestCancel(this.op, abortError(this.signal));
  }
}

/**
 * Starts an operation in future mode: runs `body` up to its first wait and
 * returns the operation future. `signal` (not yet aborted) cancels it.
 */
export function startOp<T>(
  body: Body<T>,
  loop: EventLoop,
  signal: AbortSignal | undefined,
  what: string,
  owner: object,
): Future<T> {
  const op = new Op<T>(body, loop, what, owner);
  advance(op, NO_ERROR);
  if (signal !== undefined && !op.future.done()) listen(op, signal);
  return op.future;
}

// ------------------------------------------------------------ completed futures

/** The operation and primitive a wait future stands for (an operation's future, or a waiter labelled with one), else null. */
export function waitOpOf(future: Future<unknown>): { what: string; owner: object } | null {
  const kind = kindOf(future);
  if (kind instanceof Op) return kind;
  const label = waitLabelOf(future) as { what?: unknown; owner?: unknown } | undefined;
  return label !== undefined && typeof label.what === "string"
    ? label as { what: string; owner: object }
    : null;
}

/** A future already resolved with `value`. */
export function resolved<T>(value: T): Future<T> {
  const future = new Future<T>();
  resolveFuture(future, value);
  return future;
}

/** A future already failed with `error` (reported if nobody looks at it). */
export function failed<T>(error: unknown): Future<T> {
  const future = new Future<T>();
  failFuture(future, error);
  return future;
}

/** A future already cancelled because `signal` was aborted before the operation began. */
export function aborted<T>(signal: AbortSignal): Future<T> {
  const future = new Future<T>();
  cancelFutureWith(future, abortError(signal));
  return future;
}

// ------------------------------------------------------------ arguments and loops

/** Options of every wait: `{ signal }`. */
export interface WaitOptions {
  /** Cancels the wait when aborted. */
  signal?: AbortSignal;
}

/** Validates a wait's options and returns its signal (or undefined). */
export function signalOf(where: string, options: WaitOptions | undefined): AbortSignal | undefined {
  if (options === undefined) return undefined;
  checkOptions(where, options);
  const signal = options.signal;
  checkSignal(where, signal);
  return signal;
}

/**
 * CPython's `_LoopBoundMixin._get_loop()`: a primitive binds to the current
 * loop the first time it has to wait, and refuses to wait on another loop
 * afterwards (its waiters would belong to the wrong loop).
 */
export function checkLoop(bound: EventLoop | null, where: string, what: string): EventLoop {
  const loop = getEventLoop();
  if (bound !== null && bound !== loop) {
    throw new Error(
      `${where}: this ${what} is bound to a different event loop; create it inside the run() that uses it`,
    );
  }
  return loop;
}

/** Whether every future in `waiters` from index 0 on is cancelled (CPython's `all(w.cancelled() ...)`). */
export function allCancelled(
  waiters: { length: number; at(i: number): Future<unknown> | undefined },
): boolean {
  for (let i = 0; i < waiters.length; i++) {
    if (!(waiters.at(i) as Future<unknown>).cancelled()) return false;
  }
  return true;
}

// ------------------------------------------------------------ package-private hooks

/**
 * Lock internals that Condition needs: who holds the lock (the releaser of
 * the current acquisition), so that `Condition.wait()`, which releases and
 * re-acquires the lock on the caller's behalf, can keep the caller's
 * releaser valid. Filled in by Lock's static block.
 */
export const lockHooks = {
  holderOf: (_lock: unknown): unknown => null,
  setHolder: (_lock: unknown, _holder: unknown): void => {},
};

// Inert instances keep these classes' maps alive between runs (see _shapes.ts).
