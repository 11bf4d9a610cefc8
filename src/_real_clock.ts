/**
 * The default clock of every event loop. Private to the package.
 *
 * @module
 */

import type { Clock } from "./clock.ts";

/** The largest delay `setTimeout` honours; longer ones fire at once on most hosts. */
const MAX_HOST_DELAY = 2 ** 31 - 1;

/**
 * The default clock: wall time from `Date.now()`, made monotonic, and one host
 * `setTimeout`.
 *
 * Every global is read at call time, not captured at import, so a fake-timer
 * library installed later (`@std/testing`'s `FakeTime`, which fakes `Date`
 * and the timer functions but not `performance.now`) drives the loop.
 * When `Date` jumps backwards, the clock holds its last reading and moves on
 * from there, so loop time never decreases.
 */
export class RealClock implements Clock {
  // Loop time starts near 0 (small integers stay unboxed in V8).
  #offset = -globalThis.Date.now();
  #last = -Infinity;
  #timer: ReturnType<typeof setTimeout> | undefined = undefined;

  now(): number {
    let t = globalThis.Date.now() + this.#offset;
    if (t < this.#last) {
      // The wall clock went back: absorb the jump into the offset.
      this.#offset += this.#last - t;
      t = this.#last;
    }
    this.#last = t;
    return t;
  }

  setTimer(when: number, callback: () => void): void {
    this.clearTimer();
    // Delays past the host's limit are capped; the loop re-arms when it wakes early.
    const delay = Math.min(Math.max(0, Math.ceil(when - this.now())), MAX_HOST_DELAY);
    this.#timer = globalThis.setTimeout(callback, delay);
  }

  clearTimer(): void {
    if (this.#timer !== undefined) {
      globalThis.clearTimeout(this.#timer);
      this.#timer = undefined;
    }
  }
}
