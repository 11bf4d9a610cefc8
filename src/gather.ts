/**
 * gather(): wait for many awaitables and collect their results in order.
 *
 * @module
 */

import { getEventLoop } from "./event_loop.ts";
import { Future } from "./future.ts";
import type { Awaitable, AwaitedResult } from "./ensure_future.ts";
import { currentTask } from "./task.ts";
import {
  activate,
  addAwaitedBy,
  addCallback,
  cancelledErrorForResults,
  cancelledErrorOf,
  discardAwaitedBy,
  failFuture,
  type FutureKind,
  hasCallback,
  pendingCancelMessage,
  resolveFuture,
  setKind,
  WAIT_NAME,
} from "./_internal.ts";
import { toFuture } from "./_to_future.ts";
import { cancelledError } from "./_cancelled.ts";
import { checkOptions, describe, isGenerator } from "./_validate.ts";

/** Options for {@linkcode gather}. */
export interface GatherOptions {
  /**
   * Put exceptions (and the {@linkcode CancelledError} of a cancelled
   * child) in the result array instead of failing on the first one.
   *
   * @default {false}
   */
  returnExceptions?: boolean;
}

/**
 * The result of {@linkcode gather}: the tuple of results, in input order.
 *
 * @typeParam A The tuple of awaitables.
 */
export type GatherResult<A extends readonly unknown[]> = {
  -readonly [K in keyof A]: AwaitedResult<A[K]>;
};

/**
 * The result of {@linkcode gather} with `returnExceptions: true`: each slot
 * holds a result or the exception of that child.
 *
 * @typeParam A The tuple of awaitables.
 */
export type GatherSettledResult<A extends readonly unknown[]> = {
  -readonly [K in keyof A]: AwaitedResult<A[K]> | Error;
};

/**
 * The kind of the future gather returns (a plain Future, see FutureKind):
 * cancelling it cancels every child not yet done. It is also the argument
 * of the children's callbacks.
 */
class Gathering implements FutureKind {
  readonly future: Future<unknown[]>;
  children: Future<unknown>[];
  returnExceptions: boolean;
  /** Distinct children (an awaitable listed twice is one child). */
  count = 0;
  finished = 0;
  cancelRequested = false;
  /** The task that called gather(), recorded as awaiting each child (the call graph). */
  caller: Future<unknown> | null = null;

  constructor(future: Future<unknown[]>, children: Future<unknown>[], returnExceptions: boolean) {
    this.future = future;
    this.children = children;
    this.returnExceptions = returnExceptions;
  }

  /** The task tree's name for a wait on it. */
  get [WAIT_NAME](): string {
    return `gather() of ${this.count - this.finished} pending`;
  }

  cancel(outer: Future<unknown>, msg: string | undefined): boolean {
    if (outer.done()) return false;
    let cancelled = false;
    for (const child of this.children) {
      if (child.cancel(msg)) cancelled = true;
    }
    // When a child was actually cancelled, the gather must end in
    // cancellation even with returnExceptions (Python's bpo-32684).
    if (cancelled) this.cancelRequested = true;
    return cancelled;
  }
}

/**
 * Runs awaitables concurrently and resolves to their results, in input
 * order, as a typed tuple.
 *
 * Generators and functions are wrapped in tasks; futures and tasks are
 * waited on as they are; promises are followed. Without
 * `returnExceptions`, the first exception (or a child's cancellation)
 * fails the gather at once and the other children keep running. With it,
 * exceptions and `CancelledError`s take their place in the results.
 * Cancelling the returned future cancels every child not yet done.
 *
 * Equivalent to Python's `asyncio.gather(*aws, return_exceptions=...)`,
 * with the awaitables passed as one array.
 *
 * @typeParam A The tuple of awaitables.
 * @param aws The awaitables.
 * @param options `returnExceptions`.
 * @returns A future of the results.
 * @throws {TypeError} If `aws` is not iterable or holds something not awaitable.
 *
 * @example A typed tuple of results
 * ```ts
 * import * as asyncio from "@aio/asyncio";
 * import assert from "node:assert/strict";
 *
 * const [n, s] = await asyncio.run(function* () {
 *   return yield* asyncio.gather([
 *     (function* () {
 *       yield* asyncio.sleep(0);
 *       return 1;
 *     })(),
 *     async () => "two",
 *   ]);
 * });
 * const sum: number = n + 1;
 * assert.equal(sum, 2);
 * assert.equal(s, "two");
 * ```
 *
 * @example Collecting failures with returnExceptions
 * ```ts
 * import * as asyncio from "@aio/asyncio";
 * import assert from "node:assert/strict";
 *
 * const results = await asyncio.run(() =>
 *   asyncio.gather([
 *     async () => 1,
 *     async () => {
 *       throw new Error("boom");
 *     },
 *   ], { returnExceptions: true })
 * );
 * assert.equal(results[0], 1);
 * assert.ok(results[1] instanceof Error);
 * ```
 */
// The constraint is `unknown[]`, not `Awaitable[]`: it would become the
// contextual type of the elements and erase inferred results such as
// `p.then(() => 3)`. Elements that are not awaitable get the type `never`
// (and throw a TypeError at run time).
export function gather<const A extends readonly unknown[]>(
  aws: A,
  options: GatherOptions & { returnExceptions: true },
): Future<GatherSettledResult<A>>;
/**
 * Runs awaitables concurrently and resolves to the tuple of their results;
 * the first failure fails the gather. See the overload above for details.
 *
 * @typeParam A The tuple of awaitables.
 * @param aws The awaitables.
 * @param options `returnExceptions`.
 * @returns A future of the results.
 */
export function gather<const A extends readonly unknown[]>(
  aws: A,
  options?: GatherOptions,
): Future<GatherResult<A>>;
/**
 * Runs the awaitables of any other iterable (a `Set`, a map's values)
 * concurrently and resolves to an array of their results or exceptions, in
 * iteration order.
 *
 * @typeParam A The type of the awaitables.
 * @param aws The awaitables.
 * @param options `returnExceptions: true`.
 * @returns A future of the results.
 */
export function gather<A>(
  aws: Iterable<A>,
  options: GatherOptions & { returnExceptions: true },
): Future<(AwaitedResult<A> | Error)[]>;
/**
 * Runs the awaitables of any other iterable (a `Set`, a map's values)
 * concurrently and resolves to an array of their results, in iteration order.
 *
 * @typeParam A The type of the awaitables.
 * @param aws The awaitables.
 * @param options `returnExceptions`.
 * @returns A future of the results.
 */
export function gather<A>(aws: Iterable<A>, options?: GatherOptions): Future<AwaitedResult<A>[]>;
export function gather(
  aws: Iterable<Awaitable<unknown>>,
  options?: GatherOptions,
): Future<unknown[]> {
  let returnExceptions = false;
  if (options !== undefined) {
    checkOptions("gather()", options);
    if (options.returnExceptions !== undefined) {
      if (typeof options.returnExceptions !== "boolean") {
        throw new TypeError(
          `gather(): 'returnExceptions' must be a boolean, got ${
            describe(options.returnExceptions)
          }`,
        );
      }
      returnExceptions = options.returnExceptions;
    }
  }
  const items = toArray(aws);
  if (items.length === 0) {
    const outer = new Future<unknown[]>({ loop: getEventLoop() });
    resolveFuture(outer, []);
    return outer;
  }
  // The loop of the first future given, else the current one (as Python).
  const first = items[0];
  const loop = first instanceof Future ? first.getLoop() : getEventLoop();
  const children = new Array<Future<unknown>>(items.length);
  const outer = new Future<unknown[]>({ loop });
  const gathering = new Gathering(outer, children, returnExceptions);
  setKind(outer, gathering, true);
  // The call graph shows each child awaited by the caller (Python 3.14's gather).
  const me = currentTask();
  const caller = me !== null && me.getLoop() === loop ? me : null;
  gathering.caller = caller;
  // An awaitable listed twice is one child (Python's arg_to_fut). Pending
  // futures are recognised by the callback already registered; the rare
  // other cases use a map made on demand (no hashing on the common path).
  let wrapped: Map<unknown, Future<unknown>> | null = null;
  const done: Future<unknown>[] = [];
  let doneSet: Set<Future<unknown>> | null = null;
  let count = 0;
  for (let i = 0; i < items.length; i++) {
    const item = items[i];
    let child: Future<unknown>;
    if (item instanceof Future) {
      child = activate(item); // a block nothing waited on yet starts as a task, in order
      if (child.getLoop() !== loop) {
        throw new Error(
          `gather(): 'aws[${i}]' belongs to another event loop than 'aws[0]'; all futures must share one loop`,
        );
      }
      if (child.done()) {
        if (done.length === 16) doneSet = new Set(done);
        if (doneSet === null ? !done.includes(child) : !doneSet.has(child)) {
          done.push(child);
          doneSet?.add(child);
          count++;
        }
      } else if (!hasCallback(child, childDone, gathering)) {
        addCallback(child, childDone, gathering);
        if (caller !== null) addAwaitedBy(child, caller);
        count++;
      }
    } else {
      wrapped ??= new Map();
      let made = wrapped.get(item);
      if (made === undefined) {
        made = toFuture(loop, item, "gather()", `aws[${i}]`);
        wrapped.set(item, made);
        if (made.done()) done.push(made);
        else {
          addCallback(made, childDone, gathering);
          if (caller !== null) addAwaitedBy(made, caller);
        }
        count++;
      }
      child = made;
    }
    children[i] = child;
  }
  gathering.count = count;
  // Children already done are counted now, so a gather of done futures
  // completes at once (Python 3.12+).
  for (const child of done) childDone(gathering, child);
  return outer;
}

function childDone(gathering: Gathering, child: Future<unknown>): void {
  const outer = gathering.future;
  gathering.finished++;
  if (gathering.caller !== null) discardAwaitedBy(child, gathering.caller);
  if (outer.done()) {
    // Mark the exception retrieved: the gather already reported its outcome.
    if (!child.cancelled()) child.exception();
    return;
  }
  if (!gathering.returnExceptions) {
    if (child.cancelled()) {
      failFuture(outer, cancelledErrorOf(child));
      return;
    }
    const error = child.exception();
    if (error !== undefined) {
      failFuture(outer, error);
      return;
    }
  }
  if (gathering.finished < gathering.count) return;
  const children = gathering.children;
  const results = new Array<unknown>(children.length);
  for (let i = 0; i < children.length; i++) {
    const c = children[i];
    if (c.cancelled()) {
      results[i] = cancelledErrorForResults(c);
    } else {
      const error = c.exception();
      results[i] = error === undefined ? c.result() : error;
    }
  }
  if (gathering.cancelRequested) {
    // Cancelled while children finished: the gather ends in cancellation
    // anyway, with the last child's _make_cancelled_error() (as Python does).
    const last = children[children.length - 1];
    failFuture(
      outer,
      last.cancelled() ? cancelledErrorOf(last) : cancelledError(pendingCancelMessage(last)),
    );
  } else {
    resolveFuture(outer, results);
  }
}

function toArray(aws: Iterable<Awaitable<unknown>>): Awaitable<unknown>[] {
  if (Array.isArray(aws)) return aws;
  if (isGenerator(aws)) {
    // Most likely a coroutine meant as one child: iterating it would run it
    // (or never end).
    throw new TypeError(
      "gather(): 'aws' must be an array of awaitables, got a generator; to gather one coroutine, pass [coroutine]",
    );
  }
  if (
    aws !== null && typeof aws === "object" &&
    typeof (aws as Iterable<unknown>)[Symbol.iterator] === "function" && !(aws instanceof Future)
  ) {
    return Array.from(aws);
  }
  throw new TypeError(`gather(): 'aws' must be an array of awaitables, got ${describe(aws)}`);
}
