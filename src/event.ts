/**
 * Event: a flag that tasks can wait for.
 *
 * @module
 */

import type { EventLoop } from "./event_loop.ts";
import { Future } from "./future.ts";
import { resolveFuture } from "./_internal.ts";
import { Deque } from "./_deque.ts";
import { aborted, checkLoop, resolved, signalOf, startOp } from "./_wait_op.ts";
import { keepShape } from "./_shapes.ts";

/** Options for {@linkcode Event.wait}. */
export interface EventWaitOptions {
  /**
   * Cancels the wait when aborted: the returned future is cancelled with a
   * {@linkcode CancelledError}.
   *
   * @default {undefined}
   */
  signal?: AbortSignal;
}

/**
 * A flag, initially false. `wait()` waits until it is true; `set()` makes
 * it true and wakes every waiter; `clear()` makes it false again.
 *
 * A waiter woken by `set()` returns `true` even if `clear()` ran before it
 * resumed, as in Python.
 *
 * Equivalent to Python's `asyncio.Event`. The name shadows the DOM's
 * `Event`: use it as `asyncio.Event`, or import it as
 * `import { Event as AsyncEvent } from "@aio/asyncio"`.
 *
 * @example Waking every waiter
 * ```ts
 * import * as asyncio from "@aio/asyncio";
 * import assert from "node:assert/strict";
 *
 * const ready = new asyncio.Event();
 * const seen: string[] = [];
 * await asyncio.run(function* () {
 *   const waiter = (name: string) =>
 *     asyncio.createTask(function* () {
 *       const flag: boolean = yield* ready.wait();
 *       seen.push(`${name}:${flag}`);
 *     });
 *   const tasks = [waiter("a"), waiter("b")];
 *   yield* asyncio.sleep(0);
 *   assert.deepEqual(seen, []);
 *   ready.set();
 *   yield* asyncio.gather(tasks);
 * });
 * assert.deepEqual(seen, ["a:true", "b:true"]);
 * assert.equal(ready.isSet(), true);
 * ```
 *
 * @example In an async function, with a signal
 * ```ts
 * import * as asyncio from "@aio/asyncio";
 * import assert from "node:assert/strict";
 *
 * const event = new asyncio.Event();
 * const controller = new AbortController();
 * const waiting = event.wait({ signal: controller.signal });
 * controller.abort(new Error("gave up"));
 * await assert.rejects(waiting, { name: "CancelledError", message: "gave up" });
 * ```
 */
export class Event {
  #value = false;
  #waiters: Deque<Future<true>> = new Deque();
  #loop: EventLoop | null = null;

  /** Creates an event whose flag is false. */
  constructor() {}

  /**
   * Whether the flag is true.
   *
   * @returns The flag.
   */
  isSet(): boolean {
    return this.#value;
  }

  /**
   * Sets the flag and wakes every waiter. Later `wait()` calls return at
   * once until {@linkcode Event.clear}.
   */
  set(): void {
    if (this.#value) return;
    this.#value = true;
    const waiters = this.#waiters;
    for (let i = 0; i < waiters.length; i++) {
      const waiter = waiters.at(i) as Future<true>;
      if (!waiter.done()) resolveFuture(waiter, true);
    }
  }

  /** Clears the flag: later `wait()` calls wait for the next {@linkcode Event.set}. */
  clear(): void {
    this.#value = false;
  }

  /**
   * Waits until the flag is true. Already resolved when it is.
   *
   * @param options An abort signal.
   * @returns A future of `true`.
   * @throws {TypeError} If `options` or `signal` has the wrong type.
   * @throws {Error} If the event is bound to another event loop (it binds to
   *   the loop of its first wait, as in Python).
   */
  wait(options?: EventWaitOptions): Future<true> {
    const signal = signalOf("Event.wait()", options);
    if (signal !== undefined && signal.aborted) return aborted(signal);
    if (this.#value) return resolved(true);
    const loop = this.#loop = checkLoop(this.#loop, "Event.wait()", "Event");
    return startOp(this.#waitBody(loop), loop, signal, "Event.wait()", this);
  }

  /** A description like Python's repr: `<Event [unset, waiters:2]>`. */
  toString(): string {
    let extra = this.#value ? "set" : "unset";
    if (this.#waiters.length > 0) extra += `, waiters:${this.#waiters.length}`;
    return `<Event [${extra}]>`;
  }

  /** Shows the event like Python's repr in Deno's inspector. */
  [Symbol.for("Deno.customInspect")](): string {
    return this.toString();
  }

  /** CPython's `wait()` after the fast path. */
  *#waitBody(loop: EventLoop): Generator<unknown, true, unknown> {
    const waiter = new Future<true>({ loop });
    this.#waiters.push(waiter);
    try {
      yield* waiter;
      return true;
    } finally {
      this.#waiters.remove(waiter);
    }
  }
}

// Inert instances keep these classes' maps alive between runs (see _shapes.ts).
keepShape(new Event());
