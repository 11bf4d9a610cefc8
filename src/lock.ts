/**
 * Lock: a fair mutual-exclusion lock for tasks.
 *
 * @module
 */

import type { EventLoop } from "./event_loop.ts";
import { Future } from "./future.ts";
import { cancelledErrorOf, resolveFuture, SUSPEND } from "./_internal.ts";
import { CancelledError } from "./errors.ts";
import { Deque } from "./_deque.ts";
import {
  aborted,
  allCancelled,
  type Body,
  checkLoop,
  DISPOSE,
  lockHooks,
  resolved,
  signalOf,
  startOp,
} from "./_wait_op.ts";
import { keepShape } from "./_shapes.ts";

/** Options for {@linkcode Lock.acquire}. */
export interface LockAcquireOptions {
  /**
   * Cancels the wait when aborted: the returned future is cancelled with a
   * {@linkcode CancelledError} and the lock is not taken.
   *
   * @default {undefined}
   */
  signal?: AbortSignal;
}

/**
 * What a lock acquisition resolves to: disposing it releases that
 * acquisition, once. One per acquisition, so a stale one can never release
 * a lock that someone else acquired later.
 */
class LockReleaser implements Disposable {
  #lock: Lock | null;

  constructor(lock: Lock) {
    this.#lock = lock;
  }

  /**
   * Releases the lock if this acquisition still holds it. A second call,
   * or a call after `lock.release()` ended this acquisition, does nothing.
   */
  [DISPOSE](): void {
    const lock = this.#lock;
    if (lock === null) return;
    this.#lock = null;
    if (lockHooks.holderOf(lock) === this) lock.release();
  }
}

const NO_ERROR: unique symbol = Symbol("no error");

// Lock's acquire step; assigned in Lock's static block, where #private state is reachable.
let acquireStep: (body: AcquireBody, error: unknown) => IteratorResult<unknown, Disposable>;

/**
 * CPython's `acquire()` after the fast path, as a hand-written coroutine
 * (a {@linkcode Body} for the operation future). This is the hot path of a
 * contended lock, so it avoids a generator and its iterators; the steps
 * in `acquireStep` follow CPython's lines, quoted there:
 *
 * ```py
 * fut = self._get_loop().create_future()
 * self._waiters.append(fut)
 * try:
 *     try:
 *         await fut
 *     finally:
 *         self._waiters.remove(fut)
 * except exceptions.CancelledError:
 *     if not self._locked:
 *         self._wake_up_first()
 *     raise
 * self._locked = True
 * return True
 * ```
 */
class AcquireBody implements Body<Disposable> {
  lock: Lock;
  waiter: Future<boolean> | null = null;

  constructor(lock: Lock) {
    this.lock = lock;
  }

  next(): IteratorResult<unknown, Disposable> {
    return acquireStep(this, NO_ERROR);
  }

  throw(error: unknown): IteratorResult<unknown, Disposable> {
    return acquireStep(this, error);
  }
}

/**
 * A mutual-exclusion lock for tasks. `acquire()` waits until the lock is
 * free, then takes it; `release()` frees it and lets the longest-waiting
 * task have it (FIFO). A task that is cancelled while waiting never ends up
 * holding the lock, and never swallows the wake-up meant for the next one.
 *
 * The lock is not owned by a task: any code may release it, as in Python.
 *
 * Equivalent to Python's `asyncio.Lock`. Our addition: `acquire()` resolves
 * to a `Disposable`, so `using _ = await lock.acquire()` (or
 * `using _ = yield* lock.acquire()` in a generator task) releases it at the
 * end of the block, where Python writes `async with lock:`. Import it as
 * `asyncio.Lock` (the name `Lock` shadows the Web Locks API's `Lock` type).
 *
 * @example Mutual exclusion with `using`
 * ```ts
 * import * as asyncio from "@aio/asyncio";
 * import assert from "node:assert/strict";
 *
 * const lock = new asyncio.Lock();
 * const log: string[] = [];
 * const worker = (name: string) =>
 *   asyncio.createTask(function* () {
 *     using _ = yield* lock.acquire();
 *     log.push(`${name} in`);
 *     yield* asyncio.sleep(10);
 *     log.push(`${name} out`);
 *   });
 * await asyncio.run(function* () {
 *   yield* asyncio.gather([worker("a"), worker("b")]);
 * }, { clock: new asyncio.VirtualClock({ autojump: true }) });
 * assert.deepEqual(log, ["a in", "a out", "b in", "b out"]);
 * assert.equal(lock.locked(), false);
 * ```
 *
 * @example In an async function, with a signal
 * ```ts
 * import * as asyncio from "@aio/asyncio";
 * import assert from "node:assert/strict";
 *
 * const lock = new asyncio.Lock();
 * await asyncio.run(async () => {
 *   await lock.acquire();
 *   const controller = new AbortController();
 *   const waiting = lock.acquire({ signal: controller.signal });
 *   controller.abort();
 *   await assert.rejects(waiting, asyncio.CancelledError);
 *   lock.release();
 *   assert.equal(lock.locked(), false);
 * });
 * ```
 */
export class Lock {
  #locked = false;
  #waiters: Deque<Future<boolean>> | null = null;
  #holder: LockReleaser | null = null;
  #loop: EventLoop | null = null;

  /** Creates an unlocked lock. */
  constructor() {}

  /**
   * Whether the lock is held.
   *
   * @returns `true` when locked.
   */
  locked(): boolean {
    return this.#locked;
  }

  /**
   * Waits until the lock is free and takes it. When the lock is free and
   * nobody is queued, the returned future is already resolved (a generator
   * task's `yield*` does not suspend). Otherwise the caller joins the FIFO
   * at once.
   *
   * Cancelling the returned future (or aborting `signal`) while it waits
   * removes the caller from the queue; if the lock was just handed to it,
   * the hand-over passes to the next waiter.
   *
   * @param options An abort signal.
   * @returns A future of a `Disposable` whose disposal releases this
   *   acquisition (once; a later disposal, or one after {@linkcode Lock.release},
   *   does nothing).
   * @throws {TypeError} If `options` or `signal` has the wrong type.
   * @throws {Error} If the lock is bound to another event loop (it binds to
   *   the loop of its first wait, as in Python).
   */
  acquire(options?: LockAcquireOptions): Future<Disposable> {
    const signal = signalOf("Lock.acquire()", options);
    if (signal !== undefined && signal.aborted) return aborted(signal);
    // Fair: jump the queue only if everyone in it is cancelled.
    if (!this.#locked && (this.#waiters === null || allCancelled(this.#waiters))) {
      this.#locked = true;
      return resolved(this.#newHolder());
    }
    const loop = this.#loop = checkLoop(this.#loop, "Lock.acquire()", "Lock");
    return startOp(new AcquireBody(this), loop, signal, "Lock.acquire()", this);
  }

  /**
   * Releases the lock and wakes the first waiter, if any.
   *
   * @throws {Error} If the lock is not held.
   */
  release(): void {
    if (!this.#locked) {
      throw new Error(
        "Lock.release(): the lock is not acquired; call release() once per successful acquire()",
      );
    }
    this.#locked = false;
    this.#holder = null;
    this.#wakeUpFirst();
  }

  /** A description like Python's repr: `<Lock [locked, waiters:1]>`. */
  toString(): string {
    let extra = this.#locked ? "locked" : "unlocked";
    const n = this.#waiters === null ? 0 : this.#waiters.length;
    if (n > 0) extra += `, waiters:${n}`;
    return `<Lock [${extra}]>`;
  }

  /** Shows the lock like Python's repr in Deno's inspector. */
  [Symbol.for("Deno.customInspect")](): string {
    return this.toString();
  }

  // ------------------------------------------------------------ internals

  #newHolder(): LockReleaser {
    const holder = new LockReleaser(this);
    this.#holder = holder;
    return holder;
  }

  #wakeUpFirst(): void {
    const waiters = this.#waiters;
    if (waiters === null || waiters.length === 0) return;
    const first = waiters.peekFirst() as Future<boolean>;
    // A done waiter is already on its way (woken or cancelled).
    if (!first.done()) resolveFuture(first, true);
  }

  static {
    acquireStep = (body, error) => {
      const lock = body.lock;
      let waiter = body.waiter;
      if (waiter === null) {
        // fut = create_future(); waiters.append(fut); await fut
        const waiters = lock.#waiters ??= new Deque();
        // acquire() just checked that the current loop is the lock's loop.
        waiter = body.waiter = new Future();
        waiters.push(waiter);
        SUSPEND.value = waiter;
        return SUSPEND;
      }
      if (error === NO_ERROR) {
        if (!waiter.done()) {
          // Polled again before the wake-up (a task taking over): still waiting.
          SUSPEND.value = waiter;
          return SUSPEND;
        }
        // `await fut` raises when fut was cancelled.
        if (waiter.cancelled()) error = cancelledErrorOf(waiter);
      }
      // finally: waiters.remove(fut)
      (lock.#waiters as Deque<Future<boolean>>).remove(waiter);
      if (error !== NO_ERROR) {
        // except CancelledError: if the lock is free, make sure the task now
        // at the head runs (a wake-up meant for us must not be lost); raise.
        if (error instanceof CancelledError && !lock.#locked) lock.#wakeUpFirst();
        throw error;
      }
      lock.#locked = true;
      return { done: true, value: lock.#newHolder() };
    };
    lockHooks.holderOf = (lock) => (lock as Lock).#holder;
    lockHooks.setHolder = (lock, holder) => {
      (lock as Lock).#holder = holder as LockReleaser | null;
    };
  }
}

// Inert instances keep these classes' maps alive between runs (see _shapes.ts).
const shapeLock = new Lock();
keepShape([shapeLock, new LockReleaser(shapeLock), new AcquireBody(shapeLock)]);
