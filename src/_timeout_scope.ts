/**
 * The deadline machinery behind waitFor() and the timeout scopes: Python's
 * `asyncio.Timeout` state machine, without the context-manager syntax.
 * Private to the package.
 *
 * On expiry the scope cancels its task; when the cancellation comes back out
 * of the body, `exit()` turns it into a TimeoutError, unless the task has
 * other cancel requests pending (then it stays a CancelledError: someone
 * else cancelled the task too). `Task.uncancel()` keeps the count honest.
 *
 * @module
 */

import type { Handle } from "./handle.ts";
import type { Task } from "./task.ts";
import { CancelledError, TimeoutError } from "./errors.ts";
import { cancelQuietly, scheduleTimer } from "./_internal.ts";

/** Passed to `exit()` when the body finished without an error. */
export const NO_ERROR: unique symbol = Symbol("no error");

type State = "created" | "active" | "expiring" | "expired" | "finished";

/** One deadline over one task. */
export class TimeoutScope {
  #state: State = "created";
  #when: number | null;
  #handle: Handle | null = null;
  #task: Task<unknown> | null = null;
  #cancelling = 0;
  #label: string;
  #enteredAt = 0;

  /**
   * @param when The loop time of the deadline, or `null` for none.
   * @param label Names the call in the TimeoutError's message, e.g. "waitFor()".
   */
  constructor(when: number | null, label: string) {
    this.#when = when;
    this.#label = label;
  }

  /** The current deadline (loop time in ms) or `null`. */
  when(): number | null {
    return this.#when;
  }

  /** Whether the deadline passed while the scope was active. */
  expired(): boolean {
    return this.#state === "expiring" || this.#state === "expired";
  }

  /** Starts watching `task`. */
  enter(task: Task<unknown>): void {
    if (this.#state !== "created") throw new Error("Timeout scope has already been entered");
    this.#state = "active";
    this.#task = task;
    this.#cancelling = task.cancelling();
    this.#enteredAt = task.getLoop().time();
    this.reschedule(this.#when);
  }

  /** Moves the deadline; `null` removes it. */
  reschedule(when: number | null): void {
    if (this.#state !== "active") {
      throw new Error(
        this.#state === "created"
          ? "Timeout scope has not been entered"
          : `Cannot reschedule a timeout scope that is ${this.#state}`,
      );
    }
    this.#when = when;
    this.#handle?.cancel();
    if (when === null) {
      this.#handle = null;
      return;
    }
    const loop = (this.#task as Task<unknown>).getLoop();
    this.#handle = when <= loop.time()
      ? loop.callSoon(expire, this)
      : scheduleTimer(loop, when, expire, this);
  }

  /**
   * Stops watching. Returns what the body should end with: `error` as it
   * is, or a TimeoutError in its place when the deadline caused it.
   */
  exit(error: unknown): unknown {
    this.#handle?.cancel();
    this.#handle = null;
    if (this.#state === "expiring") {
      this.#state = "expired";
      const task = this.#task as Task<unknown>;
      if (task.uncancel() <= this.#cancelling && error instanceof CancelledError) {
        // The elapsed time, not the first delay: the deadline may have been rescheduled.
        const elapsed = task.getLoop().time() - this.#enteredAt;
        return new TimeoutError(`${this.#label} timed out after ${elapsed} ms`, { cause: error });
      }
    } else if (this.#state === "active") {
      this.#state = "finished";
    }
    return error;
  }

  /**
   * The deadline passed: cancel the task (leaving its own signal alone: it
   * outlives the scope) and abort the body's signal, if it was given one.
   */
  onTimeout(): void {
    cancelQuietly(this.#task as Task<unknown>);
    this.#state = "expiring";
    this.#handle = null;
    this.bodySignal?.abort();
  }

  /** The signal of the body, when it declared one (see BodySignal). */
  bodySignal: { abort(): void } | null = null;

  /** The scope's state, for descriptions. */
  get state(): State {
    return this.#state;
  }
}

function expire(scope: TimeoutScope): void {
  scope.onTimeout();
}
