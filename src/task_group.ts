/**
 * taskGroup(): structured concurrency. A body starts child tasks in a
 * group; the group waits for all of them, and the first failure cancels
 * the rest.
 *
 * @module
 */

import { type EventLoop, getEventLoop } from "./event_loop.ts";
import { Future } from "./future.ts";
import type { Coroutine, Task, TaskCoroutine } from "./task.ts";
import { CancelledError } from "./errors.ts";
import {
  addAwaitedBy,
  addCallback,
  cancelQuietly,
  discardAwaitedBy,
  labelWait,
  resolveFuture,
  spawnTask,
} from "./_internal.ts";
import { isGeneratorFunction, startBodyTask } from "./_body.ts";
import { blockAsTask, type BlockMode, BodySignal, followBody, makeBlock } from "./_block.ts";
import { checkFunction, checkOptions, describe, isGenerator } from "./_validate.ts";

/**
 * Several errors raised together: {@linkcode taskGroup} rejects with one
 * holding every failure of its children (and of its body), in the order
 * they happened, in `errors`.
 *
 * Equivalent to Python's `ExceptionGroup` (its `exceptions` is `errors`
 * here). It extends the standard `AggregateError`, so code that knows
 * `AggregateError` (from `Promise.any`) handles it too. JavaScript has no
 * `except*`: test `error instanceof ExceptionGroup` and look through
 * `errors` (a failing child may itself raise an `ExceptionGroup`, from a
 * nested group). `errors` is typed `E[]` (`Error[]` by default), so a
 * caught group needs no cast; a child that throws something that is not an
 * `Error` (JavaScript allows it, Python does not) is kept as it was thrown.
 *
 * @typeParam E The type of the errors it holds.
 *
 * @example Inspecting the failures of a group
 * ```ts
 * import * as asyncio from "@aio/asyncio";
 * import assert from "node:assert/strict";
 *
 * const group = new asyncio.ExceptionGroup([new TypeError("a"), new RangeError("b")], "two errors");
 * assert.ok(group instanceof AggregateError);
 * assert.equal(group.name, "ExceptionGroup");
 * assert.deepEqual(group.errors.map((e) => e.message), ["a", "b"]);
 * ```
 */
export class ExceptionGroup<E extends Error = Error> extends AggregateError {
  /** The errors it holds, in the order they happened (Python's `exceptions`). */
  declare errors: E[];

  /**
   * Creates an exception group.
   *
   * @param errors The errors it holds.
   * @param message What failed.
   * @param options Standard error options (`cause`).
   * @throws {TypeError} If `errors` is not iterable.
   */
  constructor(errors: Iterable<E>, message?: string, options?: ErrorOptions) {
    if (
      errors === null || errors === undefined ||
      typeof (errors as Iterable<unknown>)[Symbol.iterator] !== "function"
    ) {
      throw new TypeError(
        `Cannot create ExceptionGroup: 'errors' must be an iterable of errors, got ${
          describe(errors)
        }`,
      );
    }
    super(errors, message, options);
    this.name = "ExceptionGroup";
  }

  /**
   * The standard `instanceof` test, declared so that TypeScript narrows a
   * caught `unknown` to `ExceptionGroup<Error>` (its `errors` typed
   * `Error[]`) instead of `ExceptionGroup<any>`.
   *
   * @param value Any value.
   * @returns Whether `value` is an instance of this class (or a subclass).
   */
  static override [Symbol.hasInstance](value: unknown): value is ExceptionGroup {
    return Function.prototype[Symbol.hasInstance].call(this, value);
  }
}

/** Options for {@linkcode TaskGroup.createTask}: those of {@linkcode createTask} but `loop`. */
export interface TaskGroupCreateTaskOptions {
  /**
   * The task's name.
   *
   * @default {"Task-<n>", numbered in creation order}
   */
  name?: string;
  /**
   * Run the first step synchronously inside `createTask` (see
   * {@linkcode TaskOptions.eagerStart}).
   *
   * @default {false, or the loop's task factory's choice}
   */
  eagerStart?: boolean;
  /** Options for the loop's task factory; without one, an unknown option is a `TypeError`. */
  readonly [option: string]: unknown;
}

/**
 * The body of {@linkcode taskGroup}: called with the group and an
 * `AbortSignal` that aborts when the body is cancelled (by a failing child
 * or from outside). A generator function runs inside the group's task; an
 * async function runs as a child task that the group waits for.
 *
 * @typeParam T The body's result type.
 */
export type TaskGroupBody<T> = (
  group: TaskGroup,
  signal: AbortSignal,
) => Coroutine<T> | PromiseLike<T> | T;

/** Stands for "the body finished without an error". */
const NO_ERROR: unique symbol = Symbol("no error");

// Reach TaskGroup's #private state from module-level code (assigned in its static block).
let enterGroup: (group: TaskGroup, parent: Task<unknown>, bodySignal: BodySignal | null) => void;
let exitGroup: <T>(group: TaskGroup, error: unknown, result: T) => Coroutine<T>;
let onTaskDone: (group: TaskGroup, task: Future<unknown>) => void;

/**
 * A group of child tasks, handed to the body of {@linkcode taskGroup}:
 * start children with {@linkcode TaskGroup.createTask}. The group's task
 * (the future `taskGroup` returns) finishes only when every child has.
 *
 * A child that fails (with anything but {@linkcode CancelledError})
 * cancels its siblings and the body; the group then rejects with an
 * {@linkcode ExceptionGroup} of every failure. A child that is cancelled
 * is not a failure. Cancelling the group's task cancels the body and all
 * children, and it ends with `CancelledError` (unless a child failed:
 * failures take precedence).
 *
 * Groups are made by {@linkcode taskGroup}; one made with `new` has not
 * been entered, and its `createTask` throws.
 *
 * Equivalent to Python's `asyncio.TaskGroup` (the `async with` block is
 * the body function).
 *
 * @example Children that all succeed
 * ```ts
 * import * as asyncio from "@aio/asyncio";
 * import assert from "node:assert/strict";
 *
 * const clock = new asyncio.VirtualClock({ autojump: true });
 * const results = await asyncio.run(function* () {
 *   const tasks: asyncio.Task<string>[] = [];
 *   yield* asyncio.taskGroup(function* (tg) {
 *     tasks.push(tg.createTask(function* () {
 *       yield* asyncio.sleep(20);
 *       return "a";
 *     }));
 *     tasks.push(tg.createTask(async () => "b", { name: "second" }));
 *   });
 *   // The group has waited for both.
 *   return tasks.map((task) => task.result());
 * }, { clock });
 * assert.deepEqual(results, ["a", "b"]);
 * ```
 */
export class TaskGroup {
  #entered = false;
  #exiting = false;
  #aborting = false;
  #loop: EventLoop | null = null;
  #parent: Task<unknown> | null = null;
  #parentCancelRequested = false;
  /** The body's signal, when it declared one: aborted when the group aborts. */
  #bodySignal: BodySignal | null = null;
  #tasks = new Set<Future<unknown>>();
  #errors: unknown[] = [];
  #onCompleted: Future<void> | null = null;

  /**
   * Starts `coro` as a child task of the group (both coroutine styles, as
   * {@linkcode createTask}). The group waits for it; if it fails, the
   * group cancels everything else.
   *
   * @typeParam T The result type.
   * @param coro A generator, a generator function or an async function.
   * @param options Name and eager start.
   * @returns The task.
   * @throws {TypeError} If `coro` is not a coroutine or an option is invalid.
   * @throws {Error} If the group has not been entered, is finished, or is shutting down after a failure or a cancellation. A generator given then is closed, so its `finally` blocks do not wait forever.
   */
  createTask<T>(coro: TaskCoroutine<T> | Future<T>, options?: TaskGroupCreateTaskOptions): Task<T> {
    const block = coro instanceof Future;
    if (!block && typeof coro !== "function" && !isGenerator(coro)) {
      throw new TypeError(
        `TaskGroup.createTask(): 'coro' must be a generator, a generator function or an async function, got ${
          describe(coro)
        }`,
      );
    }
    if (options !== undefined) {
      checkOptions("TaskGroup.createTask()", options);
      if ("loop" in options) {
        throw new TypeError(
          "TaskGroup.createTask(): 'loop' is not an option here; the group's children run on its loop",
        );
      }
    }
    let refusal: string | null = null;
    if (!this.#entered) {
      refusal =
        "has not been entered; groups are made by taskGroup(body), which passes them to body";
    } else if (this.#exiting && this.#tasks.size === 0) {
      refusal = "is finished; start tasks from its body or from its running children";
    } else if (this.#aborting) {
      refusal = "is shutting down after a failure or a cancellation; it accepts no new tasks";
    }
    if (refusal !== null) {
      // Like Python's coro.close(): the generator will never run.
      if (isGenerator(coro) && typeof (coro as Coroutine<T>).return === "function") {
        (coro as Coroutine<T>).return(undefined as T);
      }
      throw new Error(`TaskGroup.createTask(): ${this} ${refusal}`);
    }
    let task: Task<T>;
    if (block) {
      // A block of timeout()/taskGroup()/waitFor() nothing waited on yet becomes the child.
      if (coro.getLoop() !== this.#loop) {
        throw new Error("TaskGroup.createTask(): 'coro' belongs to another event loop");
      }
      task = blockAsTask(coro, "TaskGroup.createTask()", options) as Task<T>;
    } else {
      task = spawnTask("TaskGroup.createTask()", this.#loop as EventLoop, coro, options);
    }
    if (task.done()) {
      // Finished eagerly: account for it now, no callback needed (as CPython 3.13.0 does).
      onTaskDone(this, task);
    } else {
      this.#tasks.add(task);
      addCallback(task, onTaskDone, this);
      // The call graph shows the child awaited by the group's parent (Python 3.14).
      addAwaitedBy(task, this.#parent as Task<unknown>);
      // CPython gh-155418: its eager first step may have aborted the group
      // before it joined the group's tasks.
      if (this.#aborting) task.cancel();
    }
    return task;
  }

  /**
   * Ends the group early: cancels the body and every child not done yet,
   * and the group then exits *without* raising {@linkcode CancelledError}
   * to its caller (the cancellation it asked for is taken back with
   * `uncancel()`, as a failing child's is). Failures that happened before
   * still raise as an {@linkcode ExceptionGroup}, and a cancellation
   * requested from elsewhere still propagates. Idempotent; does nothing
   * once the group has exited (or on a group made with `new`, which is
   * never entered).
   *
   * If the body had not returned yet, the future of {@linkcode taskGroup}
   * resolves to `undefined` (or to what the body returns if it catches the
   * `CancelledError`): the call has no result then.
   *
   * Equivalent to Python 3.15's `TaskGroup.cancel()`.
   *
   * @example Stop the workers when one finds the answer
   * ```ts
   * import * as asyncio from "@aio/asyncio";
   * import assert from "node:assert/strict";
   *
   * const clock = new asyncio.VirtualClock({ autojump: true });
   * const log: string[] = [];
   * await asyncio.run(function* () {
   *   yield* asyncio.taskGroup(function* (tg) {
   *     for (const ms of [30, 10]) {
   *       tg.createTask(function* () {
   *         try {
   *           yield* asyncio.sleep(ms);
   *           log.push(`found after ${ms} ms`);
   *           tg.cancel();
   *         } catch (error) {
   *           log.push(`${ms} ms worker cancelled`);
   *           throw error;
   *         }
   *       });
   *     }
   *   });
   *   log.push("group exited normally");
   * }, { clock });
   * assert.deepEqual(log, ["found after 10 ms", "30 ms worker cancelled", "group exited normally"]);
   * ```
   */
  cancel(): void {
    if (!this.#entered || (this.#exiting && this.#tasks.size === 0)) return;
    if (this.#aborting) return;
    this.#abort();
    const parent = this.#parent;
    if (parent !== null && !this.#parentCancelRequested && !parent.done()) {
      this.#parentCancelRequested = true;
      cancelQuietly(parent); // taken back on exit, as for a failing child
    }
  }

  /** A description like Python's repr: `<TaskGroup tasks=2 errors=1 cancelling>`. */
  toString(): string {
    let info = "";
    if (this.#tasks.size > 0) info += ` tasks=${this.#tasks.size}`;
    if (this.#errors.length > 0) info += ` errors=${this.#errors.length}`;
    if (this.#aborting) info += " cancelling";
    else if (this.#entered) info += " entered";
    return `<TaskGroup${info}>`;
  }

  /** Shows the group like Python's repr in Deno's inspector. */
  [Symbol.for("Deno.customInspect")](): string {
    return this.toString();
  }

  /** Cancels every child not done yet (Python's `_abort`), and aborts the body's signal. */
  #abort(): void {
    this.#aborting = true;
    this.#bodySignal?.abort();
    for (const task of this.#tasks) {
      if (!task.done()) task.cancel();
    }
  }

  static {
    enterGroup = (group, parent, bodySignal) => {
      group.#bodySignal = bodySignal;
      if (group.#entered) throw new Error(`${group} has already been entered`);
      group.#entered = true;
      group.#parent = parent;
      group.#loop = parent.getLoop();
    };

    // Python's TaskGroup.__aexit__, run by the group's task after the body.
    exitGroup = function* <T>(group: TaskGroup, error: unknown, result: T): Coroutine<T> {
      const parent = group.#parent as Task<unknown>;
      group.#exiting = true;
      let propagate: CancelledError | null = error instanceof CancelledError ? error : null;
      let pending: CancelledError | null = null;
      if (error !== NO_ERROR && !group.#aborting) {
        // The body failed or was cancelled: stop the children.
        group.#abort();
      }
      // A loop, because the wait itself may be cancelled again and again.
      while (group.#tasks.size > 0) {
        if (group.#onCompleted === null) {
          group.#onCompleted = new Future<void>({ loop: group.#loop as EventLoop });
          // The task tree names the parent's wait after the group.
          labelWait(group.#onCompleted, { what: "taskGroup() exit", owner: group });
        }
        try {
          yield* group.#onCompleted;
        } catch (thrown) {
          if (!(thrown instanceof CancelledError)) throw thrown;
          pending = thrown;
          if (!group.#aborting) {
            // Cancelled from outside while waiting for the children.
            propagate = thrown;
            group.#abort();
          }
        }
        group.#onCompleted = null;
      }
      if (group.#parentCancelRequested) {
        // We cancelled our own task on the first failure: take that back, and
        // if nobody else asked for a cancellation, do not propagate one.
        if (parent.uncancel() === 0) propagate = null;
        // CPython gh-155433: a cancellation left over is not ours; do not drop it.
        else if (propagate === null) propagate = pending;
      }
      if (propagate !== null && group.#errors.length === 0) throw propagate;
      if (error !== NO_ERROR && !(error instanceof CancelledError)) group.#errors.push(error);
      if (group.#errors.length === 0) return result;
      const errors = group.#errors;
      group.#errors = [];
      if (parent.cancelling() > 0) {
        // The parent is being cancelled from outside the group: un-cancel
        // and re-cancel it, which keeps its count of requests stable (Python).
        parent.uncancel();
        cancelQuietly(parent);
      }
      const count = errors.length;
      throw new ExceptionGroup(
        errors as Error[], // whatever the children threw (Python only has exceptions)
        `unhandled errors in a TaskGroup (${count} sub-exception${count === 1 ? "" : "s"})`,
      );
    };

    // Python's TaskGroup._on_task_done.
    onTaskDone = (group, task) => {
      group.#tasks.delete(task);
      discardAwaitedBy(task, group.#parent as Task<unknown>);
      const waiter = group.#onCompleted;
      if (waiter !== null && group.#tasks.size === 0 && !waiter.done()) {
        resolveFuture(waiter, undefined);
      }
      if (task.cancelled()) return;
      const error = task.exception();
      if (error === undefined) return;
      group.#errors.push(error);
      const parent = group.#parent as Task<unknown>;
      if (parent.done()) {
        (group.#loop as EventLoop).callExceptionHandler({
          message:
            `Task ${task} has errored out but its parent task ${parent} is already completed`,
          exception: error,
          task: task as Task<unknown>,
        });
        return;
      }
      if (!group.#aborting && !group.#parentCancelRequested) {
        // The first failure: cancel the siblings, and the body through our own task.
        group.#abort();
        group.#parentCancelRequested = true;
        cancelQuietly(parent); // taken back on exit; the parent's signal is its own
      }
    };
  }
}

/**
 * Runs `body(group, signal)` with a new {@linkcode TaskGroup}, waits for
 * every task the group started, and resolves to the body's result.
 *
 * If a child fails (anything but {@linkcode CancelledError}), the group
 * cancels the other children and the body, waits for them all, and
 * rejects with an {@linkcode ExceptionGroup} holding every failure (a body
 * that fails is in it too, last). If the group is cancelled from outside,
 * the body and every child are cancelled, and it ends with
 * `CancelledError` once they are all done (an `ExceptionGroup` if some
 * failed meanwhile; the task that waited for it then gets its
 * `CancelledError` at its next wait, as in Python).
 *
 * Like a coroutine, the returned future does nothing until it is first
 * waited on, and then runs inside the task that waits on it (`yield*` in a
 * generator task, `await` in an async-function task where the host has an
 * async context): that task is the group's parent, as in Python's
 * `async with TaskGroup()`, cancelled when a child fails and un-cancelled
 * when the group exits. Handed to `gather`, `createTask` or any other
 * function that takes futures, it runs as a task of its own. The body may
 * be a generator function or an async function; its `signal` (a signal of
 * its own) aborts when the group cancels it. An async body inside a
 * generator task runs as a child task. Children are started with
 * `group.createTask(coro, { name })` in either style.
 *
 * Equivalent to Python's `async with asyncio.TaskGroup() as tg:`, with the
 * block passed as a function and its result returned.
 *
 * @typeParam T The body's result type.
 * @param body A generator function or an async function, called with `(group, signal)`.
 * @returns A future of the body's result, started when first waited on.
 * @throws {TypeError} If `body` is not a function.
 *
 * @example The first failure cancels the others
 * ```ts
 * import * as asyncio from "@aio/asyncio";
 * import assert from "node:assert/strict";
 *
 * const clock = new asyncio.VirtualClock({ autojump: true });
 * const log: string[] = [];
 * await asyncio.run(function* () {
 *   try {
 *     yield* asyncio.taskGroup(function* (tg) {
 *       tg.createTask(function* () {
 *         try {
 *           yield* asyncio.sleep(1_000);
 *           log.push("slow finished");
 *         } catch (error) {
 *           log.push("slow cancelled");
 *           throw error;
 *         }
 *       });
 *       tg.createTask(function* () {
 *         yield* asyncio.sleep(10);
 *         throw new Error("broken");
 *       });
 *     });
 *   } catch (error) {
 *     assert.ok(error instanceof asyncio.ExceptionGroup);
 *     assert.deepEqual(error.errors.map((e: Error) => e.message), ["broken"]);
 *   }
 * }, { clock });
 * assert.deepEqual(log, ["slow cancelled"]);
 * ```
 *
 * @example An async body with its signal
 * ```ts
 * import * as asyncio from "@aio/asyncio";
 * import assert from "node:assert/strict";
 *
 * const clock = new asyncio.VirtualClock({ autojump: true });
 * const total = await asyncio.run(async () => {
 *   return await asyncio.taskGroup(async (tg, signal) => {
 *     const parts = [1, 2, 3].map((n) =>
 *       tg.createTask(async (childSignal: AbortSignal) => {
 *         await asyncio.sleep(n * 10, { signal: childSignal });
 *         return n;
 *       })
 *     );
 *     await asyncio.sleep(5, { signal });
 *     return parts; // the group waits for them before resolving
 *   }).then((parts) => parts.reduce((sum, t) => sum + t.result(), 0));
 * }, { clock });
 * assert.equal(total, 6);
 * ```
 */
export function taskGroup<T>(body: TaskGroupBody<T>): Future<T> {
  checkFunction("taskGroup()", "body", body);
  return makeBlock(
    getEventLoop(),
    runGroupBlock<T>,
    body,
    undefined,
    !isGeneratorFunction(body),
    "taskGroup()",
  );
}

/** The block's coroutine of taskGroup(): a new group around `body`. */
function runGroupBlock<T>(
  owner: Task<unknown>,
  mode: BlockMode,
  body: TaskGroupBody<T>,
): Coroutine<T> {
  return runGroup(new TaskGroup(), body, owner, mode);
}

/**
 * Python's `async with TaskGroup()` around the body, run by the task that
 * waits on the block: that task is the group's parent.
 */
function* runGroup<T>(
  group: TaskGroup,
  body: TaskGroupBody<T>,
  parent: Task<unknown>,
  mode: BlockMode,
): Coroutine<T> {
  const inline = isGeneratorFunction(body) || mode === "async";
  const bodySignal = inline && body.length >= 2 ? new BodySignal(parent) : null;
  enterGroup(group, parent, bodySignal);
  let error: unknown = NO_ERROR;
  let result: T = undefined as T;
  try {
    if (isGeneratorFunction(body)) {
      const coro = body.length < 2
        ? (body as (group: TaskGroup) => Coroutine<T>)(group)
        : body(group, (bodySignal as BodySignal).signal);
      result = yield* coro as Coroutine<T>;
    } else if (mode === "async") {
      // In the parent's context: the body's awaits are the parent's waits.
      const value = body.length < 2
        ? (body as (group: TaskGroup) => unknown)(group)
        : body(group, (bodySignal as BodySignal).signal);
      result = isGenerator(value)
        ? yield* value as Coroutine<T>
        : yield* followBody<T>(parent.getLoop(), value);
    } else {
      // A generator task cannot host an async function: a child task does.
      result = yield* startBodyTask(
        parent.getLoop(),
        (signal) => body(group, signal),
        body.length >= 2,
      );
    }
  } catch (thrown) {
    error = thrown;
  }
  try {
    return yield* exitGroup(group, error, result);
  } finally {
    bodySignal?.close();
  }
}
