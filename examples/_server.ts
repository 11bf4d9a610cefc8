/**
 * A small local HTTP server for the demos: endpoints that answer fast,
 * answer too slowly, fail with a 500, or drop the connection halfway through
 * the body. It listens on 127.0.0.1 with a port the OS picks, so a demo needs
 * only `--allow-net=127.0.0.1`.
 *
 * Endpoints (`<n>` is any whole number; it only varies the timing):
 *
 * | path          | what it does                                                       |
 * | ------------- | ------------------------------------------------------------------ |
 * | `/fast/<n>`   | 200 with a short JSON body after 20-100 ms                         |
 * | `/slow/<n>`   | 200 at once, but the body comes only after `slowMs` (5 s)          |
 * | `/fail/<n>`   | 500 after 20-60 ms                                                 |
 * | `/drop/<n>`   | 200 whose body stops short and the connection closes (20-60 ms)    |
 * | anything else | 404                                                                |
 *
 * The slow body's timer stops when the client goes away (an aborted `fetch`
 * closes the connection and the server counts the request as abandoned),
 * and every wait ends when the server closes, so `close()` never waits for
 * a slow response.
 *
 * This file uses Deno APIs; the library itself does not.
 *
 * @module
 */

/** Options for {@linkcode startTestServer}. */
export interface TestServerOptions {
  /**
   * How long the body of `/slow/<n>` takes to arrive, in milliseconds.
   *
   * @default {5000}
   */
  slowMs?: number;
  /**
   * How long `close()` lets unfinished answers run before cutting them off,
   * in milliseconds. A client that has just aborted takes a moment to show
   * up here, so a short grace keeps the counts right.
   *
   * @default {250}
   */
  closeGraceMs?: number;
}

/** What the server saw, for a demo's closing line. */
export interface TestServerStats {
  /** Requests received. */
  requests: number;
  /** Requests answered in full (any status). */
  answered: number;
  /** Requests whose client went away before the answer was ready (an aborted `fetch`). */
  abandoned: number;
}

/** A running test server. */
export interface TestServer {
  /** The base URL, `http://127.0.0.1:<port>`, without a trailing slash. */
  url: string;
  /** Counts so far. */
  stats(): TestServerStats;
  /**
   * Closes the server: waits up to `closeGraceMs` for the answers in
   * progress, cuts off the rest (a slow body ends short, so its client sees
   * a network error), and resolves once the server is closed. Idempotent.
   */
  close(): Promise<void>;
}

const encoder = new TextEncoder();

/**
 * Starts the test server on 127.0.0.1 with a random free port.
 *
 * @param options How slow `/slow/<n>` is, and how long `close()` waits for answers in progress.
 * @returns A promise of the server: its URL, its counters, and `close()`.
 * @throws {RangeError} If `slowMs` or `closeGraceMs` is not a number >= 0.
 */
export function startTestServer(options: TestServerOptions = {}): Promise<TestServer> {
  const { slowMs = 5_000, closeGraceMs = 250 } = options;
  if (typeof slowMs !== "number" || !(slowMs >= 0)) {
    throw new RangeError(`startTestServer(): 'slowMs' must be a number >= 0, got ${slowMs}`);
  }
  if (typeof closeGraceMs !== "number" || !(closeGraceMs >= 0)) {
    throw new RangeError(
      `startTestServer(): 'closeGraceMs' must be a number >= 0, got ${closeGraceMs}`,
    );
  }
  const stats: TestServerStats = { requests: 0, answered: 0, abandoned: 0 };
  // Aborted by close(): every pending wait ends at once, so shutdown() does not wait 5 s.
  const closing = new AbortController();
  // Answers in progress (waits and slow bodies), so that close() can wait for them.
  let busy = 0;
  let onIdle: (() => void) | null = null;
  const begin = () => {
    busy++;
  };
  const end = () => {
    if (--busy === 0) onIdle?.();
  };
  const idle = (graceMs: number) =>
    new Promise<void>((resolve) => {
      if (busy === 0) return resolve();
      const done = () => {
        clearTimeout(timer);
        onIdle = null;
        resolve();
      };
      const timer = setTimeout(done, graceMs);
      onIdle = done;
    });
  const wait = async (ms: number) => {
    begin();
    try {
      return await delay(ms, closing.signal);
    } finally {
      end();
    }
  };

  async function handle(request: Request): Promise<Response> {
    stats.requests++;
    const [, kind, rawN, extra] = new URL(request.url).pathname.split("/");
    const n = Number(rawN);
    if (extra !== undefined || rawN === "" || !Number.isInteger(n) || n < 0) return notFound();
    switch (kind) {
      case "fast": {
        // 20..100 ms, spread out so that the answers arrive one by one.
        const ms = 20 + (n * 37) % 81;
        if (!await wait(ms)) return closingDown();
        stats.answered++;
        return Response.json({ path: `/fast/${n}`, delayMs: ms, items: n % 7 });
      }
      case "slow":
        return slowResponse(n);
      case "fail": {
        if (!await wait(20 + (n * 13) % 41)) return closingDown();
        stats.answered++;
        return new Response(`simulated failure on /fail/${n}\n`, { status: 500 });
      }
      case "drop": {
        if (!await wait(20 + (n * 13) % 41)) return closingDown();
        stats.answered++;
        // Promise 1 KiB, send a few bytes and end the body: the connection is
        // cut mid-body and the client's read fails with a network error.
        const body = new ReadableStream<Uint8Array>({
          start(controller) {
            controller.enqueue(encoder.encode(`{"path":"/drop/${n}","data":"`));
            controller.close();
          },
        });
        return new Response(body, { headers: { "content-length": "1024" } });
      }
      default:
        return notFound();
    }
  }

  /**
   * `/slow/<n>`: the status line and headers go out at once, the body only
   * after `slowMs`. The body stream's `cancel` runs when the client goes away
   * (an aborted fetch closes the connection), and stops the timer.
   *
   * Why not wait on `request.signal` before answering: in Deno 2.9, merely
   * reading `request.signal` makes `Deno.serve` print a warning about its
   * legacy abort behaviour on stderr (unless run with
   * `--unstable-no-legacy-abort`), which would garble the demo's output. A
   * response body's `cancel` gives the same notice without it.
   */
  function slowResponse(n: number): Response {
    const payload = encoder.encode(`{"path":"/slow/${n}","delayMs":${slowMs}}`);
    let timer: ReturnType<typeof setTimeout> | undefined;
    let onClosing: (() => void) | undefined;
    let running = false;
    const stop = () => {
      clearTimeout(timer);
      if (onClosing !== undefined) closing.signal.removeEventListener("abort", onClosing);
      if (running) {
        running = false;
        end();
      }
    };
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        // Ending the body before `content-length` bytes cuts the connection:
        // a response still in flight when the server closes fails on the client.
        onClosing = () => {
          stop();
          controller.close();
        };
        if (closing.signal.aborted) {
          onClosing();
          return;
        }
        running = true;
        begin();
        timer = setTimeout(() => {
          stop();
          stats.answered++;
          controller.enqueue(payload);
          controller.close();
        }, slowMs);
        closing.signal.addEventListener("abort", onClosing, { once: true });
      },
      cancel() {
        // The client went away before the body was ready.
        stop();
        stats.abandoned++;
      },
    });
    return new Response(body, {
      headers: { "content-type": "application/json", "content-length": `${payload.length}` },
    });
  }

  function notFound(): Response {
    stats.answered++;
    return new Response("not found\n", { status: 404 });
  }

  return new Promise<TestServer>((resolve, reject) => {
    let server: Deno.HttpServer<Deno.NetAddr>;
    let closed: Promise<void> | null = null;
    try {
      server = Deno.serve({
        hostname: "127.0.0.1",
        port: 0,
        onListen({ hostname, port }) {
          resolve({
            url: `http://${hostname}:${port}`,
            stats: () => ({ ...stats }),
            close() {
              closed ??= (async () => {
                await idle(closeGraceMs);
                closing.abort();
                await server.shutdown();
                await server.finished;
              })();
              return closed;
            },
          });
        },
      }, handle);
    } catch (error) {
      reject(error);
    }
  });
}

/** The answer to a request that was still waiting when close() was called. */
function closingDown(): Response {
  return new Response("test server closing\n", { status: 503 });
}

/**
 * Waits `ms` milliseconds unless `signal` aborts first.
 *
 * @returns `true` when the time passed, `false` when the signal aborted.
 */
function delay(ms: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(false);
  return new Promise<boolean>((resolve) => {
    const finish = (completed: boolean) => {
      clearTimeout(timer);
      signal.removeEventListener("abort", onAbort);
      resolve(completed);
    };
    const onAbort = () => finish(false);
    const timer = setTimeout(finish, ms, true);
    signal.addEventListener("abort", onAbort, { once: true });
  });
}
