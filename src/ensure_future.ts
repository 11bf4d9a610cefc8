/**
 * ensureFuture(): turn anything awaitable into a Future.
 *
 * @module
 */

import { getEventLoop } from "./event_loop.ts";
import type { Future } from "./future.ts";
import type { Coroutine } from "./task.ts";
import { toFuture } from "./_to_future.ts";

/**
 * Anything the package can wait on: a {@linkcode Future} or
 * {@linkcode Task}, a generator coroutine, a function a task can run
 * (generator function or async function), or a promise/thenable.
 *
 * @typeParam T The result type.
 */
export type Awaitable<T> =
  | Future<T>
  | Coroutine<T>
  | ((signal: AbortSignal) => Coroutine<T> | PromiseLike<T> | T)
  | PromiseLike<T>;

/**
 * The result type of an {@linkcode Awaitable}.
 *
 * @typeParam A The awaitable's type.
 */
export type AwaitedResult<A> = A extends PromiseLike<infer T> ? T
  : A extends Generator<unknown, infer T, unknown> ? T
  : A extends (...args: never[]) => infer R ? ReturnedResult<R>
  : never;

/** What a task's function gives: a promise's or a generator's result, or the value it returns. */
export type ReturnedResult<R> = R extends PromiseLike<infer T> ? T
  : R extends Generator<unknown, infer T, unknown> ? T
  : R;

/**
 * Returns `aw` as a {@linkcode Future}: a Future or Task as it is; a
 * generator or a function wrapped in a new {@linkcode Task}; a promise or
 * thenable wrapped in a Future that follows it.
 *
 * Cancelling the Future made for a promise does not stop the promise (a
 * promise cannot be stopped); if it later rejects with anything but an
 * abort, the error is reported to the loop's exception handler.
 *
 * Equivalent to Python's `asyncio.ensure_future()`.
 *
 * @typeParam T The result type.
 * @param aw What to wrap.
 * @returns The future.
 * @throws {TypeError} If `aw` is not awaitable.
 *
 * @example Waiting on a promise from a generator task
 * ```ts
 * import * as asyncio from "@aio/asyncio";
 * import assert from "node:assert/strict";
 *
 * const text = await asyncio.run(function* () {
 *   return yield* asyncio.ensureFuture(Promise.resolve("from a promise"));
 * });
 * assert.equal(text, "from a promise");
 * ```
 */
export function ensureFuture<T>(aw: Awaitable<T>): Future<T> {
  return toFuture(getEventLoop(), aw, "ensureFuture()", "aw") as Future<T>;
}
