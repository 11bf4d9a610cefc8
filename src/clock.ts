/**
 * Time sources for the event loop: the real clock, and a virtual clock for
 * deterministic tests.
 *
 * @module
 */

import { type CancelMacrotask, nextMacrotask, postMacrotask } from "./_macrotask.ts";
import { checkFunction, checkTime, describe } from "./_validate.ts";
import { installClockInternals } from "./_internal.ts";

/**
 * Where an {@linkcode EventLoop} reads the time and how it asks the host to
 * wake it up. A loop keeps all its deadlines in its own heap and arms exactly
 * one wake-up, for the earliest, through {@linkcode Clock.setTimer}.
 *
 * Implement it to drive a loop from another time source; the package ships
 * the real clock (the default) and {@linkcode VirtualClock}.
 *
 * @example A loop on a virtual clock
 * ```ts
 * import * as asyncio from "@aio/asyncio";
 * import assert from "node:assert/strict";
 *
 * const clock: asyncio.Clock = new asyncio.VirtualClock({ start: 5 });
 * const loop = new asyncio.EventLoop({ clock });
 * assert.equal(loop.time(), 5);
 * loop.close();
 * ```
 */
export interface Clock {
  /** The current time in milliseconds; never decreases. */
  now(): number;
  /**
   * Arms the single wake-up: `callback` is called once, no earlier than
   * `now() >= when`. Replaces any wake-up armed before.
   */
  setTimer(when: number, callback: () => void): void;
  /** Disarms the wake-up, if any. */
  clearTimer(): void;
}

/** Options for {@linkcode VirtualClock}. */
export interface VirtualClockOptions {
  /**
   * The initial time in milliseconds.
   *
   * @default {0}
   */
  start?: number;
  /**
   * Jump to the next deadline whenever the loop has nothing ready to run and
   * the host has no pending microtasks (like Trio's
   * `MockClock(autojump_threshold=0)`), so sleeps cost no real time.
   *
   * @default {false}
   */
  autojump?: boolean;
  /**
   * With `autojump`, how long (real milliseconds) a {@linkcode run} waits
   * when its loop has nothing ready, no timer armed, and nothing outside
   * the loop is known to be in flight (a promise given to
   * {@linkcode ensureFuture}, an async-function task awaiting something
   * foreign such as a `fetch`), before it rejects with a
   * {@linkcode DeadlockError}: then no task can ever run again. Anything
   * that wakes the loop meanwhile starts the window again. `Infinity` turns
   * the check off (for a program that waits on host events the loop cannot
   * see, such as a host timer or a message that sets a future).
   *
   * @default {50}
   */
  deadlockAfterMs?: number;
}

/**
 * A clock whose time moves only when told to: by {@linkcode VirtualClock.advance},
 * or, with `autojump`, straight to the next deadline whenever everything is
 * waiting. Loops on a virtual clock are deterministic and never touch host timers.
 *
 * With `autojump`, time also jumps while real I/O (a `fetch`) is in flight,
 * since only the loop and the microtask queue are watched.
 *
 * @example An hour of sleeping in no real time
 * ```ts
 * import * as asyncio from "@aio/asyncio";
 * import assert from "node:assert/strict";
 *
 * const clock = new asyncio.VirtualClock({ autojump: true });
 * const elapsed = await asyncio.run(function* () {
 *   const start = asyncio.getRunningLoop().time();
 *   yield* asyncio.sleep(60 * 60 * 1000);
 *   return asyncio.getRunningLoop().time() - start;
 * }, { clock });
 * assert.equal(elapsed, 3_600_000);
 * ```
 *
 * @example Advancing by hand
 * ```ts
 * import * as asyncio from "@aio/asyncio";
 * import assert from "node:assert/strict";
 *
 * const clock = new asyncio.VirtualClock();
 * const loop = new asyncio.EventLoop({ clock });
 * const fired: number[] = [];
 * loop.callLater(10, () => fired.push(loop.time()));
 * loop.callLater(30, () => fired.push(loop.time()));
 * await clock.advance(20);
 * assert.deepEqual(fired, [10]);
 * await clock.advance(20);
 * assert.deepEqual(fired, [10, 30]);
 * loop.close();
 * ```
 */
export class VirtualClock implements Clock {
  #now: number;
  #autojump: boolean;
  #when = Infinity;
  #callback: (() => void) | null = null;
  #advancing = false;
  #cancelJump: CancelMacrotask | null = null;
  #deadlockAfterMs: number;

  /**
   * Creates a virtual clock.
   *
   * @param options Start time, autojump, and the deadlock window.
   * @throws {TypeError} If `start` is not a finite number, `autojump` is not a boolean, or `deadlockAfterMs` is not a number.
   * @throws {RangeError} If `deadlockAfterMs` is negative or NaN.
   */
  constructor(options: VirtualClockOptions = {}) {
    if (options === null || typeof options !== "object") {
      throw new TypeError(
        `Cannot create VirtualClock: 'options' must be an object, got ${describe(options)}`,
      );
    }
    const { start = 0, autojump = false, deadlockAfterMs = 50 } = options;
    if (typeof start !== "number" || !Number.isFinite(start)) {
      throw new TypeError(
        `Cannot create VirtualClock: 'start' must be a finite number, got ${describe(start)}`,
      );
    }
    if (typeof autojump !== "boolean") {
      throw new TypeError(
        `Cannot create VirtualClock: 'autojump' must be a boolean, got ${describe(autojump)}`,
      );
    }
    if (typeof deadlockAfterMs !== "number") {
      throw new TypeError(
        `Cannot create VirtualClock: 'deadlockAfterMs' must be a number, got ${
          describe(deadlockAfterMs)
        }`,
      );
    }
    if (!(deadlockAfterMs >= 0)) {
      throw new RangeError(
        `Cannot create VirtualClock: 'deadlockAfterMs' must be >= 0, got ${deadlockAfterMs}`,
      );
    }
    this.#now = start;
    this.#autojump = autojump;
    this.#deadlockAfterMs = deadlockAfterMs;
  }

  /**
   * The current virtual time in milliseconds.
   *
   * @returns The time.
   */
  now(): number {
    return this.#now;
  }

  /**
   * Arms the wake-up (called by the loop).
   *
   * @param when The virtual time of the wake-up.
   * @param callback What to call then.
   * @throws {TypeError} If `when` is not a number or `callback` is not a function.
   * @throws {RangeError} If `when` is NaN.
   */
  setTimer(when: number, callback: () => void): void {
    checkTime("VirtualClock.setTimer()", "when", when);
    checkFunction("VirtualClock.setTimer()", "callback", callback);
    this.#when = when;
    this.#callback = callback;
    if (this.#autojump) this.#requestJump();
  }

  /** Disarms the wake-up (called by the loop). */
  clearTimer(): void {
    this.#when = Infinity;
    this.#callback = null;
    if (this.#cancelJump !== null) {
      this.#cancelJump();
      this.#cancelJump = null;
    }
  }

  /**
   * Moves time forward by `ms`, firing every wake-up due on the way in
   * deadline order. Before each firing, and at the end, it lets the loop run
   * what became ready and the host run pending microtasks.
   *
   * @param ms How far to move, in milliseconds (>= 0).
   * @returns A promise that resolves once time is `now() + ms` and the loop is idle.
   * @throws {TypeError} If `ms` is not a number.
   * @throws {RangeError} If `ms` is negative, NaN or Infinity.
   */
  async advance(ms: number): Promise<void> {
    if (typeof ms !== "number") {
      throw new TypeError(
        `Cannot advance VirtualClock: 'ms' must be a number, got ${describe(ms)}`,
      );
    }
    if (!(ms >= 0) || ms === Infinity) {
      throw new RangeError(
        `Cannot advance VirtualClock: 'ms' must be a finite number >= 0, got ${ms}`,
      );
    }
    const target = this.#now + ms;
    this.#advancing = true;
    try {
      await nextMacrotask();
      while (this.#callback !== null && this.#when <= target) {
        this.#fire();
        await nextMacrotask();
      }
      if (this.#now < target) this.#now = target;
    } finally {
      this.#advancing = false;
    }
    await nextMacrotask();
  }

  #fire(): void {
    const callback = this.#callback as () => void;
    if (this.#when > this.#now) this.#now = this.#when;
    this.#callback = null;
    this.#when = Infinity;
    callback();
  }

  static {
    installClockInternals((clock) =>
      clock instanceof VirtualClock && clock.#autojump ? clock.#deadlockAfterMs : Infinity
    );
  }

  #requestJump(): void {
    if (this.#cancelJump !== null) return;
    this.#cancelJump = postMacrotask(() => {
      this.#cancelJump = null;
      // The host is idle now: every microtask has run, so the loop has nothing ready.
      if (this.#callback !== null && !this.#advancing) this.#fire();
    });
  }
}
