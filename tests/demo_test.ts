/**
 * The core demo's client logic (examples/crawler.ts) with a fake `fetch` on
 * a virtual clock: no network, no permissions, deterministic times.
 *
 * The fake behaves like the real one where it matters: it waits on loop time,
 * honours its AbortSignal by rejecting with the signal's reason (as `fetch`
 * does), and can stall or break a response body.
 */

import assert from "node:assert/strict";
import * as asyncio from "../mod.ts";
import { runVirtual } from "./_helpers.ts";
import {
  crawl,
  type CrawlReport,
  type Fetcher,
  fetchOne,
  type FetchResult,
  formatProgress,
  formatSummary,
  planUrls,
  type Progress,
  progressOutput,
} from "../examples/crawler.ts";

const BASE = "http://server.test";

/** How the fake server answers one path. */
interface Route {
  /** Loop time before the headers arrive. */
  headersMs: number;
  /** Loop time after the headers before the body is complete (stalls, abortable). */
  bodyMs?: number;
  status?: number;
  body?: string;
  /** Reject the fetch with this error when the headers would arrive. */
  error?: Error;
  /** The body read fails with this error. */
  bodyError?: Error;
  /** Pay no attention to the signal (a misbehaving fetch). */
  ignoreAbort?: boolean;
}

/** What the fake saw of one request. */
interface Call {
  path: string;
  startedAt: number;
  abortedAt: number | null;
  settledAt: number | null;
}

function fakeFetch(routes: Record<string, Route>): { fetch: Fetcher; calls: Call[] } {
  const calls: Call[] = [];
  const fetch: Fetcher = async (url, { signal }) => {
    const loop = asyncio.getRunningLoop();
    const path = new URL(url).pathname;
    const route = routes[path];
    assert.ok(route, `no fake route for ${path}`);
    const call: Call = { path, startedAt: loop.time(), abortedAt: null, settledAt: null };
    calls.push(call);
    signal.addEventListener("abort", () => call.abortedAt = loop.time(), { once: true });
    try {
      // Like fetch, an abort rejects with the signal's reason (here the task's
      // CancelledError). A stubborn server is a foreign promise that only the
      // network ends, not a library wait (which the task would cancel itself).
      if (route.ignoreAbort) {
        await new Promise((resolve) => loop.callLater(route.headersMs, () => resolve(undefined)));
      } else await asyncio.sleep(route.headersMs, { signal });
      if (route.error) throw route.error;
    } finally {
      call.settledAt = loop.time();
    }
    const bytes = new TextEncoder().encode(route.body ?? "");
    const body = new ReadableStream<Uint8Array>({
      async start(controller) {
        if (route.bodyMs !== undefined) {
          try {
            await asyncio.sleep(route.bodyMs, { signal });
          } catch {
            // Like fetch: an abort while the body streams errors the body with the reason.
            controller.error(signal.reason);
            return;
          }
        }
        if (route.bodyError) {
          controller.error(route.bodyError);
          return;
        }
        controller.enqueue(bytes);
        controller.close();
      },
    });
    return new Response(body, { status: route.status ?? 200 });
  };
  return { fetch, calls };
}

function url(path: string): string {
  return BASE + path;
}

Deno.test("planUrls() gives a fixed mix of fast, slow, failing and cut-off URLs", () => {
  const urls = planUrls(BASE);
  assert.equal(urls.length, 20);
  assert.deepEqual(planUrls(BASE), urls, "deterministic");
  assert.deepEqual(urls.slice(0, 5), [
    url("/fast/1"),
    url("/fast/2"),
    url("/slow/3"),
    url("/fast/4"),
    url("/fail/5"),
  ]);
  const kinds: Record<string, number> = {};
  for (const u of urls) {
    const kind = new URL(u).pathname.split("/")[1];
    kinds[kind] = (kinds[kind] ?? 0) + 1;
  }
  assert.deepEqual(kinds, { fast: 12, slow: 4, fail: 2, drop: 2 });
  assert.deepEqual(planUrls(BASE, 0), []);
  assert.throws(() => planUrls(BASE, -1), RangeError);
  assert.throws(() => planUrls(BASE, 1.5), /planUrls\(\): 'count' must be a whole number/);
});

Deno.test("fetchOne()", async (t) => {
  await t.step("a fast answer succeeds, with its status, size and time", async () => {
    const { fetch, calls } = fakeFetch({ "/fast/1": { headersMs: 40, body: "hello" } });
    const result = await runVirtual(() => fetchOne(url("/fast/1"), { fetch, deadlineMs: 1_000 }));
    assert.deepEqual(result, {
      url: url("/fast/1"),
      outcome: "ok",
      status: 200,
      ms: 40,
      detail: "5 bytes",
    });
    assert.equal(calls[0].abortedAt, null, "a request that finished in time is not aborted");
  });

  await t.step("a slow answer is aborted by the waitFor deadline", async () => {
    const { fetch, calls } = fakeFetch({ "/slow/1": { headersMs: 5_000 } });
    const result = await runVirtual(() => fetchOne(url("/slow/1"), { fetch, deadlineMs: 300 }));
    assert.deepEqual(result, {
      url: url("/slow/1"),
      outcome: "timeout",
      status: null,
      ms: 300,
      detail: "no full answer within 300 ms; fetch aborted",
    });
    // The deadline aborted the fetch's signal, and the fetch settled right then.
    assert.deepEqual(calls, [{ path: "/slow/1", startedAt: 0, abortedAt: 300, settledAt: 300 }]);
  });

  await t.step("a body that stalls is aborted too; the status that came is kept", async () => {
    const { fetch, calls } = fakeFetch({ "/slow/2": { headersMs: 10, bodyMs: 5_000 } });
    const result = await runVirtual(() => fetchOne(url("/slow/2"), { fetch, deadlineMs: 300 }));
    assert.equal(result.outcome, "timeout");
    assert.equal(result.status, 200);
    assert.equal(result.ms, 300);
    assert.equal(calls[0].abortedAt, 300);
  });

  await t.step(
    "an HTTP error status is reported as failed, with the body's first line",
    async () => {
      const { fetch } = fakeFetch({
        "/fail/1": { headersMs: 30, status: 500, body: "simulated failure\nsecond line" },
      });
      const result = await runVirtual(() => fetchOne(url("/fail/1"), { fetch }));
      assert.deepEqual(result, {
        url: url("/fail/1"),
        outcome: "failed",
        status: 500,
        ms: 30,
        detail: "HTTP 500: simulated failure",
      });
    },
  );

  await t.step("a network error is reported as failed", async () => {
    const { fetch } = fakeFetch({
      "/down/1": { headersMs: 5, error: new TypeError("error sending request: refused") },
    });
    const result = await runVirtual(() => fetchOne(url("/down/1"), { fetch }));
    assert.deepEqual(result, {
      url: url("/down/1"),
      outcome: "failed",
      status: null,
      ms: 5,
      detail: "TypeError: error sending request: refused",
    });
  });

  await t.step("a body cut off mid-way is reported as failed, with the status", async () => {
    const { fetch } = fakeFetch({
      "/drop/1": {
        headersMs: 20,
        bodyError: new TypeError("error reading a body from connection"),
      },
    });
    const result = await runVirtual(() => fetchOne(url("/drop/1"), { fetch }));
    assert.equal(result.outcome, "failed");
    assert.equal(result.status, 200);
    assert.equal(result.detail, "TypeError: error reading a body from connection");
  });

  await t.step("long details are shortened to 60 characters", async () => {
    const { fetch } = fakeFetch({ "/fail/2": { headersMs: 1, error: new Error("x".repeat(100)) } });
    const result = await runVirtual(() => fetchOne(url("/fail/2"), { fetch }));
    assert.equal(result.detail.length, 60);
    assert.ok(result.detail.endsWith("…"));
  });

  // CPython: test_waitfor.py test_wait_for_cancel_suppressed (the inner work
  // ignores the cancellation and returns a value: wait_for returns it).
  await t.step("a fetch that ignores its signal holds the deadline until it answers", async () => {
    const { fetch, calls } = fakeFetch({
      "/stubborn/1": { headersMs: 2_000, body: "late", ignoreAbort: true },
    });
    const result = await runVirtual(() => fetchOne(url("/stubborn/1"), { fetch, deadlineMs: 300 }));
    // waitFor waited for the task it cancelled; the answer that came stands.
    assert.equal(result.outcome, "ok");
    assert.equal(result.ms, 2_000);
    assert.equal(calls[0].abortedAt, 300);
  });

  // CPython: test_waitfor.py test_wait_for_waits_for_task_cancellation
  await t.step("a fetch that fails late after the abort fails with its error", async () => {
    const { fetch } = fakeFetch({
      "/stubborn/2": { headersMs: 2_000, error: new TypeError("gave up"), ignoreAbort: true },
    });
    const result = await runVirtual(() => fetchOne(url("/stubborn/2"), { fetch, deadlineMs: 300 }));
    // The request fails with its own error after the deadline cancelled it:
    // waitFor raises that error once the fetch has settled, as Python 3.13's
    // wait_for does for an inner task that raises while cancelled (checked).
    assert.equal(result.outcome, "failed");
    assert.equal(result.detail, "TypeError: gave up");
    assert.equal(result.ms, 2_000);
  });

  await t.step("cancelling the caller aborts the fetch and propagates", async () => {
    const { fetch, calls } = fakeFetch({ "/slow/3": { headersMs: 5_000 } });
    await runVirtual(function* () {
      const task = asyncio.createTask(fetchOne(url("/slow/3"), { fetch, deadlineMs: 1_000 }));
      yield* asyncio.sleep(50);
      task.cancel();
      const [outcome] = yield* asyncio.gather([task], { returnExceptions: true });
      assert.ok(outcome instanceof asyncio.CancelledError);
      assert.ok(task.cancelled());
    });
    assert.equal(calls[0].abortedAt, 50);
    assert.equal(calls[0].settledAt, 50);
  });
});

/** Routes for the demo's mix over the first `n` planned URLs. */
function demoRoutes(): Record<string, Route> {
  const routes: Record<string, Route> = {};
  planUrls(BASE).forEach((u, i) => {
    const path = new URL(u).pathname;
    const kind = path.split("/")[1];
    const n = i + 1;
    if (kind === "fast") routes[path] = { headersMs: 20 + n * 5, body: `{"n":${n}}` };
    if (kind === "slow") routes[path] = { headersMs: 5, bodyMs: 5_000, body: "never" };
    if (kind === "fail") routes[path] = { headersMs: 30, status: 500, body: "simulated failure" };
    if (kind === "drop") {
      routes[path] = { headersMs: 25, bodyError: new TypeError("error reading a body") };
    }
  });
  return routes;
}

Deno.test("crawl()", async (t) => {
  await t.step("fetches everything at once and reports each outcome in URL order", async () => {
    const { fetch, calls } = fakeFetch(demoRoutes());
    const urls = planUrls(BASE);
    const seen: Array<[FetchResult, Progress]> = [];
    const report = await runVirtual(() =>
      crawl(urls, {
        fetch,
        deadlineMs: 1_000,
        onResult: (result, progress) => seen.push([result, progress]),
      })
    );
    assert.equal(report.interrupted, false);
    assert.equal(report.deadlineMs, 1_000);
    assert.equal(report.elapsedMs, 1_000, "the batch ends with the deadline of the slow ones");
    assert.deepEqual(report.results.map((r) => r.url), urls, "results in URL order");
    assert.deepEqual(report.progress, {
      total: 20,
      done: 20,
      ok: 12,
      timeout: 4,
      failed: 4,
      cancelled: 0,
    });
    // Concurrent: every request started at time 0.
    assert.ok(calls.every((c) => c.startedAt === 0));
    assert.equal(calls.length, 20);
    // Each slow one was aborted by its deadline, nothing else was.
    const aborted = calls.filter((c) => c.abortedAt !== null);
    assert.deepEqual(aborted.map((c) => [c.path, c.abortedAt]), [
      ["/slow/3", 1_000],
      ["/slow/10", 1_000],
      ["/slow/13", 1_000],
      ["/slow/20", 1_000],
    ]);
    // Progress arrives in completion order, one more each time.
    assert.deepEqual(seen.map(([, p]) => p.done), [...Array(20).keys()].map((i) => i + 1));
    const times = seen.map(([result]) => result.ms);
    assert.deepEqual(times, times.toSorted((a, b) => a - b), "reported as they finish");
    assert.deepEqual(seen.at(-1)![1], report.progress);
    const byPath = Object.fromEntries(report.results.map((r) => [new URL(r.url).pathname, r]));
    assert.deepEqual(byPath["/fast/1"], {
      url: url("/fast/1"),
      outcome: "ok",
      status: 200,
      ms: 25,
      detail: "7 bytes", // {"n":1}
    });
    assert.equal(byPath["/slow/3"].outcome, "timeout");
    assert.equal(byPath["/slow/3"].ms, 1_000);
    assert.equal(byPath["/fail/5"].detail, "HTTP 500: simulated failure");
    assert.equal(byPath["/drop/8"].detail, "TypeError: error reading a body");
  });

  await t.step("the signal (Ctrl-C) cancels the gather and every fetch in flight", async () => {
    const { fetch, calls } = fakeFetch(demoRoutes());
    const interrupt = new AbortController();
    const progress: Progress[] = [];
    const report = await runVirtual(function* () {
      asyncio.getRunningLoop().callLater(48, () => interrupt.abort(new Error("Ctrl-C")));
      return yield* crawl(planUrls(BASE), {
        fetch,
        signal: interrupt.signal,
        onResult: (_result, p) => progress.push(p),
      });
    });
    assert.equal(report.interrupted, true);
    assert.equal(report.elapsedMs, 48);
    // Done by 48 ms: /fast/1, /fast/2 and /fast/4 (25, 30, 40 ms), /fail/* (30), /drop/* (25).
    assert.deepEqual(report.progress, {
      total: 20,
      done: 20,
      ok: 3,
      timeout: 0,
      failed: 4,
      cancelled: 13,
    });
    const cancelled = report.results.filter((r) => r.outcome === "cancelled");
    assert.equal(cancelled.length, 13);
    for (const r of cancelled) {
      assert.equal(r.ms, 48);
      assert.equal(r.detail, "cancelled (Ctrl-C)");
    }
    // Every fetch that was still running saw its signal abort at 48 ms and settled.
    const inFlight = calls.filter((c) => c.abortedAt !== null);
    assert.equal(inFlight.length, 13);
    assert.ok(inFlight.every((c) => c.abortedAt === 48 && c.settledAt !== null));
    assert.equal(progress.at(-1)!.cancelled, 13);
  });

  await t.step("an already aborted signal cancels everything before any fetch", async () => {
    const { fetch, calls } = fakeFetch(demoRoutes());
    const report = await runVirtual(() =>
      crawl(planUrls(BASE, 3), { fetch, signal: AbortSignal.abort("stop") })
    );
    assert.equal(report.interrupted, true);
    assert.deepEqual(report.results.map((r) => r.outcome), ["cancelled", "cancelled", "cancelled"]);
    assert.equal(report.results[0].detail, "cancelled (stop)");
    assert.equal(calls.length, 0, "no fetch was started");
  });

  await t.step("cancelling the crawl itself propagates and aborts the fetches", async () => {
    const { fetch, calls } = fakeFetch(demoRoutes());
    await runVirtual(function* () {
      const task = asyncio.createTask(crawl(planUrls(BASE, 3), { fetch }));
      yield* asyncio.sleep(10);
      task.cancel();
      const [outcome] = yield* asyncio.gather([task], { returnExceptions: true });
      assert.ok(outcome instanceof asyncio.CancelledError, "not turned into a report");
    });
    assert.deepEqual(calls.map((c) => c.abortedAt), [10, 10, 10]);
  });

  await t.step("an empty batch is an empty report", async () => {
    const report = await runVirtual(() => crawl([], { fetch: fakeFetch({}).fetch }));
    assert.deepEqual(report.results, []);
    assert.equal(report.progress.done, 0);
  });

  await t.step("a bad deadline is a RangeError", async () => {
    for (const deadlineMs of [0, -1, NaN]) {
      await assert.rejects(
        runVirtual(() => crawl([], { deadlineMs })),
        /crawl\(\): 'deadlineMs' must be a number > 0/,
      );
    }
  });
});

function progressOf(partial: Partial<Progress>): Progress {
  return { total: 20, done: 0, ok: 0, timeout: 0, failed: 0, cancelled: 0, ...partial };
}

Deno.test("formatProgress() renders the live line", () => {
  assert.equal(
    formatProgress(progressOf({ done: 12, ok: 9, timeout: 2, failed: 1 })),
    "[12/20] ok 9 · timeout 2 · failed 1",
  );
  assert.equal(
    formatProgress(progressOf({ done: 3, ok: 3 })),
    "[ 3/20] ok 3 · timeout 0 · failed 0",
  );
  assert.equal(
    formatProgress(progressOf({ done: 20, ok: 5, failed: 4, cancelled: 11 }), { elapsedMs: 480 }),
    "[20/20] ok 5 · timeout 0 · failed 4 · cancelled 11 · 0.5 s",
  );
  const last: FetchResult = {
    url: url("/slow/3"),
    outcome: "timeout",
    status: null,
    ms: 1_000.4,
    detail: "",
  };
  assert.equal(
    formatProgress(progressOf({ done: 1, timeout: 1 }), { last }),
    "[ 1/20] ok 0 · timeout 1 · failed 0   /slow/3 timeout in 1000 ms",
  );
});

Deno.test("progressOutput() rewrites the line on a terminal and appends lines elsewhere", () => {
  assert.equal(progressOutput("[1/2] ok 1", true), "\r\x1b[2K[1/2] ok 1");
  assert.equal(progressOutput("[1/2] ok 1", false), "[1/2] ok 1\n");
});

Deno.test("formatSummary() renders the table and the totals", () => {
  const report: CrawlReport = {
    results: [
      { url: url("/fast/1"), outcome: "ok", status: 200, ms: 25, detail: "8 bytes" },
      {
        url: url("/slow/10"),
        outcome: "timeout",
        status: 200,
        ms: 1_000,
        detail: "no full answer within 1000 ms; fetch aborted",
      },
      { url: url("/fail/5"), outcome: "failed", status: 500, ms: 30.6, detail: "HTTP 500: boom" },
    ],
    progress: progressOf({ total: 3, done: 3, ok: 1, timeout: 1, failed: 1 }),
    interrupted: false,
    elapsedMs: 1_000,
    deadlineMs: 1_000,
  };
  assert.equal(
    formatSummary(report),
    [
      "#  URL       outcome  status    ms  detail",
      "-  --------  -------  ------  ----  --------------------------------------------",
      "1  /fast/1   ok          200    25  8 bytes",
      "2  /slow/10  timeout     200  1000  no full answer within 1000 ms; fetch aborted",
      "3  /fail/5   failed      500    31  HTTP 500: boom",
      "",
      "3 requests in 1.00 s (deadline 1000 ms each): ok 1 · timeout 1 · failed 1",
      "",
    ].join("\n"),
  );

  const interrupted: CrawlReport = {
    results: [{
      url: url("/slow/3"),
      outcome: "cancelled",
      status: null,
      ms: 50,
      detail: "cancelled (Ctrl-C)",
    }],
    progress: progressOf({ total: 1, done: 1, cancelled: 1 }),
    interrupted: true,
    elapsedMs: 50,
    deadlineMs: 1_000,
  };
  assert.equal(
    formatSummary(interrupted),
    [
      "#  URL      outcome    status  ms  detail",
      "-  -------  ---------  ------  --  ------------------",
      "1  /slow/3  cancelled       -  50  cancelled (Ctrl-C)",
      "",
      "1 request in 0.05 s (deadline 1000 ms each): ok 0 · timeout 0 · failed 0 · cancelled 1",
      "Interrupted: the unfinished requests were cancelled and their fetches aborted.",
      "",
    ].join("\n"),
  );
});

// End to end against the real test server and the real fetch. The suite runs
// without permissions, so this is skipped there; run it with
// `deno test --allow-net=127.0.0.1 tests/demo_test.ts`.
const netGranted = Deno.permissions.querySync({ name: "net", host: "127.0.0.1" }).state ===
  "granted";

Deno.test({
  name: "crawl() against the local test server (needs --allow-net=127.0.0.1)",
  ignore: !netGranted,
  async fn(t) {
    const { startTestServer } = await import("../examples/_server.ts");
    await t.step("deadlines abort the slow fetches, which the server sees", async () => {
      const server = await startTestServer({ slowMs: 2_000 });
      let report: CrawlReport;
      try {
        report = await asyncio.run(crawl(planUrls(server.url), { deadlineMs: 300 }));
      } finally {
        await server.close();
      }
      const { ok, timeout, failed } = report.progress;
      assert.deepEqual({ ok, timeout, failed }, { ok: 12, timeout: 4, failed: 4 });
      assert.equal(server.stats().abandoned, 4, "each aborted fetch closed its connection");
    });
    await t.step("an interrupt cancels the fetches in flight", async () => {
      const server = await startTestServer({ slowMs: 2_000 });
      const interrupt = new AbortController();
      let report: CrawlReport;
      try {
        report = await asyncio.run(function* () {
          asyncio.getRunningLoop().callLater(200, () => interrupt.abort(new Error("Ctrl-C")));
          return yield* crawl(planUrls(server.url), { signal: interrupt.signal });
        });
      } finally {
        await server.close();
      }
      assert.equal(report.interrupted, true);
      // The four slow ones at least (a fast one could be late on a busy machine).
      const slow = report.results.filter((r) => r.url.includes("/slow/"));
      assert.deepEqual(slow.map((r) => r.outcome), Array(4).fill("cancelled"));
      assert.equal(server.stats().abandoned, 4);
    });
  },
});
