/**
 * The core's benchmark at its full size (100,000): spawning and deadlines,
 * each beside the same workload written with plain async functions,
 * `Promise.all` and `setTimeout`/`clearTimeout` (the baselines).
 * `peers_bench.ts` has all eight workloads, at a tenth of that size.
 *
 * - "spawn 100k": 100,000 tasks that each yield once (`sleep(0)`), then
 *   gathered; native: 100,000 async functions that each `await null`, then
 *   `Promise.all`.
 * - "waitFor 100k": 100,000 `waitFor(sleep(0), 10_000)` gathered; native: the
 *   same async function raced against a `setTimeout(reject, 10_000)` that is
 *   cleared when the work finishes.
 *
 * Run with `deno task bench` (`deno bench --v8-flags=--expose-gc bench/`).
 * When `gc` is exposed, each iteration starts from a collected heap and the
 * collection is not timed, so one iteration's garbage is not billed to the
 * next.
 *
 * @module
 */

import * as asyncio from "../mod.ts";

const N = 100_000;
const DEADLINE_MS = 10_000;

const gc = (globalThis as { gc?: () => void }).gc;

/** Collects garbage (when exposed), then starts the timer. */
function start(b: Deno.BenchContext): void {
  gc?.();
  b.start();
}

// ------------------------------------------------------------ spawn 100k

function* yieldOnce(): asyncio.Coroutine<void> {
  yield* asyncio.sleep(0);
}

async function yieldOnceAsync(): Promise<void> {
  await asyncio.sleep(0);
}

async function nativeYieldOnce(): Promise<void> {
  await null;
}

Deno.bench({
  name: "asyncio: 100k generator tasks, sleep(0), gather",
  group: "spawn 100k",
  async fn(b) {
    start(b);
    await asyncio.run(function* () {
      const tasks = new Array<asyncio.Task<void>>(N);
      for (let i = 0; i < N; i++) tasks[i] = asyncio.createTask(yieldOnce);
      yield* asyncio.gather(tasks);
    });
    b.end();
  },
});

Deno.bench({
  name: "asyncio: 100k async-function tasks, await sleep(0), gather",
  group: "spawn 100k",
  async fn(b) {
    start(b);
    await asyncio.run(function* () {
      const tasks = new Array<asyncio.Task<void>>(N);
      for (let i = 0; i < N; i++) tasks[i] = asyncio.createTask(yieldOnceAsync);
      yield* asyncio.gather(tasks);
    });
    b.end();
  },
});

Deno.bench({
  name: "native: 100k async functions, await null, Promise.all",
  group: "spawn 100k",
  baseline: true,
  async fn(b) {
    start(b);
    const promises = new Array<Promise<void>>(N);
    for (let i = 0; i < N; i++) promises[i] = nativeYieldOnce();
    await Promise.all(promises);
    b.end();
  },
});

// ------------------------------------------------------------ waitFor 100k

/** The hand-written deadline: a timer that rejects, cleared when the work settles. */
function withDeadline<T>(work: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(reject, ms, new Error("timed out"));
    work.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}

Deno.bench({
  name: "asyncio: 100k waitFor(sleep(0), 10_000), gather",
  group: "waitFor 100k",
  async fn(b) {
    start(b);
    await asyncio.run(function* () {
      const waits = new Array<asyncio.Future<void>>(N);
      for (let i = 0; i < N; i++) waits[i] = asyncio.waitFor(asyncio.sleep(0), DEADLINE_MS);
      yield* asyncio.gather(waits);
    });
    b.end();
  },
});

Deno.bench({
  name: "native: 100k setTimeout/clearTimeout deadlines around await null, Promise.all",
  group: "waitFor 100k",
  baseline: true,
  async fn(b) {
    start(b);
    const promises = new Array<Promise<void>>(N);
    for (let i = 0; i < N; i++) promises[i] = withDeadline(nativeYieldOnce(), DEADLINE_MS);
    await Promise.all(promises);
    b.end();
  },
});
