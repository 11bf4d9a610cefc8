/**
 * The host's edges that the other test files do not already cover.
 *
 * Covered elsewhere: a delay above 2^31-1 ms does not fire early, and loop
 * time never goes back when `Date` jumps back under fake timers
 * (tests/clock_test.ts); `sleep(Infinity)` arms no timer on a virtual clock
 * (tests/sleep_test.ts). Here: `sleep(Infinity)` on the real clock (where
 * `setTimeout(fn, Infinity)` would fire at once) and in both coroutine
 * styles until cancelled, a sleep pending while `Date` jumps back, and that
 * the library never causes an `unhandledrejection`, in either style,
 * including across cancellation.
 *
 * @module
 */

import assert from "node:assert/strict";
import FakeTimers from "@sinonjs/fake-timers";
import * as asyncio from "../mod.ts";
import { drain, runVirtual } from "./_helpers.ts";

/** Exactly what @std/testing's FakeTime replaces (it leaves performance.now alone). */
function installFakeTime(now = 1_000_000) {
  return FakeTimers.withGlobal(globalThis).install({
    now,
    toFake: ["Date", "setTimeout", "clearTimeout", "setInterval", "clearInterval"],
    shouldClearNativeTimers: false,
  });
}

// ------------------------------------------------------------ sleep(Infinity)

Deno.test("sleep(Infinity) on the real clock arms no host timer (setTimeout would fire at once) and waits until cancelled", async () => {
  const time = installFakeTime();
  try {
    const loop = asyncio.getEventLoop(); // the default loop: the real clock
    const forever = asyncio.sleep(Infinity);
    const never = loop.callLater(Infinity, () => assert.fail("an Infinity timer fired"));
    await drain(loop);
    assert.equal(time.countTimers(), 0, "nothing armed on the host");
    time.tick(2 ** 31 * 8); // far beyond the host's limit, and beyond any capped re-arm
    await drain(loop);
    assert.equal(forever.done(), false);
    assert.equal(forever.cancel(), true);
    never.cancel();
    await drain(loop);
    assert.ok(forever.cancelled());
    assert.equal(time.countTimers(), 0);
  } finally {
    time.uninstall();
  }
});

Deno.test("sleep(Infinity) waits until cancelled in both coroutine styles, and autojump does not jump to it", async () => {
  const outcome = await runVirtual(function* () {
    const loop = asyncio.getRunningLoop();
    const generatorStyle = asyncio.createTask(function* () {
      yield* asyncio.sleep(Infinity);
      return "woke up";
    });
    const asyncStyle = asyncio.createTask(async (signal: AbortSignal) => {
      await asyncio.sleep(Infinity, { signal });
      return "woke up";
    });
    yield* asyncio.sleep(1_000);
    assert.equal(generatorStyle.done() || asyncStyle.done(), false);
    generatorStyle.cancel("enough");
    asyncStyle.cancel("enough");
    const results = yield* asyncio.gather([generatorStyle, asyncStyle], {
      returnExceptions: true,
    });
    let timedOut = false;
    try {
      yield* asyncio.waitFor(asyncio.sleep(Infinity), 50);
    } catch (error) {
      timedOut = error instanceof asyncio.TimeoutError;
    }
    return { results, timedOut, time: loop.time() };
  });
  assert.ok(outcome.results[0] instanceof asyncio.CancelledError);
  assert.ok(outcome.results[1] instanceof asyncio.CancelledError);
  assert.equal(outcome.timedOut, true);
  assert.equal(outcome.time, 1_050, "time moved to the real deadlines only");
});

// ------------------------------------------------------------ Date jumping back

Deno.test("sleeps pending while Date jumps back an hour fire neither early nor an hour late (fake timers)", async (t) => {
  await t.step(
    "the loop reads the time right after the jump: each fires after its own delay",
    async () => {
      const time = installFakeTime(10_000_000);
      try {
        const loop = asyncio.getEventLoop();
        const start = loop.time();
        const nap = asyncio.sleep(100);
        const later = asyncio.sleep(250);
        await drain(loop);
        time.setSystemTime(10_000_000 - 3_600_000); // the wall clock goes back an hour
        assert.equal(loop.time(), start, "loop time holds instead of going back");
        time.tick(99);
        await drain(loop);
        assert.equal(nap.done(), false, "not early");
        time.tick(1);
        await drain(loop);
        assert.equal(nap.done(), true, "on time");
        time.tick(150);
        await drain(loop);
        assert.equal(later.done(), true);
        assert.equal(loop.time(), start + 250);
        assert.equal(time.countTimers(), 0);
      } finally {
        time.uninstall();
      }
    },
  );

  await t.step(
    "an idle loop notices the jump only at its next reading: late by at most the delay",
    async () => {
      // The real clock is Date-based (FakeTime fakes Date, not performance.now),
      // so the time between the last reading and the jump cannot be known: the
      // clock holds its last reading. The host timer still fires on time, and
      // the loop re-arms for what it believes is left.
      const time = installFakeTime(10_000_000);
      try {
        const loop = asyncio.getEventLoop();
        const nap = asyncio.sleep(100);
        await drain(loop);
        time.setSystemTime(10_000_000 - 3_600_000);
        time.tick(100);
        await drain(loop);
        assert.equal(nap.done(), false, "the 100 ms after the jump are not seen");
        time.tick(100);
        await drain(loop);
        assert.equal(nap.done(), true, "fired within twice its delay, not an hour late");
        assert.equal(time.countTimers(), 0);
      } finally {
        time.uninstall();
      }
    },
  );
});

// ------------------------------------------------------------ unhandledrejection

/** Collects unhandled rejections (and keeps them from failing the process). */
function listenForUnhandled(): { reasons: unknown[]; stop: () => void } {
  const reasons: unknown[] = [];
  const listener = (event: PromiseRejectionEvent) => {
    event.preventDefault();
    reasons.push(event.reason);
  };
  globalThis.addEventListener("unhandledrejection", listener);
  return {
    reasons,
    stop: () => globalThis.removeEventListener("unhandledrejection", listener),
  };
}

/** Two macrotask turns: the host reports rejections still unhandled by then. */
async function settle(): Promise<void> {
  for (let i = 0; i < 2; i++) await new Promise<void>((resolve) => setTimeout(resolve, 0));
}

/** Runs `main` on a virtual clock with the loop's reports collected (they are not rejections). */
async function runQuietly(
  main: (signal: AbortSignal) => unknown,
  reports: asyncio.ExceptionContext[],
): Promise<unknown> {
  const clock = new asyncio.VirtualClock({ autojump: true });
  try {
    return await asyncio.run(
      (signal: AbortSignal) => {
        asyncio.getRunningLoop().setExceptionHandler((_loop, context) => {
          reports.push(context);
        });
        return main(signal) as Promise<unknown>;
      },
      { clock },
    );
  } catch (error) {
    return error;
  }
}

Deno.test("the listener sees a genuinely unhandled rejection (the check below can fail)", async () => {
  const unhandled = listenForUnhandled();
  try {
    Promise.reject(new Error("left unhandled on purpose"));
    await settle();
    assert.equal(unhandled.reasons.length, 1);
  } finally {
    unhandled.stop();
  }
});

Deno.test("the library never causes an unhandledrejection, in either coroutine style, across cancellation", async (t) => {
  const unhandled = listenForUnhandled();
  const reports: asyncio.ExceptionContext[] = [];
  try {
    await t.step(
      "generator tasks: failures never awaited, cancellations, leftovers at run() end",
      async () => {
        await runQuietly(() =>
          asyncio.createTask(function* () {
            asyncio.createTask(function* () {
              yield* asyncio.sleep(1);
              throw new Error("never awaited");
            });
            const sleeper = asyncio.createTask(function* () {
              yield* asyncio.sleep(10_000);
            });
            yield* asyncio.sleep(5);
            sleeper.cancel("stop");
            asyncio.createTask(function* () {
              yield* asyncio.sleep(1_000_000); // still pending when main ends: run() cancels it
            });
            const failing = asyncio.createTask(function* () {
              yield* asyncio.sleep(1);
              throw new Error("awaited through then()");
            });
            failing.then(() => {}, () => {}); // handled by the user
            yield* asyncio.sleep(10);
          }), reports);
      },
    );

    await t.step(
      "async-function tasks: cancelled with and without awaiting, failing, left over",
      async () => {
        await runQuietly(async () => {
          const cancelled = asyncio.createTask(async (signal: AbortSignal) => {
            await asyncio.sleep(10_000, { signal });
          });
          asyncio.createTask(async () => {
            await asyncio.sleep(1);
            throw new Error("async failure never awaited");
          });
          const ignored = asyncio.createTask(async (signal: AbortSignal) => {
            await asyncio.sleep(10_000, { signal });
          });
          await asyncio.sleep(5);
          cancelled.cancel();
          ignored.cancel("nobody awaits this one");
          await assert.rejects(cancelled, asyncio.CancelledError);
          asyncio.createTask(async (signal: AbortSignal) => {
            await asyncio.sleep(1_000_000, { signal }); // cancelled by run()'s shutdown
          });
          await asyncio.sleep(10);
        }, reports);
      },
    );

    await t.step(
      "combinators across cancellation: waitFor, gather, shield, timeout, taskGroup",
      async () => {
        await runQuietly(async () => {
          await assert.rejects(
            asyncio.waitFor(async (signal: AbortSignal) => {
              await asyncio.sleep(1_000, { signal });
            }, 10),
            asyncio.TimeoutError,
          );
          // gather fails on the first error; the second fails later. gather
          // retrieves it (CPython's _done_callback does too), so it is not reported.
          await assert.rejects(
            asyncio.gather([
              async () => {
                await asyncio.sleep(1);
                throw new Error("first");
              },
              async () => {
                await asyncio.sleep(5);
                throw new Error("second, after the gather failed");
              },
            ]),
            /first/,
          );
          // shield: the outer is cancelled, the inner fails afterwards (reported, not rejected).
          const inner = asyncio.createTask(async () => {
            await asyncio.sleep(5);
            throw new Error("inner fails after the shield was cancelled");
          });
          const outer = asyncio.shield(inner);
          outer.cancel();
          await assert.rejects(outer, asyncio.CancelledError);
          await assert.rejects(
            asyncio.timeout(10, async (signal: AbortSignal) => {
              await asyncio.sleep(1_000, { signal });
            }),
            asyncio.TimeoutError,
          );
          await assert.rejects(
            asyncio.taskGroup(async (tg: asyncio.TaskGroup) => {
              tg.createTask(async () => {
                await asyncio.sleep(1);
                throw new Error("child");
              });
              tg.createTask(async (signal: AbortSignal) => {
                await asyncio.sleep(1_000, { signal });
              });
            }),
            asyncio.ExceptionGroup,
          );
          await asyncio.sleep(20);
        }, reports);
        await runQuietly(() =>
          asyncio.createTask(function* () {
            const group = asyncio.taskGroup(function* (tg) {
              tg.createTask(function* () {
                yield* asyncio.sleep(1_000);
              });
              yield* asyncio.sleep(1_000);
            });
            yield* asyncio.sleep(5);
            group.cancel("from outside");
            try {
              yield* group;
            } catch (error) {
              assert.ok(error instanceof asyncio.CancelledError);
            }
          }), reports);
      },
    );

    await t.step(
      "primitives and queues: waits aborted by signals and by cancellation",
      async () => {
        await runQuietly(async () => {
          const lock = new asyncio.Lock();
          const event = new asyncio.Event();
          const queue = new asyncio.Queue<number>(1);
          await lock.acquire();
          const controller = new AbortController();
          const waits = [
            lock.acquire({ signal: controller.signal }),
            event.wait({ signal: controller.signal }),
            queue.get({ signal: controller.signal }),
            asyncio.sleep(1_000, { signal: controller.signal }),
          ];
          controller.abort(new Error("gave up"));
          for (const wait of waits) await assert.rejects(wait, asyncio.CancelledError);
          // Cancelled directly, never awaited.
          event.wait().cancel();
          queue.putNowait(1);
          queue.put(2).cancel();
          lock.acquire().cancel();
          lock.release();
          queue.shutdown(true);
          // A put left waiting and a get on a shut-down queue, never awaited.
          queue.get();
          await asyncio.sleep(1);
        }, reports);
      },
    );

    await settle();
    assert.deepEqual(unhandled.reasons, [], "no unhandled rejection came from the library");
    // Failures nobody awaited went to the exception handler instead.
    const reported = reports.map((r) => (r.exception as Error | undefined)?.message);
    for (
      const message of [
        "never awaited",
        "async failure never awaited",
        "inner fails after the shield was cancelled",
      ]
    ) {
      assert.ok(reported.includes(message), `"${message}" was reported: ${reported.join(" | ")}`);
    }
  } finally {
    unhandled.stop();
  }
});
