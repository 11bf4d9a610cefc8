/**
 * Condition: wait until notified, around a lock.
 *
 * @module
 */

import type { EventLoop } from "./event_loop.ts";
import { Future } from "./future.ts";
import { resolveFuture } from "./_internal.ts";
import { CancelledError } from "./errors.ts";
import { checkFunction, describe } from "./_validate.ts";
import { Deque } from "./_deque.ts";
import { Lock, type LockAcquireOptions } from "./lock.ts";
import { aborted, checkLoop, failed, lockHooks, resolved, signalOf, startOp } from "./_wait_op.ts";

/** Options for {@linkcode Condition.wait}. */
export interface ConditionWaitOptions {
  /**
   * Cancels the wait when aborted. As in Python, the lock is re-acquired
   * before the returned future is cancelled.
   *
   * @default {undefined}
   */
  signal?: AbortSignal;
}

/** Options for {@linkcode Condition.waitFor}. */
export interface ConditionWaitForOptions {
  /**
   * Cancels the wait when aborted. As in Python, the lock is re-acquired
   * before the returned future is cancelled.
   *
   * @default {undefined}
   */
  signal?: AbortSignal;
}

/**
 * A condition variable: tasks holding its lock wait until another task
 * notifies them. `wait()` releases the lock while waiting and re-acquires
 * it before returning, even when cancelled (then it re-raises the
 * cancellation); a waiter that was notified but is cancelled before it
 * resumes passes the notification on to the next waiter.
 *
 * Equivalent to Python's `asyncio.Condition`; `acquire()` resolves to a
 * `Disposable` as {@linkcode Lock.acquire} does, so
 * `using _ = yield* cond.acquire()` replaces `async with cond:`.
 *
 * @example A producer notifies a consumer
 * ```ts
 * import * as asyncio from "@aio/asyncio";
 * import assert from "node:assert/strict";
 *
 * const cond = new asyncio.Condition();
 * const items: number[] = [];
 * const got = await asyncio.run(function* () {
 *   const consumer = asyncio.createTask(function* () {
 *     using _ = yield* cond.acquire();
 *     yield* cond.waitFor(() => items.length > 0);
 *     return items.shift();
 *   });
 *   yield* asyncio.sleep(0);
 *   {
 *     using _ = yield* cond.acquire();
 *     items.push(42);
 *     cond.notify();
 *   }
 *   return yield* consumer;
 * });
 * assert.equal(got, 42);
 * assert.equal(cond.locked(), false);
 * ```
 *
 * @example In an async function
 * ```ts
 * import * as asyncio from "@aio/asyncio";
 * import assert from "node:assert/strict";
 *
 * const cond = new asyncio.Condition();
 * let ready = false;
 * await asyncio.run(async () => {
 *   const waiter = asyncio.createTask(async (signal: AbortSignal) => {
 *     using _ = await cond.acquire({ signal });
 *     return await cond.waitFor(() => ready, { signal });
 *   });
 *   await asyncio.sleep(0);
 *   await cond.acquire();
 *   ready = true;
 *   cond.notifyAll();
 *   cond.release();
 *   assert.equal(await waiter, true);
 * });
 * ```
 */
export class Condition {
  #lock: Lock;
  #waiters: Deque<Future<boolean>> = new Deque();
  #loop: EventLoop | null = null;

  /**
   * Creates a condition over `lock`, or over a new {@linkcode Lock}.
   *
   * @param lock The lock to use; several conditions may share one.
   * @throws {TypeError} If `lock` is given and is not a {@linkcode Lock}.
   */
  constructor(lock?: Lock) {
    if (lock === undefined) lock = new Lock();
    else if (!(lock instanceof Lock)) {
      throw new TypeError(`Cannot create Condition: 'lock' must be a Lock, got ${describe(lock)}`);
    }
    this.#lock = lock;
  }

  /**
   * Acquires the underlying lock; see {@linkcode Lock.acquire}.
   *
   * @param options An abort signal.
   * @returns A future of a `Disposable` that releases the lock, once.
   * @throws {TypeError} If `options` or `signal` has the wrong type.
   */
  acquire(options?: LockAcquireOptions): Future<Disposable> {
    return this.#lock.acquire(options);
  }

  /**
   * Releases the underlying lock; see {@linkcode Lock.release}.
   *
   * @throws {Error} If the lock is not held.
   */
  release(): void {
    this.#lock.release();
  }

  /**
   * Whether the underlying lock is held.
   *
   * @returns `true` when locked.
   */
  locked(): boolean {
    return this.#lock.locked();
  }

  /**
   * Releases the lock, waits until notified, then re-acquires the lock and
   * resolves to `true`. The caller must hold the lock. Wake-ups may be
   * spurious: re-check your condition (or use {@linkcode Condition.waitFor}).
   *
   * If cancelled, it still re-acquires the lock before the future is
   * cancelled, and passes a notification it may have received on to
   * another waiter.
   *
   * @param options An abort signal.
   * @returns A future of `true`.
   * @throws {Error} If the lock is not held, or the condition is bound to
   *   another event loop.
   * @throws {TypeError} If `options` or `signal` has the wrong type.
   */
  wait(options?: ConditionWaitOptions): Future<true> {
    const signal = signalOf("Condition.wait()", options);
    if (!this.#lock.locked()) {
      throw new Error(
        "Condition.wait(): the lock is not acquired; acquire() the condition before waiting",
      );
    }
    if (signal !== undefined && signal.aborted) return aborted(signal);
    const loop = this.#loop = checkLoop(this.#loop, "Condition.wait()", "Condition");
    return startOp(this.#waitBody(loop), loop, signal, "Condition.wait()", this);
  }

  /**
   * Waits until `predicate()` returns a truthy value, and resolves to that
   * value. The predicate is called at once, then after each wake-up, with
   * the lock held. When it is already truthy, the lock need not be held.
   *
   * @typeParam T The predicate's result.
   * @param predicate Called with no arguments; its truthy result ends the wait.
   * @param options An abort signal.
   * @returns A future of the predicate's last result. It fails with what
   *   the predicate throws.
   * @throws {TypeError} If `predicate` is not a function, or `options` or
   *   `signal` has the wrong type.
   * @throws {Error} If the predicate is false and the lock is not held.
   */
  waitFor<T>(predicate: () => T, options?: ConditionWaitForOptions): Future<T> {
    checkFunction("Condition.waitFor()", "predicate", predicate);
    const signal = signalOf("Condition.waitFor()", options);
    if (signal !== undefined && signal.aborted) return aborted(signal);
    let result: T;
    try {
      result = predicate();
    } catch (error) {
      return failed(error);
    }
    if (result) return resolved(result);
    if (!this.#lock.locked()) {
      throw new Error(
        "Condition.waitFor(): the lock is not acquired; acquire() the condition before waiting",
      );
    }
    const loop = this.#loop = checkLoop(this.#loop, "Condition.waitFor()", "Condition");
    return startOp(this.#waitForBody(predicate), loop, signal, "Condition.waitFor()", this);
  }

  /**
   * Wakes up to `n` tasks waiting on this condition (fewer if fewer wait).
   * The caller must hold the lock; the woken tasks resume once it is
   * released.
   *
   * @param n How many waiters to wake; `Infinity` wakes them all (as
   *   Python's `notify(math.inf)`).
   * @throws {Error} If the lock is not held.
   * @throws {TypeError} If `n` is not a number.
   * @throws {RangeError} If `n` is negative, NaN, or neither an integer nor `Infinity`.
   */
  notify(n: number = 1): void {
    if (typeof n !== "number") {
      throw new TypeError(`Condition.notify(): 'n' must be a number, got ${describe(n)}`);
    }
    if (!(n >= 0) || (!Number.isInteger(n) && n !== Infinity)) {
      throw new RangeError(
        `Condition.notify(): 'n' must be an integer >= 0 or Infinity, got ${n}`,
      );
    }
    if (!this.#lock.locked()) {
      throw new Error(
        "Condition.notify(): the lock is not acquired; acquire() the condition before notifying",
      );
    }
    this.#notify(n);
  }

  /**
   * Wakes every task waiting on this condition. The caller must hold the lock.
   *
   * @throws {Error} If the lock is not held.
   */
  notifyAll(): void {
    if (!this.#lock.locked()) {
      throw new Error(
        "Condition.notifyAll(): the lock is not acquired; acquire() the condition before notifying",
      );
    }
    this.#notify(this.#waiters.length);
  }

  /** A description like Python's repr: `<Condition [locked, waiters:1]>`. */
  toString(): string {
    let extra = this.#lock.locked() ? "locked" : "unlocked";
    if (this.#waiters.length > 0) extra += `, waiters:${this.#waiters.length}`;
    return `<Condition [${extra}]>`;
  }

  /** Shows the condition like Python's repr in Deno's inspector. */
  [Symbol.for("Deno.customInspect")](): string {
    return this.toString();
  }

  // ------------------------------------------------------------ internals

  #notify(n: number): void {
    const waiters = this.#waiters;
    let woken = 0;
    for (let i = 0; i < waiters.length && woken < n; i++) {
      const waiter = waiters.at(i) as Future<boolean>;
      if (!waiter.done()) {
        woken++;
        resolveFuture(waiter, false);
      }
    }
  }

  /** CPython 3.13's `wait()`, line by line. */
  *#waitBody(loop: EventLoop): Generator<unknown, true, unknown> {
    const lock = this.#lock;
    // The caller's acquisition survives the wait: its releaser is made the
    // holder again once the lock is re-acquired (see Lock's releaser).
    const holder = lockHooks.holderOf(lock);
    const waiter = new Future<boolean>({ loop });
    lock.release();
    try {
      try {
        this.#waiters.push(waiter);
        try {
          yield* waiter;
          return true;
        } finally {
          this.#waiters.remove(waiter);
        }
      } finally {
        // Re-acquire the lock even if cancelled; only CancelledError is
        // retried, so another failure cannot make this spin.
        let cancelled: CancelledError | null = null;
        for (;;) {
          try {
            yield* lock.acquire();
            break;
          } catch (error) {
            // Throwing from this finally replaces the wait's outcome, as in CPython.
            // deno-lint-ignore no-unsafe-finally
            if (!(error instanceof CancelledError)) throw error;
            cancelled = error;
          }
        }
        lockHooks.setHolder(lock, holder);
        // The most recent cancellation wins over the wait's result (CPython re-raises it).
        // deno-lint-ignore no-unsafe-finally
        if (cancelled !== null) throw cancelled;
      }
    } catch (error) {
      // We may have been notified and then failed (cancelled): wake another
      // waiter instead (a spurious wake-up, which the protocol allows).
      this.#notify(1);
      throw error;
    }
  }

  /** CPython's `wait_for()` after its first predicate check. */
  *#waitForBody<T>(predicate: () => T): Generator<unknown, T, unknown> {
    let result: T;
    do {
      yield* this.wait();
      result = predicate();
    } while (!result);
    return result;
  }
}
