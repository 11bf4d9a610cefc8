/**
 * The traceback the default exception handler prints: an error's stack
 * without the frames of this package, unless the loop is in debug mode.
 *
 * Python's report of a task's failure shows the user's coroutine frames; a
 * JavaScript stack also lists the loop, the task step and the host's job
 * queue that ran them, which tell the user nothing about their bug. Those
 * frames are recognised by where this file was loaded from: when the
 * package runs from its sources (Deno, JSR, JSR's npm compatibility), every
 * frame under the same `src/` directory is the package's. When it is
 * bundled into one file with other code, the package's frames cannot be
 * told from the user's, so nothing is removed.
 *
 * @module
 */

/** Where one stack line points to, or `undefined` for frames without a file. */
function locationOf(line: string): string | undefined {
  // V8 and Bun: "    at fn (url:1:2)" or "    at url:1:2"; Firefox, Safari: "fn@url:1:2".
  const match = /(?:^|[\s(@])([^\s()@]+?):\d+:\d+\)?\s*$/.exec(line);
  return match?.[1];
}

/** The package's own `src/` directory as stack frames spell it, or `null` when unknown. */
function findSourceDir(): string | null {
  const stack = new Error().stack;
  if (typeof stack !== "string") return null;
  for (const line of stack.split("\n")) {
    const location = locationOf(line);
    if (location === undefined) continue;
    const found = /^(.*[/\\]src[/\\])_traceback\.[cm]?[jt]s$/.exec(location);
    return found === null ? null : found[1];
  }
  return null;
}

const sourceDir: string | null = findSourceDir();

// What a stack frame belongs to.
const PACKAGE = 0;
const HOST = 1;
const USER = 2;

function kindOf(line: string): number {
  const location = locationOf(line);
  if (location === undefined || /^(?:ext|node|bun|internal):/.test(location)) return HOST;
  return sourceDir !== null && location.startsWith(sourceDir) ? PACKAGE : USER;
}

/** Whether a stack line is a frame rather than part of the message. */
function isFrame(line: string): boolean {
  return /^\s+at\s/.test(line) || /^[^\s@]*@\S+:\d+:\d+$/.test(line);
}

/**
 * The text the default handler prints for `error`: its stack (or `String`
 * of it) without the package's frames and the host frames next to them
 * (the generator's `next` the task step called, the host's job queue that
 * ran the loop), plus one line saying how many were left out. In debug
 * mode, or when the package's files are not recognisable, the whole stack.
 *
 * @param error What was thrown.
 * @param debug Whether the loop is in debug mode.
 * @returns The traceback text.
 */
export function formatTraceback(error: unknown, debug: boolean): string {
  const stack = error instanceof Error && typeof error.stack === "string" ? error.stack : "";
  if (stack === "") return String(error);
  if (debug || sourceDir === null) return stack;
  const lines = stack.split("\n");
  const first = lines.findIndex(isFrame);
  if (first === -1) return stack;
  const kinds = lines.map((line, i) => (i < first ? USER : kindOf(line)));
  // A run of host frames goes with the package when a package frame touches it.
  const drop = kinds.map((kind) => kind === PACKAGE);
  for (let i = first; i < lines.length;) {
    if (kinds[i] !== HOST) {
      i++;
      continue;
    }
    let end = i;
    while (end < lines.length && kinds[end] === HOST) end++;
    if (kinds[i - 1] === PACKAGE || kinds[end] === PACKAGE) {
      for (let j = i; j < end; j++) drop[j] = true;
    }
    i = end;
  }
  const hidden = drop.filter((d) => d).length;
  if (hidden === 0) return stack;
  const kept = lines.filter((_line, i) => !drop[i]);
  const indent = /^\s*/.exec(lines[first])?.[0] || "    ";
  kept.push(
    `${indent}(${hidden} frame${hidden === 1 ? "" : "s"} of @aio/asyncio and the host hidden; ` +
      "debug mode shows them)",
  );
  return kept.join("\n");
}
