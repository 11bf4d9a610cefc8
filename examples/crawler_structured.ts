/**
 * The structured demo: the crawler of `crawler.ts`, rewritten with
 * `asyncio.taskGroup` and `asyncio.timeout`, so that you can watch
 * structured cancellation happen.
 *
 * `crawler.ts` treats every URL on its own: `gather(..., { returnExceptions })`
 * collects whatever happens. Here the batch is one unit of work: its
 * requests run as children of a task group, so
 *
 * - the first request that fails (an HTTP error, a cut connection, its own
 *   deadline) makes the group cancel every other request: their tasks are
 *   cancelled, their `AbortSignal`s abort, the real `fetch`es stop, and the
 *   round ends with an `ExceptionGroup` of the failures;
 * - the whole round can have a deadline, `asyncio.timeout(ms, body)` around
 *   the group: when it passes, the group is cancelled from outside, every
 *   request still running is aborted, and the round ends with
 *   `TimeoutError`;
 * - nothing outlives the round: when `taskGroup` returns or raises, every
 *   request has finished (the summary table shows how).
 *
 * It plays three rounds against the local test server of `_server.ts`:
 * one that succeeds, one where the first failure cancels the rest, and one
 * stopped by the round's deadline. Ctrl-C cancels the round in progress.
 *
 * Run it with
 * `deno run --allow-net=127.0.0.1 examples/crawler_structured.ts`.
 *
 * The crawl itself ({@linkcode crawlStructured}) takes the `fetch` to use,
 * so the tests run it on a virtual clock with a fake one.
 *
 * @module
 */

import * as asyncio from "../mod.ts";
import { startTestServer } from "./_server.ts";
import {
  type CrawlReport,
  DEFAULT_DEADLINE_MS,
  type Fetcher,
  type FetchResult,
  formatProgress,
  formatSummary,
  planUrls,
  type Progress,
  progressOutput,
  shortUrl,
  write,
} from "./crawler.ts";

/** How a round ended. */
export type Ending = "completed" | "failed" | "timeout" | "interrupted";

/** What {@linkcode crawlStructured} returns: the crawler's report, plus how the group ended. */
export interface StructuredReport extends CrawlReport {
  /**
   * `completed`: every request succeeded. `failed`: a request failed and the
   * group cancelled the others (`errors` holds the failures). `timeout`: the
   * round's deadline passed. `interrupted`: cancelled through `signal`.
   */
  ending: Ending;
  /** The failures in the group's `ExceptionGroup` (empty unless `failed`). */
  errors: RequestError[];
}

/** Options for {@linkcode crawlStructured}. */
export interface CrawlStructuredOptions {
  /**
   * Each request's own deadline (headers and body), in milliseconds. A
   * request that misses it fails, and so cancels the round.
   *
   * @default {1000}
   */
  deadlineMs?: number;
  /**
   * A deadline for the whole round, in milliseconds, or `null` for none.
   *
   * @default {null}
   */
  roundDeadlineMs?: number | null;
  /**
   * The `fetch` to use.
   *
   * @default {globalThis.fetch}
   */
  fetch?: Fetcher;
  /**
   * Aborting it cancels the round (the demo aborts it on Ctrl-C).
   *
   * @default {undefined}
   */
  signal?: AbortSignal;
  /**
   * Called each time a request ends, however it ends.
   *
   * @default {undefined}
   */
  onResult?: (result: FetchResult, progress: Progress) => void;
}

/** Why a request failed: it carries what the summary table shows. */
export class RequestError extends Error {
  /** The result row for the request. */
  result: FetchResult;

  /**
   * @param result The row: `outcome` is `failed` or `timeout`.
   * @param options The underlying error, as `cause`.
   */
  constructor(result: FetchResult, options?: ErrorOptions) {
    super(`${shortUrl(result.url)}: ${result.detail}`, options);
    this.name = "RequestError";
    this.result = result;
  }
}

/**
 * Fetches one URL under its own deadline, with `asyncio.timeout`, and
 * raises {@linkcode RequestError} on anything but a full 2xx/3xx answer
 * (in a task group, that is what cancels the siblings). A cancellation from
 * outside propagates as `CancelledError`.
 *
 * The request is an async function: `timeout` runs it as a child task and
 * hands it the `AbortSignal` that its deadline, or a cancellation of the
 * caller, aborts; the signal goes to `fetch`, so the real request stops.
 *
 * @param url What to fetch.
 * @param options The deadline and the `fetch` to use.
 * @returns The result row (outcome `ok`), via `yield*`.
 * @throws {RequestError} If the request fails or misses its deadline.
 * @throws {asyncio.CancelledError} If the calling task is cancelled.
 */
export function* fetchStrict(
  url: string,
  options: { deadlineMs?: number; fetch?: Fetcher } = {},
): asyncio.Coroutine<FetchResult> {
  const { deadlineMs = DEFAULT_DEADLINE_MS, fetch: fetcher = defaultFetch } = options;
  const loop = asyncio.getRunningLoop();
  const started = loop.time();
  let status: number | null = null;
  const row = (outcome: FetchResult["outcome"], detail: string): FetchResult => ({
    url,
    outcome,
    status,
    ms: loop.time() - started,
    detail,
  });
  let body: Uint8Array;
  try {
    body = yield* asyncio.timeout(deadlineMs, async (signal: AbortSignal) => {
      const response = await fetcher(url, { signal });
      status = response.status;
      const bytes = new Uint8Array(await response.arrayBuffer());
      if (!response.ok) {
        const text = new TextDecoder().decode(bytes).trim().split("\n")[0];
        throw new RequestError(row("failed", shorten(`HTTP ${status}: ${text}`)));
      }
      return bytes;
    });
  } catch (error) {
    if (error instanceof asyncio.CancelledError || error instanceof RequestError) throw error;
    if (error instanceof asyncio.TimeoutError) {
      throw new RequestError(row("timeout", `no full answer within ${deadlineMs} ms`), {
        cause: error,
      });
    }
    throw new RequestError(row("failed", shorten(describeError(error))), { cause: error });
  }
  return row("ok", `${body.length} bytes`);
}

/**
 * Fetches every URL as a child of one task group, optionally under a
 * deadline for the whole round, and reports how every request ended.
 *
 * The structure, in a few lines:
 *
 * ```ts ignore
 * yield* asyncio.timeout(roundDeadlineMs, function* () {
 *   yield* asyncio.taskGroup(function* (tg) {
 *     for (const url of urls) tg.createTask(fetchStrict(url));
 *   });
 * });
 * ```
 *
 * The first failing request makes the group cancel all the others; the
 * round's deadline cancels the group from outside. Either way, when this
 * returns, every request has ended, and each row says how: `ok`, `failed`,
 * `timeout` (its own deadline) or `cancelled` (stopped by the group, the
 * round's deadline or `signal`; "never started" when that happened before
 * its first step).
 *
 * @param urls The URLs.
 * @param options Deadlines, `fetch`, interrupt signal and progress callback.
 * @returns The report, via `yield*`.
 * @throws {asyncio.CancelledError} If the calling task itself is cancelled.
 */
export function* crawlStructured(
  urls: readonly string[],
  options: CrawlStructuredOptions = {},
): asyncio.Coroutine<StructuredReport> {
  const { deadlineMs = DEFAULT_DEADLINE_MS, roundDeadlineMs = null, signal, onResult } = options;
  const loop = asyncio.getRunningLoop();
  const started = loop.time();
  const results: FetchResult[] = urls.map((url) => ({
    url,
    outcome: "cancelled",
    status: null,
    ms: 0,
    detail: "cancelled before it started",
  }));
  const progress: Progress = {
    total: urls.length,
    done: 0,
    ok: 0,
    timeout: 0,
    failed: 0,
    cancelled: 0,
  };
  const record = (index: number, result: FetchResult) => {
    results[index] = result;
    progress.done++;
    progress[result.outcome]++;
    onResult?.(result, { ...progress });
  };

  const round = asyncio.timeout(roundDeadlineMs, function* () {
    yield* asyncio.taskGroup(function* (tg) {
      urls.forEach((url, index) => {
        tg.createTask(function* () {
          try {
            record(index, yield* fetchStrict(url, { deadlineMs, fetch: options.fetch }));
          } catch (error) {
            if (error instanceof RequestError) record(index, error.result);
            else if (error instanceof asyncio.CancelledError) {
              record(index, {
                url,
                outcome: "cancelled",
                status: null,
                ms: loop.time() - started,
                detail: "cancelled; fetch aborted",
              });
            }
            throw error; // a failure makes the group cancel the others
          }
        }, { name: url });
      });
    });
  });

  let interrupted = false;
  const interrupt = () => {
    interrupted = true;
    round.cancel();
  };
  if (signal?.aborted) interrupt();
  else signal?.addEventListener("abort", interrupt, { once: true });

  let ending: Ending = "completed";
  let errors: RequestError[] = [];
  try {
    yield* round;
  } catch (error) {
    if (error instanceof asyncio.ExceptionGroup) {
      ending = "failed";
      errors = error.errors.filter((e: unknown) => e instanceof RequestError);
    } else if (error instanceof asyncio.TimeoutError) {
      ending = "timeout";
    } else if (interrupted && error instanceof asyncio.CancelledError) {
      ending = "interrupted";
    } else {
      throw error;
    }
  } finally {
    signal?.removeEventListener("abort", interrupt);
  }
  // Requests cancelled before their first step never ran: count them now.
  progress.cancelled = results.filter((r) => r.outcome === "cancelled").length;
  progress.done = results.length;
  return {
    results,
    progress,
    interrupted,
    elapsedMs: loop.time() - started,
    deadlineMs,
    ending,
    errors,
  };
}

/**
 * A few lines that say how the round ended and what the group did.
 *
 * @param report What {@linkcode crawlStructured} returned.
 * @param roundDeadlineMs The round's deadline, if it had one.
 * @returns Text ending with a line break.
 */
export function describeEnding(report: StructuredReport, roundDeadlineMs?: number | null): string {
  const { cancelled } = report.progress;
  const stopped = `${cancelled} request${cancelled === 1 ? " was" : "s were"} cancelled`;
  switch (report.ending) {
    case "completed":
      return "The group completed: every request succeeded, and taskGroup returned after the last one.\n";
    case "failed": {
      const lines = [
        `The group failed with an ExceptionGroup of ${report.errors.length} error${
          report.errors.length === 1 ? "" : "s"
        }:`,
        ...report.errors.map((e) => `  - ${e.message}`),
        `The first failure made the group cancel the others: ${stopped}, their fetches aborted.`,
      ];
      return lines.join("\n") + "\n";
    }
    case "timeout":
      return `The round's deadline (${roundDeadlineMs} ms) passed: timeout() cancelled the group, ` +
        `${stopped}, and the round raised TimeoutError.\n`;
    case "interrupted":
      return `Interrupted: the round was cancelled; ${stopped}.\n`;
  }
}

// ------------------------------------------------------------ the program

/** One round of the demo. */
interface Round {
  title: string;
  urls: string[];
  roundDeadlineMs: number | null;
}

function rounds(baseUrl: string): Round[] {
  const mixed = planUrls(baseUrl);
  return [
    {
      title: "Round 1: eight fast URLs, all succeed",
      urls: planUrls(baseUrl).filter((u) => u.includes("/fast/")).slice(0, 8),
      roundDeadlineMs: null,
    },
    {
      title: "Round 2: the mixed batch; the first failure cancels the rest",
      urls: mixed,
      roundDeadlineMs: null,
    },
    {
      title: "Round 3: fast and slow URLs, 400 ms for the whole round",
      urls: mixed.filter((u) => u.includes("/fast/") || u.includes("/slow/")),
      roundDeadlineMs: 400,
    },
  ];
}

/**
 * The demo program: start the server, play the three rounds with live
 * progress and a summary each, close the server.
 *
 * Ctrl-C is `run()`'s: it cancels this task, which aborts `signal`, which
 * ends the round in progress (its summary is still printed) and skips the
 * rest; main then lets the cancellation finish it, so `run()` rejects with
 * `KeyboardInterrupt`. A second Ctrl-C during that cleanup ends the process
 * at once.
 *
 * @param signal The task's signal: aborted when Ctrl-C cancels the task.
 * @throws {asyncio.CancelledError} After Ctrl-C, once the summaries are printed.
 */
export function* main(signal: AbortSignal): asyncio.Coroutine<void> {
  const terminal = Deno.stdout.isTerminal();
  const server = yield* asyncio.ensureFuture(startTestServer());
  try {
    write(`Test server on ${server.url}\n`);
    for (const round of rounds(server.url)) {
      if (signal.aborted) break;
      write(
        `\n== ${round.title}\n` +
          `${round.urls.length} requests as children of one task group, ` +
          `${DEFAULT_DEADLINE_MS} ms deadline each\n`,
      );
      const report = yield* crawlStructured(round.urls, {
        roundDeadlineMs: round.roundDeadlineMs,
        signal,
        onResult: (result, progress) => {
          write(progressOutput(formatProgress(progress, { last: result }), terminal));
        },
      });
      if (terminal) write("\n");
      write("\n" + formatSummary(report) + describeEnding(report, round.roundDeadlineMs));
    }
  } finally {
    yield* asyncio.ensureFuture(server.close());
  }
  const { requests, abandoned } = server.stats();
  write(
    `\nThe server saw ${requests} requests; ${abandoned} of them were abandoned mid-answer ` +
      `by an aborted fetch.\n`,
  );
  // Interrupted: end as cancelled, so that run() raises KeyboardInterrupt.
  if (signal.aborted) throw signal.reason;
}

// ------------------------------------------------------------ helpers

function defaultFetch(url: string, init: { signal: AbortSignal }): Promise<Response> {
  return fetch(url, init);
}

function describeError(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}

function shorten(text: string, max = 60): string {
  return text.length > max ? text.slice(0, max - 1) + "…" : text;
}

if (import.meta.main) {
  try {
    await asyncio.run(main);
  } catch (error) {
    if (!(error instanceof asyncio.KeyboardInterrupt)) throw error;
    Deno.exitCode = 130; // the shell's convention for a program ended by Ctrl-C
  }
}
