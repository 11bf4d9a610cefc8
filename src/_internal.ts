/**
 * Package-private plumbing between the public modules: live bindings that
 * each class fills in from its static block (where it can reach its
 * `#private` state), so that other modules of the package can use them
 * without them becoming public API. Nothing here is exported from mod.ts.
 *
 * Dependency direction stays one way at runtime: this module imports types
 * only.
 *
 * @module
 */

import type { EventLoop } from "./event_loop.ts";
import type { Clock } from "./clock.ts";
import type { Handle, TimerHandle } from "./handle.ts";
import type { Future } from "./future.ts";
import type { Task, TaskCoroutine, TaskOptions } from "./task.ts";
import type { CancelledError } from "./errors.ts";

// deno-lint-ignore no-explicit-any
export type Entry = (a: any, b: any) => void;
/** Called by a timer handle when it is cancelled while in a loop's timer heap. */
export type CancelHook = (handle: TimerHandle) => void;

// ------------------------------------------------------------ handles

/** Runs a handle's callback (the loop catches what it throws). */
export let runHandle: (handle: Handle) => void;
/** Describes a handle's callback for reports. */
export let handleCallbackName: (handle: Handle) => string;
/** Heap order of timers: deadline, then scheduling order. */
export let timerLess: (a: TimerHandle, b: TimerHandle) => boolean;
/** Sets or clears the hook a timer calls when cancelled while in a heap. */
export let setCancelHook: (handle: TimerHandle, hook: CancelHook | null) => void;

/** A timer handle whose callback takes one argument (never an array), kept without an array. */
// deno-lint-ignore no-explicit-any
export let makeTimer: (when: number, callback: (arg: any) => unknown, arg: unknown) => TimerHandle;

export function installHandleInternals(x: {
  runHandle: typeof runHandle;
  handleCallbackName: typeof handleCallbackName;
  timerLess: typeof timerLess;
  setCancelHook: typeof setCancelHook;
  makeTimer: typeof makeTimer;
}): void {
  ({ runHandle, handleCallbackName, timerLess, setCancelHook, makeTimer } = x);
}

// ------------------------------------------------------------ clocks

/**
 * The deadlock window of a clock, in real ms (VirtualClock's
 * `deadlockAfterMs`): finite only for a VirtualClock with autojump.
 */
export let deadlockWindow: (clock: Clock) => number = () => Infinity;

export function installClockInternals(fn: typeof deadlockWindow): void {
  deadlockWindow = fn;
}

// ------------------------------------------------------------ the loop

/** Appends `fn(a, b)` to the loop's ready queue, without a Handle: the cheap path. */
export let pushEntry: (loop: EventLoop, fn: Entry, a: unknown, b: unknown) => void;
/**
 * Tells the loop that an async-function task is running its step on host
 * microtasks (it was just started or woken): the loop's next entry waits
 * until the task reaches its next wait ({@linkcode releaseLoop}).
 */
export let holdLoop: (loop: EventLoop) => number;
/** A task of {@linkcode holdLoop} (which returned `epoch`) reached its next wait, or finished. */
export let releaseLoop: (loop: EventLoop, epoch: number) => void;
/** Schedules `fn(arg)` at loop time `when` on the loop's timer heap (no argument array). */
export let scheduleTimer: <A>(
  loop: EventLoop,
  when: number,
  fn: (arg: A) => void,
  arg: A,
) => TimerHandle;
/**
 * Sets what the loop calls when it goes idle with no timer armed (nothing
 * it can ever do by itself), or when an async-function task's wait begins
 * while it is so; null removes it. For run()'s deadlock check.
 */
export let setIdleHook: (loop: EventLoop, hook: (() => void) | null) => void;
/** Whether the loop is idle: nothing ready or held, no timer armed. */
export let isIdle: (loop: EventLoop) => boolean;
/** An async-function task of `loop` began a wait (the deadlock check looks again). */
export let noteAsyncWait: (loop: EventLoop) => void;
/** Makes `loop` the running loop for a whole run(); throws if one is running. */
export let enterRun: (loop: EventLoop) => void;
/** Ends what enterRun began. */
export let exitRun: (loop: EventLoop) => void;

/** A new task's birth in loop time, for its age in the task tree; null where that would cost a real clock read. */
export let birthTime: (loop: EventLoop) => number | null;

export function installLoopInternals(x: {
  pushEntry: typeof pushEntry;
  holdLoop: typeof holdLoop;
  releaseLoop: typeof releaseLoop;
  scheduleTimer: typeof scheduleTimer;
  enterRun: typeof enterRun;
  exitRun: typeof exitRun;
  setIdleHook: typeof setIdleHook;
  isIdle: typeof isIdle;
  noteAsyncWait: typeof noteAsyncWait;
  birthTime: typeof birthTime;
}): void {
  ({
    pushEntry,
    birthTime,
    holdLoop,
    releaseLoop,
    scheduleTimer,
    enterRun,
    exitRun,
    setIdleHook,
    isIdle,
    noteAsyncWait,
  } = x);
}

/** What futures, tasks and ensureFuture plug into the loop (the loop does not import them). */
export const hooks = {
  createFuture: (_loop: EventLoop): unknown => {
    throw new Error("futures are not loaded; import the package from mod.ts");
  },
  createTask: (_loop: EventLoop, _coro: unknown, _options: unknown): unknown => {
    throw new Error("tasks are not loaded; import the package from mod.ts");
  },
  ensureFuture: (_loop: EventLoop, _aw: unknown, _where: string, _arg: string): Future<unknown> => {
    throw new Error("tasks are not loaded; import the package from mod.ts");
  },
  loopClosing: (_loop: EventLoop): void => {},
  /** The loop of the async-function task whose context this code runs in, or null. */
  contextLoop: (): EventLoop | null => null,
  /** The entry that calls a user's done callback (the loop names the callback in reports). */
  doneCallbackTrampoline: null as Entry | null,
};

// ------------------------------------------------------------ futures

/**
 * Passed as Future's constructor options by the package's subclasses after
 * setting `loop` (and reset after): the constructor then trusts the loop
 * without checking it or allocating an options object.
 */
export const TRUSTED_LOOP: { loop: EventLoop | undefined } = { loop: undefined };

// `inline`: see Future's #finish: waiting tasks resume now, not in the next iteration.
/** Completes a future with a result, skipping the public checks. */
export let resolveFuture: <T>(future: Future<T>, value: T, inline?: boolean) => void;
/** Completes a future with an exception, skipping the public checks. */
export let failFuture: (future: Future<unknown>, exception: unknown, inline?: boolean) => void;
/** Cancels a pending future with a given CancelledError (keeps its cause). */
export let cancelFutureWith: (
  future: Future<unknown>,
  error: CancelledError,
  inline?: boolean,
) => void;
/** Registers the task wake-up function, which inline completions may call directly. */
export let setTaskWaker: (fn: unknown) => void;
/**
 * Adds an internal done callback, called as `fn(arg, future)` in a later
 * iteration; `arg` must not be `undefined`. Allocation-free for the first one.
 */
export let addCallback: <A>(
  future: Future<unknown>,
  fn: (arg: A, future: Future<unknown>) => void,
  arg: A,
) => void;
/** Removes internal callbacks added with the same `fn` and `arg`; returns how many. */
export let removeCallback: (future: Future<unknown>, fn: unknown, arg: unknown) => number;
/** Whether an internal callback with this `fn` and `arg` is registered. */
export let hasCallback: (future: Future<unknown>, fn: unknown, arg: unknown) => boolean;
/** Marks a future as a zero-delay sleep (see sleep.ts and Task's step). */
export let markYieldOnce: (future: Future<unknown>) => void;
/** Whether a future is a zero-delay sleep. */
export let isYieldOnce: (future: Future<unknown>) => boolean;
/** The CancelledError a cancelled future raises now (Python's `_make_cancelled_error()`). */
export let cancelledErrorOf: (future: Future<unknown>) => CancelledError;
/** The CancelledError gather() reports for a cancelled child (it carries the cancel message). */
export let cancelledErrorForResults: (future: Future<unknown>) => CancelledError;
/** Cancels a pending future with a message, like `Future.prototype.cancel` (also on a Task). */
export let cancelFuture: (
  future: Future<unknown>,
  msg: string | undefined,
  inline?: boolean,
) => void;
/**
 * `future.cancel(error.message)` of a plain Future, with the CancelledError
 * made already (a task shares it with its signal's abort); false if done.
 */
export let cancelFutureAs: (future: Future<unknown>, error: CancelledError) => boolean;
/** Marks a future's exception as retrieved without reading it. */
export let silence: (future: Future<unknown>) => void;
/** A failed future's exception, without marking it retrieved (undefined otherwise). */
export let peekFailure: (future: Future<unknown>) => unknown;
/** Gives a pending future a timer that is cancelled when the future completes (sleep). */
export let ownTimer: (future: Future<unknown>, timer: TimerHandle) => void;
/**
 * A promise of `future` (as its `then` makes, so a wait of the awaiting
 * async-function task), settled with `outcome(future)` in place of its result.
 */
export let promiseOf: (
  future: Future<unknown>,
  outcome: (future: Future<unknown>) => unknown,
) => Promise<unknown>;

/**
 * Makes awaiting a future no wait of the awaiting task: cancelling the task
 * leaves it alone (a block's view of an async body, which its own awaits
 * cancel).
 */
export let markNotAWait: (future: Future<unknown>) => void;

/** Records that `waiter` awaits `future` (Python's `future_add_to_awaited_by`), unchecked. */
export let addAwaitedBy: (future: Future<unknown>, waiter: Future<unknown>) => void;
/** Removes what addAwaitedBy recorded. */
export let discardAwaitedBy: (future: Future<unknown>, waiter: Future<unknown>) => void;
/** The futures recorded as awaiting `future` (not the tasks that wait on it directly). */
export let awaitedByOf: (future: Future<unknown>) => Future<unknown>[];
/**
 * Names a pending primitive waiter by the operation it serves (a WaitOp that
 * a task drives itself): costs no field, kept until the waiter is done.
 */
export let labelWait: (future: Future<unknown>, op: unknown) => void;
/** What labelWait gave a pending future, or undefined. */
export let waitLabelOf: (future: Future<unknown>) => unknown;
/** The timer of a pending sleep, or undefined. */
export let timerOf: (future: Future<unknown>) => TimerHandle | undefined;
/** The arguments registered with internal callback `fn` on a pending future. */
export let callbackArgs: (future: Future<unknown>, fn: unknown) => unknown[];

/** A combinator future's own name for the task tree ("gather() of 3"), on its FutureKind. */
export const WAIT_NAME: unique symbol = Symbol("asyncio wait name");

/**
 * What a combinator's or a wait operation's future does unlike a plain one,
 * in place of a Future subclass: every subclass is one more hidden class for
 * Future's methods to meet, and past four V8's inline caches go megamorphic
 * for the whole program (the lock workload ran 2.2 times slower in a process
 * that had once used wait(), shield() and timeout()). The future keeps a
 * plain Future's shape, and its kind in its value slot while it is pending;
 * `cancel()`, `[Symbol.iterator]()`, `then()` and the task tree ask the kind.
 */
export interface FutureKind {
  /** Replaces `Future.cancel()`; {@linkcode plainCancel} is the plain one. */
  cancel(future: Future<unknown>, msg: string | undefined): boolean;
  /** The task tree's name for a wait on the future. */
  readonly [WAIT_NAME]?: string;
  /** Replaces `Future[Symbol.iterator]()` (a plain future is its own iterator). */
  iterator?(future: Future<unknown>): Iterator<Future<unknown>, unknown, unknown>;
  /** Replaces `Future.then()`; `promiseOf(future).then(...)` is the plain one. */
  then?(
    future: Future<unknown>,
    onfulfilled: ((value: unknown) => unknown) | null | undefined,
    onrejected: ((reason: unknown) => unknown) | null | undefined,
  ): Promise<unknown>;
}

/**
 * Gives `future` (pending, plain, just made by the package) its kind, kept
 * while it is pending. `quietWhenDone`: once done, `cancel()` returns false
 * without marking its exception retrieved (CPython's _GatheringFuture).
 */
export let setKind: (future: Future<unknown>, kind: FutureKind, quietWhenDone?: boolean) => void;
/** The kind of a pending `future`, or undefined (a plain one, or done). */
export let kindOf: (future: Future<unknown>) => FutureKind | undefined;
/** `Future.prototype.cancel` as a plain future does it. */
export let plainCancel: (future: Future<unknown>, msg: string | undefined) => boolean;

/**
 * Set once any loop is in debug mode: waits then tell the task that
 * suspends where it did ({@linkcode noteSuspend}); one load per wait otherwise.
 */
export const SUSPEND_SITES: { on: boolean } = { on: false };
/** Records, in debug mode, the stack of the running task as it suspends now (see task.ts). */
export let noteSuspend: () => void = () => {};

export function installFutureInternals(x: {
  resolveFuture: typeof resolveFuture;
  failFuture: typeof failFuture;
  cancelFutureWith: typeof cancelFutureWith;
  addCallback: typeof addCallback;
  removeCallback: typeof removeCallback;
  hasCallback: typeof hasCallback;
  markYieldOnce: typeof markYieldOnce;
  isYieldOnce: typeof isYieldOnce;
  cancelledErrorOf: typeof cancelledErrorOf;
  cancelledErrorForResults: typeof cancelledErrorForResults;
  cancelFuture: typeof cancelFuture;
  cancelFutureAs: typeof cancelFutureAs;
  silence: typeof silence;
  peekFailure: typeof peekFailure;
  setTaskWaker: typeof setTaskWaker;
  ownTimer: typeof ownTimer;
  promiseOf: typeof promiseOf;
  markNotAWait: typeof markNotAWait;
  addAwaitedBy: typeof addAwaitedBy;
  discardAwaitedBy: typeof discardAwaitedBy;
  awaitedByOf: typeof awaitedByOf;
  labelWait: typeof labelWait;
  waitLabelOf: typeof waitLabelOf;
  timerOf: typeof timerOf;
  callbackArgs: typeof callbackArgs;
  setKind: typeof setKind;
  kindOf: typeof kindOf;
  plainCancel: typeof plainCancel;
}): void {
  ({
    resolveFuture,
    failFuture,
    cancelFutureWith,
    addCallback,
    removeCallback,
    hasCallback,
    markYieldOnce,
    isYieldOnce,
    cancelledErrorOf,
    cancelledErrorForResults,
    cancelFuture,
    cancelFutureAs,
    silence,
    peekFailure,
    setTaskWaker,
    ownTimer,
    promiseOf,
    markNotAWait,
    addAwaitedBy,
    discardAwaitedBy,
    awaitedByOf,
    labelWait,
    waitLabelOf,
    timerOf,
    callbackArgs,
    setKind,
    kindOf,
    plainCancel,
  } = x);
}

// ------------------------------------------------------------ tasks

/**
 * Passed as a Task's options (after setting `loop`) by the package's blocks:
 * the task is made dormant, not started, registered or numbered; see
 * {@linkcode startTask}.
 */
export const DORMANT: { loop: EventLoop | undefined } = { loop: undefined };

/**
 * `task.cancel()` that leaves the task's signal alone: what a block asks of
 * the task that runs it (a deadline, a failing child of a group), taken
 * back with `uncancel()`; the block aborts its body's own signal instead.
 */
export let cancelQuietly: (task: Task<unknown>) => void;
/** A task's signal for the package's own use (a block's body signal follows it). */
export let taskSignal: (task: Task<unknown>) => AbortSignal;

/** Gives a dormant task its coroutine and starts it as any new task (in the next iteration, or eagerly). */
export let startTask: (task: Task<unknown>, coro: unknown, eager: boolean, label: string) => void;

/**
 * Starts a dormant block (see _block.ts) as a task of its own, for the
 * combinators that take futures; any other future is returned as it is.
 */
export let activate: <F extends Future<unknown>>(future: F) => F = (future) => future;

/**
 * Runs a coroutine from an async function, in the async context it is
 * called in: each future it `yield*`s is awaited there (one of the waits of
 * that context's task) and its outcome goes back in as a task's step would
 * give it. For blocks and operations that run inside an async-function task.
 */
export let driveCoroutine: <T>(
  coro: Iterator<unknown, T, unknown>,
) => Promise<T>;

/** The promise behind a block's view of an async body (see _block.ts), else null. */
export let bodyPromise: (future: Future<unknown>) => PromiseLike<unknown> | null = () => null;

/** Installs {@linkcode bodyPromise} (from _block.ts). */
export function installBodyPromise(fn: typeof bodyPromise): void {
  bodyPromise = fn;
}

/** `createTask(block)`: the block becomes the task (see _block.ts). */
export let blockAsTask: (
  value: unknown,
  where: string,
  options: { readonly name?: string; readonly eagerStart?: boolean } | undefined,
) => Task<unknown>;

/** Installs {@linkcode activate} and {@linkcode blockAsTask} (from _block.ts). */
export function installActivate(fn: typeof activate, asTask: typeof blockAsTask): void {
  activate = fn;
  blockAsTask = asTask;
}

/**
 * Lets a started async-function task cancel a wait made with its own signal
 * directly, instead of through an abort listener (in Deno a listener costs
 * about 3 µs and 660 bytes). Returns false when the task cannot take it.
 */
export let adoptSignalWait: (task: Task<unknown>, future: Future<unknown>) => boolean;

/**
 * The started async-function task that code running now belongs to (through
 * the host's async context, see _host.ts), or null: a future whose `then` is
 * called there becomes a wait of that task.
 */
export let awaitingTask: () => Task<unknown> | null = () => null;

/**
 * Makes a pending future a wait of an async-function task: `task.cancel()`
 * cancels it. A cancel request not delivered yet cancels it at once.
 */
export let addAsyncWait: (task: Task<unknown>, future: Future<unknown>) => void;

/**
 * A wait of an async-function task is done: forgets it, and returns the
 * CancelledError the await must raise instead of the future's outcome when
 * a cancel request came meanwhile (Python's wake-up reads `_must_cancel`),
 * else undefined.
 */
export let asyncWaitDone: (task: Task<unknown>, future: Future<unknown>) => unknown;

/** The expando key on a task's AbortSignal that points back to the task. */
export const SIGNAL_TASK: unique symbol = Symbol("asyncio task");

/**
 * Makes a task of a user's coroutine on `loop`, through the loop's task
 * factory when it has one (see task.ts); argument errors name `where`, the
 * function the user called.
 */
export let spawnTask: <T>(
  where: string,
  loop: EventLoop,
  coro: TaskCoroutine<T>,
  options?: TaskOptions & { readonly [option: string]: unknown },
) => Task<T>;

/**
 * The message of a task's last must-cancel request (Python's Task._cancel_message,
 * which stays set even if the task then finishes normally), or undefined for a future.
 */
export let pendingCancelMessage: (future: Future<unknown>) => string | undefined;

/** What graph.ts and the task tree read of a task (see inspectTask). */
export interface TaskSnapshot {
  /** The function the task was made from (or a block's label), or null for a generator object. */
  fn: ((...args: never[]) => unknown) | string | null;
  /** The loop time when the task was created (or, for a block, started); null where not recorded (see birthTime). */
  born: number | null;
  /** The pending futures it waits on now (a generator task: none or one). */
  waits: Future<unknown>[];
  /** Whether its step is running now. */
  running: boolean;
  /** A started async-function task (the host runs it). */
  isAsync: boolean;
  /** Its waits are known (a generator task, or an async one in the host's async context). */
  waitsKnown: boolean;
  /** Debug mode: the stack where it last suspended. */
  site: Error | undefined;
  /** Debug mode: the stack where it was created. */
  created: string | undefined;
}

/** A snapshot of a task for the call graph and the task tree. */
export let inspectTask: (task: Task<unknown>) => TaskSnapshot;

export function installTaskInternals(x: {
  spawnTask: typeof spawnTask;
  pendingCancelMessage: typeof pendingCancelMessage;
  startTask: typeof startTask;
  cancelQuietly: typeof cancelQuietly;
  taskSignal: typeof taskSignal;
  driveCoroutine: typeof driveCoroutine;
  adoptSignalWait: typeof adoptSignalWait;
  awaitingTask: typeof awaitingTask;
  addAsyncWait: typeof addAsyncWait;
  asyncWaitDone: typeof asyncWaitDone;
  inspectTask: typeof inspectTask;
  noteSuspend: typeof noteSuspend;
}): void {
  ({
    spawnTask,
    inspectTask,
    noteSuspend,
    pendingCancelMessage,
    startTask,
    cancelQuietly,
    taskSignal,
    driveCoroutine,
    adoptSignalWait,
    awaitingTask,
    addAsyncWait,
    asyncWaitDone,
  } = x);
}

/**
 * The iterator result a pending future hands to `yield*`. One shared object
 * (its `value` set just before it is returned) so that suspending a task
 * allocates no result object; the task reads it at once. Its identity also
 * tells the task that the future came through `yield*`, not a bare `yield`.
 */
export const SUSPEND: { done: false; value: Future<unknown> | undefined } = {
  done: false,
  value: undefined,
};

/**
 * Whether a coroutine's step result is a future's SUSPEND (it came through
 * `yield*`, not a bare `yield`). JavaScriptCore (Bun, Safari) copies the inner
 * iterator's result in `yield*` instead of passing it through as the spec
 * says, so a copy carrying the announced future counts too (SUSPEND.value is
 * cleared after each read, so a bare `yield future` is still told apart).
 */
export function isSuspend(result: IteratorResult<unknown, unknown>): boolean {
  return result === SUSPEND || (result.value !== undefined && result.value === SUSPEND.value);
}
