/**
 * Python's `asyncio` for TypeScript: an event loop, futures, tasks with
 * cancellation, `sleep`, `waitFor`, `gather` and `run`, with CPython 3.13
 * semantics, no dependencies, and deterministic time for tests.
 *
 * Tasks are written two ways: generator coroutines (`function*` waiting with
 * `yield*`: full Python semantics, cancellation thrown at the `yield*`), or
 * async functions that receive an `AbortSignal`.
 *
 * @example Quick start
 * ```ts
 * import * as asyncio from "@aio/asyncio";
 * import assert from "node:assert/strict";
 *
 * const clock = new asyncio.VirtualClock({ autojump: true });
 * const results = await asyncio.run(function* () {
 *   const fetchLater = (value: string, ms: number) =>
 *     asyncio.createTask(function* () {
 *       yield* asyncio.sleep(ms);
 *       return value;
 *     });
 *   const both = yield* asyncio.gather([fetchLater("a", 20), fetchLater("b", 10)]);
 *   try {
 *     yield* asyncio.waitFor(fetchLater("slow", 1_000), 50);
 *   } catch (error) {
 *     assert.ok(error instanceof asyncio.TimeoutError);
 *   }
 *   return both;
 * }, { clock });
 * assert.deepEqual(results, ["a", "b"]);
 * ```
 *
 * @module
 */

export * from "./src/as_completed.ts";
export * from "./src/barrier.ts";
export * from "./src/clock.ts";
export * from "./src/condition.ts";
export * from "./src/contextvars.ts";
export * from "./src/ensure_future.ts";
export * from "./src/errors.ts";
export * from "./src/event.ts";
export * from "./src/event_loop.ts";
export * from "./src/future.ts";
export * from "./src/gather.ts";
export * from "./src/graph.ts";
export * from "./src/handle.ts";
export * from "./src/lock.ts";
export * from "./src/queue.ts";
export * from "./src/run.ts";
export * from "./src/semaphore.ts";
export * from "./src/shield.ts";
export * from "./src/sleep.ts";
export * from "./src/staggered_race.ts";
export * from "./src/task.ts";
export * from "./src/task_factory.ts";
export * from "./src/task_group.ts";
export * from "./src/task_tree.ts";
export * from "./src/timeout.ts";
export * from "./src/wait.ts";
export * from "./src/wait_for.ts";
