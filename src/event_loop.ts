/**
 * The event loop: a FIFO of ready callbacks drained from microtask jobs, and
 * a heap of timers behind a single host wake-up. Plus the rules that pick the
 * current loop.
 *
 * The loop knows nothing about tasks. Futures and tasks plug in through the
 * package-private hooks at the bottom of this file.
 *
 * @module
 */

import type { Future } from "./future.ts";
import type { CreateTaskOptions, Task, TaskCoroutine, TaskOptions } from "./task.ts";
import type { TaskFactory } from "./task_factory.ts";
import type { Clock } from "./clock.ts";
import { Heap } from "./_heap.ts";
import { Handle, TimerHandle } from "./handle.ts";
import {
  type Entry,
  handleCallbackName,
  hooks,
  installLoopInternals,
  makeTimer,
  runHandle,
  setCancelHook,
  SUSPEND_SITES,
  timerLess,
} from "./_internal.ts";
import { checkFunction, checkOptions, checkTime, describe } from "./_validate.ts";
import { RealClock } from "./_real_clock.ts";
import { postMacrotask } from "./_macrotask.ts";
import { formatTraceback } from "./_traceback.ts";
import { queueRootMicrotask, slotEntered, slotValue } from "./_host.ts";
import { setShapeLoopMaker } from "./_shapes.ts";

/** What an exception handler receives; like Python's context dict. */
export interface ExceptionContext {
  /** What happened, in words. */
  message: string;
  /** The error, when there is one. */
  exception?: unknown;
  /** The callback's handle, when a callback threw. */
  handle?: Handle;
  /** The future concerned (for instance one whose exception was never retrieved). */
  future?: Future<unknown>;
  /** The task concerned. */
  task?: Task<unknown>;
  /** Anything else the reporter adds. */
  [key: string]: unknown;
}

/**
 * A loop-wide handler for errors nobody else can receive: a callback that
 * threw, an exception never retrieved, a slow callback in debug mode.
 * Called as `handler(loop, context)`, Python's argument order.
 */
export type ExceptionHandler = (loop: EventLoop, context: ExceptionContext) => void;

/** Options for {@linkcode EventLoop}. */
export interface EventLoopOptions {
  /**
   * Where time comes from. Pass a {@linkcode VirtualClock} for deterministic tests.
   *
   * @default {the real clock: `Date` and `setTimeout`, read at call time}
   */
  clock?: Clock;
  /**
   * Debug mode: report slow callbacks and record where tasks were created.
   *
   * @default {false}
   */
  debug?: boolean;
  /**
   * In debug mode, callbacks running longer than this many milliseconds are reported.
   *
   * @default {100}
   */
  slowCallbackMs?: number;
}

// A ready entry is three slots of the ring: fn, a, b; the loop calls fn(a, b).
// Public callbacks travel as (runHandle, handle, undefined); futures and tasks
// push their own functions with their arguments, so scheduling a task step or
// a done callback allocates nothing.

const INITIAL_CAPACITY = 64; // entries; a power of two
const SHRINK_ABOVE = 4096 - 1; // a ring mask above which a mostly empty ring shrinks
// A burst of back-to-back iterations longer than this (real ms) lets the host run.
const STARVE_MS = 10;
const BURST_CHECK_EVERY = 64; // iterations between two reads of the real clock
/**
 * Microtask turns a probe waits for resumed async-function tasks to reach
 * their next wait (an `await` of a library future takes three or four);
 * after that the watchdog macrotask resumes the loop (see #startWaiting).
 */
const PROBE_TURNS = 64;

/** Real elapsed time for the starvation guard (never a virtual clock's), read at call time. */
function realNow(): number {
  const perf = globalThis.performance;
  return perf !== undefined && typeof perf.now === "function" ? perf.now() : Date.now();
}
// Compact the timer heap when cancelled timers are this fraction of it (CPython's rule).
const MIN_TIMERS_TO_COMPACT = 100;
const CANCELLED_FRACTION_TO_COMPACT = 0.5;

let pushEntry: (loop: EventLoop, fn: Entry, a: unknown, b: unknown) => void;
let holdLoop: (loop: EventLoop) => number;
let releaseLoop: (loop: EventLoop, epoch: number) => void;
let setIdleHook: (loop: EventLoop, hook: (() => void) | null) => void;
let isIdle: (loop: EventLoop) => boolean;
let noteAsyncWait: (loop: EventLoop) => void;
let birthTime: (loop: EventLoop) => number | null;
let scheduleTimer: <A>(
  loop: EventLoop,
  when: number,
  fn: (arg: A) => void,
  arg: A,
) => TimerHandle;

/** The loop of the run() in progress, or of a runUntilComplete() when no run() is. */
let runningLoop: EventLoop | null = null;
/** The loop whose iteration is executing right now (callbacks, task steps). */
let activeLoop: EventLoop | null = null;
let defaultLoop: EventLoop | null = null;

/**
 * Schedules callbacks, runs them in order, and keeps time.
 *
 * Callbacks run FIFO; timers by deadline, then by scheduling order. One
 * iteration runs the callbacks that were ready when it began (Python's
 * `_run_once`), so a callback scheduled by a callback runs in the next
 * iteration, after host microtasks queued meanwhile. The loop runs whenever
 * it has work: it is driven by `queueMicrotask` and one host timer, so
 * `runUntilComplete` is only needed to wait for a result.
 *
 * Equivalent to Python's `asyncio.AbstractEventLoop`; times are milliseconds.
 *
 * @example Scheduling callbacks and timers
 * ```ts
 * import * as asyncio from "@aio/asyncio";
 * import assert from "node:assert/strict";
 *
 * const clock = new asyncio.VirtualClock({ autojump: true });
 * const loop = new asyncio.EventLoop({ clock });
 * const log: string[] = [];
 * const done = loop.createFuture<void>();
 * loop.callLater(20, () => {
 *   log.push("later");
 *   done.setResult();
 * });
 * loop.callSoon((what: string) => log.push(what), "soon");
 * await loop.runUntilComplete(done);
 * assert.deepEqual(log, ["soon", "later"]);
 * assert.equal(loop.time(), 20);
 * loop.close();
 * ```
 */
export class EventLoop {
  #clock: Clock;
  #debug: boolean;
  #slowCallbackMs: number;
  #closed = false;
  #running = false;
  #stopRequested = false;
  #stopRun: (() => void) | null = null;
  #exceptionHandler: ExceptionHandler | null = null;
  #taskFactory: TaskFactory | null = null;

  // The ready ring: 3 slots per entry, #head and #count in entries.
  #ring: unknown[] = new Array(INITIAL_CAPACITY * 3);
  #mask = INITIAL_CAPACITY - 1;
  #head = 0;
  #count = 0;
  #jobQueued = false;
  #inIteration = false;
  /** Back-to-back iterations since the last check, and when the burst began (see #yieldToHost). */
  #burstIterations = 0;
  #burstStart = -1;
  /** The loop time read during the running iteration, or NaN before it is read. */
  #iterationNow = NaN;
  #runJob = () => this.#runOnce();
  /**
   * How many async-function tasks resumed (or started) by this loop have not
   * reached their next wait yet: their continuation is the rest of their
   * step, and runs on host microtasks (see #startWaiting). Each task keeps
   * a bit saying it is counted, and the parity of #heldEpoch it was counted in.
   */
  #heldCount = 0;
  /** Bumped when the loop stops waiting for tasks stuck on something foreign. */
  #heldEpoch = 0;
  /** Entries of a paused iteration still to run (0: no iteration is paused). */
  #remaining = 0;
  /** Waiting for held tasks (an iteration paused, or the next one held back). */
  #waiting = false;
  /** A probe (#checkHeld) is queued. */
  #probing = false;
  #probeTurns = 0;
  #probe = () => this.#checkHeld();
  /** A macrotask is on its way to end a wait that microtasks cannot end (see #startWaiting). */
  #watchdogPosted = false;
  #onWatchdog = () => {
    this.#watchdogPosted = false;
    if (!this.#waiting) return;
    if (this.#heldCount !== 0) {
      // Every microtask has run and a held task still has not reached a
      // wait of ours: it awaits something foreign (a fetch). Go on without it.
      this.#heldCount = 0;
      this.#heldEpoch++;
    }
    this.#stopWaiting();
  };

  /** Called when the loop goes idle with no timer armed (run()'s deadlock check), or null. */
  #idleHook: (() => void) | null = null;

  #timers = new Heap<TimerHandle>(timerLess);
  #cancelledTimers = 0;
  #timersDirty = false;
  #armedAt = Infinity;
  #onTimer = () => {
    this.#armedAt = Infinity;
    this.#queueJob();
  };
  #onTimerCancelled = (handle: TimerHandle) => {
    this.#cancelledTimers++;
    if (this.#timers.peek() === handle) this.#timersChanged();
  };

  /**
   * Creates a loop. It needs no starting: scheduled callbacks run as soon as
   * the host lets them.
   *
   * @param options The clock, debug mode and slow-callback threshold.
   * @throws {TypeError} If an option has the wrong type.
   */
  constructor(options: EventLoopOptions = {}) {
    checkOptions("Cannot create EventLoop", options);
    const { clock = new RealClock(), debug = false, slowCallbackMs = 100 } = options;
    if (
      clock === null || typeof clock !== "object" || typeof clock.now !== "function" ||
      typeof clock.setTimer !== "function" || typeof clock.clearTimer !== "function"
    ) {
      throw new TypeError(
        `Cannot create EventLoop: 'clock' must implement Clock (now, setTimer, clearTimer), got ${
          describe(clock)
        }`,
      );
    }
    if (typeof debug !== "boolean") {
      throw new TypeError(
        `Cannot create EventLoop: 'debug' must be a boolean, got ${describe(debug)}`,
      );
    }
    checkTime("Cannot create EventLoop", "slowCallbackMs", slowCallbackMs);
    if (slowCallbackMs < 0) {
      throw new RangeError(
        `Cannot create EventLoop: 'slowCallbackMs' must be >= 0, got ${slowCallbackMs}`,
      );
    }
    this.#clock = clock;
    this.#debug = debug;
    if (debug) SUSPEND_SITES.on = true;
    this.#slowCallbackMs = slowCallbackMs;
  }

  /**
   * The loop's current time in milliseconds, from its clock. Monotonic.
   *
   * @returns The time.
   */
  time(): number {
    // Inside an iteration the time is read once and kept (as libuv's loop
    // time): a busy iteration asks for it once per timer it arms.
    if (this.#inIteration) {
      const now = this.#iterationNow;
      return now === now ? now : (this.#iterationNow = this.#clock.now());
    }
    return this.#clock.now();
  }

  /**
   * Schedules `callback(...args)` to run in a later iteration, after the
   * callbacks already scheduled.
   *
   * @param callback The function to call.
   * @param args Its arguments.
   * @returns A handle that can cancel the call.
   * @throws {TypeError} If `callback` is not a function.
   * @throws {Error} If the loop is closed.
   */
  callSoon<A extends unknown[]>(callback: (...args: A) => unknown, ...args: A): Handle {
    checkFunction("EventLoop.callSoon()", "callback", callback);
    this.#checkOpen();
    const handle = new Handle(callback, args);
    this.#push(runHandle, handle, undefined);
    return handle;
  }

  /**
   * Schedules `callback(...args)` to run `delayMs` milliseconds from now.
   * A negative delay means now; `Infinity` never fires.
   *
   * @param delayMs The delay in milliseconds.
   * @param callback The function to call.
   * @param args Its arguments.
   * @returns A timer handle that can cancel the call.
   * @throws {TypeError} If `delayMs` is not a number or `callback` is not a function.
   * @throws {RangeError} If `delayMs` is NaN.
   * @throws {Error} If the loop is closed.
   */
  callLater<A extends unknown[]>(
    delayMs: number,
    callback: (...args: A) => unknown,
    ...args: A
  ): TimerHandle {
    checkTime("EventLoop.callLater()", "delayMs", delayMs);
    checkFunction("EventLoop.callLater()", "callback", callback);
    this.#checkOpen();
    return this.#addTimer(this.time() + (delayMs > 0 ? delayMs : 0), callback, args);
  }

  /**
   * Schedules `callback(...args)` to run at loop time `whenMs`. A time in the
   * past means now; `Infinity` never fires.
   *
   * @param whenMs The loop time in milliseconds (compare {@linkcode EventLoop.time}).
   * @param callback The function to call.
   * @param args Its arguments.
   * @returns A timer handle that can cancel the call.
   * @throws {TypeError} If `whenMs` is not a number or `callback` is not a function.
   * @throws {RangeError} If `whenMs` is NaN.
   * @throws {Error} If the loop is closed.
   */
  callAt<A extends unknown[]>(
    whenMs: number,
    callback: (...args: A) => unknown,
    ...args: A
  ): TimerHandle {
    checkTime("EventLoop.callAt()", "whenMs", whenMs);
    checkFunction("EventLoop.callAt()", "callback", callback);
    this.#checkOpen();
    return this.#addTimer(whenMs, callback, args);
  }

  /**
   * Creates a pending {@linkcode Future} bound to this loop.
   *
   * @typeParam T The result type.
   * @returns The future.
   */
  createFuture<T>(): Future<T> {
    return hooks.createFuture(this) as Future<T>;
  }

  /**
   * Wraps a coroutine in a {@linkcode Task} on this loop, through the
   * loop's task factory when it has one; see {@linkcode createTask}.
   *
   * @typeParam T The task's result type.
   * @param coro A generator, a generator function or an async function.
   * @param options Name, eager start, and anything the task factory takes.
   * @returns The task.
   */
  createTask<T>(coro: TaskCoroutine<T>, options?: TaskOptions | CreateTaskOptions): Task<T> {
    return hooks.createTask(this, coro, options) as Task<T>;
  }

  /**
   * Sets the function that makes every task the package makes for the user
   * on this loop (`createTask`, `loop.createTask`, `ensureFuture`,
   * `gather`'s children, `TaskGroup.createTask`), or `null` for plain
   * `new Task()`. It is called as `factory(loop, coro, options)`, with the
   * caller's options except `loop`, and must return a {@linkcode Task}.
   *
   * Equivalent to Python's `loop.set_task_factory()`.
   *
   * @param factory The factory, or `null`.
   * @throws {TypeError} If `factory` is neither a function nor `null`.
   *
   * @example Eager tasks everywhere
   * ```ts
   * import * as asyncio from "@aio/asyncio";
   * import assert from "node:assert/strict";
   *
   * const order = await asyncio.run(function* () {
   *   asyncio.getRunningLoop().setTaskFactory(asyncio.eagerTaskFactory);
   *   const order: string[] = [];
   *   asyncio.createTask(function* () {
   *     order.push("child's first step");
   *   });
   *   order.push("after createTask");
   *   return order;
   * });
   * assert.deepEqual(order, ["child's first step", "after createTask"]);
   * ```
   */
  setTaskFactory(factory: TaskFactory | null): void {
    if (factory !== null && typeof factory !== "function") {
      throw new TypeError(
        `EventLoop.setTaskFactory(): 'factory' must be a function or null, got ${
          describe(factory)
        }`,
      );
    }
    this.#taskFactory = factory;
  }

  /**
   * The loop's task factory, or `null` when tasks are made with `new Task()`.
   *
   * Equivalent to Python's `loop.get_task_factory()`.
   *
   * @returns The factory set with {@linkcode EventLoop.setTaskFactory}, or `null`.
   *
   * @example
   * ```ts
   * import * as asyncio from "@aio/asyncio";
   * import assert from "node:assert/strict";
   *
   * const loop = new asyncio.EventLoop();
   * assert.equal(loop.getTaskFactory(), null);
   * loop.setTaskFactory(asyncio.eagerTaskFactory);
   * assert.equal(loop.getTaskFactory(), asyncio.eagerTaskFactory);
   * loop.close();
   * ```
   */
  getTaskFactory(): TaskFactory | null {
    return this.#taskFactory;
  }

  /**
   * Makes this the running loop until `aw` is done, and resolves with its
   * result (or rejects with its error).
   *
   * @typeParam T The result type.
   * @param aw Anything {@linkcode ensureFuture} accepts.
   * @returns A promise of the result.
   * @throws {Error} If the loop is closed or already running, or another loop is running.
   */
  runUntilComplete<T>(aw: unknown): Promise<T> {
    this.#checkOpen();
    if (this.#running) {
      throw new Error("EventLoop.runUntilComplete(): this event loop is already running");
    }
    if (runningLoop !== null && runningLoop !== this) {
      throw new Error(
        "EventLoop.runUntilComplete(): another event loop is running; await its work instead",
      );
    }
    const future = hooks.ensureFuture(this, aw, "EventLoop.runUntilComplete()", "aw");
    if (future.getLoop() !== this) {
      throw new Error(
        "EventLoop.runUntilComplete(): 'aw' is a future of another event loop; run it on its own loop",
      );
    }
    this.#running = true;
    this.#stopRequested = false;
    // Inside run(), run() owns the running-loop slot for its whole duration.
    const owned = runningLoop === null;
    if (owned) runningLoop = this;
    return new Promise<T>((resolve, reject) => {
      const finish = () => {
        this.#stopRun = null;
        this.#running = false;
        this.#stopRequested = false;
        if (owned && runningLoop === this) runningLoop = null;
      };
      const onDone = () => {
        if (!this.#running) return;
        finish();
        try {
          resolve(future.result() as T);
        } catch (error) {
          reject(error);
        }
      };
      this.#stopRun = () => {
        future.removeDoneCallback(onDone);
        finish();
        reject(new Error("Event loop stopped before Future completed"));
      };
      future.addDoneCallback(onDone);
    });
  }

  /**
   * Ends a pending {@linkcode EventLoop.runUntilComplete} after the current
   * iteration; its promise rejects if the awaited future is not done.
   * Scheduled callbacks keep running: a JavaScript loop never blocks the host.
   */
  stop(): void {
    if (!this.#running) return;
    this.#stopRequested = true;
    this.#queueJob();
  }

  /**
   * Whether {@linkcode EventLoop.runUntilComplete} is in progress.
   *
   * @returns `true` while running.
   */
  isRunning(): boolean {
    return this.#running || runningLoop === this;
  }

  /**
   * Whether {@linkcode EventLoop.close} was called.
   *
   * @returns `true` once closed.
   */
  isClosed(): boolean {
    return this.#closed;
  }

  /**
   * Closes the loop: drops pending callbacks and timers and disarms the host
   * timer. Scheduling on a closed loop throws. Idempotent.
   *
   * @throws {Error} If the loop is running.
   */
  close(): void {
    if (this.#running) throw new Error("EventLoop.close(): cannot close a running event loop");
    if (this.#closed) return;
    this.#closed = true;
    hooks.loopClosing(this);
    for (const timer of this.#timers.toArray()) setCancelHook(timer, null);
    this.#timers.clear();
    this.#cancelledTimers = 0;
    this.#disarm();
    // Public callbacks are dropped; internal entries (future and task plumbing)
    // still run so that nothing awaiting them hangs.
    const ring = this.#ring;
    const mask = this.#mask;
    for (let i = 0; i < this.#count; i++) {
      const at = ((this.#head + i) & mask) * 3;
      if (ring[at] === runHandle) (ring[at + 1] as Handle).cancel();
    }
    if (defaultLoop === this) defaultLoop = null;
  }

  /**
   * Sets the handler for errors nobody else can receive, or restores the
   * default with `null`.
   *
   * @param handler `(loop, context) => void`, or `null`.
   * @throws {TypeError} If `handler` is neither a function nor `null`.
   */
  setExceptionHandler(handler: ExceptionHandler | null): void {
    if (handler !== null) checkFunction("EventLoop.setExceptionHandler()", "handler", handler);
    this.#exceptionHandler = handler;
  }

  /**
   * The handler set with {@linkcode EventLoop.setExceptionHandler}, or `null`.
   *
   * @returns The handler.
   */
  getExceptionHandler(): ExceptionHandler | null {
    return this.#exceptionHandler;
  }

  /**
   * Passes `context` to the loop's exception handler, or to
   * {@linkcode EventLoop.defaultExceptionHandler} when none is set. A handler
   * that throws is reported through the default handler, never rethrown.
   *
   * @param context What happened.
   * @throws {TypeError} If `context` is not an object.
   */
  callExceptionHandler(context: ExceptionContext): void {
    checkContext("EventLoop.callExceptionHandler()", context);
    const handler = this.#exceptionHandler;
    if (handler === null) {
      this.defaultExceptionHandler(context);
      return;
    }
    try {
      handler(this, context);
    } catch (error) {
      try {
        this.defaultExceptionHandler({
          message: "Unhandled error in exception handler",
          exception: error,
          context,
        });
      } catch {
        // Nothing is left to report to; never break the loop over a report.
      }
    }
  }

  /**
   * The default exception handler: writes the message, the context (a
   * task's report names it once, as `future:`) and the error's stack with
   * `console.error`. The stack leaves out the frames of this package and the
   * host's scheduling frames around them, unless debug mode is on, as
   * Python's traceback shows the user's frames.
   *
   * @param context What happened.
   * @throws {TypeError} If `context` is not an object.
   */
  defaultExceptionHandler(context: ExceptionContext): void {
    checkContext("EventLoop.defaultExceptionHandler()", context);
    const lines = [context.message || "Unhandled exception in event loop"];
    for (const key of Object.keys(context)) {
      if (key === "message" || key === "exception") continue;
      // A task's report names it once, as `future:`, the way CPython prints it.
      if (key === "task" && context.task === context.future) continue;
      lines.push(`${key}: ${String(context[key])}`);
    }
    if ("exception" in context) lines.push(formatTraceback(context.exception, this.#debug));
    console.error(lines.join("\n"));
  }

  /**
   * Whether debug mode is on.
   *
   * @returns The flag.
   */
  getDebug(): boolean {
    return this.#debug;
  }

  /**
   * Turns debug mode on or off: slow callbacks are reported and new tasks
   * record where they were created.
   *
   * @param enabled The new flag.
   * @throws {TypeError} If `enabled` is not a boolean.
   */
  setDebug(enabled: boolean): void {
    if (typeof enabled !== "boolean") {
      throw new TypeError(
        `EventLoop.setDebug(): 'enabled' must be a boolean, got ${describe(enabled)}`,
      );
    }
    this.#debug = enabled;
    if (enabled) SUSPEND_SITES.on = true;
  }

  /** A description like `<EventLoop running=false closed=false debug=false>`. */
  toString(): string {
    return `<EventLoop running=${this.isRunning()} closed=${this.#closed} debug=${this.#debug}>`;
  }

  /** Shows the loop like Python's repr in Deno's inspector. */
  [Symbol.for("Deno.customInspect")](): string {
    return this.toString();
  }

  // ------------------------------------------------------------ internals

  #checkOpen(): void {
    if (this.#closed) throw new Error("Event loop is closed");
  }

  /** Appends a ready entry. Hot path: no allocation unless the ring grows. */
  #push(fn: Entry, a: unknown, b: unknown): void {
    if (this.#count > this.#mask) this.#grow();
    const at = ((this.#head + this.#count) & this.#mask) * 3;
    const ring = this.#ring;
    ring[at] = fn;
    ring[at + 1] = a;
    ring[at + 2] = b;
    this.#count++;
    if (!this.#jobQueued) {
      this.#jobQueued = true;
      this.#queueMicrotask();
    }
  }

  #grow(): void {
    this.#resize((this.#mask + 1) * 2);
  }

  /** Moves the live entries to a ring of `capacity` entries (a power of two >= #count). */
  #resize(capacity: number): void {
    const old = this.#ring;
    const ring = new Array(capacity * 3);
    for (let i = 0; i < this.#count; i++) {
      const from = ((this.#head + i) & this.#mask) * 3;
      ring[i * 3] = old[from];
      ring[i * 3 + 1] = old[from + 1];
      ring[i * 3 + 2] = old[from + 2];
    }
    this.#ring = ring;
    this.#head = 0;
    this.#mask = capacity - 1;
  }

  #queueJob(): void {
    if (!this.#jobQueued) {
      this.#jobQueued = true;
      this.#queueMicrotask();
    }
  }

  /**
   * Queues the next iteration. From inside an async-function task's context
   * it goes through the root context (see _host.ts), so that iterations
   * always run outside every task's context.
   */
  #queueMicrotask(): void {
    if (slotEntered && slotValue() !== undefined) queueRootMicrotask(this.#runJob);
    else queueMicrotask(this.#runJob);
  }

  /**
   * One iteration. This is the only place where callbacks are called: due
   * timers join the ready queue, then exactly the entries ready now run.
   */
  #runOnce(): void {
    // #jobQueued stays true while the iteration runs, so callbacks scheduled
    // now do not queue a job yet: the next job is queued at the end, behind
    // the host microtasks queued meanwhile.
    this.#inIteration = true;
    const previous = activeLoop;
    activeLoop = this;
    const resumed = this.#remaining > 0;
    try {
      this.#runReady(resumed);
    } finally {
      activeLoop = previous;
      this.#inIteration = false;
      this.#jobQueued = false;
    }
    if (this.#remaining > 0) {
      // Paused after an entry that resumed an async-function task: the rest
      // of the iteration waits for it, at the same loop time (#iterationNow is kept).
      this.#startWaiting();
      return;
    }
    this.#iterationNow = NaN;
    if (this.#timersDirty) this.#rearm();
    if (this.#stopRequested) {
      this.#stopRequested = false;
      this.#stopRun?.();
    }
    if (this.#heldCount !== 0) {
      // The last entries resumed async tasks: the next iteration comes once
      // they have reached their next wait, as in Python, where their step
      // would have run to it inside this iteration.
      this.#startWaiting();
    } else if (this.#count > 0) {
      if (++this.#burstIterations >= BURST_CHECK_EVERY && this.#burstTooLong()) this.#yieldToHost();
      else this.#queueJob();
    } else {
      this.#burstIterations = 0;
      this.#burstStart = -1;
      // Nothing ready and nothing armed: only the outside can wake the loop now.
      if (this.#idleHook !== null && this.#armedAt === Infinity) this.#idleHook();
    }
  }

  /** Nothing ready, nothing held, no iteration queued, no timer armed. */
  #isIdle(): boolean {
    return !this.#jobQueued && this.#count === 0 && this.#heldCount === 0 && !this.#waiting &&
      this.#armedAt === Infinity;
  }

  /**
   * Waits for the held async-function tasks to reach their next wait (each
   * leaves the count then, see #release). A probe looks once per microtask
   * turn, its turns interleaved with the tasks' own, and resumes the loop
   * when none is left; it is queued from here, the root context, and queues
   * itself again from there (cheaper than queueing from a task's context).
   * A task that awaits something foreign (a fetch) never gets there by
   * itself; a macrotask comes only after every microtask has run, so if one
   * arrives while the loop still waits, the loop goes on without it, as if
   * its step had ended. At most one such macrotask is on its way at a time.
   */
  #startWaiting(): void {
    this.#jobQueued = true; // nothing else may start an iteration meanwhile
    this.#waiting = true;
    this.#probeTurns = 0;
    if (!this.#probing) {
      this.#probing = true;
      queueMicrotask(this.#probe);
    }
    if (!this.#watchdogPosted) {
      this.#watchdogPosted = true;
      postMacrotask(this.#onWatchdog);
    }
  }

  #checkHeld(): void {
    if (!this.#waiting) {
      this.#probing = false;
      return;
    }
    if (this.#heldCount !== 0) {
      // Polling for ever would starve the watchdog: after PROBE_TURNS turns
      // the macrotask takes over (it resumes the loop, or gives up).
      if (++this.#probeTurns < PROBE_TURNS) queueMicrotask(this.#probe);
      else this.#probing = false;
      return;
    }
    this.#probing = false;
    this.#stopWaiting();
  }

  /** A held task (counted in `epoch`) reached its next wait, or finished. */
  #release(epoch: number): void {
    // Not counted any more if the loop gave up on it meanwhile (the epoch moved on).
    if (((epoch ^ this.#heldEpoch) & 1) === 0 && this.#heldCount > 0) this.#heldCount--;
  }

  #stopWaiting(): void {
    this.#waiting = false;
    // Always an iteration: a timer may have fired meanwhile, its job held back.
    this.#jobQueued = true;
    this.#runOnce();
  }

  /**
   * Whether back-to-back iterations (each queued as a microtask, so the host
   * has had no turn) have run for longer than STARVE_MS. Checked every
   * BURST_CHECK_EVERY iterations to keep the clock read off the hot path.
   */
  #burstTooLong(): boolean {
    this.#burstIterations = 0;
    const now = realNow();
    if (this.#burstStart < 0) {
      this.#burstStart = now;
      return false;
    }
    return now - this.#burstStart > STARVE_MS;
  }

  /**
   * Runs the next iteration from a macrotask, so that host timers and I/O
   * get their turn (Python's loop polls I/O on every iteration; a loop that
   * only ever queued microtasks would starve them). The loop's wake-up is
   * disarmed meanwhile, so a virtual clock cannot jump while work is ready.
   */
  #yieldToHost(): void {
    this.#jobQueued = true;
    this.#burstStart = -1;
    if (this.#armedAt !== Infinity) {
      this.#armedAt = Infinity;
      this.#clock.clearTimer();
      this.#timersDirty = true;
    }
    postMacrotask(this.#runJob);
  }

  #runReady(resumed: boolean): void {
    let n: number;
    if (resumed) {
      n = this.#remaining;
      this.#remaining = 0;
    } else {
      // After a burst, give the memory of a mostly empty ring back.
      if (this.#mask >= SHRINK_ABOVE && this.#count <= (this.#mask + 1) >> 4) {
        let capacity = INITIAL_CAPACITY;
        while (capacity < this.#count * 4) capacity *= 2;
        this.#resize(capacity);
      }
      if (this.#timers.size > 0) this.#collectDueTimers();
      n = this.#count;
    }
    if (this.#debug) {
      this.#runDebug(n);
    } else {
      // The try is outside the loop; after a throw the loop resumes where it was.
      while (n > 0) {
        let fn: Entry | undefined;
        let a: unknown;
        let b: unknown;
        try {
          while (n > 0) {
            n--;
            // Re-read the ring each time: a callback may have grown it.
            const ring = this.#ring;
            const at = this.#head * 3;
            fn = ring[at] as Entry;
            a = ring[at + 1];
            b = ring[at + 2];
            ring[at] = ring[at + 1] = ring[at + 2] = undefined;
            this.#head = (this.#head + 1) & this.#mask;
            this.#count--;
            fn(a, b);
            if (this.#heldCount !== 0 && n > 0) {
              this.#remaining = n;
              return;
            }
          }
        } catch (error) {
          this.#reportCallbackError(error, fn, a, b);
          if (this.#heldCount !== 0 && n > 0) {
            this.#remaining = n;
            return;
          }
        }
      }
    }
  }

  #runDebug(n: number): void {
    while (n > 0) {
      n--;
      const ring = this.#ring;
      const at = this.#head * 3;
      const fn = ring[at] as Entry;
      const a = ring[at + 1];
      const b = ring[at + 2];
      ring[at] = ring[at + 1] = ring[at + 2] = undefined;
      this.#head = (this.#head + 1) & this.#mask;
      this.#count--;
      const t0 = realNow();
      try {
        fn(a, b);
      } catch (error) {
        this.#reportCallbackError(error, fn, a, b);
      }
      const dt = realNow() - t0;
      if (dt >= this.#slowCallbackMs) {
        this.callExceptionHandler({
          message: `Executing ${describeEntry(fn, a, b)} took ${dt.toFixed(3)} ms`,
          ...(fn === runHandle ? { handle: a as Handle } : {}),
        });
      }
      if (this.#heldCount !== 0 && n > 0) {
        this.#remaining = n;
        return;
      }
    }
  }

  #reportCallbackError(error: unknown, fn: Entry | undefined, a: unknown, b: unknown): void {
    const context: ExceptionContext = {
      message: `Exception in callback ${describeEntry(fn, a, b)}`,
      exception: error,
    };
    if (fn === runHandle) context.handle = a as Handle;
    this.callExceptionHandler(context);
  }

  #addTimer(
    when: number,
    // deno-lint-ignore no-explicit-any
    callback: (...args: any[]) => unknown,
    args: readonly unknown[],
  ): TimerHandle {
    return this.#insertTimer(new TimerHandle(when, callback, args));
  }

  #insertTimer(timer: TimerHandle): TimerHandle {
    this.#timers.push(timer);
    setCancelHook(timer, this.#onTimerCancelled);
    if (this.#timers.peek() === timer) this.#timersChanged();
    return timer;
  }

  /** The earliest deadline changed: re-arm now, or at the end of the running iteration. */
  #timersChanged(): void {
    if (this.#inIteration) this.#timersDirty = true;
    else this.#rearm();
  }

  #collectDueTimers(): void {
    const timers = this.#timers;
    const now = this.time();
    let popped = false;
    for (;;) {
      const timer = timers.peek();
      if (timer === undefined) break;
      if (timer.cancelled()) {
        timers.pop();
        this.#cancelledTimers--;
        popped = true;
        continue;
      }
      if (timer.when() > now) break;
      timers.pop();
      setCancelHook(timer, null);
      this.#push(runHandle, timer, undefined);
      popped = true;
    }
    // Re-arm only when the earliest deadline changed, or the host timer has
    // fired (possibly early) and nothing is armed: not on every iteration.
    if (popped || this.#armedAt === Infinity) this.#timersDirty = true;
  }

  /** Drops cancelled timers at the top (compacting when they dominate) and arms the host for the earliest live one. */
  #rearm(): void {
    this.#timersDirty = false;
    const timers = this.#timers;
    if (
      timers.size > MIN_TIMERS_TO_COMPACT &&
      this.#cancelledTimers > timers.size * CANCELLED_FRACTION_TO_COMPACT
    ) {
      timers.retain((t) => !t.cancelled());
      this.#cancelledTimers = 0;
    }
    let head = timers.peek();
    while (head !== undefined && head.cancelled()) {
      timers.pop();
      this.#cancelledTimers--;
      head = timers.peek();
    }
    const when = head === undefined ? Infinity : head.when();
    if (when === this.#armedAt) return;
    if (when === Infinity) {
      this.#disarm();
      return;
    }
    this.#armedAt = when;
    this.#clock.setTimer(when, this.#onTimer);
  }

  #disarm(): void {
    if (this.#armedAt !== Infinity) {
      this.#armedAt = Infinity;
      this.#clock.clearTimer();
    }
  }

  static {
    pushEntry = (loop, fn, a, b) => loop.#push(fn, a, b);
    holdLoop = (loop) => {
      loop.#heldCount++;
      return loop.#heldEpoch;
    };
    releaseLoop = (loop, epoch) => loop.#release(epoch);
    scheduleTimer = (loop, when, fn, arg) => {
      loop.#checkOpen();
      return loop.#insertTimer(makeTimer(when, fn, arg));
    };
    setIdleHook = (loop, hook) => {
      loop.#idleHook = hook;
    };
    isIdle = (loop) => loop.#isIdle();
    // A task's birth, for its age in the task tree: loop time where it is
    // cheap (a virtual clock) or asked for (debug mode); a real clock read per
    // iteration would cost a spawn-heavy program ~10%.
    // Null, not NaN, where unknown: a field holding NaN boxes it (16 bytes a task).
    birthTime = (loop) => loop.#debug || !(loop.#clock instanceof RealClock) ? loop.time() : null;
    noteAsyncWait = (loop) => {
      if (loop.#idleHook !== null && loop.#isIdle()) loop.#idleHook();
    };
  }
}

function checkContext(where: string, context: unknown): void {
  // Any object will do, as Python takes any dict (a missing message gets a default one).
  if (context === null || typeof context !== "object") {
    throw new TypeError(`${where}: 'context' must be an object, got ${describe(context)}`);
  }
}

function describeEntry(fn: Entry | undefined, a: unknown, b: unknown): string {
  if (fn === runHandle) return handleCallbackName(a as Handle);
  if (fn !== undefined && fn === hooks.doneCallbackTrampoline) {
    // A user's done callback: name it, with its future, as Python does.
    return `${(a as { name?: string }).name || "<anonymous>"}(${String(b)})`;
  }
  return `${fn?.name || "<anonymous>"}()`;
}

/**
 * The loop of the running {@linkcode run} call (or
 * {@linkcode EventLoop.runUntilComplete}).
 *
 * Equivalent to Python's `asyncio.get_running_loop()`.
 *
 * @returns The running loop.
 * @throws {Error} If no loop is running.
 *
 * @example Inside run()
 * ```ts
 * import * as asyncio from "@aio/asyncio";
 * import assert from "node:assert/strict";
 *
 * await asyncio.run(function* () {
 *   const loop = asyncio.getRunningLoop();
 *   assert.ok(loop.isRunning());
 * });
 * assert.throws(() => asyncio.getRunningLoop(), /no running event loop/);
 * ```
 */
export function getRunningLoop(): EventLoop {
  const loop = activeLoop ?? (slotEntered ? hooks.contextLoop() : null) ?? runningLoop;
  if (loop === null) {
    throw new Error("getRunningLoop(): no running event loop; call it inside asyncio.run()");
  }
  return loop;
}

/**
 * The current loop: the running one, else the default loop (created on
 * first use, on the real clock). Top-level functions such as
 * {@linkcode sleep} and {@linkcode createTask} use it.
 *
 * Equivalent to Python's `asyncio.get_event_loop()`, except that there is
 * always a loop to return.
 *
 * @returns The current loop.
 *
 * @example Outside run(), the default loop
 * ```ts
 * import * as asyncio from "@aio/asyncio";
 * import assert from "node:assert/strict";
 *
 * const loop = asyncio.getEventLoop();
 * assert.equal(asyncio.getEventLoop(), loop);
 * assert.equal(loop.isRunning(), false);
 * ```
 */
export function getEventLoop(): EventLoop {
  const loop = activeLoop ?? (slotEntered ? hooks.contextLoop() : null) ?? runningLoop;
  if (loop !== null) return loop;
  if (defaultLoop === null) defaultLoop = new EventLoop();
  return defaultLoop;
}

installLoopInternals({
  pushEntry,
  birthTime,
  holdLoop,
  releaseLoop,
  scheduleTimer,
  setIdleHook,
  isIdle,
  noteAsyncWait,
  enterRun: (loop) => {
    if (runningLoop !== null) {
      throw new Error(
        "run() cannot be called while another run() is in progress; await the work instead",
      );
    }
    runningLoop = loop;
  },
  exitRun: (loop) => {
    if (runningLoop === loop) runningLoop = null;
  },
});

setShapeLoopMaker(() => new EventLoop());
