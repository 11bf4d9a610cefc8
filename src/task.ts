/**
 * Task: runs a coroutine on the event loop. This file holds the only code
 * that starts, resumes or throws into a coroutine.
 *
 * @module
 */

import { EventLoop, getEventLoop } from "./event_loop.ts";
import { Future } from "./future.ts";
import {
  addCallback,
  birthTime,
  blockAsTask,
  bodyPromise,
  cancelFuture,
  cancelFutureAs,
  cancelFutureWith,
  cancelledErrorOf,
  DORMANT,
  failFuture,
  holdLoop,
  hooks,
  installTaskInternals,
  isSuspend,
  isYieldOnce,
  kindOf,
  noteAsyncWait,
  peekFailure,
  pushEntry,
  releaseLoop,
  resolveFuture,
  setTaskWaker,
  SIGNAL_TASK,
  SUSPEND,
  SUSPEND_SITES,
  TRUSTED_LOOP,
} from "./_internal.ts";
import { CancelledError } from "./errors.ts";
import { cancelledError } from "./_cancelled.ts";
import { listenForAbort } from "./_signal.ts";
import { asyncSlot, runInSlot, slotValue } from "./_host.ts";
import {
  Context,
  contextOf,
  type ContextRef,
  currentHolder,
  currentVars,
  EMPTY_VARS,
  installTaskContexts,
  snapshotOf,
  swapHolder,
} from "./_context.ts";
import {
  checkOptions,
  describe,
  GeneratorPrototype,
  isGenerator,
  isGeneratorFunction,
  isNativeGenerator,
} from "./_validate.ts";
import { keepShapeOf } from "./_shapes.ts";

/**
 * A generator coroutine: a `function*` body that waits with `yield*` on
 * futures and tasks and returns the task's result.
 *
 * @typeParam T The result type.
 */
export type Coroutine<T> = Generator<unknown, T, unknown>;

/**
 * What a task runs: a generator object, or a function the task calls once,
 * on its first step, with its {@linkcode Task.signal}: a generator function,
 * or an async function (any function returning a promise).
 *
 * A function that declares no parameters (`fn.length === 0`) is called
 * without one, so no `AbortSignal` is created for it; declare the parameter
 * to receive it, or read {@linkcode Task.signal}.
 *
 * @typeParam T The task's result type.
 */
export type TaskCoroutine<T> =
  | Coroutine<T>
  | ((signal: AbortSignal) => Coroutine<T> | PromiseLike<T> | T);

/** Options for {@linkcode createTask} and {@linkcode Task}. */
export interface TaskOptions {
  /**
   * The task's name, shown by `toString()` and in reports.
   *
   * @default {"Task-<n>", numbered in creation order}
   */
  name?: string;
  /**
   * Run the first step synchronously inside `createTask`, like Python 3.14's
   * `eager_start`: a coroutine that finishes without waiting never touches
   * the loop. (Unlike Python, also when no `run()` is running the loop.)
   *
   * @default {false}
   */
  eagerStart?: boolean;
  /**
   * The loop to run on.
   *
   * @default {the current loop ({@linkcode getEventLoop})}
   */
  loop?: EventLoop;
  /**
   * The context the task runs in, itself (not a copy): what its code sets
   * is set there. Like Python's `context=` argument.
   *
   * @default {a copy of the current context ({@linkcode copyContext})}
   */
  context?: Context;
}

/** Marks "no exception to throw in" for a step. */
const NO_ERROR: unique symbol = Symbol("no error");

// The builtin resume functions of native generators, called directly: each
// generator function has its own prototype, so `coro.next()` would be a
// megamorphic lookup on the hottest line of the package.
const generatorNext = GeneratorPrototype.next;
const generatorThrow = GeneratorPrototype.throw;

let taskCounter = 0;
const NEW_TASK = "Cannot create Task";
/**
 * Names the call in the constructor's argument errors: the package sets it
 * right before `new Task()` (see spawnTask), and the constructor takes it and
 * puts the default back as it starts, so no try/finally is needed.
 */
let taskWhere = NEW_TASK;

// Task.#bits
const NATIVE = 1; // #coro is a native generator: resume it through the builtins
const MUST_CANCEL = 2; // throw CancelledError into the coroutine at its next step
/**
 * An async function runs in the host's async context holding this task, so
 * every library future it awaits is one of its waits (see "async-function
 * tasks" below).
 */
const IN_CONTEXT = 4;
/** Someone outside the package was given the task's signal (task.signal, or the function's argument). */
const SIGNAL_SEEN = 8;
/** The loop waits for this async task to reach its next wait (see holdLoop). */
const HELD = 16;
/** The parity of the loop's hold epoch when HELD was set. */
const HELD_EPOCH = 32;
const REQUEST_SHIFT = 6; // the count of cancel requests sits above the flags
const CANCEL_REQUEST = 1 << REQUEST_SHIFT;

/** Where tasks were created, in debug mode only (kept out of every task's fields). */
const creationStacks = new WeakMap<Task<unknown>, string>();
/** Where tasks last suspended, in debug mode only (an Error: its stack is formatted when read). */
const suspendSites = new WeakMap<Task<unknown>, Error>();

/** An Error whose stack reaches deep enough for a chain of coroutines (debug mode only). */
function captureSite(): Error {
  const E = Error as { stackTraceLimit?: number };
  const limit = E.stackTraceLimit;
  if (typeof limit === "number" && limit < 50) E.stackTraceLimit = 50;
  const site = new Error("suspended");
  if (typeof limit === "number") E.stackTraceLimit = limit;
  return site;
}
let current: Task<unknown> | null = null;

// Ready-queue entries for tasks, assigned in Task's static block.
// deno-lint-ignore no-explicit-any
let stepTask: (task: Task<any>, error: unknown) => void;
// deno-lint-ignore no-explicit-any
let wakeTask: (task: Task<any>, future: Future<unknown>) => void;
let nextLiveTask: (task: Task<unknown>) => Task<unknown> | null;
// The async-function task plumbing, also assigned in Task's static block.
let callInContext: (task: Task<unknown>) => unknown;
let asyncFulfilled: (value: unknown) => void;
let asyncRejected: (reason: unknown) => void;
/** The task function being called by callInContext (a field would cost every task). */
let callingFunction: ((signal: AbortSignal) => unknown) | null = null;

/**
 * A coroutine scheduled on the event loop, and the {@linkcode Future} of its
 * result.
 *
 * State invariant: a task that is not done is in exactly one of three
 * states: waiting on a future (whose done callback will wake it), step
 * scheduled (an entry in the loop's ready queue), or running (it is
 * {@linkcode currentTask}). A started async-function task runs by itself
 * on the host's promise jobs; it waits on the library futures it awaits
 * (none, one, or several under `Promise.all`).
 *
 * Cancelling a generator task throws {@linkcode CancelledError} into the
 * coroutine at its `yield*` (after cancelling the future it waits on, so
 * cancellation runs down the chain). Where the host has an async context
 * (Deno, Node, Bun, workerd; see the README), an async-function task gets
 * the same: the futures it awaits are cancelled and its `await` throws
 * `CancelledError`. Its {@linkcode Task.signal} aborts in every case, for
 * `fetch` and other foreign work.
 *
 * Equivalent to Python's `asyncio.Task`. `setResult` and `setException`
 * throw, as in Python.
 *
 * @typeParam T The result type.
 *
 * @example Cancelling a generator task runs its finally block
 * ```ts
 * import * as asyncio from "@aio/asyncio";
 * import assert from "node:assert/strict";
 *
 * const clock = new asyncio.VirtualClock({ autojump: true });
 * const log: string[] = [];
 * await asyncio.run(function* () {
 *   const task = asyncio.createTask(function* () {
 *     try {
 *       yield* asyncio.sleep(60_000);
 *     } finally {
 *       log.push("cleaned up");
 *     }
 *   });
 *   yield* asyncio.sleep(10);
 *   task.cancel();
 *   try {
 *     yield* task;
 *   } catch (error) {
 *     assert.ok(error instanceof asyncio.CancelledError);
 *   }
 *   assert.ok(task.cancelled());
 * }, { clock });
 * assert.deepEqual(log, ["cleaned up"]);
 * ```
 */
export class Task<T> extends Future<T> {
  // Fields are few on purpose: a pending task's size is what a program with
  // many tasks pays for (see the memory benchmark). For the same reason the
  // private helpers are static, taking the task first: a class with private
  // instance methods stores a brand in every instance (8 bytes a class).
  /** The generator; before the first step, possibly the function to call. */
  #coro: Coroutine<T> | ((signal: AbortSignal) => unknown) | null = null;
  /** The flags above, and the count of cancel requests above them. */
  #bits = 0;
  /**
   * The future a generator task waits on. A started async-function task's
   * waits: none, one future, or a WaitSet of several.
   */
  #waitingOn: Future<unknown> | WaitSet | null = null;
  #cancelMessage: string | undefined = undefined;
  /** Its context (see _context.ts): its own Context, or the snapshot it was created with. */
  #context: ContextRef = EMPTY_VARS;
  /** The name, or the number of the default name `Task-<n>` (0: a block not numbered yet). */
  #name: string | number;
  /**
   * The AbortController behind `signal` once made; before that, the message
   * of the first cancel request (for its abort reason), or null.
   */
  #signal: AbortController | string | undefined | null = null;
  // Links in the loop's list of not-done tasks (see the registry below).
  #prevLive: Task<unknown> | null = null;
  #nextLive: Task<unknown> | null = null;
  /** The function it was made from, or a block's label, for the call graph (its name). */
  #fn: ((signal: AbortSignal) => unknown) | string | null = null;
  /** The loop time at creation, for the task tree's ages. */
  #born: number | null = null;

  /**
   * Creates a task and schedules its first step; prefer
   * {@linkcode createTask}.
   *
   * @param coro A generator, or a function returning a generator or a promise.
   * @param options Name, eager start and loop.
   * @throws {TypeError} If `coro` is neither a generator nor a function, or an option is invalid.
   */
  constructor(coro: TaskCoroutine<T>, options?: TaskOptions) {
    let loop: EventLoop | undefined;
    let name: string | undefined;
    let eagerStart = false;
    let context: Context | undefined;
    const where = taskWhere;
    taskWhere = NEW_TASK;
    // The package's blocks (see _block.ts) are made dormant: not started,
    // not registered, not numbered, until something waits on them.
    const dormant = options === (DORMANT as TaskOptions);
    if (dormant) {
      loop = DORMANT.loop as EventLoop;
    } else if (options === TASK_LOOP) {
      // spawnTask's own options: a checked loop, nothing else; cleared as read.
      loop = TASK_LOOP.loop;
      TASK_LOOP.loop = undefined;
    } else if (options !== undefined) {
      checkOptions(where, options);
      ({ loop, name, eagerStart = false, context } = options);
      if (context !== undefined && !(context instanceof Context)) {
        throw new TypeError(
          `${where}: 'context' must be a Context, got ${describe(context)}`,
        );
      }
      if (name !== undefined && typeof name !== "string") {
        throw new TypeError(`${where}: 'name' must be a string, got ${describe(name)}`);
      }
      if (typeof eagerStart !== "boolean") {
        throw new TypeError(
          `${where}: 'eagerStart' must be a boolean, got ${describe(eagerStart)}`,
        );
      }
      if (loop !== undefined && !(loop instanceof EventLoop)) {
        throw new TypeError(
          `${where}: 'loop' must be an EventLoop, got ${describe(loop)}`,
        );
      }
    }
    // The coroutine is checked before anything is made (no task for a bad one).
    const native = !dormant && isNativeGenerator(coro);
    if (!dormant && !native && typeof coro !== "function" && !isGenerator(coro)) {
      throw new TypeError(
        `${where}: 'coro' must be a generator, a generator function or an async function, got ${
          describe(coro)
        }`,
      );
    }
    loop ??= getEventLoop();
    if (loop.isClosed()) throw new Error(`${where}: the event loop is closed`);
    TRUSTED_LOOP.loop = loop; // no options object per task, no second check of the loop
    super(TRUSTED_LOOP);
    TRUSTED_LOOP.loop = undefined;
    if (dormant) {
      this.#name = 0;
      return;
    }
    if (native) {
      this.#coro = coro as Coroutine<T>;
      this.#bits = NATIVE;
    } else if (typeof coro === "function") this.#coro = this.#fn = coro;
    else Task.#setCoro(this, coro as Coroutine<T>); // a look-alike generator
    this.#name = name === undefined ? ++taskCounter : name;
    // A snapshot of the current context (Python's copy_context()); made in a
    // task's step, of that task's (the common case, read directly).
    this.#context = context ??
      (current !== null && currentHolder() === current
        ? snapshotOf(current.#context)
        : currentVars());
    const taskLoop = loop;
    this.#born = birthTime(taskLoop);
    if (taskLoop.getDebug()) creationStacks.set(this, new Error().stack ?? "");
    Task.#link(this, liveTasksOf(taskLoop));
    if (eagerStart) Task.#eagerStart(this);
    else pushEntry(taskLoop, stepTask, this, NO_ERROR);
    if (!taskShaped && new.target === Task) {
      taskShaped = true;
      keepShapeOf(taskShape);
    }
  }

  /**
   * Requests cancellation. If the task is waiting on a future, that future
   * is cancelled (and the task wakes with {@linkcode CancelledError});
   * otherwise `CancelledError` is thrown into the coroutine at its next step.
   * The task's {@linkcode Task.signal} is aborted with that error.
   *
   * A coroutine may catch the error and carry on; the task then finishes
   * normally. Each call counts one request (see {@linkcode Task.cancelling}).
   *
   * @param msg A message for the {@linkcode CancelledError}.
   * @returns `false` if the task is already done, else `true`.
   * @throws {TypeError} If `msg` is neither a string nor `undefined`.
   */
  override cancel(msg?: string): boolean {
    if (msg !== undefined && typeof msg !== "string") {
      throw new TypeError(`Task.cancel(): 'msg' must be a string, got ${describe(msg)}`);
    }
    if (this.done()) return super.cancel(msg); // false; also marks a failure as seen, as in Python
    return Task.#cancel(this, msg, true);
  }

  /**
   * Task.cancel(); with `abort` false the signal is left alone: a request a
   * block makes of the task that runs it (a deadline, a failing child),
   * which it takes back with uncancel(), and which must not leave the
   * task's signal aborted for good.
   */
  static #cancel<T>(self: Task<T>, msg: string | undefined, abort: boolean): boolean {
    const signal = self.#signal;
    const controller = signal !== null && typeof signal === "object" ? signal : null;
    // Before the signal is made, the first aborting request's message is kept for it.
    if (abort && signal === null) self.#signal = msg;
    self.#bits += CANCEL_REQUEST;
    const waitingOn = self.#waitingOn;
    let cancelled: boolean;
    let reason: CancelledError | null = null;
    if (self.#coro === null && (self.#bits & IN_CONTEXT) === 0) {
      // A started async task without a host context: its only wait is one
      // it made with its own signal (see adoptSignalWait). Cancel it with the
      // very error the signal aborts with, as its listener would have.
      const adopted = waitingOn as Future<unknown> | null;
      cancelled = adopted !== null && !adopted.done();
      if (cancelled) {
        reason = cancelledError(msg, undefined, self.getLoop().getDebug());
        cancelFutureWith(adopted as Future<unknown>, reason);
      }
    } else if (self.#coro === null) {
      // A started async-function task in the host's context: cancel every
      // future it awaits (Python's `_fut_waiter.cancel(msg)`). The error the
      // signal aborts with is made once and serves the plain futures too
      // (an error costs microseconds to make).
      if (abort && controller !== null && !controller.signal.aborted) {
        reason = cancelledError(msg, undefined, self.getLoop().getDebug());
      }
      cancelled = Task.#cancelWaits(self, msg, reason);
    } else {
      // (A done waiter is not asked: cancel() on a failed future marks its
      // exception retrieved, and this task's cancellation would then hide it.)
      const future = waitingOn as Future<unknown> | null;
      cancelled = future !== null && !future.done() && future.cancel(msg);
    }
    if (!cancelled) {
      // The step is already scheduled, or the task is running, or (async)
      // awaits nothing of ours now: the next step, or the next wait, sees the flag.
      self.#bits |= MUST_CANCEL;
      self.#cancelMessage = msg;
    }
    // Abort last: abort listeners run synchronously and may do anything.
    if (abort && controller !== null && !controller.signal.aborted) {
      controller.abort(reason ?? cancelledError(msg, undefined, self.getLoop().getDebug()));
    }
    return true;
  }

  /**
   * How many cancellation requests are pending: incremented by
   * {@linkcode Task.cancel}, decremented by {@linkcode Task.uncancel}.
   *
   * @returns The count.
   */
  cancelling(): number {
    return this.#bits >>> REQUEST_SHIFT;
  }

  /**
   * Withdraws one cancellation request, for code that cancelled the task
   * itself and handled it (as timeouts do). When the count reaches zero, a
   * cancellation that has not been delivered yet is dropped.
   *
   * @returns The remaining count.
   */
  uncancel(): number {
    if (this.#bits >= CANCEL_REQUEST) {
      this.#bits -= CANCEL_REQUEST;
      if (this.#bits < CANCEL_REQUEST) this.#bits &= ~MUST_CANCEL;
    }
    return this.#bits >>> REQUEST_SHIFT;
  }

  /**
   * The context the task runs in: a copy of the context current when it was
   * created, or the `context` option. What its code sets with
   * `ContextVar.set()` is set there.
   *
   * Equivalent to Python's `task.get_context()`.
   *
   * @returns The task's context.
   *
   * @example What a task sets stays in its context
   * ```ts
   * import * as asyncio from "@aio/asyncio";
   * import assert from "node:assert/strict";
   *
   * const step = new asyncio.ContextVar<string>("step", { default: "start" });
   * await asyncio.run(function* () {
   *   const task = asyncio.createTask(function* () {
   *     step.set("inside the task");
   *   });
   *   yield* task;
   *   assert.equal(task.getContext().get(step), "inside the task");
   *   assert.equal(step.get(), "start"); // main's context is its own
   * });
   * ```
   */
  getContext(): Context {
    const context = this.#context;
    if (context instanceof Context) return context;
    return this.#context = contextOf(context);
  }

  /**
   * The task's name: the `name` option, or `Task-<n>`.
   *
   * @returns The name.
   */
  getName(): string {
    let name = this.#name;
    if (name === 0) name = this.#name = ++taskCounter; // a block, numbered when first named
    return typeof name === "string" ? name : `Task-${name}`;
  }

  /**
   * Renames the task.
   *
   * @param name The new name; other values are converted with `String()`, as in Python.
   */
  setName(name: string): void {
    this.#name = String(name);
  }

  /**
   * An `AbortSignal` aborted (with the {@linkcode CancelledError} as its
   * reason) when the task is cancelled. Pass it to `fetch` and other
   * abortable APIs. Created on first use.
   */
  get signal(): AbortSignal {
    this.#bits |= SIGNAL_SEEN;
    return Task.#ownSignal(this);
  }

  /** The signal, made on first use; the package's own uses do not count as seen. */
  static #ownSignal<T>(self: Task<T>): AbortSignal {
    const state = self.#signal;
    if (state !== null && typeof state === "object") return state.signal;
    const controller = new AbortController();
    self.#signal = controller;
    // Let waits given this signal find the task (see adoptSignalWait).
    (controller.signal as unknown as Record<symbol, unknown>)[SIGNAL_TASK] = self;
    if (state !== null || self.cancelled()) {
      const message = state === null ? undefined : state;
      controller.abort(cancelledError(message, undefined, self.getLoop().getDebug()));
    }
    return controller.signal;
  }

  /**
   * The coroutine: the generator of a generator task (once started), or
   * `null` for an async-function task and before a function is first called.
   *
   * @returns The generator or `null`.
   */
  getCoro(): Coroutine<T> | null {
    const coro = this.#coro;
    return typeof coro === "function" ? null : coro;
  }

  /**
   * Where the task was created, one line per frame, when the loop was in
   * debug mode at the time; otherwise an empty array. (JavaScript cannot
   * inspect a suspended generator, so unlike Python this is the creation
   * stack, not the current one.)
   *
   * @returns The stack lines.
   */
  getStack(): string[] {
    const stack = creationStacks.get(this);
    if (stack === undefined) return [];
    return stack.split("\n").slice(1).map((line) => line.trim());
  }

  /**
   * Tasks are completed by their coroutine only.
   *
   * @throws {Error} Always.
   */
  override setResult(value: T): void;
  /** Tasks are completed by their coroutine only. */
  override setResult(this: Future<void>): void;
  override setResult(_value?: T): void {
    throw new Error("Task.setResult(): a task's result comes from its coroutine; use a Future");
  }

  /**
   * Tasks are completed by their coroutine only.
   *
   * @throws {Error} Always.
   */
  override setException(_exception: unknown): void {
    throw new Error("Task.setException(): a task's result comes from its coroutine; use a Future");
  }

  /** `"Task"`, however a bundler renamed the class (esbuild emits `class _Task`). */
  override get [Symbol.toStringTag](): string {
    return this.constructor === Task ? "Task" : this.constructor.name;
  }

  /** A description like Python's repr: `<Task pending name=Task-3>`. */
  override toString(): string {
    // Future's form is "<Task state[ detail]>": put the name right after the state.
    const base = super.toString();
    const space = base.indexOf(" ", 6);
    const end = space === -1 ? base.length - 1 : space;
    return `${base.slice(0, end)} name=${this.getName()}${base.slice(end)}`;
  }

  // ------------------------------------------------------------ stepping

  /** Runs the first step now, inside createTask, with this task as current. */
  static #eagerStart<T>(self: Task<T>): void {
    Task.#step(self, NO_ERROR);
  }

  /**
   * One step: resumes the coroutine (or throws `error` into it) until it
   * waits, returns or throws. Hot path: no closures, no allocation besides
   * what the coroutine itself does.
   */
  static #step<T>(self: Task<T>, error: unknown): void {
    if (self.#bits & MUST_CANCEL) {
      if (!(error instanceof CancelledError)) error = Task.#makeCancelledError(self);
      self.#bits &= ~MUST_CANCEL;
    }
    self.#waitingOn = null;
    let coro = self.#coro;
    if (typeof coro === "function") {
      if (error !== NO_ERROR) {
        // Cancelled before its first step: the function is never called.
        self.#coro = null;
        Task.#finishWithError(self, error);
        return;
      }
      coro = Task.#callFunction(self, coro);
      if (coro === null) return;
    } else if (coro === null) {
      return; // an async task already started; cannot happen
    }
    // The coroutine runs as the current task, in the task's context (Python's
    // `context.run(step)`); both are given back before any bookkeeping.
    const previous = current;
    current = self as Task<unknown>;
    const outer = swapHolder(self);
    let result: IteratorResult<unknown, T>;
    try {
      if (self.#bits & NATIVE) {
        result = error === NO_ERROR ? generatorNext.call(coro) : generatorThrow.call(coro, error);
      } else {
        result = error === NO_ERROR ? coro.next() : coro.throw(error);
      }
    } catch (thrown) {
      current = previous;
      swapHolder(outer);
      Task.#finishWithError(self, thrown);
      return;
    }
    current = previous;
    swapHolder(outer);
    if (result.done) {
      if (self.#bits & MUST_CANCEL) {
        // Cancelled right as the coroutine returned: Python's
        // `super().cancel(msg=self._cancel_message)`.
        self.#bits &= ~MUST_CANCEL;
        Task.#unlink(self);
        cancelFuture(self, self.#cancelMessage);
      } else {
        Task.#resolve(self, result.value);
      }
      return;
    }
    if (!isSuspend(result)) {
      Task.#stepSoon(self, new TypeError(badYieldMessage(result.value)));
      return;
    }
    const future = SUSPEND.value as Future<unknown>;
    SUSPEND.value = undefined;
    if (future === self) {
      Task.#stepSoon(self, new Error(`Task cannot wait on itself: ${self}`));
      return;
    }
    if (future.getLoop() !== self.getLoop()) {
      Task.#stepSoon(
        self,
        new Error(
          `Task ${self.getName()} waited on ${future}, which belongs to another event loop`,
        ),
      );
      return;
    }
    addCallback(future, wakeTask, self as Task<unknown>);
    // A zero-delay sleep is a bare yield: its ready entry wakes the task inline
    // and a cancel is delivered by the flag, not by cancelling the sleep
    // (Python's `await sleep(0)` ordering).
    if (isYieldOnce(future)) return;
    self.#waitingOn = future;
    if ((self.#bits & MUST_CANCEL) !== 0 && future.cancel(self.#cancelMessage)) {
      self.#bits &= ~MUST_CANCEL;
    }
  }

  static #setCoro<T>(self: Task<T>, coro: Coroutine<T>): Coroutine<T> {
    self.#coro = coro;
    if (isNativeGenerator(coro)) self.#bits |= NATIVE;
    return coro;
  }

  /** Calls the task's function; returns the generator to step, or null for an async task. */
  static #callFunction<T>(
    self: Task<T>,
    fn: (signal: AbortSignal) => unknown,
  ): Coroutine<T> | null {
    self.#coro = null;
    const previous = current;
    current = self as Task<unknown>;
    const outer = swapHolder(self);
    let value: unknown;
    try {
      if (asyncSlot !== null && !isGeneratorFunction(fn)) {
        // In the host's async context, holding this task: everything the
        // function awaits, now or after any number of awaits, can find it.
        // (A generator function makes a generator task: it needs none, and
        // entering the context is the costliest thing a task does.)
        self.#bits |= IN_CONTEXT;
        callingFunction = fn;
        value = runInSlot(self, callInContext, self as Task<unknown>);
      } else {
        value = fn.length === 0 ? (fn as () => unknown)() : fn(self.signal);
      }
    } catch (thrown) {
      current = previous;
      swapHolder(outer);
      Task.#finishWithError(self, thrown);
      return null;
    }
    current = previous;
    swapHolder(outer);
    if (value === FOLLOWED) {
      // A native promise, followed in the context. Until the function
      // reaches its first wait, the rest of this step runs on microtasks.
      Task.#hold(self);
      return null;
    }
    if (isGenerator(value) || value instanceof Future) {
      // Not an async task after all: waits the function made (given the
      // task's signal, or awaited) go back to ordinary abort listeners.
      self.#bits &= ~IN_CONTEXT;
      const waits = self.#waitingOn;
      self.#waitingOn = null;
      if (waits instanceof Future) {
        if (!waits.done()) listenForAbort(waits, self.signal);
      } else if (waits !== null) {
        for (const wait of waits) if (!wait.done()) listenForAbort(wait, self.signal);
      }
    }
    if (isGenerator(value)) {
      return Task.#setCoro(self, value as Coroutine<T>);
    }
    if (value instanceof Future) {
      // A function returning a future: wait on it like `return yield* future`,
      // so cancelling the task cancels it.
      return Task.#setCoro(self, adopt(value as Future<T>));
    }
    if (value !== null && typeof value === "object" || typeof value === "function") {
      const then = (value as PromiseLike<T>).then;
      if (typeof then === "function") {
        then.call(
          value,
          (result: T) => Task.#asyncSettled(self, false, result),
          (reason: unknown) => Task.#asyncSettled(self, true, reason),
        );
        return null;
      }
    }
    Task.#resolve(self, value as T);
    return null;
  }

  /** An async task's promise settled. */
  static #asyncSettled<T>(self: Task<T>, rejected: boolean, value: unknown): void {
    if (self.done()) return;
    Task.#finishAsync(self, rejected, value);
    // Last: the loop may go on at once, and it must find the task done.
    Task.#release(self);
  }

  static #finishAsync<T>(self: Task<T>, rejected: boolean, value: unknown): void {
    self.#waitingOn = null; // waits it left behind are not its own any more
    if (!rejected) {
      if (
        (self.#bits & (MUST_CANCEL | IN_CONTEXT | SIGNAL_SEEN)) === (MUST_CANCEL | IN_CONTEXT)
      ) {
        // A cancel request that reached nothing (no wait of ours, no signal
        // anyone had) came while it ran to its end: as Python's step does
        // with `_must_cancel` when the coroutine returns, it ends cancelled.
        self.#bits &= ~MUST_CANCEL;
        Task.#unlink(self);
        cancelFuture(self, self.#cancelMessage);
        return;
      }
      // A result stands after a cancel request it saw (it swallowed the
      // CancelledError, or its signal's abort).
      Task.#resolve(self, value as T);
    } else if (
      self.#bits >= CANCEL_REQUEST && !(value instanceof CancelledError) &&
      ((self.#bits & IN_CONTEXT) === 0 || Task.#isOwnAbort(self, value))
    ) {
      // Rejected with the cancellation, as its signal's abort: the task
      // ends cancelled, the rejection kept as cause. (Without a host
      // context every rejection after a cancel request reads so: the signal
      // was the only way to stop the function.)
      Task.#finishWithError(
        self,
        cancelledError(self.#cancelMessage, value, self.getLoop().getDebug()),
      );
    } else {
      // A CancelledError ends it cancelled; any other error fails it, also
      // after a cancel request (a cleanup that failed), as in Python.
      Task.#finishWithError(self, value);
    }
  }

  /**
   * Whether `error` is this task's signal aborting: its reason, a host's
   * copy of it (workerd's `fetch` rejects with a new Error of the reason's
   * name and message), or an AbortError after it aborted.
   */
  static #isOwnAbort<T>(self: Task<T>, error: unknown): boolean {
    const state = self.#signal;
    if (state === null || typeof state !== "object" || !state.signal.aborted) return false;
    const reason = state.signal.reason;
    if (error === reason) return true;
    if (!(error instanceof Error || error instanceof DOMExceptionOrError)) return false;
    const { name, message } = error as Error;
    return name === "AbortError" ||
      reason instanceof Error && name === reason.name && message === reason.message;
  }

  // ------------------------------------------------- async-function waits
  //
  // A started async-function task has no step to resume: the host runs it.
  // Where the host has an async context, the futures it awaits register
  // themselves here (Future's then(), through addAsyncWait), so that
  // cancel() cancels them and the await throws, exactly where a generator
  // task's yield* would. A wait leaves when its promise settles
  // (asyncWaitDone); one made with the task's signal but never awaited
  // (adoptSignalWait) leaves when a later wait finds it done.

  static #addWait<T>(self: Task<T>, future: Future<unknown>): void {
    const waits = self.#waitingOn;
    if (waits === null || waits === future) {
      self.#waitingOn = future;
    } else if (waits instanceof Future) {
      if (waits.done()) self.#waitingOn = future;
      else self.#waitingOn = new WaitSet(waits, future);
    } else {
      waits.add(future);
    }
  }

  static #removeWait<T>(self: Task<T>, future: Future<unknown>): void {
    const waits = self.#waitingOn;
    if (waits === future) self.#waitingOn = null;
    else if (waits !== null && !(waits instanceof Future)) {
      waits.delete(future);
      if (waits.size === 0) self.#waitingOn = null;
    }
  }

  /** Woken or started: the loop waits for the rest of this step (see holdLoop). */
  static #hold<T>(self: Task<T>): void {
    if ((self.#bits & HELD) !== 0) return;
    const epoch = holdLoop(self.getLoop());
    self.#bits = (self.#bits & ~HELD_EPOCH) | HELD | ((epoch & 1) !== 0 ? HELD_EPOCH : 0);
  }

  static #release<T>(self: Task<T>): void {
    const bits = self.#bits;
    if ((bits & HELD) === 0) return;
    self.#bits = bits & ~HELD;
    releaseLoop(self.getLoop(), (bits & HELD_EPOCH) !== 0 ? 1 : 0);
  }

  static #hasPendingWait<T>(self: Task<T>): boolean {
    const waits = self.#waitingOn;
    if (waits === null) return false;
    if (waits instanceof Future) return !waits.done();
    for (const wait of waits) if (!wait.done()) return true;
    return false;
  }

  /** Cancels every pending wait (Python's `_fut_waiter.cancel(msg)`); whether any was cancelled. */
  static #cancelWaits<T>(
    self: Task<T>,
    msg: string | undefined,
    reason: CancelledError | null,
  ): boolean {
    const waits = self.#waitingOn;
    if (waits === null) return false;
    if (waits instanceof Future) return cancelWait(waits, msg, reason);
    let cancelled = false;
    for (const wait of [...waits]) {
      if (cancelWait(wait, msg, reason)) cancelled = true;
    }
    return cancelled;
  }

  static #resolve<T>(self: Task<T>, value: T): void {
    Task.#unlink(self);
    resolveFuture(self, value);
  }

  static #finishWithError<T>(self: Task<T>, thrown: unknown): void {
    Task.#unlink(self);
    // A CancelledError escaping the coroutine ends the task cancelled; anything else fails it.
    if (thrown instanceof CancelledError) cancelFutureWith(self, thrown);
    else failFuture(self, thrown);
  }

  static #makeCancelledError<T>(self: Task<T>): CancelledError {
    return cancelledError(self.#cancelMessage, undefined, self.getLoop().getDebug());
  }

  /** Schedules a step that throws `error` into the coroutine. */
  static #stepSoon<T>(self: Task<T>, error: unknown): void {
    pushEntry(self.getLoop(), stepTask, self, error);
  }

  /** Appends the task to its loop's live list (creation order). */
  static #link<T>(self: Task<T>, live: LiveTasks): void {
    const tail = live.tail;
    self.#prevLive = tail;
    if (tail !== null) tail.#nextLive = self as Task<unknown>;
    else live.head = self as Task<unknown>;
    live.tail = self as Task<unknown>;
  }

  static #unlink<T>(self: Task<T>): void {
    const prev = self.#prevLive;
    const next = self.#nextLive;
    if (prev === null || next === null) {
      const live = liveTasksOf(self.getLoop());
      if (live.head === self) live.head = next;
      if (live.tail === self) live.tail = prev;
    }
    if (next !== null) next.#prevLive = prev;
    if (prev !== null) prev.#nextLive = next;
    self.#prevLive = self.#nextLive = null;
  }

  static {
    nextLiveTask = (task) => task.#nextLive;
    stepTask = (task, error) => {
      if (!task.done()) Task.#step(task, error);
    };
    wakeTask = (task, future) => {
      if (task.done()) return;
      let error: unknown = NO_ERROR;
      if ((task.#bits & MUST_CANCEL) !== 0 && future.done()) {
        // Python's wakeup reads the future's outcome: a CancelledError from it
        // (with its message) is what the coroutine sees, not a new one. Any
        // other failure is not read: the coroutine gets the cancellation
        // instead, and the failure stays unretrieved, so it is reported
        // (Python drops it here).
        if (future.cancelled()) error = cancelledErrorOf(future);
        else {
          const failure = peekFailure(future);
          if (failure instanceof CancelledError) error = future.exception();
        }
      }
      Task.#step(task, error);
    };
    setTaskWaker(wakeTask);
    installTaskContexts({
      refOf: (value) => value instanceof Task ? value.#context : undefined,
      adopt: (task, context) => {
        (task as Task<unknown>).#context = context;
      },
    });
    installTaskInternals({
      spawnTask,
      pendingCancelMessage: (future) =>
        future instanceof Task ? (future as Task<unknown>).#cancelMessage : undefined,
      taskSignal: (task) => Task.#ownSignal(task),
      driveCoroutine: drive,
      cancelQuietly: (task) => {
        if (!task.done()) Task.#cancel(task, undefined, false);
      },
      startTask: (task, coro, eager, label) => {
        if (isNativeGenerator(coro)) {
          task.#coro = coro as Coroutine<unknown>;
          task.#bits |= NATIVE;
        } else if (typeof coro === "function") {
          task.#coro = coro as (signal: AbortSignal) => unknown;
        } else Task.#setCoro(task, coro as Coroutine<unknown>);
        task.#fn = label;
        if (task.#name === 0) task.#name = ++taskCounter;
        task.#context = currentVars(); // started now: a copy of the context now
        const loop = task.getLoop();
        task.#born = birthTime(loop);
        if (loop.getDebug()) creationStacks.set(task, new Error().stack ?? "");
        Task.#link(task, liveTasksOf(loop));
        if (eager) Task.#eagerStart(task);
        else pushEntry(loop, stepTask, task, NO_ERROR);
      },
      adoptSignalWait: (task, future) => {
        // Only a started async task (its waits are otherwise unused); with a
        // host context any number, else one at a time (others fall back to
        // an abort listener).
        if (task.#coro !== null || task.done() || task.getLoop() !== future.getLoop()) return false;
        const waits = task.#waitingOn;
        if (
          (task.#bits & IN_CONTEXT) === 0 && waits !== null &&
          !(waits instanceof Future && waits.done())
        ) {
          return false;
        }
        // No callback to clear it: a done future among the waits counts as gone.
        Task.#addWait(task, future);
        return true;
      },
      awaitingTask: () => {
        // In a task's step, that task (an async function's first part runs
        // there too); else whatever task's async context this code is in.
        const task = current ?? slotValue();
        if (!(task instanceof Task) || (task.#bits & IN_CONTEXT) === 0 || task.done()) return null;
        return task as Task<unknown>;
      },
      inspectTask: (task) => {
        const waits: Future<unknown>[] = [];
        const w = task.#waitingOn;
        if (w instanceof Future) {
          if (!w.done()) waits.push(w);
        } else if (w !== null) { for (const f of w) if (!f.done()) waits.push(f); }
        const started = task.#coro === null;
        return {
          fn: task.#fn,
          born: task.#born,
          waits,
          running: current === task || (task.#bits & HELD) !== 0,
          isAsync: started && !task.done(),
          waitsKnown: !started || (task.#bits & IN_CONTEXT) !== 0,
          site: suspendSites.get(task),
          created: creationStacks.get(task),
        };
      },
      noteSuspend: () => {
        const task = current;
        if (task !== null && task.getLoop().getDebug()) suspendSites.set(task, captureSite());
      },
      addAsyncWait: (task, future) => {
        if (SUSPEND_SITES.on && task.getLoop().getDebug()) suspendSites.set(task, captureSite());
        // A zero-delay sleep is a bare yield, as in #step: a cancel request
        // is delivered by the flag at the wake-up, not by cancelling it.
        if (!isYieldOnce(future)) {
          Task.#addWait(task, future);
          // Python's step ends so: a request made while the task ran cancels
          // the future it now waits on.
          if ((task.#bits & MUST_CANCEL) !== 0 && future.cancel(task.#cancelMessage)) {
            task.#bits &= ~MUST_CANCEL;
          }
        }
        Task.#release(task); // its step ends here, waiting on `future`; the loop may go on now
        noteAsyncWait(task.getLoop()); // the deadlock check of run() looks again
      },
      asyncWaitDone: (task, future) => {
        Task.#removeWait(task, future);
        if (task.done() || task.#coro !== null || (task.#bits & IN_CONTEXT) === 0) return undefined;
        // Woken: the rest of its step runs on the microtasks that follow this
        // entry, and the loop waits for it (unless other waits still hold it).
        if (!Task.#hasPendingWait(task)) Task.#hold(task);
        if ((task.#bits & MUST_CANCEL) === 0) return undefined;
        // As wakeTask: the future's own CancelledError, else a new one; a
        // plain failure is left unread (so it is reported).
        task.#bits &= ~MUST_CANCEL;
        if (future.cancelled()) return cancelledErrorOf(future);
        const failure = peekFailure(future);
        if (failure instanceof CancelledError) return future.exception();
        return Task.#makeCancelledError(task);
      },
    });
    callInContext = (task) => {
      const fn = callingFunction as (signal: AbortSignal) => unknown;
      callingFunction = null;
      const value = fn.length === 0 ? (fn as () => unknown)() : fn(task.signal);
      if (value instanceof Promise) {
        // Registered here, in the task's context, the reactions find the
        // task in it: no closures per task.
        promiseThen.call(value, asyncFulfilled, asyncRejected);
        return FOLLOWED;
      }
      return value;
    };
    asyncFulfilled = (value) => {
      Task.#asyncSettled(slotValue() as Task<unknown>, false, value);
    };
    asyncRejected = (reason) => {
      Task.#asyncSettled(slotValue() as Task<unknown>, true, reason);
    };
    hooks.contextLoop = () => {
      const task = slotValue();
      return task instanceof Task && !task.done() ? task.getLoop() : null;
    };
    hooks.createTask = (loop, coro, options) => {
      if (options !== undefined) checkOptions("EventLoop.createTask()", options);
      return spawnTask(
        "EventLoop.createTask()",
        loop,
        coro as TaskCoroutine<unknown>,
        options as CreateTaskOptions,
      );
    };
  }
}

function* adopt<T>(future: Future<T>): Coroutine<T> {
  return yield* future;
}

/**
 * The async-function form of a task's step, for a coroutine that runs
 * inside an async-function task (a block, a primitive's operation): each
 * future it `yield*`s is awaited here, in that task's context, so it is one
 * of the task's waits; the outcome goes back in as #step gives it (a
 * rejection, such as a cancellation that came first, is thrown in). A
 * block's async body is awaited as itself (see bodyPromise).
 */
async function drive<T>(coro: Iterator<unknown, T, unknown>): Promise<T> {
  let result = coro.next();
  while (!result.done) {
    if (!isSuspend(result)) {
      result = coro.throw!(new TypeError(badYieldMessage(result.value)));
      continue;
    }
    const future = SUSPEND.value as Future<unknown>;
    SUSPEND.value = undefined;
    let failed = false;
    let error: unknown;
    try {
      const promise = bodyPromise(future);
      // An async body's own promise: no loop entry between its end and the
      // block's (the loop may be waiting for this task to reach its next wait).
      if (promise !== null) resolveFuture(future, await promise);
      else await future;
    } catch (thrown) {
      failed = true;
      error = thrown;
    }
    result = failed ? coro.throw!(error) : coro.next();
  }
  return result.value;
}

/** `wait.cancel(msg)`; a plain Future takes the error already made for it, when there is one. */
function cancelWait(
  wait: Future<unknown>,
  msg: string | undefined,
  reason: CancelledError | null,
): boolean {
  if (wait.done()) return false;
  // A plain future takes the very error; a combinator's (a Task subclass or
  // a FutureKind) cancels its own way.
  if (reason !== null && wait.constructor === Future && kindOf(wait) === undefined) {
    return cancelFutureAs(wait, reason);
  }
  return wait.cancel(msg);
}

/** Several waits of an async-function task (`Promise.all` over futures). */
class WaitSet extends Set<Future<unknown>> {
  /** The size at which done waits (never awaited, so never removed) are dropped. */
  #purgeAt = 8;

  constructor(first: Future<unknown>, second: Future<unknown>) {
    super();
    super.add(first);
    super.add(second);
  }

  override add(future: Future<unknown>): this {
    super.add(future);
    if (this.size >= this.#purgeAt) {
      for (const wait of this) if (wait.done()) this.delete(wait);
      this.#purgeAt = Math.max(8, this.size * 2);
    }
    return this;
  }
}

/** Stands for "the function returned a native promise, followed in the task's context". */
const FOLLOWED: unique symbol = Symbol("followed");
const promiseThen = Promise.prototype.then;

/** DOMException where the host has it (AbortError is one), else Error. */
const DOMExceptionOrError: new () => object = typeof DOMException === "function"
  ? DOMException
  : Error;

function badYieldMessage(value: unknown): string {
  if (value instanceof Future) {
    return `Task got bare yield of ${value}; wait on a future with yield*, not yield`;
  }
  if (isGenerator(value)) {
    // The closest JavaScript gets to Python's "coroutine ... was never awaited".
    return "Task got a yielded generator that was never run: use yield* to run a coroutine, not yield";
  }
  return `Task got bad yield: ${
    describe(value)
  }; a generator task may only yield* futures and tasks`;
}

// ------------------------------------------------------------ task registry
//
// The not-done tasks of each loop, for allTasks() and run()'s shutdown: an
// intrusive doubly linked list through the tasks themselves, in creation
// order (no hashing, no allocation per task). The last loop's list is cached since programs use one
// loop at a time.

interface LiveTasks {
  head: Task<unknown> | null;
  tail: Task<unknown> | null;
}

const registries = new WeakMap<EventLoop, LiveTasks>();
let lastLoop: EventLoop | null = null;
let lastLive: LiveTasks | null = null;

function liveTasksOf(loop: EventLoop): LiveTasks {
  if (loop === lastLoop) return lastLive as LiveTasks;
  let live = registries.get(loop);
  if (live === undefined) {
    live = { head: null, tail: null };
    registries.set(loop, live);
  }
  lastLoop = loop;
  lastLive = live;
  return live;
}

/**
 * Wraps a coroutine in a {@linkcode Task} and schedules its first step in a
 * later loop iteration (or runs it now with `{ eagerStart: true }`). On a
 * loop with a task factory ({@linkcode EventLoop.setTaskFactory}), the
 * factory makes the task, with these options but `loop`.
 *
 * `coro` is a generator object, a generator function, or an async function;
 * a function is called once, on the first step, with the task's
 * `AbortSignal`.
 *
 * Equivalent to Python's `asyncio.create_task()` (3.14, with `eager_start`).
 *
 * @typeParam T The result type.
 * @param coro What to run.
 * @param options Name, eager start, loop, and anything the loop's task factory takes.
 * @returns The task.
 * @throws {TypeError} If `coro` is neither a generator nor a function, or an option is invalid (an unknown one without a task factory).
 *
 * @example Both coroutine styles
 * ```ts
 * import * as asyncio from "@aio/asyncio";
 * import assert from "node:assert/strict";
 *
 * const results = await asyncio.run(function* () {
 *   const generatorTask = asyncio.createTask(function* () {
 *     yield* asyncio.sleep(0);
 *     return "generator";
 *   });
 *   const asyncTask = asyncio.createTask(async (signal: AbortSignal) => {
 *     await asyncio.sleep(0, { signal });
 *     return "async";
 *   }, { name: "worker" });
 *   assert.equal(asyncTask.getName(), "worker");
 *   return yield* asyncio.gather([generatorTask, asyncTask]);
 * });
 * assert.deepEqual(results, ["generator", "async"]);
 * ```
 */
export function createTask<T>(
  coro: TaskCoroutine<T> | Future<T>,
  options?: TaskOptions | CreateTaskOptions,
): Task<T> {
  let loop: EventLoop | undefined;
  if (options !== undefined) {
    checkOptions("createTask()", options);
    loop = options.loop;
    if (loop !== undefined && !(loop instanceof EventLoop)) {
      throw new TypeError(`createTask(): 'loop' must be an EventLoop, got ${describe(loop)}`);
    }
  }
  if (coro instanceof Future) {
    if (loop !== undefined && loop !== coro.getLoop()) {
      throw new Error("createTask(): 'coro' belongs to another event loop than 'loop'");
    }
    return blockAsTask(coro, "createTask()", options) as Task<T>;
  }
  return spawnTask("createTask()", loop ?? getEventLoop(), coro, options as CreateTaskOptions);
}

/**
 * The options {@linkcode createTask}, {@linkcode EventLoop.createTask} and
 * {@linkcode TaskGroup.createTask} take: the task's own, and any other a
 * loop's task factory understands (see {@linkcode EventLoop.setTaskFactory}).
 */
export interface CreateTaskOptions extends TaskOptions {
  /** Options for a task factory; without one, an unknown option is a `TypeError`. */
  readonly [option: string]: unknown;
}

/** The options `new Task()` takes; anything else is for a task factory. */
const TASK_OPTION_NAMES: ReadonlySet<string> = new Set(["name", "eagerStart", "loop", "context"]);

/**
 * Makes a task of a user's coroutine on `loop`: through the loop's task
 * factory when it has one (Python's `loop.create_task()`), else `new
 * Task()`. Every task the package makes for the user comes here.
 */
function spawnTask<T>(
  where: string,
  loop: EventLoop,
  coro: TaskCoroutine<T>,
  options: CreateTaskOptions | undefined,
): Task<T> {
  const factory = loop.getTaskFactory();
  if (factory === null) {
    if (options === undefined) {
      // No options object per task: the constructor reads (and clears) this one.
      TASK_LOOP.loop = loop;
      taskWhere = where;
      return new Task(coro, TASK_LOOP);
    }
    for (const key in options) {
      if (!TASK_OPTION_NAMES.has(key)) {
        throw new TypeError(
          `${where}: unknown option '${key}' (only a loop's task factory takes other options)`,
        );
      }
    }
    const taskOptions = options.loop === loop ? options : { ...options, loop };
    taskWhere = where;
    return new Task(coro, taskOptions);
  }
  // Python passes the keyword arguments on as they are, without the loop.
  const factoryOptions: Record<string, unknown> = {};
  if (options !== undefined) {
    for (const key in options) if (key !== "loop") factoryOptions[key] = options[key];
  }
  const task = factory(loop, coro as TaskCoroutine<unknown>, factoryOptions);
  if (!(task instanceof Task)) {
    throw new TypeError(
      `${where}: the loop's task factory must return a Task, got ${describe(task)}`,
    );
  }
  return task as Task<T>;
}

/** The options object of spawnTask's commonest call (a loop, nothing else). */
const TASK_LOOP: TaskOptions = { loop: undefined };

/**
 * The task whose step is running, or `null` outside any task. In an async
 * function it stays right across awaits where the host has an async
 * context (see the README's "Runs on"); elsewhere only until the first
 * `await`.
 *
 * Equivalent to Python's `asyncio.current_task()`.
 *
 * @returns The running task or `null`.
 *
 * @example
 * ```ts
 * import * as asyncio from "@aio/asyncio";
 * import assert from "node:assert/strict";
 *
 * await asyncio.run(function* () {
 *   const me = asyncio.currentTask();
 *   assert.ok(me instanceof asyncio.Task);
 *   yield* asyncio.sleep(0);
 *   assert.equal(asyncio.currentTask(), me);
 * });
 * assert.equal(asyncio.currentTask(), null);
 * ```
 */
export function currentTask(): Task<unknown> | null {
  if (current !== null) return current;
  const task = slotValue();
  return task instanceof Task && !task.done() ? task as Task<unknown> : null;
}

/**
 * The tasks of the current loop that are not done yet.
 *
 * Equivalent to Python's `asyncio.all_tasks()`.
 *
 * @param loop The loop to ask about.
 * @returns A new set of tasks.
 *
 * @example
 * ```ts
 * import * as asyncio from "@aio/asyncio";
 * import assert from "node:assert/strict";
 *
 * await asyncio.run(function* () {
 *   const other = asyncio.createTask(function* () {
 *     yield* asyncio.sleep(0);
 *   });
 *   const tasks = asyncio.allTasks();
 *   assert.ok(tasks.has(other));
 *   assert.ok(tasks.has(asyncio.currentTask()!));
 *   yield* other;
 *   assert.equal(asyncio.allTasks().has(other), false);
 * });
 * ```
 */
export function allTasks(loop: EventLoop = getEventLoop()): Set<Task<unknown>> {
  if (!(loop instanceof EventLoop)) {
    throw new TypeError(`allTasks(): 'loop' must be an EventLoop, got ${describe(loop)}`);
  }
  const tasks = new Set<Task<unknown>>();
  for (let t = liveTasksOf(loop).head; t !== null; t = nextLiveTask(t)) tasks.add(t);
  return tasks;
}

// The first instance the program makes keeps the class's map alive (see _shapes.ts).
let taskShaped = false;

/** A dormant task, and its loop's list of live tasks (an object literal, whose map dies with the last list). */
function taskShape(loop: EventLoop): unknown {
  DORMANT.loop = loop;
  const task = new Task(null as never, DORMANT as TaskOptions);
  DORMANT.loop = undefined;
  return [task, liveTasksOf(loop)];
}
