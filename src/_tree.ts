/**
 * The task tree's text (formatTaskTree, printTaskTree, DeadlockError's
 * message). Private to the package.
 *
 * @module
 */

import type { EventLoop } from "./event_loop.ts";
import type { Task } from "./task.ts";
import {
  coroutineFrames,
  coroutineName,
  deepStack,
  describeWait,
  formatMs,
  isAsyncFunction,
  suspendedFrames,
  Waits,
} from "./_inspect.ts";
import type { TaskSnapshot } from "./_internal.ts";

/** The tree's text; also the message of a DeadlockError. */
export function renderTree(loop: EventLoop): string {
  const waits = new Waits(loop);
  const tasks = waits.tasks;
  const now = loop.time();
  const children = new Map<Task<unknown>, Task<unknown>[]>();
  const hasParent = new Set<Task<unknown>>();
  for (const task of tasks) {
    for (const parent of waits.awaitingTasks(task)) {
      if (!children.has(parent)) children.set(parent, []);
      (children.get(parent) as Task<unknown>[]).push(task);
      hasParent.add(task);
    }
  }
  const lines = [`Tasks of ${loop}, loop time ${formatMs(now)} ms: ${tasks.length}`];
  const shown = new Set<Task<unknown>>();
  const cycles: string[] = [];
  const debug = loop.getDebug();

  const render = (task: Task<unknown>, prefix: string, last: boolean, path: Task<unknown>[]) => {
    const branch = prefix + (last ? "└── " : "├── ");
    const inner = prefix + (last ? "    " : "│   ");
    const at = path.indexOf(task);
    if (at !== -1) {
      const names = [...path.slice(at), task].map((t) => t.getName()).join(" → ");
      lines.push(`${branch}(T) ${task.getName()} ↺ cycle: ${names}`);
      cycles.push(names);
      return;
    }
    shown.add(task);
    const snapshot = waits.snapshot(task);
    lines.push(`${branch}(T) ${task.getName()}: ${describeTask(task, snapshot, waits, now)}`);
    const kids = children.get(task) ?? [];
    if (debug) {
      const pipe = kids.length > 0 ? "│   " : "    ";
      const frames = snapshot.running
        ? coroutineFrames(deepStack(), 0)
        : suspendedFrames(task, snapshot);
      for (const frame of frames) {
        if (frame.fileName === null) continue;
        lines.push(
          `${inner}${pipe}at ${frame.name} (${frame.fileName}:${frame.lineNumber}:${frame.columnNumber})`,
        );
      }
      const created = creationSite(snapshot.created);
      if (created !== null) lines.push(`${inner}${pipe}created at ${created}`);
    }
    path.push(task);
    kids.forEach((kid, i) => render(kid, inner, i === kids.length - 1, path));
    path.pop();
  };

  const roots = tasks.filter((task) => !hasParent.has(task));
  roots.forEach((root, i) => render(root, "", i === roots.length - 1, []));
  // Tasks that only await each other in a ring have no root: start from the oldest.
  for (const task of tasks) {
    if (!shown.has(task)) render(task, "", true, []);
  }
  for (const cycle of cycles) lines.push(`cycle: ${cycle}`);
  return lines.join("\n");
}

function describeTask(
  task: Task<unknown>,
  snapshot: TaskSnapshot,
  waits: Waits,
  now: number,
): string {
  const kind = snapshot.isAsync || isAsyncFunction(snapshot.fn) ? "async" : "generator";
  const parts = [`${kind} ${coroutineName(snapshot)}()`];
  if (snapshot.running) parts.push("running");
  else if (snapshot.waits.length > 0) {
    parts.push(
      `waiting on ${snapshot.waits.map((f) => describeWait(f, waits.loop)).join(" and ")}`,
    );
  } else if (snapshot.isAsync) {
    parts.push(
      snapshot.waitsKnown
        ? "awaiting something outside the package (a promise, I/O)"
        : "running on the host (this host has no async context: its waits are not known)",
    );
  } else parts.push("ready to run");
  if (task.cancelling() > 0) parts.push(`cancelling (${task.cancelling()})`);
  // Known on a virtual clock and in debug mode (see birthTime).
  if (snapshot.born !== null) parts.push(`age ${formatMs(now - snapshot.born)} ms`);
  return parts.join(", ");
}

/** The first frame of a creation stack outside the package and the host, as `file:line:col`. */
function creationSite(stack: string | undefined): string | null {
  if (stack === undefined) return null;
  for (const frame of coroutineFrames(stack, 0)) {
    if (frame.fileName !== null) {
      return `${frame.name} (${frame.fileName}:${frame.lineNumber}:${frame.columnNumber})`;
    }
  }
  return null;
}
