/**
 * What the call graph (graph.ts) and the task tree (task_tree.ts) read of a
 * running program: who awaits whom, what each task waits on, and the frames
 * of its coroutine as far as JavaScript shows them. Private to the package;
 * nothing here runs unless one of those is asked for.
 *
 * Who awaits a future is found two ways, as in CPython 3.14: the records
 * that combinators make (`futureAddToAwaitedBy`: gather's children are
 * awaited by the task that called it, a task group's by its parent), and
 * the tasks that wait on it directly, which are read from the tasks
 * themselves (a generator task's one wait, an async-function task's waits
 * in the host's async context), so that waiting costs nothing extra.
 *
 * @module
 */

import type { EventLoop } from "./event_loop.ts";
import type { Future } from "./future.ts";
import { allTasks, Task } from "./task.ts";
import {
  awaitedByOf,
  inspectTask,
  kindOf,
  type TaskSnapshot,
  timerOf,
  WAIT_NAME,
} from "./_internal.ts";
import { waitOpOf } from "./_wait_op.ts";
import { followsPromise } from "./_to_future.ts";

// ------------------------------------------------------------ frames

/** One frame of a stack as the host prints it. */
export interface StackFrame {
  name: string;
  fileName: string | null;
  lineNumber: number | null;
  columnNumber: number | null;
  /** V8's `at async f`: an async function suspended at an await. */
  async: boolean;
  /** A builtin (`at f.next (<anonymous>)`, `[native code]`): no source. */
  builtin: boolean;
}

const V8_LINE = /^\s*at\s+(?:(async)\s+)?(?:new\s+)?(.*?)(?:\s+\((.*)\))?\s*$/;
const OTHER_LINE = /^\s*(.*?)@(.*)$/;

function splitLocation(
  location: string,
): { fileName: string; lineNumber: number; columnNumber: number } | null {
  const match = /^(.*):(\d+):(\d+)$/.exec(location);
  if (match === null) return null;
  return { fileName: match[1], lineNumber: Number(match[2]), columnNumber: Number(match[3]) };
}

/** The frames of an error's stack (V8's `at` lines, or Firefox's and Safari's `f@url:1:2`). */
export function parseStack(stack: string): StackFrame[] {
  const frames: StackFrame[] = [];
  for (const line of stack.split("\n")) {
    let name: string;
    let location: string | undefined;
    let isAsync = false;
    const v8 = /^\s+at\s/.test(line) ? V8_LINE.exec(line) : null;
    if (v8 !== null) {
      isAsync = v8[1] === "async";
      if (v8[3] === undefined) {
        // "at url:1:2" (no name), or "at name" alone.
        const bare = splitLocation(v8[2]);
        name = bare === null ? v8[2] : "";
        location = bare === null ? undefined : v8[2];
      } else {
        name = v8[2];
        location = v8[3];
      }
    } else {
      const other = OTHER_LINE.exec(line);
      if (other === null || !/:\d+:\d+$|\[native code\]/.test(other[2])) continue;
      name = other[1];
      location = other[2];
    }
    const where = location === undefined ? null : splitLocation(location);
    frames.push({
      name,
      fileName: where?.fileName ?? null,
      lineNumber: where?.lineNumber ?? null,
      columnNumber: where?.columnNumber ?? null,
      async: isAsync,
      builtin: where === null,
    });
  }
  return frames;
}

/** The stack of the caller of the caller, deep enough for a chain of coroutines (V8 keeps 10 frames by default). */
export function deepStack(): string {
  const E = Error as { stackTraceLimit?: number };
  const limit = E.stackTraceLimit;
  if (typeof limit === "number" && limit < 100) E.stackTraceLimit = 100;
  const stack = new Error().stack ?? "";
  if (typeof limit === "number") E.stackTraceLimit = limit;
  // This function's own frame goes: the caller sees the stack from itself on.
  return stack.replace(/\n[^\n]*/, "");
}

/** The package's own `src/` directory as stack frames spell it, or null when unknown. */
const sourceDir: string | null = (() => {
  const frames = parseStack(new Error().stack ?? "");
  for (const frame of frames) {
    if (frame.fileName === null) continue;
    const found = /^(.*[/\\]src[/\\])_inspect\.[cm]?[jt]s$/.exec(frame.fileName);
    return found === null ? null : found[1];
  }
  return null;
})();

function isPackageFrame(frame: StackFrame): boolean {
  return sourceDir !== null && frame.fileName !== null && frame.fileName.startsWith(sourceDir);
}

function isHostFrame(frame: StackFrame): boolean {
  return frame.fileName !== null && /^(?:ext|node|bun|internal):/.test(frame.fileName);
}

/** Where a task's step begins: the frames below it belong to the loop, or to an eager caller. */
const STEP_FRAME = /(?:^|\.)(?:#step|#eagerStart|#callFunction|callInContext|stepTask|wakeTask)$/;

/** A frame of the call graph: a coroutine's (or a plain function's) name and where it is. */
export interface Frame {
  readonly name: string;
  readonly kind: "generator" | "async" | "function";
  readonly fileName: string | null;
  readonly lineNumber: number | null;
  readonly columnNumber: number | null;
}

/**
 * The coroutine frames of a stack, innermost first: the user's frames and
 * the package's generators (a timeout's or a group's, as CPython shows
 * `TaskGroup.__aexit__`), down to the task's step; the package's other
 * frames, the host's and the builtins are left out.
 */
export function coroutineFrames(stack: string, skip: number): Frame[] {
  const frames = parseStack(stack);
  const out: Frame[] = [];
  for (let i = skip; i < frames.length; i++) {
    const frame = frames[i];
    const pkg = isPackageFrame(frame);
    // (Also when the package is bundled, its files unknown: the names are distinctive.)
    if (STEP_FRAME.test(frame.name)) break;
    if (frame.builtin || isHostFrame(frame)) continue;
    const next = frames[i + 1];
    const generator = next !== undefined && next.builtin &&
      /\.(?:next|throw|return)$/.test(next.name);
    const kind = frame.async ? "async" : generator ? "generator" : "function";
    if (pkg && kind === "function") continue;
    out.push(Object.freeze({
      name: frame.name || "<anonymous>",
      kind,
      fileName: frame.fileName,
      lineNumber: frame.lineNumber,
      columnNumber: frame.columnNumber,
    }));
  }
  return out;
}

/** The name of a task's coroutine function, as far as it is known. */
export function coroutineName(snapshot: TaskSnapshot): string {
  const fn = snapshot.fn;
  if (typeof fn === "string") return fn.replace(/\(\)$/, "");
  if (fn === null) return "<generator>";
  return fn.name || "<anonymous>";
}

/** The frames of a task that is not running: where it suspended (debug mode), else its function. */
export function suspendedFrames(task: Task<unknown>, snapshot: TaskSnapshot): Frame[] {
  if (snapshot.site !== undefined) {
    const frames = coroutineFrames(snapshot.site.stack ?? "", 0);
    if (frames.length > 0) return frames;
  }
  if (task.done() && snapshot.fn === null) return [];
  return [Object.freeze({
    name: coroutineName(snapshot),
    kind: snapshot.isAsync || (typeof snapshot.fn === "function" && isAsyncFunction(snapshot.fn))
      ? "async"
      : "generator",
    fileName: null,
    lineNumber: null,
    columnNumber: null,
  })];
}

const AsyncFunction = (async () => {}).constructor;
/** Whether `fn` is an async function (not one returning a promise by hand). */
export function isAsyncFunction(fn: unknown): boolean {
  return fn instanceof AsyncFunction;
}

// ------------------------------------------------------------ who awaits whom

/** The tasks of a loop and, for each future one of them waits on, who waits on it. */
export class Waits {
  readonly loop: EventLoop;
  readonly tasks: Task<unknown>[];
  readonly snapshots: Map<Task<unknown>, TaskSnapshot> = new Map();
  readonly #waiters = new Map<Future<unknown>, Task<unknown>[]>();

  constructor(loop: EventLoop) {
    this.loop = loop;
    this.tasks = [...allTasks(loop)] as Task<unknown>[];
    for (const task of this.tasks) {
      const snapshot = inspectTask(task);
      this.snapshots.set(task, snapshot);
      for (const future of snapshot.waits) {
        const list = this.#waiters.get(future);
        if (list === undefined) this.#waiters.set(future, [task]);
        else list.push(task);
      }
    }
  }

  /** A snapshot of `task` (also of one not on this loop's list, such as a done one). */
  snapshot(task: Task<unknown>): TaskSnapshot {
    let snapshot = this.snapshots.get(task);
    if (snapshot === undefined) this.snapshots.set(task, snapshot = inspectTask(task));
    return snapshot;
  }

  /** Who awaits `future` now: the records of combinators, then the tasks waiting on it. */
  awaitedBy(future: Future<unknown>): Future<unknown>[] {
    const out: Future<unknown>[] = [];
    for (const by of awaitedByOf(future)) if (!by.done() && !out.includes(by)) out.push(by);
    for (const task of this.#waiters.get(future) ?? []) if (!out.includes(task)) out.push(task);
    return out;
  }

  /** The tasks that await `task`, looking through awaiting futures that are not tasks. */
  awaitingTasks(task: Task<unknown>): Task<unknown>[] {
    const out: Task<unknown>[] = [];
    const seen = new Set<Future<unknown>>([task]);
    const visit = (future: Future<unknown>) => {
      for (const by of this.awaitedBy(future)) {
        if (seen.has(by)) {
          if (by instanceof Task && by !== future && !out.includes(by)) out.push(by);
          continue;
        }
        seen.add(by);
        if (by instanceof Task) out.push(by);
        else visit(by);
      }
    };
    visit(task);
    return out;
  }
}

// ------------------------------------------------------------ what a task waits on

/** Words for a future a task waits on: the operation, the sleep's deadline, the task. */
export function describeWait(future: Future<unknown>, loop: EventLoop): string {
  const op = waitOpOf(future);
  if (op !== null) return `${op.what} on ${op.owner}`;
  const timer = timerOf(future);
  if (timer !== undefined) {
    const when = timer.when();
    return `sleep until ${formatMs(when)} ms (in ${formatMs(when - loop.time())} ms)`;
  }
  if (future instanceof Task) return `task ${future.getName()}`;
  const named = ((kindOf(future) ?? future) as unknown as Record<symbol, unknown>)[WAIT_NAME];
  if (typeof named === "string") return named;
  if (followsPromise(future)) return "a promise (ensureFuture)";
  return String(future);
}

/** A time for people: integers as they are, others to three decimals at most. */
export function formatMs(ms: number): string {
  return Number.isInteger(ms) ? String(ms) : String(Math.round(ms * 1000) / 1000);
}

/** Identifiers for futures in reports, like CPython's `id()`: stable for the life of each one. */
const ids = new WeakMap<object, number>();
let nextId = 0;
export function idOf(future: Future<unknown>): string {
  let id = ids.get(future);
  if (id === undefined) ids.set(future, id = ++nextId);
  return `0x${id.toString(16)}`;
}

/** Python's repr of a string: single quotes unless it holds one and no double quote. */
export function pyRepr(text: string): string {
  const quote = text.includes("'") && !text.includes('"') ? '"' : "'";
  const body = text.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/\t/g, "\\t");
  return quote + (quote === "'" ? body.replace(/'/g, "\\'") : body) + quote;
}
