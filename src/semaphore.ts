/**
 * Semaphore and BoundedSemaphore: a counter of permits that tasks wait on.
 *
 * @module
 */

import type { EventLoop } from "./event_loop.ts";
import { Future } from "./future.ts";
import { resolveFuture } from "./_internal.ts";
import { CancelledError } from "./errors.ts";
import { describe } from "./_validate.ts";
import { Deque } from "./_deque.ts";
import { aborted, checkLoop, DISPOSE, resolved, signalOf, startOp } from "./_wait_op.ts";
import { keepShape } from "./_shapes.ts";

/** Options for {@linkcode Semaphore.acquire}. */
export interface SemaphoreAcquireOptions {
  /**
   * Cancels the wait when aborted: the returned future is cancelled with a
   * {@linkcode CancelledError} and no permit is taken.
   *
   * @default {undefined}
   */
  signal?: AbortSignal;
}

/** What an acquisition resolves to: disposing it releases one permit, once. */
class SemaphoreReleaser implements Disposable {
  #semaphore: Semaphore | null;

  constructor(semaphore: Semaphore) {
    this.#semaphore = semaphore;
  }

  /** Releases the permit; later calls do nothing. */
  [DISPOSE](): void {
    const semaphore = this.#semaphore;
    if (semaphore === null) return;
    this.#semaphore = null;
    semaphore.release();
  }
}

// Read by BoundedSemaphore; assigned in Semaphore's static block.
let valueOf: (semaphore: Semaphore) => number;

/**
 * A counter of permits: `acquire()` takes one, waiting (FIFO) while there
 * are none; `release()` gives one back. A waiter cancelled after a permit
 * was handed to it gives the permit back and wakes the next one.
 *
 * Equivalent to Python's `asyncio.Semaphore`. Our addition: `acquire()`
 * resolves to a `Disposable`, so `using _ = await sem.acquire()` releases
 * at the end of the block (Python's `async with sem:`). Release each
 * permit once: either dispose it or call `release()`, not both (a
 * semaphore counts permits, it does not know who holds them).
 *
 * @example Limiting concurrency
 * ```ts
 * import * as asyncio from "@aio/asyncio";
 * import assert from "node:assert/strict";
 *
 * const sem = new asyncio.Semaphore(2);
 * let running = 0;
 * let peak = 0;
 * await asyncio.run(function* () {
 *   const job = () =>
 *     asyncio.createTask(function* () {
 *       using _ = yield* sem.acquire();
 *       peak = Math.max(peak, ++running);
 *       yield* asyncio.sleep(10);
 *       running--;
 *     });
 *   yield* asyncio.gather([job(), job(), job(), job(), job()]);
 * }, { clock: new asyncio.VirtualClock({ autojump: true }) });
 * assert.equal(peak, 2);
 * assert.equal(sem.locked(), false);
 * ```
 */
export class Semaphore {
  #value: number;
  #waiters: Deque<Future<boolean>> | null = null;
  #loop: EventLoop | null = null;

  /**
   * Creates a semaphore with `value` permits.
   *
   * @param value The initial number of permits.
   * @throws {TypeError} If `value` is not a number.
   * @throws {RangeError} If `value` is negative or not an integer.
   */
  constructor(value: number = 1) {
    checkPermits(new.target.name, value);
    this.#value = value;
  }

  /**
   * Whether `acquire()` would wait: no permit left, or tasks already queued
   * (FIFO: a newcomer waits behind them even if a permit is free).
   *
   * @returns `true` when an acquire would block.
   */
  locked(): boolean {
    if (this.#value === 0) return true;
    const waiters = this.#waiters;
    if (waiters === null) return false;
    for (let i = 0; i < waiters.length; i++) {
      if (!(waiters.at(i) as Future<boolean>).cancelled()) return true;
    }
    return false;
  }

  /**
   * Takes a permit, waiting (FIFO) while none is free. Already resolved
   * when a permit is free and nobody is queued.
   *
   * @param options An abort signal.
   * @returns A future of a `Disposable` that releases the permit, once.
   * @throws {TypeError} If `options` or `signal` has the wrong type.
   * @throws {Error} If the semaphore is bound to another event loop (it
   *   binds to the loop of its first wait, as in Python).
   */
  acquire(options?: SemaphoreAcquireOptions): Future<Disposable> {
    const signal = signalOf(`${this.#kind()}.acquire()`, options);
    if (signal !== undefined && signal.aborted) return aborted(signal);
    if (!this.locked()) {
      this.#value--;
      return resolved(new SemaphoreReleaser(this));
    }
    const where = `${this.#kind()}.acquire()`;
    const loop = this.#loop = checkLoop(this.#loop, where, this.#kind());
    return startOp(this.#acquireBody(loop), loop, signal, "Semaphore.acquire()", this);
  }

  /**
   * Gives a permit back and wakes the first waiter, if any.
   *
   * @throws {Error} From {@linkcode BoundedSemaphore} only, when released
   *   more times than acquired.
   */
  release(): void {
    this.#value++;
    this.#wakeUpNext();
  }

  /** A description like Python's repr: `<Semaphore [unlocked, value:2]>`. */
  toString(): string {
    let extra = this.locked() ? "locked" : `unlocked, value:${this.#value}`;
    const n = this.#waiters === null ? 0 : this.#waiters.length;
    if (n > 0) extra += `, waiters:${n}`;
    return `<${this.#kind()} [${extra}]>`;
  }

  /** The class name, by identity first: bundlers rename classes (`class _Semaphore`). */
  #kind(): string {
    const kind = this.constructor;
    if (kind === Semaphore) return "Semaphore";
    if (kind === BoundedSemaphore) return "BoundedSemaphore";
    return kind.name;
  }

  /** Shows the semaphore like Python's repr in Deno's inspector. */
  [Symbol.for("Deno.customInspect")](): string {
    return this.toString();
  }

  /** CPython's `acquire()` after the fast path, line by line. */
  *#acquireBody(loop: EventLoop): Generator<unknown, Disposable, unknown> {
    const waiters = this.#waiters ??= new Deque();
    const waiter = new Future<boolean>({ loop });
    waiters.push(waiter);
    try {
      try {
        yield* waiter;
      } finally {
        waiters.remove(waiter);
      }
    } catch (error) {
      // Handed a permit (by #wakeUpNext) but cancelled before taking it:
      // give it back; the loop below passes it on.
      if (error instanceof CancelledError && waiter.done() && !waiter.cancelled()) this.#value++;
      throw error;
    } finally {
      // Newcomers may have queued behind us for FIFO's sake: wake as many as there are permits.
      while (this.#value > 0) {
        if (!this.#wakeUpNext()) break;
      }
    }
    return new SemaphoreReleaser(this);
  }

  /** Hands a permit to the first waiter not yet woken; `false` if there is none. */
  #wakeUpNext(): boolean {
    const waiters = this.#waiters;
    if (waiters === null) return false;
    for (let i = 0; i < waiters.length; i++) {
      const waiter = waiters.at(i) as Future<boolean>;
      if (!waiter.done()) {
        this.#value--;
        resolveFuture(waiter, true);
        return true;
      }
    }
    return false;
  }

  static {
    valueOf = (semaphore) => semaphore.#value;
  }
}

/**
 * A {@linkcode Semaphore} that refuses to be released more times than it
 * was acquired: `release()` throws once the count would exceed the initial
 * value.
 *
 * Equivalent to Python's `asyncio.BoundedSemaphore` (which raises
 * `ValueError`).
 *
 * @example Catching an extra release
 * ```ts
 * import * as asyncio from "@aio/asyncio";
 * import assert from "node:assert/strict";
 *
 * const sem = new asyncio.BoundedSemaphore(1);
 * await sem.acquire();
 * sem.release();
 * assert.throws(() => sem.release(), /released too many times/);
 * ```
 */
export class BoundedSemaphore extends Semaphore {
  #bound: number;

  /**
   * Creates a bounded semaphore with `value` permits.
   *
   * @param value The initial (and maximum) number of permits.
   * @throws {TypeError} If `value` is not a number.
   * @throws {RangeError} If `value` is negative or not an integer.
   */
  constructor(value: number = 1) {
    super(value);
    this.#bound = value;
  }

  /**
   * Gives a permit back and wakes the first waiter, if any.
   *
   * @throws {Error} If that would make more permits than the initial value.
   */
  override release(): void {
    if (valueOf(this) >= this.#bound) {
      throw new Error(
        `BoundedSemaphore.release(): released too many times (the bound is ${this.#bound}); release only what you acquired`,
      );
    }
    super.release();
  }
}

function checkPermits(name: string, value: unknown): void {
  if (typeof value !== "number") {
    throw new TypeError(`Cannot create ${name}: 'value' must be a number, got ${describe(value)}`);
  }
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new RangeError(`Cannot create ${name}: 'value' must be an integer >= 0, got ${value}`);
  }
}

// Inert instances keep these classes' maps alive between runs (see _shapes.ts).
const shapeSemaphore = new Semaphore(1);
keepShape([shapeSemaphore, new BoundedSemaphore(1), new SemaphoreReleaser(shapeSemaphore)]);
