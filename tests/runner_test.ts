import assert from "node:assert/strict";
import * as asyncio from "../mod.ts";
import { withFakeSigint } from "./_fake_sigint.ts";
import { assertEmpty } from "./_helpers.ts";

const virtual = () => ({ clock: new asyncio.VirtualClock({ autojump: true }) });

// ------------------------------------------------------------ Runner

Deno.test("Runner: run() resolves with main's result; close() closes the loop", async () => {
  // CPython: test_runners.py RunnerTests.test_run
  const runner = new asyncio.Runner(virtual());
  const result = await runner.run(function* () {
    yield* asyncio.sleep(0);
    return "done";
  });
  assert.equal(result, "done");
  const loop = runner.getLoop();
  await runner.close();
  assert.throws(() => runner.getLoop(), {
    name: "InvalidStateError",
    message: "Runner.getLoop(): Runner is closed; create a new Runner",
  });
  assert.ok(loop.isClosed());
});

Deno.test("Runner: the debug option", async () => {
  // CPython: test_runners.py RunnerTests.test_non_debug, test_debug
  for (const debug of [false, true]) {
    await using runner = new asyncio.Runner({ ...virtual(), debug });
    assert.equal(runner.getLoop().getDebug(), debug);
    assert.equal(await runner.run(() => asyncio.getRunningLoop().getDebug()), debug);
  }
});

Deno.test("Runner: the loop is made on first use, on the given clock, and kept", async () => {
  // CPython: test_runners.py RunnerTests.test_custom_factory (a clock stands for the factory)
  const clock = new asyncio.VirtualClock({ start: 500, autojump: true });
  await using runner = new asyncio.Runner({ clock });
  assert.equal(String(runner), "<Runner created>");
  const loop = runner.getLoop();
  assert.equal(String(runner), "<Runner initialized>");
  assert.equal(runner.getLoop(), loop);
  assert.equal(loop.time(), 500);
  assert.equal(await runner.run(() => asyncio.getRunningLoop()), loop);
});

Deno.test("Runner: run() takes anything ensureFuture() takes; other values throw TypeError", async () => {
  // CPython: test_runners.py RunnerTests.test_run_non_coro, test_run_future
  // (Python 3.13 takes coroutines only and raises ValueError; 3.14 takes any awaitable.)
  await using runner = new asyncio.Runner(virtual());
  assert.throws(() => runner.run(123 as never), {
    name: "TypeError",
    message:
      "Runner.run(): 'main' must be a Future, a Task, a generator, a function or a promise, got 123",
  });
  const fut = runner.getLoop().createFuture<string>();
  runner.getLoop().callSoon(() => fut.setResult("future"));
  assert.equal(await runner.run(fut), "future");
  assert.equal(await runner.run(Promise.resolve("promise")), "promise");
  assert.equal(await runner.run(async () => "async"), "async");
  function* gen() {
    yield* asyncio.sleep(1);
    return "generator";
  }
  assert.equal(await runner.run(gen()), "generator");
  assert.equal(await runner.run(gen), "generator");
});

Deno.test("Runner: close() without a run, twice, and run() after close()", async () => {
  // CPython: test_runners.py RunnerTests.test_explicit_close, test_double_close
  const runner = new asyncio.Runner(virtual());
  const loop = runner.getLoop();
  await runner.close();
  assert.ok(loop.isClosed());
  await runner.close(); // the second call does nothing
  assert.ok(loop.isClosed());
  assert.throws(() => runner.run(function* () {}), {
    name: "InvalidStateError",
    message: /Runner is closed/,
  });
  assert.throws(() => runner.getLoop(), /Runner is closed/);
});

Deno.test("Runner: a second using block on a closed runner throws", async () => {
  // CPython: test_runners.py RunnerTests.test_second_with_block_raises
  const ran: number[] = [];
  const runner = new asyncio.Runner(virtual());
  {
    using _ = runner;
    await runner.run(function* () {
      ran.push(1);
    });
  }
  assert.throws(() => {
    using _ = runner;
    runner.run(function* () {
      ran.push(2);
    });
  }, /Runner is closed/);
  assert.deepEqual(ran, [1]);
});

Deno.test("Runner: a runner never used is closed by its using block", () => {
  // Python's close() leaves an unused runner usable, but its `with` block has
  // made the loop on entry; a `using` block must end with a closed runner too.
  const runner = new asyncio.Runner();
  {
    using _ = runner;
  }
  assert.throws(() => runner.getLoop(), /Runner is closed/);
});

Deno.test("Runner: run() from a running event loop throws; the outer run goes on", async () => {
  // CPython: test_runners.py RunnerTests.test_recursive_run
  await using runner = new asyncio.Runner(virtual());
  const used = new asyncio.Runner(virtual());
  const result = await runner.run(function* () {
    assert.throws(() => runner.run(function* () {}), {
      name: "Error",
      message: "Runner.run(): this runner is already running a program; await that run first",
    });
    const other = new asyncio.Runner(virtual());
    assert.throws(() => other.run(function* () {}), {
      name: "Error",
      message: "Runner.run() cannot be called from a running event loop; await the work instead",
    });
    assert.throws(() => asyncio.run(function* () {}), /another run\(\) is in progress/);
    yield* asyncio.ensureFuture(other.close()); // never used: nothing to shut down
    used.getLoop();
    assert.throws(() => used.close(), {
      name: "Error",
      message:
        "Runner.close() cannot be called from a running event loop; close the runner outside",
    });
    assert.throws(() => runner.close(), {
      name: "Error",
      message: "Runner.close(): a run is in progress; await runner.run() before closing",
    });
    yield* asyncio.sleep(1);
    return "outer done";
  });
  assert.equal(result, "outer done");
  await used.close();
});

Deno.test("Runner: two runs of one runner at the same time are refused", async () => {
  await using runner = new asyncio.Runner(virtual());
  const first = runner.run(() => asyncio.sleep(10).then(() => 1));
  assert.throws(() => runner.run(function* () {}), /already running a program/);
  assert.throws(() => runner.close(), /a run is in progress/);
  assert.equal(await first, 1);
  assert.equal(await runner.run(() => 2), 2);
});

Deno.test("Runner: state is kept between runs; the loop is the running loop only during a run", async () => {
  // CPython: test_runners.py RunnerTests.test_run_keeps_context (no context
  // variables yet: a task and a queue carry the state instead).
  // Python 3.13 (same program): the task's first step runs as the first run
  // ends, the rest in the second run. Here the loop also runs between the
  // runs, so the task may finish before the second run starts.
  await using runner = new asyncio.Runner(virtual());
  const log: string[] = [];
  const queue = new asyncio.Queue<string>();
  const { background } = await runner.run(function* () {
    const task = asyncio.createTask(function* () {
      for (let i = 0; i < 3; i++) {
        log.push(`bg ${i}`);
        yield* asyncio.sleep(0);
      }
      yield* queue.put("bg done");
      return "bg result";
    });
    return { background: task }; // (a task itself would be awaited by the promise)
  });
  const loop = runner.getLoop();
  assert.equal(loop.isRunning(), false);
  assert.throws(() => asyncio.getRunningLoop(), /no running event loop/);
  const [item, result] = await runner.run(function* () {
    assert.equal(asyncio.getRunningLoop(), loop);
    assert.ok(loop.isRunning());
    return [yield* queue.get(), yield* background] as const;
  });
  assert.deepEqual([item, result], ["bg done", "bg result"]);
  assert.deepEqual(log, ["bg 0", "bg 1", "bg 2"]);
});

Deno.test("Runner: close() cancels what is left, waits for its cleanup, reports failures once", async () => {
  // CPython: test_runners.py test_asyncio_run_cancels_hanging_tasks,
  // test_asyncio_run_reports_hanging_tasks_errors (through Runner.close())
  const runner = new asyncio.Runner(virtual());
  const reports: asyncio.ExceptionContext[] = [];
  runner.getLoop().setExceptionHandler((_loop, context) => reports.push(context));
  const log: string[] = [];
  let failing: asyncio.Task<void> | undefined;
  await runner.run(function* () {
    asyncio.createTask(function* () {
      try {
        yield* asyncio.sleep(60_000);
      } finally {
        yield* asyncio.sleep(250); // cleanup that takes time
        log.push(`slow cleanup done at ${asyncio.getRunningLoop().time()}`);
      }
    });
    failing = asyncio.createTask(function* () {
      try {
        yield* asyncio.sleep(60_000);
      } catch {
        throw new RangeError("1 / 0");
      }
    });
    asyncio.createTask(function* () {
      throw new Error("nobody looked");
    });
    yield* asyncio.sleep(10);
  });
  assertEmpty(reports, "nothing is reported when a run ends, only at close()");
  await runner.close();
  assert.deepEqual(log, ["slow cleanup done at 260"]);
  assert.deepEqual(reports.map((r) => r.message).sort(), [
    "Task exception was never retrieved",
    "unhandled exception during asyncio.run() shutdown",
  ]);
  const shutdown = reports.find((r) => r.message.includes("shutdown"))!;
  assert.equal(shutdown.task, failing);
  assert.ok(shutdown.exception instanceof RangeError);
});

Deno.test("Runner: await using closes at the end of the block, after the cleanup", async () => {
  const log: string[] = [];
  let loop: asyncio.EventLoop | undefined;
  {
    await using runner = new asyncio.Runner(virtual());
    loop = runner.getLoop();
    await runner.run(function* () {
      asyncio.createTask(function* () {
        try {
          yield* asyncio.sleep(60_000);
        } finally {
          yield* asyncio.sleep(5);
          log.push("cleaned up");
        }
      });
    });
  }
  assert.deepEqual(log, ["cleaned up"]);
  assert.ok(loop.isClosed());
});

Deno.test("Runner: a using block closes at once when nothing is left, else in the background", async (t) => {
  await t.step("nothing left: closed at the end of the block", async () => {
    let loop: asyncio.EventLoop | undefined;
    {
      using runner = new asyncio.Runner(virtual());
      loop = runner.getLoop();
      assert.equal(await runner.run(() => "ok"), "ok");
    }
    assert.ok(loop.isClosed());
  });
  await t.step("tasks left: cancelled at once, the loop closes when they are done", async () => {
    const log: string[] = [];
    let loop: asyncio.EventLoop | undefined;
    let leftover: asyncio.Task<void> | undefined;
    {
      using runner = new asyncio.Runner(virtual());
      loop = runner.getLoop();
      await runner.run(function* () {
        leftover = asyncio.createTask(function* () {
          try {
            yield* asyncio.sleep(60_000);
          } finally {
            yield* asyncio.sleep(5);
            log.push("cleaned up");
          }
        });
      });
    }
    assert.equal(loop.isClosed(), false, "the cleanup is still running");
    // Meanwhile the shutdown holds the loop, as Python's close() does.
    assert.throws(() => asyncio.run(function* () {}), /another run\(\) is in progress/);
    await leftover!.then(undefined, () => {});
    await new Promise((resolve) => setTimeout(resolve, 0));
    assert.deepEqual(log, ["cleaned up"]);
    assert.ok(loop.isClosed());
  });
});

// ------------------------------------------------------------ Ctrl-C

Deno.test("Ctrl-C: cancels main; finally blocks run; the run rejects with KeyboardInterrupt", async (t) => {
  // CPython: test_runners.py RunnerTests.test_interrupt_wait
  await t.step("a generator main waiting on a future", async () => {
    await withFakeSigint(async (sigint) => {
      await using runner = new asyncio.Runner(virtual());
      const loop = runner.getLoop();
      const fut = loop.createFuture<void>();
      const log: string[] = [];
      loop.callLater(100, () => sigint.send());
      const error = await runner.run(function* () {
        assert.equal(sigint.listeners, 1, "listening while the run is in progress");
        const worker = asyncio.createTask(function* () {
          try {
            yield* fut;
          } finally {
            log.push(`worker finally at ${loop.time()}`);
          }
        });
        try {
          yield* worker;
        } finally {
          log.push(`main finally at ${loop.time()}`);
        }
      }).then(() => null, (error) => error);
      assert.ok(error instanceof asyncio.KeyboardInterrupt);
      assert.equal(error.name, "KeyboardInterrupt");
      assert.ok(error.cause instanceof asyncio.CancelledError, "Python: its __context__");
      assert.ok(fut.cancelled(), "the future main waited on is cancelled too");
      assert.deepEqual(log, ["worker finally at 100", "main finally at 100"]);
      assert.equal(sigint.listeners, 0, "removed when the run ends");
    });
  });
  await t.step("an async main", async () => {
    await withFakeSigint(async (sigint) => {
      const clock = new asyncio.VirtualClock({ autojump: true });
      const log: string[] = [];
      const run = asyncio.run(async (signal: AbortSignal) => {
        asyncio.getRunningLoop().callLater(100, () => sigint.send());
        try {
          await asyncio.sleep(60_000, { signal });
        } finally {
          log.push(`finally, signal aborted: ${signal.aborted}`);
        }
      }, { clock });
      await assert.rejects(run, asyncio.KeyboardInterrupt);
      assert.deepEqual(log, ["finally, signal aborted: true"]);
    });
  });
});

Deno.test("Ctrl-C: main that is never suspended on a future is cancelled at its next step", async () => {
  // CPython: test_runners.py RunnerTests.test_interrupt_call_soon
  await withFakeSigint(async (sigint) => {
    await using runner = new asyncio.Runner(virtual());
    const loop = runner.getLoop();
    // A callSoon chain: the SIGINT arrives between two of main's steps.
    let hops = 0;
    const hop = () => (++hops < 5 ? loop.callSoon(hop) : sigint.send());
    loop.callSoon(hop);
    let steps = 0;
    await assert.rejects(
      runner.run(function* () {
        try {
          for (;;) {
            steps++;
            yield* asyncio.sleep(0);
          }
        } catch (error) {
          assert.ok(error instanceof asyncio.CancelledError);
        }
        throw new asyncio.CancelledError();
      }),
      asyncio.KeyboardInterrupt,
    );
    assert.ok(steps >= 4, `main ran until the SIGINT (${steps} steps)`);
  });
});

Deno.test("Ctrl-C: a main cancelled by the program as well stays a CancelledError", async () => {
  // CPython: test_runners.py RunnerTests.test_interrupt_cancelled_task
  await withFakeSigint(async (sigint) => {
    await using runner = new asyncio.Runner(virtual());
    await assert.rejects(
      runner.run(function* () {
        const main = asyncio.currentTask()!;
        asyncio.createTask(function* () {
          yield* asyncio.sleep(0);
          main.cancel();
          sigint.send();
        });
        yield* asyncio.sleep(10_000);
      }),
      (error) => error instanceof asyncio.CancelledError,
    );
  });
});

Deno.test("Ctrl-C: a main that handles the cancellation and returns keeps its result", async () => {
  // Python 3.13 (same program, os.kill(SIGINT)): Runner.run() returns 5, cancelling() is 1 in main.
  await withFakeSigint(async (sigint) => {
    await using runner = new asyncio.Runner(virtual());
    runner.getLoop().callLater(50, () => sigint.send());
    const result = await runner.run(function* () {
      try {
        yield* asyncio.sleep(10_000);
      } catch (error) {
        assert.ok(error instanceof asyncio.CancelledError);
        assert.equal(asyncio.currentTask()!.cancelling(), 1);
        return 5;
      }
    });
    assert.equal(result, 5);
    // The next run listens afresh.
    runner.getLoop().callLater(50, () => sigint.send());
    await assert.rejects(runner.run(() => asyncio.sleep(10_000)), asyncio.KeyboardInterrupt);
  });
});

Deno.test("Ctrl-C: the first SIGINT removes the listener, so the second one is the host's", async () => {
  await withFakeSigint(async (sigint) => {
    const seen: number[] = [];
    await assert.rejects(
      asyncio.run(function* () {
        asyncio.getRunningLoop().callLater(10, () => sigint.send());
        try {
          yield* asyncio.sleep(10_000);
        } finally {
          seen.push(sigint.listeners); // during main's cleanup, Ctrl-C would end the process
        }
      }, virtual()),
      asyncio.KeyboardInterrupt,
    );
    assert.deepEqual(seen, [0]);
  });
});

Deno.test("Ctrl-C: a main that is not a task (a future) is cancelled, and the run raises KeyboardInterrupt", async () => {
  // Python 3.14 wraps any awaitable main in a task, whose uncancel() then
  // returns 0 (3.13's test_asyncio_run_without_uncancel is about task
  // factories, whose tasks may lack uncancel()).
  await withFakeSigint(async (sigint) => {
    await using runner = new asyncio.Runner(virtual());
    const fut = runner.getLoop().createFuture<void>();
    runner.getLoop().callLater(10, () => sigint.send());
    await assert.rejects(runner.run(fut), asyncio.KeyboardInterrupt);
    assert.ok(fut.cancelled());
  });
});

Deno.test("Ctrl-C: a SIGINT after main is done makes the run raise KeyboardInterrupt", async () => {
  // Python's handler raises KeyboardInterrupt when main is already done.
  await withFakeSigint(async (sigint) => {
    await using runner = new asyncio.Runner(virtual());
    const fut = runner.getLoop().createFuture<number>();
    const run = runner.run(fut);
    fut.setResult(1);
    sigint.send();
    await assert.rejects(run, asyncio.KeyboardInterrupt);
  });
});

Deno.test("Ctrl-C: the listener is removed when the run fails, and exists only during runs", async () => {
  await withFakeSigint(async (sigint) => {
    await using runner = new asyncio.Runner(virtual());
    const loop = runner.getLoop();
    assert.equal(sigint.listeners, 0, "not before the first run");
    await assert.rejects(
      runner.run(function* () {
        assert.equal(sigint.listeners, 1);
        yield* asyncio.sleep(1);
        throw new RangeError("boom");
      }),
      RangeError,
    );
    assert.equal(sigint.listeners, 0, "not between runs");
    assert.throws(() => runner.run(5 as never), TypeError);
    assert.equal(sigint.listeners, 0, "not after bad input");
    const other = new asyncio.EventLoop(virtual()).createFuture();
    await assert.rejects(runner.run(other), /another event loop/);
    assert.equal(sigint.listeners, 0, "not after a refused future");
    other.cancel();
    other.getLoop().close();
    assert.equal(loop.isClosed(), false);
  });
});

Deno.test("Ctrl-C: handleSignals: false installs nothing", async () => {
  await withFakeSigint(async (sigint) => {
    const seen = await asyncio.run(() => sigint.listeners, { ...virtual(), handleSignals: false });
    assert.equal(seen, 0);
    await using runner = new asyncio.Runner({ ...virtual(), handleSignals: false });
    assert.equal(await runner.run(() => sigint.listeners), 0);
  });
});

Deno.test("Ctrl-C: a host that refuses the listener runs the program without it", async () => {
  // CPython: test_runners.py RunnerTests.test_signal_install_not_supported_ok
  await withFakeSigint(async (sigint) => {
    assert.equal(await asyncio.run(() => sigint.listeners, virtual()), 0);
  }, { refuse: true });
});

Deno.test("Ctrl-C: run() cancels main and then still cleans up what main left", async () => {
  // CPython: test_runners.py RunnerTests.test_interrupt_wait, through asyncio.run()
  await withFakeSigint(async (sigint) => {
    const log: string[] = [];
    await assert.rejects(
      asyncio.run(function* () {
        asyncio.createTask(function* () {
          try {
            yield* asyncio.sleep(60_000);
          } finally {
            log.push("leftover finally");
          }
        });
        asyncio.getRunningLoop().callLater(10, () => sigint.send());
        try {
          yield* asyncio.sleep(60_000);
        } finally {
          log.push("main finally");
        }
      }, virtual()),
      asyncio.KeyboardInterrupt,
    );
    assert.deepEqual(log, ["main finally", "leftover finally"]);
  });
});

Deno.test("Runner: runs share the runner's context; run(main, { context }) uses the one given", async () => {
  // CPython: test_runners.py RunnerTests.test_run_keeps_context (the same
  // program: -1, then 1, then the context holds 2), and test_run_with_context.
  const cvar = new asyncio.ContextVar<number>("cvar", { default: -1 });
  function* f(value: number) {
    const old = cvar.get();
    yield* asyncio.sleep(0);
    cvar.set(value);
    return old;
  }
  {
    await using runner = new asyncio.Runner(virtual());
    assert.equal(await runner.run(() => f(1)), -1);
    assert.equal(
      await runner.run(async () => {
        const old = cvar.get();
        await asyncio.sleep(0);
        cvar.set(2);
        return old;
      }),
      1,
    );
    assert.equal((await runner.run(() => asyncio.copyContext())).get(cvar), 2);
    const own = new asyncio.Context();
    assert.equal(await runner.run(() => f(3), { context: own }), -1);
    assert.equal(own.get(cvar), 3);
    assert.equal(await runner.run(() => cvar.get()), 2, "the runner's context is untouched");
  }
  assert.equal(cvar.get(), -1, "the caller's context is the runner's copy's origin, not changed");
  // run() is a one-shot Runner: main runs in a copy of the caller's context.
  const token = cvar.set(10);
  try {
    assert.equal(await asyncio.run(() => f(11), virtual()), 10);
    assert.equal(cvar.get(), 10);
  } finally {
    cvar.reset(token);
  }
});
