/**
 * Barrier: a meeting point for a fixed number of tasks.
 *
 * @module
 */

import type { Future } from "./future.ts";
import { describe } from "./_validate.ts";
import { Condition } from "./condition.ts";
import { aborted, signalOf, startOp } from "./_wait_op.ts";
import { getEventLoop } from "./event_loop.ts";

/**
 * Raised by {@linkcode Barrier.wait} when the barrier is broken
 * ({@linkcode Barrier.abort}) or reset ({@linkcode Barrier.reset}) while
 * the task waits, or is broken when it arrives.
 *
 * Equivalent to Python's `asyncio.BrokenBarrierError` (a `RuntimeError`
 * there; an `Error` here).
 *
 * @example
 * ```ts
 * import * as asyncio from "@aio/asyncio";
 * import assert from "node:assert/strict";
 *
 * const barrier = new asyncio.Barrier(2);
 * await barrier.abort();
 * await assert.rejects(barrier.wait(), asyncio.BrokenBarrierError);
 * ```
 */
export class BrokenBarrierError extends Error {
  /**
   * Creates the error.
   *
   * @param message What broke the barrier.
   * @param options Standard error options (`cause`).
   */
  constructor(message?: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "BrokenBarrierError";
  }
}

/** Options for {@linkcode Barrier.wait}, {@linkcode Barrier.reset} and {@linkcode Barrier.abort}. */
export interface BarrierWaitOptions {
  /**
   * Cancels the call when aborted (a cancelled `wait()` leaves the barrier
   * as Python's does: the task no longer counts as arrived).
   *
   * @default {undefined}
   */
  signal?: AbortSignal;
}

// CPython's _BarrierState.
const FILLING = 0;
const DRAINING = 1;
const RESETTING = 2;
const BROKEN = 3;
const STATE_NAMES = ["filling", "draining", "resetting", "broken"];

/**
 * Lets `parties` tasks wait for each other: each `wait()` blocks until
 * `parties` tasks are waiting, then all of them are released together and
 * the barrier fills again for the next round. Tasks that arrive while the
 * previous round is still leaving (draining) wait for it to finish.
 *
 * Equivalent to Python's `asyncio.Barrier` (`n_waiting` is `nWaiting`).
 * As in Python, `reset()` and `abort()` take the barrier's internal lock,
 * so they return futures too.
 *
 * @example Three tasks meet
 * ```ts
 * import * as asyncio from "@aio/asyncio";
 * import assert from "node:assert/strict";
 *
 * const barrier = new asyncio.Barrier(3);
 * const log: string[] = [];
 * await asyncio.run(function* () {
 *   const party = (name: string, ms: number) =>
 *     asyncio.createTask(function* () {
 *       yield* asyncio.sleep(ms);
 *       log.push(`${name} arrives`);
 *       const index: number = yield* barrier.wait();
 *       log.push(`${name} leaves`);
 *       return index;
 *     });
 *   const indexes = yield* asyncio.gather([party("a", 30), party("b", 10), party("c", 20)]);
 *   assert.deepEqual([...indexes].sort(), [0, 1, 2]);
 * }, { clock: new asyncio.VirtualClock({ autojump: true }) });
 * assert.deepEqual(log.slice(0, 3), ["b arrives", "c arrives", "a arrives"]);
 * assert.equal(barrier.nWaiting, 0);
 * ```
 */
export class Barrier {
  #cond = new Condition();
  #parties: number;
  #state = FILLING;
  #count = 0;

  /**
   * Creates a barrier for `parties` tasks.
   *
   * @param parties How many tasks must wait before all are released.
   * @throws {TypeError} If `parties` is not a number.
   * @throws {RangeError} If `parties` is not an integer >= 1.
   */
  constructor(parties: number) {
    if (typeof parties !== "number") {
      throw new TypeError(
        `Cannot create Barrier: 'parties' must be a number, got ${describe(parties)}`,
      );
    }
    if (!Number.isSafeInteger(parties) || parties < 1) {
      throw new RangeError(
        `Cannot create Barrier: 'parties' must be an integer >= 1, got ${parties}`,
      );
    }
    this.#parties = parties;
  }

  /** How many tasks must wait before the barrier releases them. */
  get parties(): number {
    return this.#parties;
  }

  /** How many tasks are waiting in the current filling round (0 while draining, resetting or broken). */
  get nWaiting(): number {
    return this.#state === FILLING ? this.#count : 0;
  }

  /** Whether the barrier is broken (see {@linkcode Barrier.abort}). */
  get broken(): boolean {
    return this.#state === BROKEN;
  }

  /**
   * Waits until `parties` tasks are waiting, then resolves to this task's
   * arrival index, from 0 to `parties - 1`, unique within the round.
   *
   * @param options An abort signal.
   * @returns A future of the arrival index. It fails with
   *   {@linkcode BrokenBarrierError} if the barrier is broken, or reset
   *   while this task waits.
   * @throws {TypeError} If `options` or `signal` has the wrong type.
   */
  wait(options?: BarrierWaitOptions): Future<number> {
    const signal = signalOf("Barrier.wait()", options);
    if (signal !== undefined && signal.aborted) return aborted(signal);
    return startOp(this.#waitBody(), getEventLoop(), signal, "Barrier.wait()", this);
  }

  /**
   * Puts the barrier back to its empty, filling state. Tasks waiting in it
   * fail with {@linkcode BrokenBarrierError}; a broken barrier is usable again.
   *
   * @param options An abort signal.
   * @returns A future that resolves once the reset is done (it first takes
   *   the barrier's internal lock, as in Python).
   * @throws {TypeError} If `options` or `signal` has the wrong type.
   */
  reset(options?: BarrierWaitOptions): Future<void> {
    const signal = signalOf("Barrier.reset()", options);
    if (signal !== undefined && signal.aborted) return aborted(signal);
    return startOp(this.#resetBody(), getEventLoop(), signal, "Barrier.reset()", this);
  }

  /**
   * Breaks the barrier: tasks waiting in it, and every later `wait()`, fail
   * with {@linkcode BrokenBarrierError} until {@linkcode Barrier.reset}.
   * Useful when one party fails and the others must not wait forever.
   *
   * @param options An abort signal.
   * @returns A future that resolves once the barrier is broken (it first
   *   takes the barrier's internal lock, as in Python).
   * @throws {TypeError} If `options` or `signal` has the wrong type.
   */
  abort(options?: BarrierWaitOptions): Future<void> {
    const signal = signalOf("Barrier.abort()", options);
    if (signal !== undefined && signal.aborted) return aborted(signal);
    return startOp(this.#abortBody(), getEventLoop(), signal, "Barrier.abort()", this);
  }

  /** A description like Python's repr: `<Barrier [filling, waiters:2/5]>`. */
  toString(): string {
    let extra = STATE_NAMES[this.#state];
    if (this.#state !== BROKEN) extra += `, waiters:${this.nWaiting}/${this.#parties}`;
    return `<Barrier [${extra}]>`;
  }

  /** Shows the barrier like Python's repr in Deno's inspector. */
  [Symbol.for("Deno.customInspect")](): string {
    return this.toString();
  }

  // ------------------------------------------------------------ internals
  // CPython's state machine, method by method. `yield* cond.acquire()` ...
  // `finally { cond.release() }` is `async with self._cond:`.

  *#waitBody(): Generator<unknown, number, unknown> {
    const cond = this.#cond;
    yield* cond.acquire();
    try {
      yield* this.#block();
      try {
        const index = this.#count++;
        if (index + 1 === this.#parties) this.#release();
        else yield* this.#waitReleased();
        return index;
      } finally {
        this.#count--;
        this.#exit();
      }
    } finally {
      cond.release();
    }
  }

  /** Waits while the previous round drains or a reset completes; fails if broken. */
  *#block(): Generator<unknown, void, unknown> {
    yield* this.#cond.waitFor(() => this.#state !== DRAINING && this.#state !== RESETTING);
    if (this.#state === BROKEN) {
      throw new BrokenBarrierError("Barrier.wait(): the barrier is broken");
    }
  }

  /** The last party arrived: release everyone. */
  #release(): void {
    this.#state = DRAINING;
    this.#cond.notifyAll();
  }

  /** Waits until the round fills; fails if it is reset or broken meanwhile. */
  *#waitReleased(): Generator<unknown, void, unknown> {
    yield* this.#cond.waitFor(() => this.#state !== FILLING);
    if (this.#state === BROKEN || this.#state === RESETTING) {
      throw new BrokenBarrierError("Barrier.wait(): the barrier was aborted or reset");
    }
  }

  /** The last task out of a draining or resetting round lets the next one fill. */
  #exit(): void {
    if (this.#count === 0) {
      if (this.#state === RESETTING || this.#state === DRAINING) this.#state = FILLING;
      this.#cond.notifyAll();
    }
  }

  *#resetBody(): Generator<unknown, void, unknown> {
    const cond = this.#cond;
    yield* cond.acquire();
    try {
      if (this.#count > 0) {
        if (this.#state !== RESETTING) this.#state = RESETTING;
      } else {
        this.#state = FILLING;
      }
      cond.notifyAll();
    } finally {
      cond.release();
    }
  }

  *#abortBody(): Generator<unknown, void, unknown> {
    const cond = this.#cond;
    yield* cond.acquire();
    try {
      this.#state = BROKEN;
      cond.notifyAll();
    } finally {
      cond.release();
    }
  }
}
