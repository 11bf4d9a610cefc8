/**
 * Runner and run(): run programs on an event loop of their own, turn Ctrl-C
 * into a cancellation of the main task, and clean up after them.
 *
 * @module
 */

import { EventLoop, getRunningLoop } from "./event_loop.ts";
import type { Clock } from "./clock.ts";
import type { Future } from "./future.ts";
import { allTasks, Task, type TaskCoroutine } from "./task.ts";
import type { Awaitable, AwaitedResult } from "./ensure_future.ts";
import { CancelledError, DeadlockError, InvalidStateError, KeyboardInterrupt } from "./errors.ts";
import {
  deadlockWindow,
  enterRun,
  exitRun,
  inspectTask,
  isIdle,
  setIdleHook,
  spawnTask,
} from "./_internal.ts";
import { Context } from "./_context.ts";
import { copyContext } from "./contextvars.ts";
import { checkAwaitable, followsForeignWork, toFuture } from "./_to_future.ts";
import { renderTree } from "./_tree.ts";
import { gather } from "./gather.ts";
import { addInterruptListener, addSignalListener, type RemoveListener } from "./_host.ts";
import { DISPOSE } from "./_wait_op.ts";
import { checkOptions, describe, isGenerator } from "./_validate.ts";
import { asyncSlot } from "./_host.ts";

/** In debug mode without a host context, how long (loop ms) a cancelled left-over may take before it is reported. */
const STUCK_REPORT_MS = 1_000;

/** `Symbol.asyncDispose`, or its registered stand-in where the host lacks it (Node 20). */
const ASYNC_DISPOSE: typeof Symbol.asyncDispose =
  (Symbol.asyncDispose ?? Symbol.for("Symbol.asyncDispose")) as typeof Symbol.asyncDispose;

/** Options for {@linkcode Runner.run}. */
export interface RunnerRunOptions {
  /**
   * The context main's task runs in (itself, not a copy).
   *
   * @default {the runner's context: a copy of the one current when the runner made its loop, shared by its runs}
   */
  context?: Context;
}

/** Options for {@linkcode Runner}. */
export interface RunnerOptions {
  /**
   * The clock of the runner's loop; a {@linkcode VirtualClock} makes the runs deterministic.
   *
   * @default {the real clock}
   */
  clock?: Clock;
  /**
   * Debug mode for the runner's loop (slow-callback reports, task creation
   * stacks, where each task last suspended in the call graph and the task
   * tree). With `handleSignals`, SIGQUIT (Ctrl-\\) prints the task tree
   * ({@linkcode formatTaskTree}) to stderr during a run instead of ending
   * the process.
   *
   * @default {false}
   */
  debug?: boolean;
  /**
   * While a run is in progress, the first SIGINT (Ctrl-C) cancels the main
   * task and the run rejects with {@linkcode KeyboardInterrupt}; a second
   * one is left to the host, which ends the process. In debug mode, SIGQUIT
   * prints the task tree. Only where the host has a signal API (Deno, Node,
   * Bun); elsewhere nothing is installed.
   *
   * @default {true}
   */
  handleSignals?: boolean;
}

/** Options for {@linkcode run}: those of the {@linkcode Runner} it makes for one run. */
export type RunOptions = RunnerOptions;

interface CheckedOptions {
  clock: Clock | undefined;
  debug: boolean;
  handleSignals: boolean;
}

/** The three states of Python's `Runner`: a loop is made on first use and closed once. */
type RunnerState = "created" | "initialized" | "closed";

/** Set in Runner's static block: a one-shot run that closes the runner when it ends. */
let runThenClose: (runner: Runner, main: unknown) => Promise<unknown>;

/**
 * Runs programs on one event loop of its own, any number of times, one
 * after the other, and closes it at the end.
 *
 * The loop is made on first use ({@linkcode Runner.run} or
 * {@linkcode Runner.getLoop}) and kept between runs, with everything on it:
 * a task started in one run and still pending is there in the next.
 * {@linkcode Runner.close} cancels the tasks left, waits for their
 * cleanup, reports the exceptions nobody retrieved and closes the loop;
 * `await using` does it at the end of the block.
 *
 * While a run is in progress, the first Ctrl-C (SIGINT) cancels its main
 * task; once main has finished its cleanup, the run rejects with
 * {@linkcode KeyboardInterrupt}. A second Ctrl-C during that cleanup is
 * left to the host, which ends the process. The listener exists only while
 * a run is in progress (option `handleSignals: false` turns it off).
 *
 * Equivalent to Python's `asyncio.Runner` (3.11+), with a clock instead of
 * `loop_factory`. As there, every run's main task runs in the runner's
 * context (made with its loop) unless `run()` is given one, so context
 * variables a run sets are seen by the next. Unlike Python's loop, this one
 * keeps running its callbacks between runs (a JavaScript loop never blocks
 * the host), but it is the running loop only during a run.
 *
 * @example Several runs on one loop, and the state kept between them
 * ```ts
 * import * as asyncio from "@aio/asyncio";
 * import assert from "node:assert/strict";
 *
 * await using runner = new asyncio.Runner({ clock: new asyncio.VirtualClock({ autojump: true }) });
 * const queue = new asyncio.Queue<string>();
 * await runner.run(function* () {
 *   yield* queue.put("from the first run");
 * });
 * const item = await runner.run(() => queue.get());
 * assert.equal(item, "from the first run");
 * assert.equal(runner.getLoop().isClosed(), false);
 * ```
 *
 * @example Closing cancels the tasks left and waits for their cleanup
 * ```ts
 * import * as asyncio from "@aio/asyncio";
 * import assert from "node:assert/strict";
 *
 * const log: string[] = [];
 * const runner = new asyncio.Runner({ clock: new asyncio.VirtualClock({ autojump: true }) });
 * await runner.run(function* () {
 *   asyncio.createTask(function* () {
 *     try {
 *       yield* asyncio.sleep(60_000);
 *     } finally {
 *       log.push("background task cleaned up");
 *     }
 *   });
 * });
 * const loop = runner.getLoop();
 * await runner.close();
 * assert.deepEqual(log, ["background task cleaned up"]);
 * assert.ok(loop.isClosed());
 * assert.throws(() => runner.getLoop(), asyncio.InvalidStateError);
 * ```
 */
export class Runner {
  #clock: Clock | undefined;
  #debug: boolean;
  #handleSignals: boolean;
  #state: RunnerState = "created";
  #loop: EventLoop | null = null;
  /** The context main tasks run in (Python's `Runner._context`), made with the loop. */
  #context: Context | null = null;
  /** Whether a run of this runner is in progress. */
  #running = false;
  /** The shutdown once begun: a second close() waits for the same one. */
  #closing: Promise<void> | null = null;

  /**
   * Creates a runner. Its loop is made on first use.
   *
   * @param options The clock, debug mode and Ctrl-C handling.
   * @throws {TypeError} If an option has the wrong type.
   */
  constructor(options?: RunnerOptions) {
    const checked = checkRunnerOptions("Cannot create Runner", options);
    this.#clock = checked.clock;
    this.#debug = checked.debug;
    this.#handleSignals = checked.handleSignals;
  }

  /**
   * Runs `main` on the runner's loop and resolves with its result (or
   * rejects with its error). Tasks it leaves pending stay on the loop for
   * the next run, or until {@linkcode Runner.close}.
   *
   * @typeParam A The type of `main`.
   * @param main The program: a generator function, an async function, a generator, a future or a promise.
   * @param options The context main's task runs in.
   * @returns A promise of main's result.
   * @throws {TypeError} If `main` is not awaitable, or `options.context` is not a Context.
   * @throws {InvalidStateError} If the runner is closed.
   * @throws {Error} If a run of this runner is in progress, or another event loop is running.
   *
   * @example A run, and the loop it ran on
   * ```ts
   * import * as asyncio from "@aio/asyncio";
   * import assert from "node:assert/strict";
   *
   * await using runner = new asyncio.Runner({ clock: new asyncio.VirtualClock({ autojump: true }) });
   * const loop = await runner.run(function* () {
   *   yield* asyncio.sleep(1_000);
   *   return asyncio.getRunningLoop();
   * });
   * assert.equal(loop, runner.getLoop());
   * assert.equal(loop.time(), 1_000);
   * assert.equal(loop.isRunning(), false); // only during a run
   * ```
   */
  run<A extends Awaitable<unknown>>(
    main: A,
    options?: RunnerRunOptions,
  ): Promise<AwaitedResult<A>> {
    let context: Context | undefined;
    if (options !== undefined) {
      checkOptions("Runner.run()", options);
      context = options.context;
      if (context !== undefined && !(context instanceof Context)) {
        throw new TypeError(`Runner.run(): 'context' must be a Context, got ${describe(context)}`);
      }
    }
    return this.#run("Runner.run()", main, false, context) as Promise<AwaitedResult<A>>;
  }

  /**
   * The runner's event loop, made now if it does not exist yet.
   *
   * @returns The loop.
   * @throws {InvalidStateError} If the runner is closed.
   */
  getLoop(): EventLoop {
    return this.#lazyInit("Runner.getLoop()");
  }

  /**
   * Shuts the runner down: cancels the tasks left on its loop, waits for
   * them to finish (their `finally` blocks run), reports failures nobody
   * retrieved to the loop's exception handler, and closes the loop. A
   * second call waits for the same shutdown; a runner that never made its
   * loop is simply closed.
   *
   * @returns A promise that resolves once the loop is closed.
   * @throws {Error} If a run of this runner is in progress, or another event loop is running.
   */
  close(): Promise<void> {
    return this.#close("Runner.close()", false);
  }

  /**
   * Closes the runner at the end of a `using` block. Without tasks left
   * (the usual case) the loop is closed at once; otherwise they are
   * cancelled at once and the loop closes when their cleanup is done, in
   * the background (prefer `await using`, which waits for it).
   *
   * @throws {Error} If a run of this runner is in progress, or another event loop is running.
   */
  [DISPOSE](): void {
    const loop = this.#loop;
    this.#close("Runner[Symbol.dispose]()", true).catch((error) => {
      // Nobody awaits a background shutdown: what fails in it is reported.
      loop?.callExceptionHandler({ message: "Runner shutdown failed", exception: error });
    });
  }

  /**
   * Closes the runner at the end of an `await using` block: {@linkcode Runner.close}.
   *
   * @returns A promise that resolves once the loop is closed.
   * @throws {Error} If a run of this runner is in progress, or another event loop is running.
   */
  [ASYNC_DISPOSE](): Promise<void> {
    return this.#close("Runner[Symbol.asyncDispose]()", false);
  }

  /** A description like `<Runner initialized>`. */
  toString(): string {
    return `<Runner ${this.#running ? "running" : this.#state}>`;
  }

  /** Shows the runner like Python's repr in Deno's inspector. */
  [Symbol.for("Deno.customInspect")](): string {
    return this.toString();
  }

  /** Python's `_lazy_init`: the loop is made on first use. */
  #lazyInit(where: string): EventLoop {
    if (this.#state === "closed") {
      throw new InvalidStateError(`${where}: Runner is closed; create a new Runner`);
    }
    if (this.#loop === null) {
      const debug = this.#debug;
      this.#loop = new EventLoop(
        this.#clock === undefined ? { debug } : { clock: this.#clock, debug },
      );
      this.#context = copyContext();
      this.#state = "initialized";
    }
    return this.#loop;
  }

  #run(where: string, main: unknown, oneShot: boolean, context?: Context): Promise<unknown> {
    if (!oneShot) {
      // (run() keeps its own message: enterRun's, below.)
      if (this.#running) {
        throw new Error(`${where}: this runner is already running a program; await that run first`);
      }
      if (someLoopIsRunning()) {
        throw new Error(
          `${where} cannot be called from a running event loop; await the work instead`,
        );
      }
    }
    checkAwaitable(where, "main", main);
    const loop = this.#lazyInit(where);
    // The loop is the running loop from here until the run settles (for
    // run(), also through the shutdown, so that leftover tasks stepping
    // after main's end still see it, as in Python).
    try {
      enterRun(loop);
    } catch (error) {
      if (oneShot) this.#discard(loop);
      throw error;
    }
    let future: Future<unknown>;
    try {
      // A coroutine's task runs in the runner's context (Python's create_task(coro, context=)).
      future = typeof main === "function" || isGenerator(main)
        ? spawnTask(where, loop, main as TaskCoroutine<unknown>, {
          context: context ?? this.#context as Context,
        })
        : toFuture(loop, main, where, "main");
    } catch (error) {
      exitRun(loop);
      if (oneShot) this.#discard(loop);
      throw error;
    }
    this.#running = true;
    const interrupt = this.#handleSignals ? new InterruptWatch(future) : null;
    // Debug mode: Ctrl-\\ (SIGQUIT) prints the task tree instead of ending the process.
    const quit = this.#handleSignals && this.#debug
      ? addSignalListener("SIGQUIT", () => console.error(renderTree(loop)))
      : null;
    const window = this.#clock === undefined ? Infinity : deadlockWindow(this.#clock);
    const deadlock = window < Infinity ? new DeadlockWatch(loop, future, window) : null;
    return this.#complete(loop, future, interrupt, deadlock, oneShot, quit);
  }

  async #complete(
    loop: EventLoop,
    main: Future<unknown>,
    interrupt: InterruptWatch | null,
    deadlock: DeadlockWatch | null,
    oneShot: boolean,
    quit: RemoveListener | null,
  ): Promise<unknown> {
    let result: unknown;
    try {
      result = await loop.runUntilComplete(main);
    } catch (error) {
      if (deadlock?.tree != null) throw new DeadlockError(deadlock.tree, { cause: error });
      if (interrupt !== null && (interrupt.late || interrupt.explains(error))) {
        throw new KeyboardInterrupt(undefined, { cause: error });
      }
      throw error;
    } finally {
      // Removed on every way out, so a later Ctrl-C is the host's again.
      interrupt?.remove();
      quit?.();
      this.#running = false;
      try {
        if (oneShot) {
          this.#state = "closed";
          this.#loop = null;
          // Still holding the run: no gap between main's end and the shutdown.
          // A deadlocked program's left-overs may be stuck for good: the watch
          // stops the shutdown's wait then, and the loop is closed anyway.
          await shutdown(loop).catch((error) => {
            if (deadlock?.stopped !== true) throw error;
          });
        } else {
          exitRun(loop);
        }
      } finally {
        deadlock?.remove();
      }
    }
    // A Ctrl-C that came when main was already done: Python's handler raises
    // KeyboardInterrupt at that point, and main's result is lost with it.
    if (interrupt?.late) throw new KeyboardInterrupt();
    return result;
  }

  #close(where: string, background: boolean): Promise<void> {
    if (this.#closing !== null) return this.#closing;
    if (this.#running) {
      throw new Error(`${where}: a run is in progress; await runner.run() before closing`);
    }
    const loop = this.#loop;
    if (loop === null) {
      // Never used. Python's close() then leaves the runner usable, but its
      // `with` block has made the loop on entry and closes it on exit; a
      // `using` block here must end with a closed runner too.
      this.#state = "closed";
      return this.#closing = Promise.resolve();
    }
    if (someLoopIsRunning()) {
      throw new Error(
        `${where} cannot be called from a running event loop; close the runner outside`,
      );
    }
    if (background && allTasks(loop).size === 0) {
      // Nothing to wait for: a `using` block ends with the loop closed.
      this.#discard(loop);
      return this.#closing = Promise.resolve();
    }
    this.#state = "closed";
    this.#loop = null;
    enterRun(loop); // the leftovers' cleanup sees a running loop, as in Python
    return this.#closing = shutdown(loop);
  }

  /** Closes a loop that has no tasks (nothing to wait for) and the runner with it. */
  #discard(loop: EventLoop): void {
    this.#state = "closed";
    this.#loop = null;
    loop.close();
  }

  static {
    runThenClose = (runner, main) => runner.#run("run()", main, true);
  }
}

/**
 * Runs `main` on a new event loop and resolves with its result.
 *
 * When `main` is done, the tasks it left pending are cancelled and awaited,
 * failures nobody retrieved are reported to the loop's exception handler,
 * and the loop is closed. The promise rejects with main's error if it
 * failed. While it runs, the first Ctrl-C (SIGINT) cancels `main`, and the
 * call then rejects with {@linkcode KeyboardInterrupt} (see
 * {@linkcode Runner}; `handleSignals: false` turns this off).
 *
 * Equivalent to Python's `asyncio.run()`, that is, a {@linkcode Runner}
 * used for one run; `main` may be anything {@linkcode ensureFuture}
 * accepts.
 *
 * @typeParam A The type of `main`.
 * @param main The program: a generator function, an async function, a generator, a future or a promise.
 * @param options The clock, debug mode and Ctrl-C handling.
 * @returns A promise of main's result.
 * @throws {Error} If called while another `run()` is in progress.
 * @throws {TypeError} If `main` is not awaitable or an option is invalid.
 *
 * @example A generator main
 * ```ts
 * import * as asyncio from "@aio/asyncio";
 * import assert from "node:assert/strict";
 *
 * const result = await asyncio.run(function* () {
 *   yield* asyncio.sleep(1);
 *   return "done";
 * });
 * assert.equal(result, "done");
 * ```
 *
 * @example An async main on a virtual clock
 * ```ts
 * import * as asyncio from "@aio/asyncio";
 * import assert from "node:assert/strict";
 *
 * const clock = new asyncio.VirtualClock({ autojump: true });
 * const hour = await asyncio.run(async () => {
 *   await asyncio.sleep(3_600_000);
 *   return asyncio.getRunningLoop().time();
 * }, { clock });
 * assert.equal(hour, 3_600_000);
 * ```
 */
export function run<A extends Awaitable<unknown>>(
  main: A,
  options?: RunOptions,
): Promise<AwaitedResult<A>> {
  checkRunnerOptions("run()", options); // so that the messages name run()
  return runThenClose(new Runner(options), main) as Promise<AwaitedResult<A>>;
}

/** The end of a runner: cancel what is left, wait for it, close the loop. The caller holds the run. */
async function shutdown(loop: EventLoop): Promise<void> {
  try {
    await cancelAllTasks(loop);
  } finally {
    loop.close(); // also reports exceptions nobody retrieved
    exitRun(loop);
  }
}

/** Python's `_cancel_all_tasks`: cancel what main left behind and wait for it. */
async function cancelAllTasks(loop: EventLoop): Promise<void> {
  const pending = allTasks(loop);
  if (pending.size === 0) return;
  const tasks = [...pending] as Task<unknown>[];
  for (const task of tasks) task.cancel();
  const report = loop.getDebug() && asyncSlot === null
    ? loop.callLater(STUCK_REPORT_MS, reportStuck, loop, tasks)
    : null;
  await loop.runUntilComplete(gather(tasks, { returnExceptions: true }));
  report?.cancel();
  for (const task of tasks) {
    if (task.cancelled()) continue;
    const exception = task.exception();
    if (exception !== undefined) {
      loop.callExceptionHandler({
        message: "unhandled exception during asyncio.run() shutdown",
        exception,
        task,
      });
    }
  }
}

/**
 * Debug mode, host without an async context: an async function stops only
 * where it handed its signal on, so a left-over that ignores it keeps run()
 * waiting for ever. Say which, instead of hanging silently.
 */
function reportStuck(loop: EventLoop, tasks: Task<unknown>[]): void {
  for (const task of tasks) {
    if (task.done()) continue;
    const kind = task.getCoro() === null ? "an async function" : "a coroutine";
    loop.callExceptionHandler({
      message:
        `run() is still waiting for ${task.getName()}, ${kind} cancelled ${STUCK_REPORT_MS} ms ago: ` +
        "this host has no async context, so an async function stops only where it passes its " +
        "signal (task.signal) to what it awaits",
      task,
    });
  }
}

/**
 * Ctrl-C during one run (Python's `Runner._on_sigint`): the first SIGINT
 * cancels the main task. Python raises KeyboardInterrupt from its handler
 * at the second one; here the listener goes with the first, so the second
 * reaches the host, whose default action ends the process.
 */
class InterruptWatch {
  #main: Future<unknown>;
  #remove: RemoveListener | null;
  /** Whether a SIGINT came. */
  #interrupted = false;
  /** Whether it came when main was already done. */
  late = false;

  constructor(main: Future<unknown>) {
    this.#main = main;
    this.#remove = addInterruptListener(this.#onInterrupt);
  }

  #onInterrupt = (): void => {
    this.remove();
    this.#interrupted = true;
    if (this.#main.done()) this.late = true;
    else this.#main.cancel();
  };

  /** Stops listening (idempotent). */
  remove(): void {
    const remove = this.#remove;
    this.#remove = null;
    remove?.();
  }

  /**
   * Whether main's `error` is the cancellation the SIGINT asked for, so the
   * run raises KeyboardInterrupt: Python's check that `uncancel()` brings
   * main's count of cancel requests back to 0 (another request, from the
   * program itself, keeps the CancelledError). A main that is not a Task
   * has no count, and the SIGINT explains its cancellation.
   */
  explains(error: unknown): boolean {
    if (!this.#interrupted || !(error instanceof CancelledError)) return false;
    const main = this.#main;
    return !(main instanceof Task) || main.uncancel() === 0;
  }
}

/**
 * run()'s deadlock check, on a VirtualClock with autojump (see
 * `VirtualClockOptions.deadlockAfterMs`): when the loop goes idle with no
 * timer armed, a real-time window starts (again at each such moment, and
 * at each wait an async-function task begins); if it ends with the loop
 * still idle and nothing known to be in flight outside it, no task can
 * ever run again. The task tree is kept for the DeadlockError and main is
 * cancelled, so the program unwinds as after Ctrl-C; if the unwinding gets
 * stuck as well, the loop is stopped.
 */
class DeadlockWatch {
  #loop: EventLoop;
  #main: Future<unknown>;
  #window: number;
  #timer: ReturnType<typeof setTimeout> | null = null;
  /** The task tree when the deadlock was found, or null. */
  tree: string | null = null;
  /** Whether the loop had to be stopped (the unwinding got stuck too). */
  stopped = false;

  constructor(loop: EventLoop, main: Future<unknown>, window: number) {
    this.#loop = loop;
    this.#main = main;
    this.#window = window;
    setIdleHook(loop, this.#onIdle);
  }

  #onIdle = (): void => {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = setTimeout(this.#check, this.#window);
  };

  #check = (): void => {
    this.#timer = null;
    const loop = this.#loop;
    if (loop.isClosed() || !isIdle(loop) || busyOutside(loop)) return;
    if (this.tree === null) {
      this.tree = "no task can ever run again: nothing is ready, no timer is armed, and " +
        `nothing outside the loop moved for ${this.#window} ms (VirtualClock's deadlockAfterMs)\n` +
        renderTree(loop);
      if (!this.#main.done()) {
        this.#main.cancel("deadlock");
        return;
      }
    }
    this.stopped = true;
    loop.stop();
  };

  remove(): void {
    setIdleHook(this.#loop, null);
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
  }
}

/**
 * Whether something outside the loop may still wake it: a promise followed
 * by a future (ensureFuture), or an async-function task awaiting something
 * that is not a future of ours (a fetch), or whose waits this host cannot see.
 */
function busyOutside(loop: EventLoop): boolean {
  if (followsForeignWork(loop)) return true;
  for (const task of allTasks(loop)) {
    const snapshot = inspectTask(task);
    if (snapshot.isAsync && (!snapshot.waitsKnown || snapshot.waits.length === 0)) return true;
  }
  return false;
}

/** Whether some event loop is running here (Python's `events._get_running_loop() is not None`). */
function someLoopIsRunning(): boolean {
  try {
    getRunningLoop();
    return true;
  } catch {
    return false;
  }
}

function checkRunnerOptions(where: string, options: unknown): CheckedOptions {
  checkOptions(where, options);
  const { clock, debug = false, handleSignals = true } = (options ?? {}) as RunnerOptions;
  if (typeof debug !== "boolean") {
    throw new TypeError(`${where}: 'debug' must be a boolean, got ${describe(debug)}`);
  }
  if (typeof handleSignals !== "boolean") {
    throw new TypeError(
      `${where}: 'handleSignals' must be a boolean, got ${describe(handleSignals)}`,
    );
  }
  if (
    clock !== undefined &&
    (clock === null || typeof clock !== "object" || typeof clock.now !== "function" ||
      typeof clock.setTimer !== "function" || typeof clock.clearTimer !== "function")
  ) {
    throw new TypeError(
      `${where}: 'clock' must implement Clock (now, setTimer, clearTimer), got ${describe(clock)}`,
    );
  }
  return { clock, debug, handleSignals };
}
