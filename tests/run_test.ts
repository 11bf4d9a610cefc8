import assert from "node:assert/strict";
import * as asyncio from "../mod.ts";
import { assertEmpty, runVirtual } from "./_helpers.ts";

const virtual = () => ({ clock: new asyncio.VirtualClock({ autojump: true }) });

Deno.test("run(): resolves with main's result", async () => {
  // CPython: test_runners.py test_asyncio_run_return
  assert.equal(
    await asyncio.run(function* () {
      yield* asyncio.sleep(0);
      return 42;
    }, virtual()),
    42,
  );
});

Deno.test("run(): rejects with main's error", async () => {
  // CPython: test_runners.py test_asyncio_run_raises
  const spam = new RangeError("spam");
  await assert.rejects(
    asyncio.run(function* () {
      yield* asyncio.sleep(0);
      throw spam;
    }, virtual()),
    (error) => error === spam,
  );
  await assert.rejects(
    asyncio.run(async () => {
      await asyncio.sleep(1);
      throw spam;
    }, virtual()),
    (error) => error === spam,
  );
});

Deno.test("run(): main may be anything ensureFuture() takes", async () => {
  // CPython: test_runners.py test_asyncio_run_only_coro (Python takes coroutines only)
  function* gen() {
    yield* asyncio.sleep(1);
    return "generator object";
  }
  assert.equal(await asyncio.run(gen(), virtual()), "generator object");
  assert.equal(await asyncio.run(gen, virtual()), "generator object");
  assert.equal(await asyncio.run(async () => "async function", virtual()), "async function");
  assert.equal(await asyncio.run(() => "plain function", virtual()), "plain function");
  assert.equal(await asyncio.run(Promise.resolve("promise"), virtual()), "promise");
});

Deno.test("run(): bad arguments throw TypeError synchronously", () => {
  assert.throws(() => asyncio.run(1 as unknown as asyncio.Future<number>), {
    name: "TypeError",
    message:
      /^run\(\): 'main' must be a Future, a Task, a generator, a function or a promise, got 1$/,
  });
  assert.throws(() => asyncio.run(function* () {}, 5 as unknown as asyncio.RunOptions), {
    name: "TypeError",
    message: "run(): 'options' must be an object, got 5",
  });
  assert.throws(() => asyncio.run(function* () {}, { debug: 1 as unknown as boolean }), {
    name: "TypeError",
    message: "run(): 'debug' must be a boolean, got 1",
  });
  assert.throws(
    () => asyncio.run(function* () {}, { clock: {} as asyncio.Clock }),
    { name: "TypeError", message: /'clock' must implement Clock/ },
  );
});

Deno.test("run(): the debug option sets the loop's debug mode", async () => {
  // CPython: test_runners.py test_asyncio_run_debug
  for (const debug of [false, true]) {
    const seen = await asyncio.run(function* () {
      return asyncio.getRunningLoop().getDebug();
    }, { ...virtual(), debug });
    assert.equal(seen, debug);
  }
  assert.equal(await asyncio.run(() => asyncio.getRunningLoop().getDebug(), virtual()), false);
});

Deno.test("run(): a fresh loop each time, running during main, closed afterwards", async () => {
  const loops: asyncio.EventLoop[] = [];
  for (let i = 0; i < 2; i++) {
    await runVirtual(function* () {
      const loop = asyncio.getRunningLoop();
      assert.ok(loop.isRunning());
      assert.equal(asyncio.getEventLoop(), loop);
      assert.equal(loop.isClosed(), false);
      loops.push(loop);
      yield* asyncio.sleep(5);
    });
  }
  assert.notEqual(loops[0], loops[1]);
  for (const loop of loops) {
    assert.ok(loop.isClosed());
    assert.equal(loop.isRunning(), false);
  }
  assert.throws(() => asyncio.getRunningLoop(), /no running event loop/);
  assert.notEqual(asyncio.getEventLoop(), loops[1], "outside run(): the default loop");
  assert.equal(asyncio.currentTask(), null);
});

Deno.test("run() inside run() throws an Error; the outer run goes on", async () => {
  // CPython: test_runners.py test_asyncio_run_from_running_loop, test_recursive_run
  const result = await runVirtual(function* () {
    assert.throws(() => asyncio.run(function* () {}), {
      name: "Error",
      message: "run() cannot be called while another run() is in progress; await the work instead",
    });
    assert.throws(
      () => asyncio.getRunningLoop().runUntilComplete(function* () {}),
      /already running/,
    );
    yield* asyncio.sleep(1);
    return "outer done";
  });
  assert.equal(result, "outer done");
});

Deno.test("run(): tasks left pending are cancelled and waited for; their finally blocks run", async () => {
  // CPython: test_runners.py test_asyncio_run_cancels_hanging_tasks
  const log: string[] = [];
  let leftover: asyncio.Task<void> | undefined;
  let lateStarter: asyncio.Task<void> | undefined;
  const result = await runVirtual(function* () {
    leftover = asyncio.createTask(function* () {
      try {
        yield* asyncio.sleep(100);
        log.push("slept in");
      } finally {
        log.push("leftover finally");
      }
    });
    yield* asyncio.sleep(0);
    lateStarter = asyncio.createTask(function* () {
      log.push("late task: first step");
      yield* asyncio.sleep(0);
      log.push("late task: second step");
    });
    return 123;
  });
  assert.equal(result, 123);
  assert.ok(leftover!.cancelled());
  assert.ok(lateStarter!.cancelled());
  // Python 3.13 (same program): a task created as main returns still runs its first step,
  // in the iteration where main's end is seen; then it is cancelled.
  assert.deepEqual(log, ["late task: first step", "leftover finally"]);
});

Deno.test("run(): a leftover that handles its cancellation slowly is waited for", async () => {
  const log: string[] = [];
  let time = -1;
  await runVirtual(function* () {
    const loop = asyncio.getRunningLoop();
    asyncio.createTask(function* () {
      try {
        yield* asyncio.sleep(60_000);
      } catch (error) {
        yield* asyncio.sleep(250); // cleanup that takes time
        log.push(`cleaned up at ${loop.time()}`);
        time = loop.time();
        throw error;
      }
    });
    yield* asyncio.sleep(10);
  });
  assert.deepEqual(log, ["cleaned up at 260"]);
  assert.equal(time, 260);
});

Deno.test("run(): a leftover failing on cancellation is reported once", async () => {
  // CPython: test_runners.py test_asyncio_run_reports_hanging_tasks_errors
  const contexts: asyncio.ExceptionContext[] = [];
  const boom = new RangeError("1 / 0");
  let leftover: asyncio.Task<void> | undefined;
  assert.equal(
    await runVirtual(function* () {
      asyncio.getRunningLoop().setExceptionHandler((_loop, context) => contexts.push(context));
      leftover = asyncio.createTask(function* () {
        try {
          yield* asyncio.sleep(100);
        } catch {
          throw boom;
        }
      });
      yield* asyncio.sleep(0);
      return 123;
    }),
    123,
  );
  assert.ok(leftover!.done());
  assert.equal(contexts.length, 1);
  assert.match(contexts[0].message, /asyncio\.run\(\).*shutdown/);
  assert.equal(contexts[0].task, leftover);
  assert.equal(contexts[0].exception, boom);
});

Deno.test("run(): main's error wins; leftovers are still cleaned up", async () => {
  // CPython: test_runners.py test_asyncio_run_closes_gens_after_hanging_tasks_errors
  class FancyExit extends Error {}
  const contexts: asyncio.ExceptionContext[] = [];
  let lazyboy: asyncio.Task<void> | undefined;
  await assert.rejects(
    runVirtual(function* () {
      asyncio.getRunningLoop().setExceptionHandler((_loop, context) => contexts.push(context));
      lazyboy = asyncio.createTask(function* () {
        try {
          for (;;) yield* asyncio.sleep(1_000);
        } catch {
          throw new RangeError("1 / 0");
        }
      });
      yield* asyncio.sleep(0);
      throw new FancyExit();
    }),
    FancyExit,
  );
  assert.ok(lazyboy!.done());
  assert.equal(contexts.length, 1);
  assert.ok(contexts[0].exception instanceof RangeError);
});

Deno.test("run(): a cancelled main rejects with CancelledError", async () => {
  await assert.rejects(
    runVirtual(function* () {
      asyncio.currentTask()!.cancel("main cancelled");
      yield* asyncio.sleep(1_000);
    }),
    { name: "CancelledError", message: "main cancelled" },
  );
});

Deno.test("run(): failures nobody retrieved are reported when it ends, retrieved ones are not", async () => {
  const contexts: asyncio.ExceptionContext[] = [];
  let lost: asyncio.Task<void> | undefined;
  await runVirtual(function* () {
    asyncio.getRunningLoop().setExceptionHandler((_loop, context) => contexts.push(context));
    lost = asyncio.createTask(function* () {
      throw new Error("lost");
    });
    const seen = asyncio.createTask(function* () {
      throw new Error("seen");
    });
    yield* asyncio.sleep(0);
    assert.equal((seen.exception() as Error).message, "seen");
    assertEmpty(contexts, "reported at the end of run(), not earlier");
  });
  assert.equal(contexts.length, 1);
  assert.equal(contexts[0].message, "Task exception was never retrieved");
  assert.equal(contexts[0].task, lost);
  assert.equal((contexts[0].exception as Error).message, "lost");
});

Deno.test("run(): the clock option; an hour of virtual time", async () => {
  // (No real-time assertion: the suite makes none; the test would hang for an
  // hour, and fail on Deno's sanitizers, if a host timer were used.)
  const clock = new asyncio.VirtualClock({ start: 1_000, autojump: true });
  const elapsed = await asyncio.run(function* () {
    const loop = asyncio.getRunningLoop();
    const t0 = loop.time();
    assert.equal(t0, 1_000);
    yield* asyncio.sleep(3_600_000);
    return loop.time() - t0;
  }, { clock });
  assert.equal(elapsed, 3_600_000);
});

Deno.test("run(): runs one after another, and concurrently started runs are refused", async () => {
  const first = runVirtual(function* () {
    yield* asyncio.sleep(10);
    return 1;
  });
  assert.throws(() => runVirtual(function* () {}), /another run\(\) is in progress/);
  assert.equal(await first, 1);
  assert.equal(
    await runVirtual(function* () {
      return 2;
    }),
    2,
  );
});

Deno.test("run(): a leftover task stepping after main's end still sees the running loop", async () => {
  // Python 3.13 (same program): L1 and L2 run with loop.is_running() True, before the cancellation.
  const log: string[] = [];
  await runVirtual(function* () {
    const loop = asyncio.getRunningLoop();
    const f = loop.createFuture<void>();
    asyncio.createTask(function* () {
      f.setResult();
      try {
        for (let i = 0; i < 3; i++) {
          log.push(`L${i} running=${loop.isRunning()} current=${asyncio.getEventLoop() === loop}`);
          yield* asyncio.sleep(0);
        }
        yield* asyncio.sleep(10); // a timer on the run's loop, not on the default loop
      } finally {
        log.push("L finally");
      }
    });
    yield* f;
    log.push("main returns");
  });
  assert.deepEqual(log, [
    "L0 running=true current=true",
    "main returns",
    "L1 running=true current=true",
    "L2 running=true current=true",
    "L finally",
  ]);
});

Deno.test("runUntilComplete(): a future of another loop is refused", () => {
  // CPython: test_base_events.py test_run_until_complete_loop (ValueError there)
  const one = new asyncio.EventLoop({ clock: new asyncio.VirtualClock() });
  const other = new asyncio.EventLoop({ clock: new asyncio.VirtualClock() });
  const fut = one.createFuture<void>();
  assert.throws(() => other.runUntilComplete(fut), {
    name: "Error",
    message: /another event loop/,
  });
  assert.equal(other.isRunning(), false);
  assert.throws(() => other.runUntilComplete("blah"), TypeError);
  fut.cancel();
  one.close();
  other.close();
});
