/**
 * Runs the suite on a runtime that serves HTTP, the way a deployed edge
 * function runs: start the runtime's server on a free loopback port, wait
 * until `/ping` answers, request `/run`, read the JSON results, stop the
 * server. Used for workerd and Vercel's Edge Runtime (see `_fetch_handler.ts`
 * for the other side).
 *
 * @module
 */

import { type Row, rowFrom, RUN_TIMEOUT_MS, type Runtime, tail } from "./_driver.ts";
import type { HostResult } from "./_run_on_host.ts";

/** How to start one served runtime. */
export interface ServedRuntime {
  runtime: Runtime;
  version: string;
  /** The "how it ran" text of the row. */
  note: string;
  cmd: string;
  args: string[];
  cwd: string;
  env?: Record<string, string>;
  /** The port the server was told to listen on. */
  port: number;
}

/** How long a runtime may take to start listening. */
const LISTEN_TIMEOUT_MS = 30_000;

/** Starts the runtime, runs the suite in one request, stops it; resolves to the row. */
export async function runServed(
  served: ServedRuntime,
  base: string,
  filter: string[],
): Promise<Row> {
  const { runtime, version, note, port } = served;
  const child = new Deno.Command(served.cmd, {
    args: served.args,
    cwd: served.cwd,
    env: served.env,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let output = "";
  const decoder = new TextDecoder();
  const collect = async (stream: ReadableStream<Uint8Array>) => {
    for await (const chunk of stream) output += decoder.decode(chunk, { stream: true });
  };
  const reading = Promise.all([collect(child.stdout), collect(child.stderr)]);
  let exited = false;
  const status = child.status.then((s) => {
    exited = true;
    return s;
  });
  try {
    const deadline = Date.now() + LISTEN_TIMEOUT_MS;
    for (;;) {
      if (exited) return rowFrom(runtime, version, undefined, `exited: ${tail(output)}`, note);
      try {
        const r = await fetch(`http://127.0.0.1:${port}/ping`);
        await r.body?.cancel();
        if (r.ok) break;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) {
        return rowFrom(runtime, version, undefined, `did not listen: ${tail(output)}`, note);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    const query = new URLSearchParams({ base });
    if (filter[0] !== undefined) query.set("filter", filter[0]);
    let result: HostResult | undefined;
    let problem: string | undefined;
    try {
      const response = await fetch(`http://127.0.0.1:${port}/run?${query}`, {
        signal: AbortSignal.timeout(RUN_TIMEOUT_MS),
      });
      const text = await response.text();
      if (response.ok) result = JSON.parse(text);
      else problem = `HTTP ${response.status}: ${tail(text)} ${tail(output)}`;
    } catch (error) {
      problem = `request failed: ${(error as Error).message} ${tail(output)}`;
    }
    return rowFrom(runtime, version, result, problem, note);
  } finally {
    try {
      child.kill("SIGTERM");
    } catch {
      // already gone
    }
    const killer = setTimeout(() => {
      try {
        child.kill("SIGKILL");
      } catch {
        // already gone
      }
    }, 5_000);
    await status;
    clearTimeout(killer);
    await reading;
  }
}
