/**
 * The conversion behind ensureFuture(), on a given loop and with the
 * caller's name in error messages. Private to the package.
 *
 * @module
 */

import type { EventLoop } from "./event_loop.ts";
import { Future } from "./future.ts";
import { CancelledError } from "./errors.ts";
import type { Coroutine } from "./task.ts";
import { activate, failFuture, hooks, resolveFuture, spawnTask } from "./_internal.ts";
import { describe, isGenerator } from "./_validate.ts";

/** Returns `aw` as a Future on `loop`; see ensureFuture(). */
export function toFuture(
  loop: EventLoop,
  aw: unknown,
  where: string,
  arg: string,
): Future<unknown> {
  // A block of timeout()/taskGroup()/waitFor() nothing waited on yet starts as a task.
  if (aw instanceof Future) return activate(aw);
  if (typeof aw === "function" || isGenerator(aw)) {
    return spawnTask(where, loop, aw as Coroutine<unknown>);
  }
  checkAwaitable(where, arg, aw);
  return followPromise(loop, aw as PromiseLike<unknown>);
}

/** Throws the TypeError of toFuture() unless `aw` is something it accepts. */
export function checkAwaitable(where: string, arg: string, aw: unknown): void {
  if (
    aw instanceof Future || typeof aw === "function" || isGenerator(aw) ||
    (aw !== null && typeof aw === "object" &&
      typeof (aw as PromiseLike<unknown>).then === "function")
  ) {
    return;
  }
  throw new TypeError(
    `${where}: '${arg}' must be a Future, a Task, a generator, a function or a promise, got ${
      describe(aw)
    }`,
  );
}

/**
 * The futures that follow a foreign promise still pending, per loop: work
 * the host does, so a loop with nothing else to do is not deadlocked (see
 * the deadlock check of run()), and the task tree names them.
 */
const following = new WeakMap<EventLoop, Set<Future<unknown>>>();

/** Whether some future of `loop` follows a foreign promise that has not settled yet. */
export function followsForeignWork(loop: EventLoop): boolean {
  const set = following.get(loop);
  if (set === undefined) return false;
  for (const future of set) {
    if (future.done()) set.delete(future); // cancelled: nobody waits for the promise
    else return true;
  }
  return false;
}

/** Whether `future` follows a foreign promise (ensureFuture of a promise). */
export function followsPromise(future: Future<unknown>): boolean {
  return following.get(future.getLoop())?.has(future) === true;
}

function followPromise(loop: EventLoop, promise: PromiseLike<unknown>): Future<unknown> {
  const future = new Future<unknown>({ loop });
  let set = following.get(loop);
  if (set === undefined) following.set(loop, set = new Set());
  set.add(future);
  promise.then(
    (value) => {
      set.delete(future);
      if (!future.done()) resolveFuture(future, value);
    },
    (error) => {
      set.delete(future);
      if (!future.done()) {
        failFuture(future, error);
      } else if (!isAbort(error)) {
        // The future was cancelled; the promise failed anyway. Nothing is lost.
        loop.callExceptionHandler({
          message: "A promise failed after the Future that followed it was cancelled",
          exception: error,
          future,
        });
      }
    },
  );
  return future;
}

function isAbort(error: unknown): boolean {
  return error instanceof CancelledError ||
    (error instanceof Error && error.name === "AbortError");
}

hooks.ensureFuture = toFuture;
