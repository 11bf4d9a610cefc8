/**
 * Task factories: what a loop calls to make the tasks of its users (see
 * `EventLoop.setTaskFactory()`), and the eager ones of Python 3.12+.
 *
 * @module
 */

import { EventLoop } from "./event_loop.ts";
import { type CreateTaskOptions, Task, type TaskCoroutine, type TaskOptions } from "./task.ts";
import { checkOptions, describe } from "./_validate.ts";

/**
 * What a loop calls to make a task for the user, set with
 * `EventLoop.setTaskFactory()`: `(loop, coro, options)`, where `options`
 * are the caller's (`name`, `eagerStart`, and anything else the factory
 * understands), without `loop`. It returns the task.
 *
 * Equivalent to the factory of Python's `loop.set_task_factory()`.
 */
export type TaskFactory = (
  loop: EventLoop,
  coro: TaskCoroutine<unknown>,
  options: CreateTaskOptions,
) => Task<unknown>;

/** A constructor with `Task`'s parameters: `Task` itself or a subclass. */
export type TaskConstructor = new (
  coro: TaskCoroutine<unknown>,
  options: TaskOptions,
) => Task<unknown>;

/**
 * Makes a task factory that constructs `taskConstructor` with
 * `eagerStart: true` unless the caller says otherwise: each task runs its
 * first step at once, inside the call that made it, and one that finishes
 * without waiting never touches the loop. Other options go to the
 * constructor.
 *
 * Equivalent to Python's `asyncio.create_eager_task_factory()`.
 *
 * @param taskConstructor `Task` or a subclass of it.
 * @returns The factory, for `EventLoop.setTaskFactory()`.
 * @throws {TypeError} If `taskConstructor` is not a function.
 *
 * @example A Task subclass that counts its tasks, started eagerly
 * ```ts
 * import * as asyncio from "@aio/asyncio";
 * import assert from "node:assert/strict";
 *
 * let made = 0;
 * class CountedTask<T> extends asyncio.Task<T> {
 *   constructor(coro: asyncio.TaskCoroutine<T>, options?: asyncio.TaskOptions) {
 *     super(coro, options);
 *     made++;
 *   }
 * }
 * const results = await asyncio.run(function* () {
 *   asyncio.getRunningLoop().setTaskFactory(asyncio.createEagerTaskFactory(CountedTask));
 *   const task = asyncio.createTask(function* () {
 *     return "done at once";
 *   });
 *   assert.ok(task instanceof CountedTask);
 *   assert.equal(task.done(), true);
 *   return yield* asyncio.gather([task, function* () {
 *     return "a gather child";
 *   }]);
 * });
 * assert.deepEqual(results, ["done at once", "a gather child"]);
 * assert.equal(made, 2);
 * ```
 */
export function createEagerTaskFactory(taskConstructor: TaskConstructor): TaskFactory {
  if (typeof taskConstructor !== "function") {
    throw new TypeError(
      `createEagerTaskFactory(): 'taskConstructor' must be a Task class, got ${
        describe(taskConstructor)
      }`,
    );
  }
  return eagerFactory(taskConstructor, "createEagerTaskFactory()'s factory");
}

/** The factory of createEagerTaskFactory(); `where` names it in argument errors. */
function eagerFactory(taskConstructor: TaskConstructor, where: string): TaskFactory {
  return (loop, coro, options) => {
    if (!(loop instanceof EventLoop)) {
      throw new TypeError(`${where}: 'loop' must be an EventLoop, got ${describe(loop)}`);
    }
    if (options !== undefined) checkOptions(where, options);
    return new taskConstructor(coro, {
      ...options,
      loop,
      eagerStart: options?.eagerStart ?? true,
    } as TaskOptions);
  };
}

/**
 * The eager task factory over plain `Task`: set it on a loop with
 * `loop.setTaskFactory(eagerTaskFactory)` and every task starts at once,
 * as with `createTask(coro, { eagerStart: true })`.
 *
 * Equivalent to Python's `asyncio.eager_task_factory`.
 *
 * @example A coroutine that needs no wait finishes inside createTask
 * ```ts
 * import * as asyncio from "@aio/asyncio";
 * import assert from "node:assert/strict";
 *
 * await asyncio.run(function* () {
 *   asyncio.getRunningLoop().setTaskFactory(asyncio.eagerTaskFactory);
 *   const task = asyncio.createTask(function* () {
 *     return 42;
 *   });
 *   assert.equal(task.done(), true);
 *   assert.equal(task.result(), 42);
 * });
 * ```
 */
export const eagerTaskFactory: TaskFactory = eagerFactory(Task, "eagerTaskFactory()");
