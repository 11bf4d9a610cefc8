import assert from "node:assert/strict";
import * as asyncio from "../mod.ts";
import { chain, drain, runVirtual } from "./_helpers.ts";

/** A very small timeout: passes the `timeoutMs > 0` check, costs almost nothing. */
const EPSILON = 0.1;

/** CPython's SlowTask: runs for TASK_TIMEOUT ms of loop time, ignoring cancel requests. */
class SlowTask {
  static readonly TASK_TIMEOUT = 200;
  exited = false;

  *run(): Generator<unknown, void> {
    const loop = asyncio.getRunningLoop();
    const exitAt = loop.time() + SlowTask.TASK_TIMEOUT;
    for (;;) {
      const toSleep = exitAt - loop.time();
      if (toSleep <= 0) break;
      try {
        yield* asyncio.sleep(toSleep);
      } catch (error) {
        if (!(error instanceof asyncio.CancelledError)) throw error;
      }
    }
    this.exited = true;
  }
}

/** Runs `body` and returns what it throws (fails if it does not throw). */
function* thrownBy(body: asyncio.Future<unknown>): Generator<unknown, unknown> {
  try {
    yield* body;
  } catch (error) {
    return error;
  }
  throw new Error("expected an error");
}

Deno.test("waitFor(): cancelling the waitFor with a coroutine that ignores cancellation", async () => {
  // CPython: test_waitfor.py test_asyncio_wait_for_cancelled
  await runVirtual(function* () {
    const t = new SlowTask();
    const waitForTask = asyncio.createTask(asyncio.waitFor(t.run(), SlowTask.TASK_TIMEOUT * 2));
    yield* asyncio.sleep(0);
    waitForTask.cancel();
    yield* asyncio.gather([waitForTask], { returnExceptions: true });
    assert.ok(t.exited);
  });
});

Deno.test("waitFor(): a coroutine that ignores the timeout's cancellation finishes normally", async () => {
  // CPython: test_waitfor.py test_asyncio_wait_for_timeout
  await runVirtual(function* () {
    const t = new SlowTask();
    const result = yield* asyncio.waitFor(t.run(), SlowTask.TASK_TIMEOUT / 2);
    assert.equal(result, undefined, "the cancellation was swallowed: no TimeoutError");
    assert.ok(t.exited);
    assert.equal(asyncio.getRunningLoop().time(), SlowTask.TASK_TIMEOUT);
  });
});

Deno.test("waitFor(timeout <= 0): a done future gives its result", async () => {
  // CPython: test_waitfor.py test_wait_for_timeout_less_then_0_or_0_future_done
  await runVirtual(function* () {
    for (const timeout of [0, -1]) {
      const fut = asyncio.getRunningLoop().createFuture<string>();
      fut.setResult("done");
      assert.equal(yield* asyncio.waitFor(fut, timeout), "done");
      assert.ok(fut.done());
    }
  });
});

Deno.test("waitFor(timeout <= 0): a coroutine is never started", async () => {
  // CPython: test_waitfor.py test_wait_for_timeout_less_then_0_or_0_coroutine_do_not_started
  await runVirtual(function* () {
    let fooStarted = false;
    function* foo() {
      fooStarted = true;
      yield* asyncio.sleep(0);
    }
    const error = yield* thrownBy(asyncio.waitFor(foo(), 0));
    assert.ok(error instanceof asyncio.TimeoutError);
    const asyncError = yield* thrownBy(asyncio.waitFor(async () => {
      fooStarted = true;
    }, 0));
    assert.ok(asyncError instanceof asyncio.TimeoutError);
    assert.equal(fooStarted, false);
  });
});

Deno.test("waitFor(timeout <= 0): a running task is cancelled and waited for", async (t) => {
  // CPython: test_waitfor.py test_wait_for_timeout_less_then_0_or_0
  for (const timeout of [0, -1]) {
    await t.step(`timeout=${timeout}`, async () => {
      await runVirtual(function* () {
        let fooRunning: boolean | null = null;
        const started = asyncio.getRunningLoop().createFuture<void>();
        const fut = asyncio.createTask(function* () {
          fooRunning = true;
          started.setResult();
          try {
            yield* asyncio.sleep(10_000);
          } finally {
            fooRunning = false;
          }
          return "done";
        });
        yield* started;
        const error = yield* thrownBy(asyncio.waitFor(fut, timeout));
        assert.ok(error instanceof asyncio.TimeoutError);
        assert.ok(error.cause instanceof asyncio.CancelledError);
        assert.ok(fut.done());
        assert.ok(fut.cancelled(), "cancelled because of the timeout");
        assert.equal(fooRunning, false);
        assert.equal(asyncio.getRunningLoop().time(), 0);
      });
    });
  }
});

Deno.test("waitFor(): on expiry the task is cancelled, its finally runs, then TimeoutError", async () => {
  // CPython: test_waitfor.py test_wait_for
  await runVirtual(function* () {
    const loop = asyncio.getRunningLoop();
    const log: string[] = [];
    const fut = asyncio.createTask(function* () {
      try {
        yield* asyncio.sleep(3_600_000);
      } finally {
        log.push(`finally@${loop.time()}`);
      }
      return "done";
    });
    const error = yield* thrownBy(asyncio.waitFor(fut, 100));
    log.push(`TimeoutError@${loop.time()}`);
    assert.ok(error instanceof asyncio.TimeoutError);
    assert.equal(error.message, "waitFor() timed out after 100 ms");
    assert.ok(error.cause instanceof asyncio.CancelledError, "cause: the CancelledError");
    assert.ok(fut.cancelled());
    assert.deepEqual(log, ["finally@100", "TimeoutError@100"]);
  });
});

Deno.test("waitFor(aw, null): no deadline", async () => {
  // CPython: test_waitfor.py test_wait_for_blocking
  await runVirtual(function* () {
    function* coro() {
      yield* asyncio.sleep(3_600_000);
      return "done";
    }
    assert.equal(yield* asyncio.waitFor(coro(), null), "done");
    assert.equal(asyncio.getRunningLoop().time(), 3_600_000);
  });
});

Deno.test("waitFor(): a future completed before the deadline gives its result", async () => {
  // CPython: test_waitfor.py test_wait_for_race_condition
  await runVirtual(function* () {
    const loop = asyncio.getRunningLoop();
    const fut = loop.createFuture<string>();
    const task = asyncio.waitFor(fut, 200);
    loop.callSoon(() => fut.setResult("ok"));
    assert.equal(yield* task, "ok");
    assert.equal(loop.time(), 0);
  });
});

Deno.test("waitFor(): an inner coroutine that swallows the cancellation and returns: its value", async () => {
  // CPython: test_waitfor.py test_wait_for_cancellation_race_condition, test_wait_for_cancel_suppressed
  await runVirtual(function* () {
    function* inner() {
      try {
        yield* asyncio.sleep(1_000);
      } catch (error) {
        assert.ok(error instanceof asyncio.CancelledError);
      }
      return 1;
    }
    assert.equal(yield* asyncio.waitFor(inner(), 10), 1);
    const return42 = asyncio.createTask(function* () {
      try {
        yield* asyncio.sleep(10_000);
      } catch {
        return 42;
      }
      return 0;
    });
    assert.equal(yield* asyncio.waitFor(return42, 100), 42);
    const asyncSwallow = asyncio.waitFor(async (signal: AbortSignal) => {
      try {
        await asyncio.sleep(10_000, { signal });
      } catch {
        return "async swallowed";
      }
      return "slept";
    }, 100);
    assert.equal(yield* asyncSwallow, "async swallowed");
    assert.equal(asyncio.getRunningLoop().time(), 210);
  });
});

Deno.test("waitFor(): waits for the cancelled task to finish before raising", async (t) => {
  // CPython: test_waitfor.py test_wait_for_waits_for_task_cancellation,
  // test_wait_for_waits_for_task_cancellation_w_timeout_0
  for (const timeout of [EPSILON, 0]) {
    await t.step(`timeout=${timeout}`, async () => {
      await runVirtual(function* () {
        let taskDone = false;
        const innerTask = asyncio.createTask(function* () {
          try {
            yield* asyncio.sleep(10_000);
          } catch (error) {
            yield* asyncio.sleep(EPSILON);
            throw error;
          } finally {
            taskDone = true;
          }
        });
        yield* asyncio.sleep(EPSILON);
        const error = yield* thrownBy(asyncio.waitFor(innerTask, timeout));
        assert.ok(error instanceof asyncio.TimeoutError);
        assert.ok(taskDone);
        assert.equal((error.cause as Error).constructor, asyncio.CancelledError);
      });
    });
  }
});

Deno.test("waitFor(): an error raised while handling the cancellation propagates as is", async () => {
  // CPython: test_waitfor.py test_wait_for_reraises_exception_during_cancellation
  await runVirtual(function* () {
    class FooError extends Error {}
    const innerTask = asyncio.createTask(function* () {
      try {
        yield* asyncio.sleep(200);
      } finally {
        // deno-lint-ignore no-unsafe-finally
        throw new FooError();
      }
    });
    const error = yield* thrownBy(asyncio.waitFor(innerTask, EPSILON));
    assert.ok(error instanceof FooError);
  });
});

Deno.test("waitFor(): cancelling the waitFor cancels the inner task (bpo-23219)", async (t) => {
  // CPython: test_waitfor.py test_cancel_blocking_wait_for, test_cancel_wait_for
  for (const timeout of [null, 60_000]) {
    await t.step(`timeout=${timeout}`, async () => {
      await runVirtual(function* () {
        const loop = asyncio.getRunningLoop();
        const task = asyncio.createTask(function* () {
          yield* loop.createFuture<void>(); // never set
        });
        const wait = asyncio.waitFor(task, timeout);
        loop.callSoon(() => wait.cancel());
        const error = yield* thrownBy(wait);
        assert.ok(error instanceof asyncio.CancelledError);
        assert.ok(wait.cancelled());
        assert.ok(task.cancelled());
      });
    });
  }
});

Deno.test("waitFor(): cancelling the caller of an unfinished waitFor does not let it run on", async () => {
  // CPython: test_waitfor.py test_wait_for_issue86296
  await runVirtual(function* () {
    const innerTask = asyncio.createTask(function* () {
      return "done";
    });
    let reachedEnd = false;
    const task = asyncio.createTask(function* () {
      yield* asyncio.waitFor(innerTask, 100_000);
      yield* asyncio.sleep(1_000);
      reachedEnd = true;
    });
    assert.equal(task.done(), false);
    yield* asyncio.sleep(0);
    task.cancel();
    const error = yield* thrownBy(task);
    assert.ok(error instanceof asyncio.CancelledError);
    assert.ok(innerTask.done());
    assert.equal(yield* innerTask, "done");
    assert.equal(reachedEnd, false);
  });
});

Deno.test("waitFor(): an outside cancel at the deadline stays a CancelledError", async (t) => {
  // Python 3.13 (same program, both orders of the two timers): CancelledError, task cancelled.
  for (const first of ["outer cancel", "deadline"]) {
    await t.step(`${first} scheduled first`, async () => {
      await runVirtual(function* () {
        const loop = asyncio.getRunningLoop();
        function* inner() {
          yield* asyncio.sleep(10_000);
        }
        const t = asyncio.createTask(function* () {
          return yield* asyncio.waitFor(inner(), 100);
        });
        if (first === "deadline") {
          yield* asyncio.sleep(0);
          yield* asyncio.sleep(0);
        }
        loop.callLater(100, () => t.cancel());
        const error = yield* thrownBy(t);
        assert.ok(error instanceof asyncio.CancelledError);
        assert.ok(t.cancelled());
        assert.equal(loop.time(), 100);
      });
    });
  }
});

Deno.test("waitFor(): an inner failure before the deadline propagates", async () => {
  await runVirtual(function* () {
    const boom = new RangeError("boom");
    const error = yield* thrownBy(asyncio.waitFor(function* () {
      yield* asyncio.sleep(10);
      throw boom;
    }, 1_000));
    assert.equal(error, boom);
    assert.equal(asyncio.getRunningLoop().time(), 10);
  });
});

Deno.test("waitFor(): the deadline's timer is cleared when the work finishes first", async () => {
  const calls: string[] = [];
  const inner = new asyncio.VirtualClock({ autojump: true });
  const clock: asyncio.Clock = {
    now: () => inner.now(),
    setTimer(when, callback) {
      calls.push(`set ${when}`);
      inner.setTimer(when, callback);
    },
    clearTimer() {
      calls.push("clear");
      inner.clearTimer();
    },
  };
  await asyncio.run(function* () {
    assert.equal(yield* asyncio.waitFor(asyncio.sleep(10), 10_000), undefined);
  }, { clock });
  // The sleep arms 10; once it fired, the deadline (10 000) is armed, then cleared by the exit.
  assert.deepEqual(calls, ["set 10", "set 10000", "clear"]);
  assert.equal(inner.now(), 10);
});

Deno.test("waitFor(): awaitables of every kind", async () => {
  await runVirtual(function* () {
    const loop = asyncio.getRunningLoop();
    // A generator object runs inside the task that waits, as Python awaits a coroutine.
    const me = asyncio.currentTask();
    let runner: asyncio.Task<unknown> | null = null;
    const w = asyncio.waitFor(
      (function* () {
        runner = asyncio.currentTask();
        yield* asyncio.sleep(1);
        return "generator";
      })(),
      100,
    );
    assert.equal(yield* w, "generator");
    assert.equal(runner, me);
    // So does a generator function (called with that task's signal).
    assert.equal(
      yield* asyncio.waitFor(function* () {
        return asyncio.currentTask();
      }, 100),
      me,
    );
    assert.equal(yield* asyncio.waitFor(async () => "async", 100), "async");
    assert.equal(yield* asyncio.waitFor(Promise.resolve("promise"), 100), "promise");
    const fut = loop.createFuture<string>();
    loop.callLater(5, () => fut.setResult("future"));
    assert.equal(yield* asyncio.waitFor(fut, 100), "future");
  });
});

Deno.test("waitFor(): a promise that outlives the deadline is not stopped", async () => {
  await runVirtual(function* () {
    const loop = asyncio.getRunningLoop();
    let settle: (value: string) => void = () => {};
    const promise = new Promise<string>((resolve) => settle = resolve);
    const error = yield* thrownBy(asyncio.waitFor(promise, 50));
    assert.ok(error instanceof asyncio.TimeoutError);
    assert.equal(loop.time(), 50);
    settle("late");
    assert.equal(yield* asyncio.ensureFuture(promise), "late");
  });
});

Deno.test("waitFor(): an async function's signal is aborted on expiry", async () => {
  await runVirtual(function* () {
    let seen: AbortSignal | undefined;
    const error = yield* thrownBy(asyncio.waitFor(async (signal: AbortSignal) => {
      seen = signal;
      await asyncio.sleep(10_000, { signal });
    }, 30));
    assert.ok(error instanceof asyncio.TimeoutError);
    assert.ok(seen!.aborted);
    assert.ok(seen!.reason instanceof asyncio.CancelledError);
  });
});

Deno.test("waitFor(): bad arguments throw TypeError or RangeError naming the argument", async () => {
  await runVirtual(function* () {
    const fut = asyncio.getRunningLoop().createFuture<void>();
    assert.throws(() => asyncio.waitFor(fut, undefined as unknown as null), {
      name: "TypeError",
      message: "waitFor(): 'timeoutMs' must be a number or null, got undefined",
    });
    assert.throws(() => asyncio.waitFor(fut, "1" as unknown as number), {
      name: "TypeError",
      message: `waitFor(): 'timeoutMs' must be a number, got "1"`,
    });
    assert.throws(() => asyncio.waitFor(fut, NaN), {
      name: "RangeError",
      message: "waitFor(): 'timeoutMs' must not be NaN",
    });
    assert.throws(() => asyncio.waitFor(5 as unknown as asyncio.Future<number>, 10), {
      name: "TypeError",
      message:
        /^waitFor\(\): 'aw' must be a Future, a Task, a generator, a function or a promise, got 5$/,
    });
    assert.throws(() => asyncio.waitFor(null as unknown as asyncio.Future<number>, 10), TypeError);
    fut.cancel();
    yield* asyncio.sleep(0);
  });
});

Deno.test("waitFor(): Infinity is no deadline", async () => {
  await runVirtual(function* () {
    const loop = asyncio.getRunningLoop();
    const fut = loop.createFuture<number>();
    loop.callLater(1e9, () => fut.setResult(7));
    assert.equal(yield* asyncio.waitFor(fut, Infinity), 7);
    assert.equal(loop.time(), 1e9);
  });
});

Deno.test("waitFor() outside run(), on a loop driven by runUntilComplete()", async () => {
  const clock = new asyncio.VirtualClock({ autojump: true });
  const loop = new asyncio.EventLoop({ clock });
  const result = await loop.runUntilComplete(function* () {
    return yield* asyncio.waitFor(asyncio.sleep(5), 10);
  });
  assert.equal(result, undefined);
  await drain(loop);
  loop.close();
});

// ------------------------------------------------------------ order of events, against CPython
//
// Each program below was run in Python 3.13 with `await asyncio.wait_for(...)` and a loop.call_soon
// chain; the expected lists are Python's output (the first entries, before run() shuts down).

Deno.test("waitFor() order: a done future returns without a loop iteration", async () => {
  const log = await runVirtual(function* () {
    const log: string[] = [];
    const loop = asyncio.getRunningLoop();
    const done = loop.createFuture<number>();
    done.setResult(1);
    chain(loop, log, 6);
    yield* asyncio.waitFor(done, 10);
    log.push("waited done fut");
    const pending = loop.createFuture<number>();
    loop.callSoon(() => pending.setResult(2));
    yield* asyncio.waitFor(pending, 10);
    log.push("waited pending fut");
    return log;
  });
  assert.deepEqual(log.slice(0, 4), ["waited done fut", "cb0", "cb1", "waited pending fut"]);
});

Deno.test("waitFor() order: a task, and a coroutine run inside the waitFor", async () => {
  const [taskLog, coroLog] = await runVirtual(function* () {
    const loop = asyncio.getRunningLoop();
    const taskLog: string[] = [];
    const t = asyncio.createTask(function* () {
      taskLog.push("inner 1");
      yield* asyncio.sleep(0);
      taskLog.push("inner 2");
      yield* asyncio.sleep(0);
      taskLog.push("inner 3");
      return 5;
    });
    chain(loop, taskLog, 8);
    taskLog.push(`got ${yield* asyncio.waitFor(t, 10)}`);
    yield* asyncio.sleep(20); // let the chain end
    const coroLog: string[] = [];
    function* inner() {
      coroLog.push("inner 1");
      yield* asyncio.sleep(0);
      coroLog.push("inner 2");
      return 5;
    }
    chain(loop, coroLog, 8);
    coroLog.push(`got ${yield* asyncio.waitFor(inner(), 10)}`);
    return [taskLog, coroLog];
  });
  assert.deepEqual(taskLog.slice(0, 7), [
    "inner 1",
    "cb0",
    "inner 2",
    "cb1",
    "inner 3",
    "cb2",
    "got 5",
  ]);
  assert.deepEqual(coroLog.slice(0, 5), ["inner 1", "cb0", "inner 2", "got 5", "cb1"]);
});

Deno.test("waitFor() order: expiry, timeout 0, and cancelling the caller", async () => {
  const [expire, zero, cancel] = await runVirtual(function* () {
    const loop = asyncio.getRunningLoop();
    const sleeper = (log: string[]) =>
      function* () {
        try {
          yield* asyncio.sleep(1_000);
        } finally {
          log.push("inner finally");
        }
      };
    const expire: string[] = [];
    const t1 = asyncio.createTask(sleeper(expire));
    yield* asyncio.sleep(0);
    loop.callLater(50, () => chain(loop, expire, 6));
    try {
      yield* asyncio.waitFor(t1, 50);
    } catch (error) {
      if (!(error instanceof asyncio.TimeoutError)) throw error;
      expire.push("timeout");
    }
    yield* asyncio.sleep(10);
    const zero: string[] = [];
    const t2 = asyncio.createTask(sleeper(zero));
    yield* asyncio.sleep(0);
    chain(loop, zero, 6);
    try {
      yield* asyncio.waitFor(t2, 0);
    } catch (error) {
      if (!(error instanceof asyncio.TimeoutError)) throw error;
      zero.push("timeout");
    }
    yield* asyncio.sleep(10);
    const cancel: string[] = [];
    const w = asyncio.createTask(function* () {
      try {
        yield* asyncio.waitFor(sleeper(cancel)(), 10_000);
      } catch (error) {
        cancel.push("waiter cancelled");
        throw error;
      }
    });
    yield* asyncio.sleep(0);
    chain(loop, cancel, 6);
    w.cancel();
    cancel.push("cancel");
    try {
      yield* w;
    } catch {
      cancel.push("main caught");
    }
    return [expire, zero, cancel];
  });
  assert.deepEqual(expire.slice(0, 4), ["cb0", "inner finally", "cb1", "timeout"]);
  assert.deepEqual(zero.slice(0, 5), ["cb0", "inner finally", "cb1", "cb2", "timeout"]);
  assert.deepEqual(cancel.slice(0, 6), [
    "cancel",
    "cb0",
    "inner finally",
    "waiter cancelled",
    "cb1",
    "main caught",
  ]);
});
