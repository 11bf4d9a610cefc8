/**
 * The core demo: a small concurrent crawler.
 *
 * It starts a local HTTP server (see `_server.ts`) whose endpoints are fast,
 * slow, failing or cut off, then fetches 20 of its URLs at once:
 *
 * - each URL becomes a task running `fetch(url, { signal })` with the task's
 *   `AbortSignal`;
 * - each task gets a deadline with `asyncio.waitFor(task, deadlineMs)`: when
 *   it passes, the task is cancelled, its signal aborts the real `fetch`, and
 *   `waitFor` raises `TimeoutError` once the fetch has settled;
 * - `asyncio.gather(..., { returnExceptions: true })` collects the outcomes;
 * - Ctrl-C cancels the gather, which cancels every task and so aborts every
 *   fetch in flight; the summary is still printed and the server closed.
 *
 * Run it with `deno task demo`
 * (`deno run --allow-net=127.0.0.1 examples/crawler.ts`).
 *
 * Everything but {@linkcode main} is plain logic with the `fetch` function
 * injected, so `tests/demo_test.ts` runs it on a virtual clock with a fake
 * `fetch` and no network.
 *
 * @module
 */

import * as asyncio from "../mod.ts";
import { startTestServer } from "./_server.ts";

/** How one request ended. */
export type Outcome = "ok" | "timeout" | "failed" | "cancelled";

/** One row of the summary. */
export interface FetchResult {
  /** The URL fetched. */
  url: string;
  /** How it ended. */
  outcome: Outcome;
  /** The HTTP status, if the response headers arrived. */
  status: number | null;
  /** Loop time from the start of the request to its end, in milliseconds. */
  ms: number;
  /** A few words for a human: size, error message, why it stopped. */
  detail: string;
}

/** The subset of `fetch` the crawler uses; tests pass a fake one. */
export type Fetcher = (url: string, init: { signal: AbortSignal }) => Promise<Response>;

/** Counts shown by the progress line. */
export interface Progress {
  /** How many URLs the batch has. */
  total: number;
  /** How many have finished, whatever the outcome. */
  done: number;
  /** Finished with a 2xx/3xx answer read in full. */
  ok: number;
  /** Stopped by their deadline. */
  timeout: number;
  /** Failed: an HTTP error status or a network error. */
  failed: number;
  /** Cancelled from outside (Ctrl-C). */
  cancelled: number;
}

/** Options for {@linkcode fetchOne}. */
export interface FetchOneOptions {
  /**
   * The deadline for the whole request (headers and body), in milliseconds.
   *
   * @default {1000}
   */
  deadlineMs?: number;
  /**
   * The `fetch` to use.
   *
   * @default {globalThis.fetch}
   */
  fetch?: Fetcher;
}

/** Options for {@linkcode crawl}. */
export interface CrawlOptions extends FetchOneOptions {
  /**
   * Aborting it cancels the whole batch (the demo aborts it on Ctrl-C); the
   * crawl then returns what it has, with `interrupted: true`.
   *
   * @default {undefined}
   */
  signal?: AbortSignal;
  /**
   * Called each time a request finishes, with its result and the new counts.
   *
   * @default {undefined}
   */
  onResult?: (result: FetchResult, progress: Progress) => void;
}

/** What {@linkcode crawl} returns. */
export interface CrawlReport {
  /** One result per URL, in the order of the URLs. */
  results: FetchResult[];
  /** The final counts. */
  progress: Progress;
  /** Whether the batch was cancelled through `signal`. */
  interrupted: boolean;
  /** Loop time the whole batch took, in milliseconds. */
  elapsedMs: number;
  /** The per-request deadline used. */
  deadlineMs: number;
}

/** The demo's per-request deadline. */
export const DEFAULT_DEADLINE_MS = 1_000;

// The mix of a batch, repeated: 6 fast, 2 slow, 1 failing, 1 cut off per 10 URLs.
const PATTERN = ["fast", "fast", "slow", "fast", "fail", "fast", "fast", "drop", "fast", "slow"];

/**
 * The demo's batch: `count` URLs under `baseUrl`, in a fixed mix of
 * `/fast/<n>`, `/slow/<n>`, `/fail/<n>` and `/drop/<n>` (see `_server.ts`).
 * The same arguments always give the same list.
 *
 * @param baseUrl The server's URL, without a trailing slash.
 * @param count How many URLs.
 * @returns The URLs.
 * @throws {RangeError} If `count` is not a whole number >= 0.
 */
export function planUrls(baseUrl: string, count = 20): string[] {
  if (!Number.isInteger(count) || count < 0) {
    throw new RangeError(`planUrls(): 'count' must be a whole number >= 0, got ${count}`);
  }
  const urls: string[] = [];
  for (let i = 0; i < count; i++) urls.push(`${baseUrl}/${PATTERN[i % PATTERN.length]}/${i + 1}`);
  return urls;
}

/**
 * Fetches one URL under a deadline, as a generator coroutine.
 *
 * The request runs in its own task, an async function that passes the
 * task's `AbortSignal` to `fetch`. `waitFor` puts the deadline on that task:
 * when it passes, the task is cancelled, the signal aborts the fetch, and
 * `waitFor` raises `TimeoutError` after the fetch has settled.
 *
 * Every outcome but a cancellation from outside becomes a result; a
 * cancellation propagates (as `CancelledError`), so that whoever cancelled
 * sees it.
 *
 * @param url What to fetch.
 * @param options The deadline and the `fetch` to use.
 * @returns The result, via `yield*`.
 * @throws {asyncio.CancelledError} If the calling task is cancelled.
 */
export function* fetchOne(
  url: string,
  options: FetchOneOptions = {},
): asyncio.Coroutine<FetchResult> {
  const { deadlineMs = DEFAULT_DEADLINE_MS, fetch: fetcher = defaultFetch } = options;
  const loop = asyncio.getRunningLoop();
  const started = loop.time();
  // Set as soon as the headers are in, so a timeout or a broken body still shows it.
  let status: number | null = null;
  const request = asyncio.createTask(async (signal: AbortSignal): Promise<Answer> => {
    const response = await fetcher(url, { signal });
    status = response.status;
    // Reading the body is part of the request: the signal (and so the deadline) covers it too.
    const body = new Uint8Array(await response.arrayBuffer());
    return { ok: response.ok, body };
  }, { name: `GET ${url}` });
  try {
    // The explicit type argument works around waitFor(task) inferring `T | undefined`.
    const { ok, body } = yield* asyncio.waitFor<Answer>(request, deadlineMs);
    const ms = loop.time() - started;
    if (ok) return { url, outcome: "ok", status, ms, detail: `${body.length} bytes` };
    const text = new TextDecoder().decode(body).trim().split("\n")[0];
    return { url, outcome: "failed", status, ms, detail: shorten(`HTTP ${status}: ${text}`) };
  } catch (error) {
    const ms = loop.time() - started;
    if (error instanceof asyncio.TimeoutError) {
      const detail = `no full answer within ${deadlineMs} ms; fetch aborted`;
      return { url, outcome: "timeout", status, ms, detail };
    }
    if (error instanceof asyncio.CancelledError) throw error;
    return { url, outcome: "failed", status, ms, detail: shorten(describeError(error)) };
  }
}

/**
 * Fetches every URL concurrently, each under its own deadline, and reports
 * progress as requests finish.
 *
 * Each URL runs {@linkcode fetchOne} in a task; `asyncio.gather` with
 * `returnExceptions: true` waits for all of them. Aborting `options.signal`
 * cancels the gather, which cancels every unfinished task, which aborts its
 * fetch; the crawl then returns what it has (unfinished URLs are
 * `cancelled`) instead of raising.
 *
 * @param urls The URLs.
 * @param options Deadline, `fetch`, interrupt signal and progress callback.
 * @returns The report, via `yield*`.
 * @throws {asyncio.CancelledError} If the calling task itself is cancelled.
 * @throws {RangeError} If `deadlineMs` is not a number > 0.
 */
export function* crawl(
  urls: readonly string[],
  options: CrawlOptions = {},
): asyncio.Coroutine<CrawlReport> {
  const { deadlineMs = DEFAULT_DEADLINE_MS, signal, onResult } = options;
  if (typeof deadlineMs !== "number" || !(deadlineMs > 0)) {
    throw new RangeError(`crawl(): 'deadlineMs' must be a number > 0, got ${deadlineMs}`);
  }
  const loop = asyncio.getRunningLoop();
  const started = loop.time();
  const progress: Progress = {
    total: urls.length,
    done: 0,
    ok: 0,
    timeout: 0,
    failed: 0,
    cancelled: 0,
  };
  const report = (result: FetchResult) => {
    progress.done++;
    progress[result.outcome]++;
    onResult?.(result, { ...progress });
  };

  const tasks = urls.map((url) =>
    asyncio.createTask(function* () {
      let result: FetchResult;
      try {
        result = yield* fetchOne(url, { deadlineMs, fetch: options.fetch });
      } catch (error) {
        // fetchOne turns everything else into a result: this is a cancellation.
        report(resultOf(url, error, loop.time() - started));
        throw error;
      }
      report(result);
      return result;
    }, { name: url })
  );
  const batch = asyncio.gather(tasks, { returnExceptions: true });

  let interrupted = false;
  const interrupt = () => {
    interrupted = true;
    batch.cancel(reasonText(signal?.reason));
  };
  if (signal?.aborted) interrupt();
  else signal?.addEventListener("abort", interrupt, { once: true });

  let settled: (FetchResult | Error)[];
  try {
    settled = yield* batch;
  } catch (error) {
    // A cancelled gather raises CancelledError once every task has finished.
    // Ours (from the signal) ends the crawl with what it has; any other one
    // (this task was cancelled) propagates.
    if (!interrupted || !(error instanceof asyncio.CancelledError)) throw error;
    settled = tasks.map(settledValue);
  } finally {
    signal?.removeEventListener("abort", interrupt);
  }
  const elapsedMs = loop.time() - started;
  // A cancelled task's error may have lost its message (as in Python, only
  // the first code to retrieve it gets it), so name the interruption here.
  const why = interrupted ? reasonText(signal?.reason) : undefined;
  const results = settled.map((value, i) =>
    value instanceof Error ? resultOf(urls[i], value, elapsedMs, why) : value
  );
  return { results, progress: { ...progress }, interrupted, elapsedMs, deadlineMs };
}

/** Options for {@linkcode formatProgress}. */
export interface FormatProgressOptions {
  /**
   * Time since the start, shown in seconds.
   *
   * @default {undefined (not shown)}
   */
  elapsedMs?: number;
  /**
   * The request that just finished, shown after the counts.
   *
   * @default {undefined (not shown)}
   */
  last?: FetchResult;
}

/**
 * The progress line: `[12/20] ok 9 · timeout 2 · failed 1`, plus the
 * cancelled count once there is one, the elapsed time and the last request
 * when given.
 *
 * @param progress The counts.
 * @param options Elapsed time and last result.
 * @returns One line, without a line break.
 */
export function formatProgress(progress: Progress, options: FormatProgressOptions = {}): string {
  const { total, done, ok, timeout, failed, cancelled } = progress;
  const width = String(total).length;
  let line = `[${String(done).padStart(width)}/${total}] ok ${ok} · timeout ${timeout} · ` +
    `failed ${failed}`;
  if (cancelled > 0) line += ` · cancelled ${cancelled}`;
  if (options.elapsedMs !== undefined) line += ` · ${(options.elapsedMs / 1000).toFixed(1)} s`;
  const last = options.last;
  if (last !== undefined) {
    line += `   ${shortUrl(last.url)} ${last.outcome} in ${Math.round(last.ms)} ms`;
  }
  return line;
}

/**
 * How a progress line is written: on a terminal, over the previous one
 * (carriage return, clear line, no line break); elsewhere (a pipe, a file,
 * CI logs) as a line of its own.
 *
 * @param line The text from {@linkcode formatProgress}.
 * @param terminal Whether the output is a terminal.
 * @returns The text to write.
 */
export function progressOutput(line: string, terminal: boolean): string {
  return terminal ? `\r\x1b[2K${line}` : `${line}\n`;
}

/**
 * The summary table: one row per URL (number, path, outcome, HTTP status,
 * milliseconds, detail), then a line of totals.
 *
 * @param report What {@linkcode crawl} returned.
 * @returns Several lines, ending with a line break.
 */
export function formatSummary(report: CrawlReport): string {
  const header = ["#", "URL", "outcome", "status", "ms", "detail"];
  const rows = report.results.map((r, i) => [
    String(i + 1),
    shortUrl(r.url),
    r.outcome,
    r.status === null ? "-" : String(r.status),
    String(Math.round(r.ms)),
    r.detail,
  ]);
  // Numbers are right-aligned; the last column is not padded.
  const right = [true, false, false, true, true, false];
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((row) => row[c].length)));
  const format = (cells: string[]) =>
    cells.map((cell, c) =>
      c === cells.length - 1 ? cell : right[c] ? cell.padStart(widths[c]) : cell.padEnd(widths[c])
    ).join("  ").trimEnd();
  const { total, ok, timeout, failed, cancelled } = report.progress;
  let totals =
    `${total} request${total === 1 ? "" : "s"} in ${(report.elapsedMs / 1000).toFixed(2)} s ` +
    `(deadline ${report.deadlineMs} ms each): ok ${ok} · timeout ${timeout} · failed ${failed}`;
  if (cancelled > 0 || report.interrupted) totals += ` · cancelled ${cancelled}`;
  const lines = [
    format(header),
    format(widths.map((w) => "-".repeat(w))),
    ...rows.map(format),
    "",
    totals,
  ];
  if (report.interrupted) {
    lines.push("Interrupted: the unfinished requests were cancelled and their fetches aborted.");
  }
  return lines.join("\n") + "\n";
}

// ------------------------------------------------------------ the program

/**
 * The demo program: start the server, crawl it with live progress, print
 * the summary, close the server.
 *
 * Ctrl-C is `run()`'s: it cancels this task, which aborts `signal`, which
 * stops the crawl (the summary is still printed); main then lets the
 * cancellation finish it, so `run()` rejects with `KeyboardInterrupt`. A
 * second Ctrl-C during that cleanup ends the process at once.
 *
 * @param signal The task's signal: aborted when Ctrl-C cancels the task.
 * @throws {asyncio.CancelledError} After Ctrl-C, once the summary is printed.
 */
export function* main(signal: AbortSignal): asyncio.Coroutine<void> {
  const terminal = Deno.stdout.isTerminal();
  const server = yield* asyncio.ensureFuture(startTestServer());
  let report: CrawlReport;
  try {
    const urls = planUrls(server.url);
    const loop = asyncio.getRunningLoop();
    const started = loop.time();
    write(
      `Test server on ${server.url}\n` +
        `Fetching ${urls.length} URLs at once, ${DEFAULT_DEADLINE_MS} ms deadline each ` +
        `(Ctrl-C cancels the rest)\n`,
    );
    let current: Progress = {
      total: urls.length,
      done: 0,
      ok: 0,
      timeout: 0,
      failed: 0,
      cancelled: 0,
    };
    const show = (last?: FetchResult) => {
      const elapsedMs = loop.time() - started;
      write(progressOutput(formatProgress(current, terminal ? { elapsedMs } : { last }), terminal));
    };
    // On a terminal the line also ticks while nothing finishes, so the clock visibly runs.
    const ticker = terminal
      ? asyncio.createTask(function* () {
        for (;;) {
          show();
          yield* asyncio.sleep(100);
        }
      }, { name: "progress ticker" })
      : null;
    try {
      report = yield* crawl(urls, {
        deadlineMs: DEFAULT_DEADLINE_MS,
        signal,
        onResult: (result, progress) => {
          current = progress;
          show(result);
        },
      });
    } finally {
      if (ticker !== null) {
        ticker.cancel();
        yield* asyncio.gather([ticker], { returnExceptions: true });
      }
    }
    if (terminal) {
      show();
      write("\n");
    }
  } finally {
    yield* asyncio.ensureFuture(server.close());
  }
  write("\n" + formatSummary(report));
  const { requests, abandoned } = server.stats();
  write(
    `The server saw ${requests} requests; ${abandoned} of them were abandoned by the client ` +
      `mid-answer (an aborted fetch), and their timers stopped.\n`,
  );
  // Interrupted: end as cancelled, so that run() raises KeyboardInterrupt.
  if (report.interrupted) throw signal.reason;
}

// ------------------------------------------------------------ helpers

/** What a request task returns: the body is read in full before the deadline. */
interface Answer {
  ok: boolean;
  body: Uint8Array;
}

function defaultFetch(url: string, init: { signal: AbortSignal }): Promise<Response> {
  return fetch(url, init);
}

/** The value or the error a finished task ended with. */
function settledValue(task: asyncio.Task<FetchResult>): FetchResult | Error {
  try {
    return task.result();
  } catch (error) {
    return error instanceof Error ? error : new Error(String(error));
  }
}

/** A result for a request that ended with `error` instead of a result. */
function resultOf(url: string, error: unknown, ms: number, reason?: string): FetchResult {
  if (error instanceof asyncio.CancelledError) {
    const message = reason || error.message;
    const why = message ? ` (${message})` : "";
    return {
      url,
      outcome: "cancelled",
      status: null,
      ms,
      detail: `cancelled${why}`,
    };
  }
  return { url, outcome: "failed", status: null, ms, detail: shorten(describeError(error)) };
}

function reasonText(reason: unknown): string | undefined {
  if (reason instanceof Error) return reason.message || undefined;
  return typeof reason === "string" ? reason : undefined;
}

function describeError(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}

function shorten(text: string, max = 60): string {
  return text.length > max ? text.slice(0, max - 1) + "…" : text;
}

/**
 * The path (and query) of a URL, which is what differs between the rows.
 *
 * @param url The URL.
 * @returns Its path and query.
 */
export function shortUrl(url: string): string {
  try {
    const parsed = new URL(url);
    return parsed.pathname + parsed.search;
  } catch {
    return url;
  }
}

const encoder = new TextEncoder();

/**
 * Writes text to stdout completely (no newline added).
 *
 * @param text What to write.
 */
export function write(text: string): void {
  const bytes = encoder.encode(text);
  let written = 0;
  while (written < bytes.length) written += Deno.stdout.writeSync(bytes.subarray(written));
}

if (import.meta.main) {
  try {
    await asyncio.run(main);
  } catch (error) {
    if (!(error instanceof asyncio.KeyboardInterrupt)) throw error;
    Deno.exitCode = 130; // the shell's convention for a program ended by Ctrl-C
  }
}
