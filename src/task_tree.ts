/**
 * The whole program at a glance: every live task of a loop as a tree by
 * who awaits whom (the in-process form of CPython 3.14's
 * `python -m asyncio pstree`).
 *
 * @module
 */

import { EventLoop, getEventLoop } from "./event_loop.ts";
import { renderTree } from "./_tree.ts";
import { checkOptions, describe } from "./_validate.ts";

/** Options for {@linkcode printTaskTree}. */
export interface PrintTaskTreeOptions {
  /**
   * Where the text goes.
   *
   * @default {console.log}
   */
  write?: (text: string) => void;
}

/**
 * Every live task of `loop` as a tree by who awaits whom: a task's
 * children are the tasks it awaits (directly, or through `gather`, a task
 * group and the other combinators), so the roots are the tasks nobody
 * awaits, usually `main`. Each line gives the task's name, its coroutine,
 * its state (running, ready to run, or what it waits on: a future, a
 * task, `Lock.acquire()` on a lock, `Queue.get()` on a queue, a sleep and
 * its deadline) and its age in loop time. In debug mode each task also
 * shows where it last suspended, frame by frame, and where it was created.
 *
 * A task awaited by several is shown under each of them. An await cycle
 * (tasks that await each other, so none can finish) is marked where it
 * closes, `↺ cycle`, and listed at the end, as CPython's `pstree` lists
 * them.
 *
 * @param loop The loop; by default the current one ({@linkcode getEventLoop}).
 * @returns The tree, one task per line (more in debug mode).
 * @throws {TypeError} If `loop` is not an {@linkcode EventLoop}.
 *
 * @example Who waits on what
 * ```ts
 * import * as asyncio from "@aio/asyncio";
 * import assert from "node:assert/strict";
 *
 * const tree = await asyncio.run(function* main() {
 *   const lock = new asyncio.Lock();
 *   using _held = yield* lock.acquire();
 *   const worker = asyncio.createTask(function* worker() {
 *     using _ = yield* lock.acquire();
 *   }, { name: "worker" });
 *   yield* asyncio.sleep(0);
 *   const tree = asyncio.formatTaskTree();
 *   worker.cancel();
 *   return tree;
 * }, { clock: new asyncio.VirtualClock({ autojump: true }) });
 * assert.match(tree, /── \(T\) Task-\d+: generator main\(\), running/);
 * assert.match(tree, /\(T\) worker: generator worker\(\), waiting on Lock\.acquire\(\) on <Lock \[locked, waiters:1\]>/);
 * ```
 */
export function formatTaskTree(loop?: EventLoop): string {
  if (loop !== undefined && !(loop instanceof EventLoop)) {
    throw new TypeError(`formatTaskTree(): 'loop' must be an EventLoop, got ${describe(loop)}`);
  }
  return renderTree(loop ?? getEventLoop());
}

/**
 * Prints {@linkcode formatTaskTree}'s tree with `console.log` or `write`.
 * `run(main, { debug: true })` prints it on SIGQUIT (Ctrl-\\) where the
 * host has signals.
 *
 * @param loop The loop; by default the current one.
 * @param options Where to write.
 * @throws {TypeError} If `loop` is not an {@linkcode EventLoop}, or `write` is not a function.
 *
 * @example
 * ```ts
 * import * as asyncio from "@aio/asyncio";
 * import assert from "node:assert/strict";
 *
 * let out = "";
 * await asyncio.run(function* main() {
 *   asyncio.printTaskTree(undefined, { write: (text) => out += text });
 * }, { clock: new asyncio.VirtualClock() });
 * assert.match(out, /^Tasks of <EventLoop .*>, loop time 0 ms: 1\n└── \(T\) Task-\d+: generator main\(\), running, age 0 ms\n$/);
 * ```
 */
export function printTaskTree(loop?: EventLoop, options?: PrintTaskTreeOptions): void {
  if (loop !== undefined && !(loop instanceof EventLoop)) {
    throw new TypeError(`printTaskTree(): 'loop' must be an EventLoop, got ${describe(loop)}`);
  }
  let write: ((text: string) => void) | undefined;
  if (options !== undefined) {
    checkOptions("printTaskTree()", options);
    write = options.write;
    if (write !== undefined && typeof write !== "function") {
      throw new TypeError(`printTaskTree(): 'write' must be a function, got ${describe(write)}`);
    }
  }
  const text = renderTree(loop ?? getEventLoop());
  if (write !== undefined) write(text + "\n");
  else console.log(text);
}
