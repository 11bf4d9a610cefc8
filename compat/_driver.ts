/**
 * What the compat driver's runtime runners share: where things live, how a
 * child process is run and watched, and the row of the table each runner
 * returns. Deno-only tooling (see `run.ts`).
 *
 * @module
 */

import type { HostResult } from "./_run_on_host.ts";

/** The runtimes of `deno task compat`, in the order of the table. */
export const RUNTIMES = [
  "deno",
  "node",
  "node22",
  "node24",
  "bun",
  "workerd",
  "edge-runtime",
  "chromium",
] as const;

/** One runtime's name. */
export type Runtime = typeof RUNTIMES[number];

/** The repository root. */
export const ROOT: string = decodeURIComponent(new URL("..", import.meta.url).pathname)
  .replace(/\/$/, "");
/** The compat folder (sources). */
export const COMPAT = `${ROOT}/compat`;
/** Where pinned tools are installed (git-ignored). */
export const TOOLS = `${ROOT}/.tools/compat`;
/** Where the bundles are written (git-ignored). */
export const DIST = `${TOOLS}/dist`;
/** The installed npm packages' executables. */
export const BIN = `${TOOLS}/node_modules/.bin`;

/** Per-runtime limit for the whole suite (it takes about a second). */
export const RUN_TIMEOUT_MS = 120_000;
/** A CLI runtime must exit by itself this soon after printing its results. */
export const EXIT_GRACE_MS = 10_000;

/** One row of the table. */
export interface Row {
  runtime: Runtime;
  version: string;
  /** The async-context form the package found there, as the suite reported it. */
  asyncContext: string;
  passed: number;
  failed: number;
  /** False when the runtime failed a test, could not start, or misbehaved. */
  ok: boolean;
  /** How it ran, and why it failed when it did. */
  note: string;
  failures: { name: string; error: string }[];
}

/** Logs a progress line on stderr. */
export function log(message: string): void {
  console.error(`[compat] ${message}`);
}

/** Whether a path exists. */
export async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

/** What a finished child process left. */
export interface Spawned {
  code: number | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  /** The suite's result, when the output had a `COMPAT_RESULT` line. */
  result?: HostResult;
  /** Set when the process printed its result but did not exit in time. */
  hung: boolean;
}

/** Options of {@linkcode spawn}. */
export interface SpawnOptions {
  timeoutMs?: number;
  env?: Record<string, string>;
  cwd?: string;
}

/**
 * Runs a command to its end (or kills it after `timeoutMs`, or `EXIT_GRACE_MS`
 * after it printed a `COMPAT_RESULT` line) and collects its output.
 */
export async function spawn(
  cmd: string,
  args: string[],
  options: SpawnOptions = {},
): Promise<Spawned> {
  const child = new Deno.Command(cmd, {
    args,
    cwd: options.cwd ?? ROOT,
    env: options.env,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let stdout = "";
  let stderr = "";
  let result: HostResult | undefined;
  let timedOut = false;
  let hung = false;
  let timer = setTimeout(onTimeout, options.timeoutMs ?? RUN_TIMEOUT_MS);
  function onTimeout(): void {
    if (result !== undefined) hung = true;
    else timedOut = true;
    try {
      child.kill("SIGKILL");
    } catch {
      // already gone
    }
  }
  const decoder = new TextDecoder();
  const readOut = (async () => {
    for await (const chunk of child.stdout) {
      stdout += decoder.decode(chunk, { stream: true });
      if (result === undefined) {
        const line = stdout.split("\n").find((l) => l.startsWith("COMPAT_RESULT "));
        if (line !== undefined && stdout.includes("\n", stdout.indexOf(line))) {
          result = JSON.parse(line.slice("COMPAT_RESULT ".length));
          clearTimeout(timer);
          timer = setTimeout(onTimeout, EXIT_GRACE_MS);
        }
      }
    }
  })();
  const readErr = (async () => {
    const d = new TextDecoder();
    for await (const chunk of child.stderr) stderr += d.decode(chunk, { stream: true });
  })();
  const status = await child.status;
  await Promise.all([readOut, readErr]);
  clearTimeout(timer);
  return { code: status.code, stdout, stderr, timedOut, result, hung };
}

/** The last lines of a process's output, for a failure reason. */
export function tail(text: string, lines = 6): string {
  return text.trim().split("\n").slice(-lines).join(" | ").slice(0, 600);
}

/** The first line a command prints (its version, usually). */
export async function firstLine(cmd: string, args: string[]): Promise<string> {
  try {
    const out = await spawn(cmd, args, { timeoutMs: 30_000 });
    return (out.stdout.trim() || out.stderr.trim()).split("\n")[0] ?? "";
  } catch (error) {
    return `unknown (${(error as Error).message})`;
  }
}

/** A TCP port on 127.0.0.1 that was free a moment ago. */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

/** Builds a row from what a runner saw. */
export function rowFrom(
  runtime: Runtime,
  version: string,
  result: HostResult | undefined,
  problem: string | undefined,
  note = "",
): Row {
  const failures = (result?.tests ?? [])
    .filter((t) => !t.ok)
    .map((t) => ({ name: t.name, error: t.error ?? "" }));
  const passed = result?.passed ?? 0;
  const failed = result?.failed ?? 0;
  const ok = problem === undefined && result !== undefined && failed === 0 && passed > 0;
  const notes = [note, problem].filter((x) => x).join("; ");
  const asyncContext = result?.asyncContext ?? "-";
  return { runtime, version, asyncContext, passed, failed, ok, note: notes, failures };
}

/** The reason a spawned suite run is a failure, or undefined when it is not. */
export function problemOf(out: Spawned): string | undefined {
  if (out.timedOut) return `no result within ${RUN_TIMEOUT_MS / 1000} s: ${tail(out.stderr)}`;
  if (out.hung) {
    return `did not exit within ${EXIT_GRACE_MS / 1000} s after the suite ` +
      "(a host timer or handle was left alive)";
  }
  if (out.result === undefined) {
    return `could not run (exit ${out.code}): ${tail(out.stderr || out.stdout)}`;
  }
  if (out.code !== 0) return `exited with code ${out.code}: ${tail(out.stderr)}`;
  return undefined;
}
