/**
 * The async call graph of a task or future: who awaits it, up to the
 * program's main task (CPython 3.14's `asyncio.graph`).
 *
 * @module
 */

import { getRunningLoop } from "./event_loop.ts";
import { Future } from "./future.ts";
import { currentTask, Task } from "./task.ts";
import {
  coroutineFrames,
  deepStack,
  type Frame,
  idOf,
  parseStack,
  pyRepr,
  suspendedFrames,
  Waits,
} from "./_inspect.ts";
import { checkOptions, describe } from "./_validate.ts";
import type { EventLoop } from "./event_loop.ts";

/**
 * One frame of a {@linkcode FutureCallGraph}'s call stack. JavaScript
 * cannot read the frames of a suspended coroutine, so a task that is not
 * running shows one frame, its coroutine function (by name, without a
 * location), unless its loop is in debug mode: then each wait records the
 * stack where the task suspended, and every frame of its coroutines is
 * there with its source location. The running task (the one calling
 * {@linkcode captureCallGraph}) always shows its real stack.
 *
 * Equivalent to Python's `asyncio.FrameCallGraphEntry`, with the frame's
 * name and location in place of the frame object.
 */
export interface FrameCallGraphEntry {
  /** The function's name as the host's stack shows it ("main", "Worker.run", "<anonymous>"). */
  readonly name: string;
  /** A generator coroutine, an async function, or a plain function called by one. */
  readonly kind: "generator" | "async" | "function";
  /** The file (a URL in Deno), or `null` when not known. */
  readonly fileName: string | null;
  /** The line, or `null` when not known. */
  readonly lineNumber: number | null;
  /** The column, or `null` when not known. */
  readonly columnNumber: number | null;
}

/**
 * A future (or task), the frames of its coroutine (innermost first), and
 * the graphs of what awaits it.
 *
 * Equivalent to Python's `asyncio.FutureCallGraph` (`callStack` and
 * `awaitedBy` for `call_stack` and `awaited_by`).
 */
export interface FutureCallGraph {
  /** The future or task. */
  readonly future: Future<unknown>;
  /** Its coroutine's frames, innermost first (empty for a plain future). */
  readonly callStack: readonly FrameCallGraphEntry[];
  /** The graphs of the futures and tasks awaiting it. */
  readonly awaitedBy: readonly FutureCallGraph[];
}

/** Options for {@linkcode captureCallGraph} and {@linkcode formatCallGraph}. */
export interface CaptureCallGraphOptions {
  /**
   * When capturing the running task, how many frames to skip from the top
   * of its stack: 1 starts at the caller of `captureCallGraph`.
   *
   * @default {1}
   */
  depth?: number;
  /**
   * Keep at most `|limit|` frames of each call stack: positive keeps the
   * outermost ones (nearest the task's coroutine), negative the innermost;
   * 0 captures no frames, only who awaits whom. `null` keeps them all.
   *
   * @default {null}
   */
  limit?: number | null;
}

/** Options for {@linkcode printCallGraph}. */
export interface PrintCallGraphOptions extends CaptureCallGraphOptions {
  /**
   * Where the text goes (Python's `file`).
   *
   * @default {console.log}
   */
  write?: (text: string) => void;
}

/**
 * Captures the async call graph of `future`, or of the running task: the
 * frames of its coroutine and, recursively, the graphs of the tasks and
 * futures awaiting it. Every combinator of the package records who awaits
 * its children (`gather`, `shield`, `wait`, `asCompleted`, a task group's
 * children are awaited by its parent), and a task waiting on a future
 * directly is found from the task; blocks (`timeout`, `taskGroup`,
 * `waitFor`) run inside the task that waits on them, so the graph of a
 * leaf task reaches the program's main task.
 *
 * An async-function task's waits are known where the host has an async
 * context (Deno, Node, Bun, workerd); elsewhere only those made with its
 * signal.
 *
 * Equivalent to Python 3.14's `asyncio.capture_call_graph()`; the options
 * are an object, and the frames are names and locations (see
 * {@linkcode FrameCallGraphEntry}).
 *
 * @param future The future or task; by default the running task.
 * @param options Frames to skip (`depth`) and to keep (`limit`).
 * @returns The graph, or `null` when no future is given and no task is running.
 * @throws {TypeError} If `future` is not a Future, or an option has the wrong type.
 * @throws {RangeError} If `depth` is negative or not an integer, or `limit` is not an integer.
 * @throws {Error} If no future is given and no loop is running.
 *
 * @example The chain from a task to main
 * ```ts
 * import * as asyncio from "@aio/asyncio";
 * import assert from "node:assert/strict";
 *
 * await asyncio.run(function* main() {
 *   let graph: asyncio.FutureCallGraph | null = null;
 *   yield* asyncio.gather([
 *     asyncio.createTask(function* worker() {
 *       yield* asyncio.sleep(0);
 *       graph = asyncio.captureCallGraph();
 *     }, { name: "worker" }),
 *   ]);
 *   assert.equal((graph!.future as asyncio.Task<unknown>).getName(), "worker");
 *   assert.equal(graph!.callStack[0].name, "worker");
 *   assert.equal(graph!.awaitedBy[0].future, asyncio.currentTask());
 *   assert.equal(graph!.awaitedBy[0].callStack[0].name, "main");
 * });
 * ```
 */
export function captureCallGraph(
  future?: Future<unknown> | null,
  options?: CaptureCallGraphOptions,
): FutureCallGraph | null {
  const { depth, limit } = checkCaptureOptions("captureCallGraph()", future, options);
  return capture("captureCallGraph()", future ?? null, depth, limit);
}

/**
 * The call graph of `future` (or of the running task) as text, in CPython
 * 3.14's layout:
 *
 * ```text
 * * Task(name='worker', id=0x1)
 *   + Call stack:
 *   |   File 'file:///app.ts', line 12, in generator worker()
 *   + Awaited by:
 *     * Task(name='Task-1', id=0x2)
 * ```
 *
 * A frame without a known location is shown as `|   in generator worker()`.
 * Ids number the futures in the order they are first shown.
 *
 * Equivalent to Python 3.14's `asyncio.format_call_graph()`.
 *
 * @param future The future or task; by default the running task.
 * @param options Frames to skip (`depth`) and to keep (`limit`).
 * @returns The text, or `""` when no future is given and no task is running.
 * @throws {TypeError} If `future` is not a Future, or an option has the wrong type.
 * @throws {RangeError} If `depth` is negative or not an integer, or `limit` is not an integer.
 * @throws {Error} If no future is given and no loop is running.
 *
 * @example
 * ```ts
 * import * as asyncio from "@aio/asyncio";
 * import assert from "node:assert/strict";
 *
 * const text = await asyncio.run(function* main() {
 *   return asyncio.formatCallGraph();
 * }, { debug: false });
 * assert.match(text, /^\* Task\(name='Task-\d+', id=0x[0-9a-f]+\)\n  \+ Call stack:\n/);
 * assert.match(text, / in generator main\(\)$/);
 * ```
 */
export function formatCallGraph(
  future?: Future<unknown> | null,
  options?: CaptureCallGraphOptions,
): string {
  const { depth, limit } = checkCaptureOptions("formatCallGraph()", future, options);
  const graph = capture("formatCallGraph()", future ?? null, depth, limit);
  return graph === null ? "" : render(graph);
}

/**
 * Prints the call graph of `future` (or of the running task), as
 * {@linkcode formatCallGraph} makes it, with `console.log` or `write`.
 *
 * Equivalent to Python 3.14's `asyncio.print_call_graph()`, with `write`
 * for `file`.
 *
 * @param future The future or task; by default the running task.
 * @param options Frames to skip and keep, and where to write.
 * @throws {TypeError} If `future` is not a Future, or an option has the wrong type.
 * @throws {RangeError} If `depth` is negative or not an integer, or `limit` is not an integer.
 * @throws {Error} If no future is given and no loop is running.
 *
 * @example Printing to a string
 * ```ts
 * import * as asyncio from "@aio/asyncio";
 * import assert from "node:assert/strict";
 *
 * let out = "";
 * await asyncio.run(function* main() {
 *   const child = asyncio.createTask(function* child() {
 *     yield* asyncio.sleep(10);
 *   }, { name: "child" });
 *   yield* asyncio.sleep(0);
 *   asyncio.printCallGraph(child, { write: (text) => out += text });
 *   yield* child;
 * }, { clock: new asyncio.VirtualClock({ autojump: true }) });
 * assert.match(out, /^\* Task\(name='child', id=0x[0-9a-f]+\)/);
 * assert.match(out, /in generator child\(\)/);
 * ```
 */
export function printCallGraph(
  future?: Future<unknown> | null,
  options?: PrintCallGraphOptions,
): void {
  const { depth, limit } = checkCaptureOptions("printCallGraph()", future, options);
  const write = options?.write;
  if (write !== undefined && typeof write !== "function") {
    throw new TypeError(`printCallGraph(): 'write' must be a function, got ${describe(write)}`);
  }
  const graph = capture("printCallGraph()", future ?? null, depth, limit);
  const text = graph === null ? "" : render(graph);
  if (write !== undefined) write(text + "\n");
  else console.log(text);
}

// ------------------------------------------------------------ internals

function checkCaptureOptions(
  where: string,
  future: unknown,
  options: CaptureCallGraphOptions | undefined,
): { depth: number; limit: number | null } {
  if (future !== undefined && future !== null && !(future instanceof Future)) {
    throw new TypeError(`${where}: 'future' must be a Future, got ${describe(future)}`);
  }
  if (options === undefined) return { depth: 1, limit: null };
  checkOptions(where, options);
  const { depth = 1, limit = null } = options;
  if (typeof depth !== "number") {
    throw new TypeError(`${where}: 'depth' must be a number, got ${describe(depth)}`);
  }
  if (!Number.isInteger(depth) || depth < 0) {
    throw new RangeError(`${where}: 'depth' must be an integer >= 0, got ${depth}`);
  }
  if (limit !== null) {
    if (typeof limit !== "number") {
      throw new TypeError(`${where}: 'limit' must be a number or null, got ${describe(limit)}`);
    }
    if (!Number.isInteger(limit)) {
      throw new RangeError(`${where}: 'limit' must be an integer, got ${limit}`);
    }
  }
  return { depth, limit };
}

/**
 * Python's capture_call_graph. Called straight from the exported function,
 * so the running task's stack starts `depth` frames above that one.
 */
function capture(
  where: string,
  future: Future<unknown> | null,
  depth: number,
  limit: number | null,
): FutureCallGraph | null {
  const running = currentTask();
  if (future === null) {
    try {
      getRunningLoop();
    } catch {
      throw new Error(
        `${where}: no event loop is running and no 'future' to introspect was given`,
      );
    }
    if (running === null) return null;
    future = running;
  }
  const indexes = new Map<EventLoop, Waits>();
  if (future !== running) return build(future, limit, indexes, new Set());
  // The running task: its real stack, from the caller of the exported function down to its step.
  const stack = deepStack();
  const frames = trim(coroutineFrames(stack, skipFor(stack, where, depth)), limit);
  return Object.freeze({
    future,
    callStack: Object.freeze(frames),
    awaitedBy: Object.freeze(parents(future, limit, indexes, new Set([future]))),
  });
}

/**
 * How many frames of `stack` (taken in capture()) to skip: capture's own,
 * the exported function's, then `depth - 1` of its callers. Found by name
 * where the host names them, since a host may leave out the exported
 * function's frame (JavaScriptCore, after a tail call or Bun's transpiler).
 */
function skipFor(stack: string, where: string, depth: number): number {
  const frames = parseStack(stack);
  const exported = where.slice(0, -2); // "captureCallGraph()" -> "captureCallGraph"
  let at = frames.findIndex((frame) => /(?:^|\.)capture$/.test(frame.name));
  if (at === -1) return 1 + depth;
  at++;
  if (frames[at] !== undefined && frames[at].name.endsWith(exported)) at++;
  return at + depth - 1;
}

function waitsOf(loop: EventLoop, indexes: Map<EventLoop, Waits>): Waits {
  let waits = indexes.get(loop);
  if (waits === undefined) indexes.set(loop, waits = new Waits(loop));
  return waits;
}

function build(
  future: Future<unknown>,
  limit: number | null,
  indexes: Map<EventLoop, Waits>,
  path: Set<Future<unknown>>,
): FutureCallGraph {
  let frames: Frame[] = [];
  if (future instanceof Task && limit !== 0) {
    const snapshot = waitsOf(future.getLoop(), indexes).snapshot(future as Task<unknown>);
    frames = trim(suspendedFrames(future as Task<unknown>, snapshot), limit);
  }
  path.add(future);
  const awaitedBy = parents(future, limit, indexes, path);
  path.delete(future);
  return Object.freeze({
    future,
    callStack: Object.freeze(frames),
    awaitedBy: Object.freeze(awaitedBy),
  });
}

/** The graphs of what awaits `future`; an await cycle is cut where it closes. */
function parents(
  future: Future<unknown>,
  limit: number | null,
  indexes: Map<EventLoop, Waits>,
  path: Set<Future<unknown>>,
): FutureCallGraph[] {
  const out: FutureCallGraph[] = [];
  for (const by of waitsOf(future.getLoop(), indexes).awaitedBy(future)) {
    if (path.has(by)) continue;
    out.push(build(by, limit, indexes, path));
  }
  return out;
}

/** CPython's limit: positive keeps the outermost `limit` frames, negative the innermost. */
function trim(frames: Frame[], limit: number | null): Frame[] {
  if (limit === null) return frames;
  if (limit === 0) return [];
  return limit > 0 ? frames.slice(-limit) : frames.slice(0, -limit);
}

/** CPython's print_call_graph layout. */
function render(graph: FutureCallGraph): string {
  const lines: string[] = [];
  const level = (node: FutureCallGraph, depth: number) => {
    const indent = "    ".repeat(depth);
    const add = (line: string) => lines.push(indent + line);
    const future = node.future;
    if (future instanceof Task) {
      add(`* Task(name=${pyRepr((future as Task<unknown>).getName())}, id=${idOf(future)})`);
    } else {
      add(`* Future(id=${idOf(future)})`);
    }
    if (node.callStack.length > 0) {
      add("  + Call stack:");
      for (const frame of node.callStack) {
        const what = frame.kind === "function"
          ? `${frame.name}()`
          : `${frame.kind} ${frame.name}()`;
        if (frame.fileName !== null) {
          add(`  |   File ${pyRepr(frame.fileName)}, line ${frame.lineNumber}, in ${what}`);
        } else {
          add(`  |   in ${what}`);
        }
      }
    }
    if (node.awaitedBy.length > 0) {
      add("  + Awaited by:");
      for (const parent of node.awaitedBy) level(parent, depth + 1);
    }
  };
  level(graph, 0);
  return lines.join("\n");
}
