/**
 * Handles returned by the event loop's scheduling methods.
 *
 * @module
 */

// deno-lint-ignore no-explicit-any
type Callback = (...args: any[]) => unknown;

import { type CancelHook, installHandleInternals } from "./_internal.ts";
import { type ContextRef, currentVars, swapHolder } from "./_context.ts";
import { keepShape } from "./_shapes.ts";

let nextTimerSeq = 0;

/** A handle's callback once cancelled (a sentinel instead of a flag field). */
const CANCELLED: Callback = () => {};

// Filled in by the static blocks below, then handed to the package's plumbing.
let runHandle: (handle: Handle) => void;
let handleCallbackName: (handle: Handle) => string;
let timerLess: (a: TimerHandle, b: TimerHandle) => boolean;
let setCancelHook: (handle: TimerHandle, hook: CancelHook | null) => void;
let makeTimer: (when: number, callback: Callback, arg: unknown) => TimerHandle;
const NO_ARGS: readonly unknown[] = Object.freeze([]);
/** Set while makeTimer constructs one of the package's timers (no user context to keep). */
let makingTimer = false;

/**
 * A callback scheduled with {@linkcode EventLoop.callSoon}. Cancelling it
 * before the loop reaches it means it never runs.
 *
 * Equivalent to Python's `asyncio.Handle`.
 *
 * @example Cancelling a scheduled callback
 * ```ts
 * import * as asyncio from "@aio/asyncio";
 * import assert from "node:assert/strict";
 *
 * const loop = new asyncio.EventLoop();
 * const calls: string[] = [];
 * loop.callSoon(() => calls.push("kept"));
 * const handle = loop.callSoon(() => calls.push("dropped"));
 * handle.cancel();
 * assert.ok(handle.cancelled());
 * const done = loop.createFuture<void>();
 * loop.callSoon(() => done.setResult());
 * await loop.runUntilComplete(done);
 * assert.deepEqual(calls, ["kept"]);
 * loop.close();
 * ```
 */
export class Handle {
  #callback: Callback | null;
  /**
   * The arguments (an array), or, for the package's internal timers, their
   * single argument itself (never an array), so those need no array.
   */
  #args: unknown;
  /** The context the callback runs in: a snapshot of the one current when it was scheduled. */
  #context: ContextRef | null;

  /**
   * Wraps a callback and its arguments. Handles are made by the event loop;
   * user code receives them from `callSoon`, `callLater` and `callAt`.
   *
   * @param callback The function to call.
   * @param args The arguments to call it with.
   */
  constructor(callback: Callback, args: readonly unknown[]) {
    this.#callback = callback;
    this.#args = args;
    // Python's copy_context(); the package's own timers (makeTimer) need none.
    this.#context = makingTimer ? null : currentVars();
  }

  /** Prevents the callback from running, if it has not run yet. */
  cancel(): void {
    if (this.#callback === CANCELLED) return;
    // Drop the references so a cancelled handle keeps nothing alive.
    this.#callback = CANCELLED;
    this.#args = undefined;
    this.#context = null;
  }

  /**
   * Whether {@linkcode Handle.cancel} was called.
   *
   * @returns `true` once cancelled.
   */
  cancelled(): boolean {
    return this.#callback === CANCELLED;
  }

  /** A description like `<Handle tick()>`, as Python's repr. */
  toString(): string {
    return `<${Handle.#describe(this)}>`;
  }

  /** Shows the handle like Python's repr in Deno's inspector. */
  [Symbol.for("Deno.customInspect")](): string {
    return this.toString();
  }

  // Static: a private instance method would put a brand in every handle.
  static #describe(self: Handle): string {
    // Not constructor.name: bundlers rename classes.
    const kind = self instanceof TimerHandle ? "TimerHandle" : "Handle";
    if (self.#callback === CANCELLED) return `${kind} cancelled`;
    const cb = self.#callback;
    return `${kind} ${cb?.name || "<anonymous>"}()`;
  }

  static {
    runHandle = (handle: Handle): void => {
      const cb = handle.#callback;
      if (cb === null || cb === CANCELLED) return;
      const args = handle.#args;
      const context = handle.#context;
      if (handle instanceof TimerHandle) {
        // A timer runs once; drop the references first.
        handle.#callback = null;
        handle.#args = undefined;
        handle.#context = null;
      }
      if (context === null) {
        // The package's own timers run in no context of the user's.
        if (Array.isArray(args)) cb(...args);
        else cb(args);
        return;
      }
      const outer = swapHolder(context);
      try {
        if (Array.isArray(args)) cb(...args);
        else cb(args);
      } finally {
        swapHolder(outer);
      }
    };
    makeTimer = (when: number, callback: Callback, arg: unknown): TimerHandle => {
      makingTimer = true;
      const timer = new TimerHandle(when, callback, NO_ARGS);
      makingTimer = false;
      timer.#args = arg; // a single argument, not an array (see #args)
      return timer;
    };
    handleCallbackName = (handle: Handle): string => Handle.#describe(handle);
  }
}

/**
 * A callback scheduled for a point in time with
 * {@linkcode EventLoop.callLater} or {@linkcode EventLoop.callAt}.
 *
 * Equivalent to Python's `asyncio.TimerHandle`; `when()` is in milliseconds
 * of loop time.
 *
 * @example Reading a timer's deadline
 * ```ts
 * import * as asyncio from "@aio/asyncio";
 * import assert from "node:assert/strict";
 *
 * const clock = new asyncio.VirtualClock();
 * const loop = new asyncio.EventLoop({ clock });
 * const timer = loop.callLater(250, () => {});
 * assert.equal(timer.when(), loop.time() + 250);
 * timer.cancel();
 * loop.close();
 * ```
 */
export class TimerHandle extends Handle {
  #when: number;
  #seq: number = nextTimerSeq++;
  #onCancel: CancelHook | null = null;

  /**
   * Wraps a callback to run at loop time `when`. Made by the event loop.
   *
   * @param when The loop time (ms) at which to run.
   * @param callback The function to call.
   * @param args The arguments to call it with.
   */
  constructor(when: number, callback: Callback, args: readonly unknown[]) {
    super(callback, args);
    this.#when = when;
  }

  /**
   * The loop time, in milliseconds, at which the callback is due.
   *
   * @returns The deadline.
   */
  when(): number {
    return this.#when;
  }

  /** Prevents the callback from running, if it has not run yet. */
  override cancel(): void {
    if (this.cancelled()) return;
    super.cancel();
    const hook = this.#onCancel;
    if (hook !== null) {
      this.#onCancel = null;
      hook(this);
    }
  }

  /** A description like `<TimerHandle tick() when=250>`. */
  override toString(): string {
    return `<${handleCallbackName(this)} when=${this.#when}>`;
  }

  static {
    timerLess = (a: TimerHandle, b: TimerHandle): boolean =>
      a.#when < b.#when || (a.#when === b.#when && a.#seq < b.#seq);
    setCancelHook = (handle: TimerHandle, hook: CancelHook | null): void => {
      handle.#onCancel = hook;
    };
  }
}

installHandleInternals({ runHandle, handleCallbackName, timerLess, setCancelHook, makeTimer });

// Inert instances keep these classes' maps alive between runs (see _shapes.ts).
keepShape([new Handle(Object, []), new TimerHandle(0, Object, [])]);
