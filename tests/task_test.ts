import assert from "node:assert/strict";
import * as asyncio from "../mod.ts";
import {
  assertEmpty,
  assertIdentical,
  asyncContextKind,
  chain,
  drain,
  runVirtual,
  virtualLoop,
  withoutHostContext,
} from "./_helpers.ts";

/** Waits for `task` and returns its CancelledError (fails if it is not cancelled). */
function* cancelledErrorOf(
  task: asyncio.Future<unknown>,
): Generator<unknown, asyncio.CancelledError> {
  try {
    yield* task;
  } catch (error) {
    if (error instanceof asyncio.CancelledError) return error;
    throw error;
  }
  throw new Error(`${task} was not cancelled`);
}

// ------------------------------------------------------------ creating and running

Deno.test("createTask(): generator function, generator object, async function, plain function", async () => {
  // CPython: test_tasks.py test_task_basics, test_create_task_with_async_function
  const results = await runVirtual(function* () {
    function* inner1(): Generator<unknown, number> {
      yield* asyncio.sleep(0);
      return 42;
    }
    function* inner2(): Generator<unknown, number> {
      return 1000;
    }
    const fromFunction = asyncio.createTask(function* () {
      const a = yield* inner1(); // a coroutine calling coroutines, as `await inner1()`
      const b = yield* inner2();
      return a + b;
    });
    const fromGenerator = asyncio.createTask(inner1());
    const fromAsync = asyncio.createTask(async () => {
      await asyncio.sleep(5);
      return "async";
    });
    const fromPlain = asyncio.createTask(() => "plain");
    return [yield* fromFunction, yield* fromGenerator, yield* fromAsync, yield* fromPlain];
  });
  assert.deepEqual(results, [1042, 42, "async", "plain"]);
});

Deno.test("createTask(): the first step runs in a later iteration, never synchronously", async () => {
  // CPython order (Python 3.13, same program with loop.call_soon): created, cb0, step1, cb1, step2, cb2, resumed
  const log = await runVirtual(function* () {
    const log: string[] = [];
    chain(asyncio.getRunningLoop(), log, 3);
    const task = asyncio.createTask(function* () {
      log.push("t step1");
      yield* asyncio.sleep(0);
      log.push("t step2");
    });
    log.push("created");
    yield* task;
    log.push("main resumed");
    return log;
  });
  assert.deepEqual(log.slice(0, 7), [
    "created",
    "cb0",
    "t step1",
    "cb1",
    "t step2",
    "cb2",
    "main resumed",
  ]);
});

Deno.test("a task is a Future of its loop", async () => {
  // CPython: test_tasks.py test_task_class, test_future_subclass
  const { loop } = virtualLoop();
  const t = loop.createTask(function* () {
    return "ok";
  });
  assert.ok(t instanceof asyncio.Task);
  assert.ok(t instanceof asyncio.Future);
  assert.equal(t.getLoop(), loop);
  assert.equal(await loop.runUntilComplete(t), "ok");
  assert.equal(t.result(), "ok");
  const viaOption = new asyncio.Task(function* () {}, { loop });
  assert.equal(viaOption.getLoop(), loop);
  await loop.runUntilComplete(viaOption);
  loop.close();
});

Deno.test("createTask(): bad arguments throw TypeError naming the function and argument", () => {
  // CPython: test_tasks.py test_create_task_with_noncoroutine
  const bad = 123 as unknown as asyncio.TaskCoroutine<unknown>;
  assert.throws(() => asyncio.createTask(bad), {
    name: "TypeError",
    message:
      "createTask(): 'coro' must be a generator, a generator function or an async function, got 123",
  });
  assert.throws(() => new asyncio.Task(bad), {
    name: "TypeError",
    message: /^Cannot create Task: 'coro' must be .*, got 123$/,
  });
  const { loop } = virtualLoop();
  const noop = function* () {};
  assert.throws(() => asyncio.createTask(noop, { name: 5 as unknown as string, loop }), {
    name: "TypeError",
    message: "createTask(): 'name' must be a string, got 5",
  });
  assert.throws(() => asyncio.createTask(noop, { eagerStart: "yes" as unknown as boolean, loop }), {
    name: "TypeError",
    message: `createTask(): 'eagerStart' must be a boolean, got "yes"`,
  });
  assert.throws(() => asyncio.createTask(noop, 1 as unknown as asyncio.TaskOptions), {
    name: "TypeError",
    message: "createTask(): 'options' must be an object, got 1",
  });
  assert.throws(() => asyncio.createTask(noop, { loop: {} as asyncio.EventLoop }), {
    name: "TypeError",
    message: "createTask(): 'loop' must be an EventLoop, got an object",
  });
  assert.equal(asyncio.allTasks(loop).size, 0, "no task was made by a rejected call");
  loop.close();
});

Deno.test("createTask() on a closed loop throws, and nothing runs", async () => {
  // CPython: test_base_events.py test_create_task_error_closes_coro (RuntimeError there)
  const { loop } = virtualLoop();
  loop.close();
  let ran = false;
  assert.throws(
    () =>
      loop.createTask(function* () {
        ran = true;
      }),
    { name: "Error", message: "EventLoop.createTask(): the event loop is closed" },
  );
  assert.throws(() => new asyncio.Task(() => (ran = true), { loop }), /closed/);
  await drain(loop);
  assert.equal(ran, false);
});

Deno.test("inside a task, top-level functions use the task's loop, even outside run()", async () => {
  // CPython: a task only steps inside its loop's iteration, so get_running_loop() is its loop.
  const { loop } = virtualLoop();
  const task = loop.createTask(function* () {
    assert.equal(asyncio.getEventLoop(), loop);
    assert.equal(asyncio.getRunningLoop(), loop);
    const nap = asyncio.sleep(0);
    assert.equal(nap.getLoop(), loop);
    yield* nap;
    return asyncio.createTask(function* () {}).getLoop();
  });
  await drain(loop);
  assert.equal(task.result(), loop);
  await drain(loop);
  loop.close();
});

Deno.test("Task.setResult() and setException() throw: the coroutine owns the result", async () => {
  // CPython: test_tasks.py test_task_set_methods
  const result = await runVirtual(function* () {
    const task = asyncio.createTask(function* () {
      return "ko";
    });
    assert.throws(() => task.setResult("ok"), {
      name: "Error",
      message: /^Task\.setResult\(\): .*use a Future$/,
    });
    assert.throws(() => task.setException(new Error()), {
      name: "Error",
      message: /^Task\.setException\(\): .*use a Future$/,
    });
    return yield* task;
  });
  assert.equal(result, "ko");
});

Deno.test("getCoro(): the generator; null for async functions and before a function starts", async () => {
  await runVirtual(function* () {
    function* body() {
      yield* asyncio.sleep(0);
    }
    const gen = body();
    const fromGenerator = asyncio.createTask(gen);
    assert.equal(fromGenerator.getCoro(), gen);
    const fromFunction = asyncio.createTask(body);
    assert.equal(fromFunction.getCoro(), null, "the function has not been called yet");
    const fromAsync = asyncio.createTask(async () => {});
    yield* asyncio.sleep(0);
    assert.ok(fromFunction.getCoro() !== null);
    assert.equal(typeof fromFunction.getCoro()!.next, "function");
    assert.equal(fromAsync.getCoro(), null);
    yield* asyncio.gather([fromGenerator, fromFunction, fromAsync]);
  });
});

// ------------------------------------------------------------ names and descriptions

Deno.test("task names: Task-<n> increasing, numbered only when no name is given", async () => {
  // CPython: test_tasks.py test_task_repr_autogenerated, test_bare_create_named_task
  await runVirtual(function* () {
    const noop = function* () {};
    const t1 = asyncio.createTask(noop);
    const named = asyncio.createTask(noop, { name: "No-op" });
    const t2 = asyncio.createTask(noop);
    const n1 = Number(/^Task-(\d+)$/.exec(t1.getName())![1]);
    const n2 = Number(/^Task-(\d+)$/.exec(t2.getName())![1]);
    assert.equal(n2, n1 + 1, "a named task does not use up a number");
    assert.equal(named.getName(), "No-op");
    yield* asyncio.gather([t1, named, t2]);
  });
});

Deno.test("setName(): renames; non-strings are converted with String(), as Python's str()", async () => {
  // CPython: test_tasks.py test_task_set_name_pylong, test_task_repr_name_not_str
  await runVirtual(function* () {
    const t = asyncio.createTask(function* () {}, { name: "first" });
    t.setName(123456789 as unknown as string);
    assert.equal(t.getName(), "123456789");
    t.setName("renamed");
    assert.equal(t.getName(), "renamed");
    yield* t;
  });
});

Deno.test("Task.toString(): state, name, then result or exception, as Python's repr", async () => {
  // CPython: test_tasks.py test_task_repr (without the coroutine and callbacks)
  await runVirtual(function* () {
    const t = asyncio.createTask(function* () {
      return "abc";
    }, { name: "TestTask" });
    assert.equal(t.toString(), "<Task pending name=TestTask>");
    assert.equal(Deno.inspect(t), "<Task pending name=TestTask>");
    yield* t;
    assert.equal(t.toString(), '<Task finished name=TestTask result="abc">');
    const failed = asyncio.createTask(function* () {
      throw new TypeError("bad");
    }, { name: "Failing" });
    yield* asyncio.sleep(0);
    assert.equal(String(failed), '<Task finished name=Failing exception=TypeError("bad")>');
    assert.ok(failed.exception() instanceof TypeError);
    assert.equal(Object.prototype.toString.call(t), "[object Task]");
    const cancelled = asyncio.createTask(function* () {}, { name: "Gone" });
    cancelled.cancel();
    yield* asyncio.sleep(0);
    assert.equal(cancelled.toString(), "<Task cancelled name=Gone>");
    const auto = asyncio.createTask(function* () {});
    assert.match(auto.toString(), /^<Task pending name=Task-\d+>$/);
    yield* auto;
  });
});

// ------------------------------------------------------------ cancellation

Deno.test("cancel(): a sleeping task ends cancelled; cancel() of a done task returns false", async () => {
  // CPython: test_tasks.py test_cancel
  await runVirtual(function* () {
    const loop = asyncio.getRunningLoop();
    const t = asyncio.createTask(function* () {
      yield* asyncio.sleep(10_000);
      return 12;
    });
    loop.callSoon(() => t.cancel());
    yield* cancelledErrorOf(t);
    assert.ok(t.done());
    assert.ok(t.cancelled());
    assert.equal(t.cancel(), false);
    assert.equal(loop.time(), 0, "the sleep did not run out");
  });
});

Deno.test("cancel(): the coroutine's finally blocks run, innermost first", async () => {
  // CPython order (Python 3.13, same program): cancel called, cb0, inner finally, cb1,
  // middle finally, outer finally, cb2, main caught
  const log = await runVirtual(function* () {
    const log: string[] = [];
    function* inner() {
      try {
        yield* asyncio.sleep(10_000);
      } finally {
        log.push("inner finally");
      }
    }
    function* middle() {
      try {
        yield* asyncio.createTask(inner);
      } finally {
        log.push("middle finally");
      }
    }
    function* outer() {
      try {
        yield* middle();
      } finally {
        log.push("outer finally");
      }
    }
    const t = asyncio.createTask(outer);
    yield* asyncio.sleep(0);
    yield* asyncio.sleep(0);
    chain(asyncio.getRunningLoop(), log, 4);
    t.cancel();
    log.push("cancel called");
    yield* cancelledErrorOf(t);
    log.push("main caught");
    return log;
  });
  assert.deepEqual(log.slice(0, 8), [
    "cancel called",
    "cb0",
    "inner finally",
    "cb1",
    "middle finally",
    "outer finally",
    "cb2",
    "main caught",
  ]);
});

Deno.test("cancel(msg): the message reaches the coroutine and the first retriever only", async (t) => {
  // CPython: test_tasks.py test_cancel_with_message_then_future_result,
  // test_cancel_with_message_then_future_exception. Python 3.13 hands the
  // error that ended the task to its first retriever; later result() and
  // exception() calls raise CancelledError() without the message (checked
  // with python3.13: result 0 ('my message',), result 1 (), exception ()).
  for (const msg of [undefined, "my message"]) {
    await t.step(`msg=${msg}`, async () => {
      const seen = await runVirtual(function* () {
        let inside = "";
        const task = asyncio.createTask(function* () {
          try {
            yield* asyncio.sleep(10_000);
          } catch (error) {
            inside = (error as Error).message;
            throw error;
          }
        });
        yield* asyncio.sleep(0);
        task.cancel(msg);
        const error = yield* cancelledErrorOf(task);
        assert.throws(() => task.result(), { name: "CancelledError", message: "" });
        assert.throws(() => task.exception(), { name: "CancelledError", message: "" });
        return [inside, error.message];
      });
      assert.deepEqual(seen, [msg ?? "", msg ?? ""]);
    });
  }
});

Deno.test("cancel(msg) before the first step: the coroutine never runs; the message is kept", async () => {
  // CPython: test_tasks.py test_task_cancel_message_getter, test_cancel_with_message_before_starting_task
  await runVirtual(function* () {
    const log: string[] = [];
    function* body() {
      try {
        log.push("body entered");
        yield* asyncio.sleep(10_000);
      } finally {
        log.push("finally");
      }
    }
    const tasks = [
      asyncio.createTask(body),
      asyncio.createTask(body()),
      asyncio.createTask(async () => {
        log.push("async entered");
      }),
    ];
    for (const task of tasks) task.cancel("my message");
    for (const task of tasks) {
      const error = yield* cancelledErrorOf(task);
      assert.equal(error.message, "my message");
    }
    assertEmpty(log, "nothing ran, not even a finally block");
  });
});

Deno.test("cancel() twice: the first message wins, as in CPython", async () => {
  // Python 3.13 (same program): t.cancel("first"); t.cancel("second") -> both the coroutine and
  // the awaiter see CancelledError('first'); cancelling() is 2.
  const seen = await runVirtual(function* () {
    let inner = "";
    const t = asyncio.createTask(function* () {
      try {
        yield* asyncio.sleep(10_000);
      } catch (error) {
        inner = (error as Error).message;
        throw error;
      }
    });
    yield* asyncio.sleep(0);
    t.cancel("first");
    t.cancel("second");
    assert.equal(t.signal.reason.message, "first");
    const error = yield* cancelledErrorOf(t);
    return [inner, error.message, t.cancelling()];
  });
  assert.deepEqual(seen, ["first", "first", 2]);
});

Deno.test("cancel(): a message that is not a string throws TypeError and changes nothing", async () => {
  await runVirtual(function* () {
    const t = asyncio.createTask(function* () {
      yield* asyncio.sleep(0);
      return 1;
    });
    assert.throws(() => t.cancel(5 as unknown as string), {
      name: "TypeError",
      message: "Task.cancel(): 'msg' must be a string, got 5",
    });
    assert.equal(t.cancelling(), 0);
    assert.equal(yield* t, 1);
  });
});

Deno.test("a CancelledError caught and chained into another error fails the task with it", async () => {
  // CPython: test_tasks.py test_cancellation_exception_context
  const error = await runVirtual(function* () {
    const loop = asyncio.getRunningLoop();
    const fut = loop.createFuture<void>();
    const innerTask = asyncio.createTask(function* () {
      fut.setResult();
      yield* asyncio.sleep(10_000);
    });
    const task = asyncio.createTask(function* () {
      yield* fut;
      loop.callSoon(() => innerTask.cancel("msg"));
      try {
        yield* innerTask;
      } catch (error) {
        throw new RangeError("cancelled", { cause: error });
      }
    });
    try {
      yield* task;
    } catch (error) {
      assert.equal(task.cancelled(), false);
      return error;
    }
  });
  assert.ok(error instanceof RangeError);
  assert.equal(error.message, "cancelled");
  assert.ok(error.cause instanceof asyncio.CancelledError);
  assert.equal(error.cause.message, "msg");
});

Deno.test("cancel() after the first step: CancelledError at the sleep(0) it stopped at", async () => {
  // CPython: test_tasks.py test_cancel_yield
  await runVirtual(function* () {
    const log: string[] = [];
    const t = asyncio.createTask(function* () {
      log.push("started");
      yield* asyncio.sleep(0);
      log.push("not reached");
      yield* asyncio.sleep(0);
      return 12;
    });
    yield* asyncio.sleep(0); // the task runs its first step
    assert.deepEqual(log, ["started"]);
    t.cancel();
    yield* cancelledErrorOf(t);
    assert.ok(t.done());
    assert.ok(t.cancelled());
    assert.equal(t.cancel(), false);
    assert.deepEqual(log, ["started"]);
  });
});

Deno.test("cancel() of a task looping on sleep(0): same order as CPython", async () => {
  // CPython order (Python 3.13, same program): tick, cb0, cancel, caught, cb1, main caught
  const log = await runVirtual(function* () {
    const log: string[] = [];
    const t = asyncio.createTask(function* () {
      try {
        for (;;) {
          log.push("tick");
          yield* asyncio.sleep(0);
        }
      } catch (error) {
        log.push("caught");
        throw error;
      }
    });
    chain(asyncio.getRunningLoop(), log, 4);
    yield* asyncio.sleep(0);
    t.cancel();
    log.push("cancel");
    yield* cancelledErrorOf(t);
    log.push("main caught");
    return log;
  });
  assert.deepEqual(log.slice(0, 6), ["tick", "cb0", "cancel", "caught", "cb1", "main caught"]);
});

Deno.test("a cancelled inner future cancels the task waiting on it", async () => {
  // CPython: test_tasks.py test_cancel_inner_future, test_cancel_both_task_and_inner_future
  await runVirtual(function* () {
    for (const alsoTask of [false, true]) {
      const f = asyncio.getRunningLoop().createFuture<void>();
      const t = asyncio.createTask(function* () {
        yield* f;
        return 12;
      });
      yield* asyncio.sleep(0);
      f.cancel();
      if (alsoTask) assert.equal(t.cancel(), true);
      yield* cancelledErrorOf(t);
      assert.ok(f.cancelled());
      assert.ok(t.cancelled());
    }
  });
});

Deno.test("cancel() cancels the awaited future; a coroutine that catches it returns normally", async () => {
  // CPython: test_tasks.py test_cancel_task_catching
  await runVirtual(function* () {
    const loop = asyncio.getRunningLoop();
    const fut1 = loop.createFuture<void>();
    const fut2 = loop.createFuture<void>();
    const t = asyncio.createTask(function* () {
      yield* fut1;
      try {
        yield* fut2;
      } catch (error) {
        if (error instanceof asyncio.CancelledError) return 42;
        throw error;
      }
      return 0;
    });
    yield* asyncio.sleep(0);
    fut1.setResult();
    yield* asyncio.sleep(0);
    t.cancel();
    assert.ok(fut2.cancelled(), "cancel() reaches the awaited future at once");
    assert.equal(yield* t, 42);
    assert.equal(t.cancelled(), false);
    assert.equal(t.cancelling(), 1, "the request still counts until uncancel()");
  });
});

Deno.test("a coroutine that ignores the cancellation keeps waiting on the next future", async () => {
  // CPython: test_tasks.py test_cancel_task_ignoring
  await runVirtual(function* () {
    const loop = asyncio.getRunningLoop();
    const [fut1, fut2, fut3] = [1, 2, 3].map(() => loop.createFuture<number>());
    const t = asyncio.createTask(function* () {
      yield* fut1;
      try {
        yield* fut2;
      } catch {
        // ignored
      }
      return yield* fut3;
    });
    yield* asyncio.sleep(0);
    fut1.setResult(0);
    yield* asyncio.sleep(0);
    t.cancel();
    assert.ok(fut2.cancelled());
    yield* asyncio.sleep(0);
    assert.equal(t.done(), false);
    fut3.setResult(42);
    assert.equal(yield* t, 42);
    assert.equal(fut3.cancelled(), false);
    assert.equal(t.cancelled(), false);
  });
});

Deno.test("a task cancelling itself: the next wait is cancelled at once", async () => {
  // CPython: test_tasks.py test_cancel_current_task
  await runVirtual(function* () {
    const loop = asyncio.getRunningLoop();
    const t: asyncio.Task<number> = asyncio.createTask(function* () {
      assert.equal(t.cancel(), true);
      yield* asyncio.sleep(100_000);
      return 12;
    });
    yield* cancelledErrorOf(t);
    assert.ok(t.cancelled());
    assert.equal(t.cancel(), false);
    assert.equal(loop.time(), 0, "the sleep was cancelled, not waited out");
  });
});

Deno.test("a task cancelling itself before sleep(0): same order as CPython", async () => {
  // CPython order (Python 3.13, same program): cb0, cancelled self, cb1, caught at sleep(0), cb2, after, cb3, result 1
  const log = await runVirtual(function* () {
    const log: string[] = [];
    chain(asyncio.getRunningLoop(), log, 4);
    const t = asyncio.createTask(function* () {
      asyncio.currentTask()!.cancel();
      log.push("cancelled self");
      try {
        yield* asyncio.sleep(0);
        log.push("not here");
      } catch {
        log.push("caught at sleep(0)");
      }
      yield* asyncio.sleep(0);
      log.push("after");
      return 1;
    });
    log.push(`result ${yield* t}`);
    return log;
  });
  assert.deepEqual(log.slice(0, 8), [
    "cb0",
    "cancelled self",
    "cb1",
    "caught at sleep(0)",
    "cb2",
    "after",
    "cb3",
    "result 1",
  ]);
});

Deno.test("a task cancelled right as its coroutine returns ends cancelled", async () => {
  // CPython: test_tasks.py test_cancel_at_end
  await runVirtual(function* () {
    const t: asyncio.Task<number> = asyncio.createTask(function* () {
      t.cancel("late");
      return 12;
    });
    const error = yield* cancelledErrorOf(t);
    assert.equal(error.message, "late");
    assert.ok(t.cancelled());
    assert.equal(t.cancel(), false);
  });
});

Deno.test("a task cancelled while not blocked cancels the next task it waits on (bpo-34872)", async () => {
  // CPython: test_tasks.py test_cancel_awaited_task
  await runVirtual(function* () {
    const fut = asyncio.getRunningLoop().createFuture<void>();
    let nested: asyncio.Task<void> | undefined;
    const task: asyncio.Task<void> = asyncio.createTask(function* () {
      nested = asyncio.createTask(function* () {
        yield* fut;
      });
      yield* asyncio.sleep(0);
      task.cancel();
      yield* nested;
    });
    yield* cancelledErrorOf(task);
    assert.ok(task.cancelled());
    assert.ok(nested!.cancelled());
    assert.ok(fut.cancelled());
  });
});

Deno.test("cancelling a task that waits on a sleeping task", async () => {
  // CPython: test_tasks.py test_task_cancel_sleeping_task
  const [outcome, time] = await runVirtual(function* () {
    const loop = asyncio.getRunningLoop();
    const sleeper = asyncio.createTask(function* () {
      yield* asyncio.sleep(5_000_000);
    });
    loop.callLater(100, () => sleeper.cancel());
    try {
      yield* sleeper;
      return ["slept in", loop.time()];
    } catch (error) {
      if (!(error instanceof asyncio.CancelledError)) throw error;
      return ["cancelled", loop.time()];
    }
  });
  assert.equal(outcome, "cancelled");
  assert.equal(time, 100);
});

Deno.test("cancel(): the awaited future is cancelled and released", async () => {
  // CPython: test_tasks.py test_task_cancel_waiter_future
  await runVirtual(function* () {
    const fut = asyncio.getRunningLoop().createFuture<void>();
    const task = asyncio.createTask(function* () {
      yield* fut;
    });
    yield* asyncio.sleep(0);
    task.cancel();
    assert.ok(fut.cancelled());
    yield* cancelledErrorOf(task);
    // The task no longer waits on anything: a second cancel is a no-op.
    assert.equal(task.cancel(), false);
  });
});

Deno.test("an error thrown while handling the cancellation fails the task instead", async () => {
  // CPython: test_tasks.py test_baseexception_during_cancel
  await runVirtual(function* () {
    const replacement = new Error("raised on cancel");
    function* sleeper() {
      yield* asyncio.sleep(10_000);
    }
    const task = asyncio.createTask(function* () {
      try {
        yield* sleeper();
      } catch (error) {
        if (error instanceof asyncio.CancelledError) throw replacement;
      }
    });
    yield* asyncio.sleep(0);
    task.cancel();
    assert.equal(task.done(), false);
    yield* asyncio.sleep(0);
    assert.ok(task.done());
    assert.equal(task.cancelled(), false);
    assert.equal(task.exception(), replacement);
  });
});

Deno.test("cancellation passes through nested coroutines down to the awaited future", async () => {
  // CPython: test_tasks.py test_yield_future_passes_cancel
  await runVirtual(function* () {
    let proof = 0;
    const waiter = asyncio.getRunningLoop().createFuture<void>();
    function* inner() {
      try {
        yield* waiter;
      } catch (error) {
        proof += 1;
        throw error;
      }
      assert.fail("got past the waiter in inner()");
    }
    function* outer() {
      try {
        yield* inner();
      } catch (error) {
        if (error instanceof asyncio.CancelledError) proof += 100;
        else throw error;
      }
    }
    const f = asyncio.ensureFuture(outer());
    yield* asyncio.sleep(0);
    f.cancel();
    yield* f;
    assert.equal(proof, 101);
    assert.ok(waiter.cancelled());
    assert.equal(f.cancelled(), false, "outer() swallowed the cancellation");
  });
});

// ------------------------------------------------------------ cancelling() and uncancel()

Deno.test("cancelling(): counts cancel() calls; each call returns true while pending", async () => {
  // CPython: test_tasks.py test_cancelling
  await runVirtual(function* () {
    const t = asyncio.createTask(function* () {
      yield* asyncio.sleep(10_000);
    });
    assert.equal(t.cancelling(), 0);
    assert.equal(t.cancel(), true);
    assert.equal(t.cancelling(), 1);
    assert.equal(t.cancel(), true);
    assert.equal(t.cancelling(), 2);
    yield* cancelledErrorOf(t);
    assert.equal(t.cancel(), false);
    assert.equal(t.cancelling(), 2, "cancel() of a done task does not count");
  });
});

Deno.test("uncancel(): withdraws a request; the task can then be cancelled again", async () => {
  // CPython: test_tasks.py test_uncancel_basic
  await runVirtual(function* () {
    const t = asyncio.createTask(function* () {
      try {
        yield* asyncio.sleep(10_000);
      } catch {
        asyncio.currentTask()!.uncancel();
        yield* asyncio.sleep(10_000);
      }
    });
    yield* asyncio.sleep(10);
    assert.equal(t.cancel(), true);
    assert.equal(t.cancelling(), 1);
    assert.equal(t.cancelled(), false);
    yield* asyncio.sleep(10);
    assert.equal(t.cancelling(), 0, "after uncancel()");
    assert.equal(t.cancelled(), false);
    assert.equal(t.cancel(), true);
    assert.equal(t.cancelling(), 1);
    yield* cancelledErrorOf(t);
    assert.ok(t.cancelled());
    t.uncancel();
    assert.ok(t.cancelled(), "uncancel() does not undo a finished cancellation");
    assert.equal(t.uncancel(), 0, "never below zero");
    assert.equal(t.uncancel(), 0);
  });
});

Deno.test("uncancel() to zero drops a cancellation not delivered yet", async () => {
  // CPython: test_tasks.py test_uncancel_resets_must_cancel
  await runVirtual(function* () {
    const fut = asyncio.getRunningLoop().createFuture<void>();
    const task = asyncio.createTask(function* () {
      yield* fut;
      return 42;
    });
    yield* asyncio.sleep(0); // the task waits on fut
    fut.setResult(); // the task is runnable: cancel() cannot cancel fut any more
    task.cancel();
    assert.equal(task.cancelling(), 1);
    assert.equal(task.uncancel(), 0);
    assert.equal(yield* task, 42);
  });
});

Deno.test("uncancel() with two requests keeps the pending cancellation", async () => {
  await runVirtual(function* () {
    const fut = asyncio.getRunningLoop().createFuture<void>();
    const task = asyncio.createTask(function* () {
      yield* fut;
      return 42;
    });
    yield* asyncio.sleep(0);
    fut.setResult();
    task.cancel();
    task.cancel();
    assert.equal(task.uncancel(), 1);
    yield* cancelledErrorOf(task);
  });
});

Deno.test("uncancel() in structured blocks: a timeout turned into TimeoutError, the task carries on", async () => {
  // CPython: test_tasks.py test_uncancel_structured_blocks
  function* makeRequestWithTimeout(
    sleepMs: number,
    timeoutMs: number,
  ): Generator<unknown, [boolean, boolean, boolean]> {
    const task = asyncio.currentTask()!;
    const loop = task.getLoop();
    let timedOut = false;
    let structuredBlockFinished = false;
    const handle = loop.callLater(timeoutMs, () => {
      timedOut = true;
      task.cancel();
    });
    try {
      try {
        yield* asyncio.sleep(sleepMs);
        structuredBlockFinished = true;
      } catch (error) {
        handle.cancel();
        if (timedOut && task.uncancel() === 0 && error instanceof asyncio.CancelledError) {
          throw new asyncio.TimeoutError();
        }
        throw error;
      }
      handle.cancel();
    } catch (error) {
      if (!(error instanceof asyncio.TimeoutError)) throw error;
      assert.ok(timedOut);
    }
    yield* asyncio.sleep(0); // outer code, not affected by the timeout
    return [timedOut, structuredBlockFinished, true];
  }
  await runVirtual(function* () {
    const t1 = asyncio.createTask(makeRequestWithTimeout(10_000, 100));
    assert.deepEqual(yield* t1, [true, false, true]);
    assert.equal(t1.cancelling(), 0);
    const t2 = asyncio.createTask(makeRequestWithTimeout(0, 10_000));
    assert.deepEqual(yield* t2, [false, true, true]);
    assert.equal(t2.cancelling(), 0);
  });
});

// ------------------------------------------------------------ misuse

Deno.test("a bare `yield` of a future fails the task with TypeError thrown at the yield", async () => {
  // CPython: Task.__step ("yield was used instead of yield from"), a RuntimeError there
  await runVirtual(function* () {
    const fut = asyncio.getRunningLoop().createFuture<number>();
    const bare = asyncio.createTask(function* () {
      yield fut;
    });
    yield* asyncio.sleep(0);
    yield* asyncio.sleep(0);
    assert.ok(bare.done());
    const error = bare.exception();
    assert.ok(error instanceof TypeError);
    assert.match(error.message, /bare yield.*yield\*/);
    // The error is thrown into the coroutine, which may catch it.
    const catching = asyncio.createTask(function* () {
      try {
        yield fut;
      } catch (error) {
        return (error as Error).name;
      }
    });
    assert.equal(yield* catching, "TypeError");
    fut.cancel();
  });
});

Deno.test("yielding something that is not awaitable fails the task with TypeError", async () => {
  // CPython: test_tasks.py ("Task got bad yield"), a RuntimeError there
  await runVirtual(function* () {
    for (const value of [5, undefined, "text", Promise.resolve(1)]) {
      const t = asyncio.createTask(function* () {
        yield value;
      });
      yield* asyncio.sleep(0);
      yield* asyncio.sleep(0);
      const error = t.exception();
      assert.ok(error instanceof TypeError, String(value));
      assert.match(error.message, /^Task got bad yield: .*yield\* futures and tasks$/);
    }
  });
});

Deno.test("a task waiting on itself fails with an Error", async () => {
  // CPython: test_tasks.py test_task_awaits_on_itself
  await runVirtual(function* () {
    const task: asyncio.Task<void> = asyncio.createTask(function* () {
      yield* task;
    });
    try {
      yield* task;
      assert.fail("not reached");
    } catch (error) {
      assert.equal((error as Error).constructor, Error);
      assert.match((error as Error).message, /^Task cannot wait on itself/);
    }
  });
});

Deno.test("a task waiting on a future of another loop fails with an Error", async () => {
  // CPython: test_tasks.py test_other_loop_future
  const { loop: otherLoop } = virtualLoop();
  const fut = otherLoop.createFuture<void>();
  await runVirtual(function* () {
    const t = asyncio.createTask(function* () {
      yield* fut;
    });
    try {
      yield* t;
      assert.fail("not reached");
    } catch (error) {
      assert.match((error as Error).message, /^Task Task-\d+ waited on .*another event loop$/);
    }
  });
  fut.cancel();
  otherLoop.close();
});

Deno.test("an iterator taken from a future and never used does not affect other tasks", async () => {
  // A guard for allocation-saving iterator schemes: whatever one step leaves behind, the next
  // task resumed from a yield* must read its own future.
  const result = await runVirtual(function* () {
    const loop = asyncio.getRunningLoop();
    const f1 = loop.createFuture<string>();
    const f2 = loop.createFuture<string>();
    const b = asyncio.createTask(function* () {
      return yield* f2;
    });
    yield* asyncio.sleep(0); // b waits on f2
    const a = asyncio.createTask(function* () {
      f1[Symbol.iterator](); // e.g. a generic "is it iterable?" helper
      f2.setResult("f2 result");
      return "a";
    });
    yield* a;
    loop.callLater(50, () => f1.setResult("f1 result"));
    return yield* b;
  });
  assert.equal(result, "f2 result");
});

// ------------------------------------------------------------ currentTask() and allTasks()

Deno.test("currentTask(): the task whose step runs, null outside", async () => {
  // CPython: test_tasks.py test_current_task
  assert.equal(asyncio.currentTask(), null);
  const { loop } = virtualLoop();
  const task: asyncio.Task<void> = loop.createTask(function* () {
    assert.equal(asyncio.currentTask(), task);
    yield* asyncio.sleep(0);
    assert.equal(asyncio.currentTask(), task);
  });
  await loop.runUntilComplete(task);
  assert.equal(asyncio.currentTask(), null);
  loop.close();
});

Deno.test("currentTask() with interleaving tasks", async () => {
  // CPython: test_tasks.py test_current_task_with_interleaving_tasks
  await runVirtual(function* () {
    const loop = asyncio.getRunningLoop();
    const fut1 = loop.createFuture<boolean>();
    const fut2 = loop.createFuture<boolean>();
    const task1: asyncio.Task<void> = asyncio.createTask(function* () {
      assert.equal(asyncio.currentTask(), task1);
      yield* fut1;
      assert.equal(asyncio.currentTask(), task1);
      fut2.setResult(true);
    });
    const task2: asyncio.Task<void> = asyncio.createTask(function* () {
      assert.equal(asyncio.currentTask(), task2);
      fut1.setResult(true);
      yield* fut2;
      assert.equal(asyncio.currentTask(), task2);
    });
    const main = asyncio.currentTask();
    yield* asyncio.gather([task1, task2]);
    assert.equal(asyncio.currentTask(), main);
  });
});

Deno.test("currentTask() in an async-function task: set until its first await", async () => {
  await runVirtual(function* () {
    let before: asyncio.Task<unknown> | null = null;
    const t: asyncio.Task<void> = asyncio.createTask(async () => {
      before = asyncio.currentTask();
      await asyncio.sleep(0);
    });
    yield* t;
    assert.equal(before, t);
  });
});

Deno.test("allTasks(): the tasks not done, including ones not started yet", async () => {
  await runVirtual(function* () {
    const main = asyncio.currentTask()!;
    const fut = asyncio.getRunningLoop().createFuture<void>();
    const waiting = asyncio.createTask(function* () {
      yield* fut;
    });
    assertIdentical(asyncio.allTasks(), new Set([main, waiting]));
    yield* asyncio.sleep(0);
    const quick = asyncio.createTask(function* () {});
    assertIdentical(asyncio.allTasks(), new Set([main, waiting, quick]));
    yield* quick;
    assertIdentical(asyncio.allTasks(), new Set([main, waiting]));
    waiting.cancel();
    yield* cancelledErrorOf(waiting);
    const failing = asyncio.createTask(function* () {
      throw new Error("x");
    });
    yield* asyncio.sleep(0);
    assert.ok(failing.done());
    failing.exception();
    assertIdentical(asyncio.allTasks(), new Set([main]));
    const snapshot = asyncio.allTasks();
    snapshot.clear();
    assert.equal(asyncio.allTasks().size, 1, "a new set each time");
  });
});

Deno.test("allTasks(loop): per loop", async () => {
  const { loop } = virtualLoop();
  const fut = loop.createFuture<void>();
  const t = loop.createTask(function* () {
    yield* fut;
  });
  await runVirtual(function* () {
    assert.equal(asyncio.allTasks().has(t), false);
    assert.equal(asyncio.allTasks(loop).has(t), true);
  });
  fut.setResult();
  await loop.runUntilComplete(t);
  assert.equal(asyncio.allTasks(loop).size, 0);
  loop.close();
});

// ------------------------------------------------------------ eager tasks

Deno.test("eager: the first step runs inside createTask(); same order as CPython", async () => {
  // CPython order (Python 3.13, Task(..., eager_start=True)): eager step1, created done=False, cb0,
  // eager step2, cb1, result 7
  const log = await runVirtual(function* () {
    const log: string[] = [];
    chain(asyncio.getRunningLoop(), log, 3);
    const t = asyncio.createTask(function* () {
      log.push("eager step1");
      yield* asyncio.sleep(0);
      log.push("eager step2");
      return 7;
    }, { eagerStart: true });
    log.push(`created done=${t.done()}`);
    log.push(`result ${yield* t}`);
    return log;
  });
  assert.deepEqual(log.slice(0, 6), [
    "eager step1",
    "created done=false",
    "cb0",
    "eager step2",
    "cb1",
    "result 7",
  ]);
});

Deno.test("eager: a coroutine that never waits is done when createTask() returns", async () => {
  // CPython: test_eager_task_factory.py test_eager_completion, test_await_future_during_eager_step,
  // test_cancellation_after_eager_completion
  await runVirtual(function* () {
    const fut = asyncio.getRunningLoop().createFuture<string>();
    const setter = asyncio.createTask(function* () {
      fut.setResult("my message");
    }, { eagerStart: true });
    assert.ok(setter.done());
    assert.equal(yield* fut, "my message");
    const t = asyncio.createTask(function* () {
      return "hello";
    }, { eagerStart: true });
    assert.ok(t.done());
    assert.equal(t.cancel(), false, "a finished task cannot be cancelled");
    assert.equal(yield* t, "hello");
    assert.equal(t.cancelled(), false);
    const log: string[] = [];
    t.addDoneCallback(() => log.push("callback"));
    assertEmpty(log, "done callbacks are still scheduled, not called");
    yield* asyncio.sleep(0);
    assert.deepEqual(log, ["callback"]);
  });
});

Deno.test("eager: a coroutine that throws at once fails the task, createTask() does not throw", async () => {
  await runVirtual(function* () {
    const boom = new Error("boom");
    const t = asyncio.createTask(function* () {
      throw boom;
    }, { eagerStart: true });
    assert.ok(t.done());
    assert.equal(t.exception(), boom);
    const asyncFailure = asyncio.createTask(() => {
      throw boom;
    }, { eagerStart: true });
    assert.equal(asyncFailure.exception(), boom);
  });
});

Deno.test("eager: a task that blocks continues on the loop and can be cancelled", async () => {
  // CPython: test_eager_task_factory.py test_block_after_eager_step,
  // test_cancellation_after_eager_step_blocks
  await runVirtual(function* () {
    const t = asyncio.createTask(function* () {
      yield* asyncio.sleep(100);
      return "finished after blocking";
    }, { eagerStart: true });
    assert.equal(t.done(), false);
    assert.equal(yield* t, "finished after blocking");
    const c = asyncio.createTask(function* () {
      yield* asyncio.sleep(100);
    }, { eagerStart: true });
    c.cancel("cancellation message");
    assert.ok(c.cancelling() > 0);
    const error = yield* cancelledErrorOf(c);
    assert.equal(error.message, "cancellation message");
  });
});

Deno.test("eager: currentTask() and allTasks() during the eager step", async () => {
  // CPython: test_eager_task_factory.py test_current_task, test_all_tasks_with_eager_completion,
  // test_all_tasks_with_blocking
  await runVirtual(function* () {
    const main = asyncio.currentTask();
    let captured: asyncio.Task<unknown> | null = null;
    let capturedAll = new Set<asyncio.Task<unknown>>();
    const t = asyncio.createTask(function* () {
      captured = asyncio.currentTask();
      capturedAll = asyncio.allTasks();
      yield* asyncio.sleep(10);
      assert.equal(asyncio.currentTask(), captured);
    }, { eagerStart: true });
    assert.equal(captured, t);
    assert.equal(asyncio.currentTask(), main, "restored after the eager step");
    assert.ok(capturedAll.has(t));
    assert.ok(asyncio.allTasks().has(t));
    yield* t;
    const quick = asyncio.createTask(function* () {
      capturedAll = asyncio.allTasks();
    }, { eagerStart: true });
    assert.ok(capturedAll.has(quick));
    assert.equal(asyncio.allTasks().has(quick), false);
  });
});

Deno.test("eager: works outside run(), on the task's loop", async () => {
  const { loop } = virtualLoop();
  const t = loop.createTask(function* () {
    return asyncio.currentTask();
  }, { eagerStart: true });
  assert.ok(t.done());
  assert.equal(t.result(), t);
  assert.equal(asyncio.currentTask(), null);
  await drain(loop);
  loop.close();
});

// ------------------------------------------------------------ async-function tasks

Deno.test("async task: cancel() aborts task.signal with the CancelledError as reason", async (t) => {
  const program = (sameError: boolean) =>
    runVirtual(function* () {
      let received: AbortSignal | undefined;
      const t = asyncio.createTask(async (signal: AbortSignal) => {
        received = signal;
        await asyncio.sleep(60_000, { signal });
      });
      yield* asyncio.sleep(0);
      assert.equal(received, t.signal);
      assert.equal(received!.aborted, false);
      t.cancel("stop now");
      assert.equal(received!.aborted, true, "aborted synchronously by cancel()");
      assert.ok(received!.reason instanceof asyncio.CancelledError);
      assert.equal(received!.reason.message, "stop now");
      const error = yield* cancelledErrorOf(t);
      assert.equal(error.message, "stop now");
      if (sameError) {
        assert.equal(error, received!.reason, "sleep() rejects with the signal's reason");
      }
      assert.ok(t.cancelled());
      assert.equal(asyncio.getRunningLoop().time(), 0);
    });
  // With a host context the task cancels the sleep as Python's Task.cancel()
  // does (sleep.cancel("stop now")): another CancelledError with the same message.
  await t.step("host context", () => program(false));
  await t.step(
    "no host context: the signal's listener cancels it",
    () => withoutHostContext(() => program(true)),
  );
});

Deno.test("async task: after a cancel request, rejecting with the cancellation ends it cancelled", async (t) => {
  const rejectOnAbort = (reason: (signal: AbortSignal) => unknown) => (signal: AbortSignal) =>
    new Promise<void>((_resolve, reject) => {
      signal.addEventListener("abort", () => reject(reason(signal)), { once: true });
    });
  for (
    const [name, reason] of [
      ["the signal's reason (fetch rethrows it)", (signal: AbortSignal) => signal.reason],
      ["an AbortError", () => new DOMException("The operation was aborted", "AbortError")],
      // workerd's fetch rejects with a new Error of the reason's name and message.
      ["a host's copy of the signal's reason", (signal: AbortSignal) => {
        const reason = signal.reason as Error;
        return Object.assign(new Error(reason.message), { name: reason.name });
      }],
    ] as const
  ) {
    await t.step(name, async () => {
      await runVirtual(function* () {
        const t = asyncio.createTask(rejectOnAbort(reason));
        yield* asyncio.sleep(0);
        t.cancel("why");
        const error = yield* cancelledErrorOf(t);
        assert.ok(t.cancelled());
        assert.equal(error.message, "why");
      });
    });
  }
  // CPython: an exception raised while handling CancelledError replaces it
  // (test_tasks.py test_cancel_traceback_for_future_exception): the task fails.
  await t.step("another error fails the task, even after a cancel request", async () => {
    await runVirtual(function* () {
      const cleanupFailed = new Error("cleanup failed");
      const t = asyncio.createTask(rejectOnAbort(() => cleanupFailed));
      yield* asyncio.sleep(0);
      t.cancel("why");
      try {
        yield* t;
        assert.fail("not reached");
      } catch (error) {
        assert.equal(error, cleanupFailed);
      }
      assert.equal(t.cancelled(), false);
    });
  });
  await t.step(
    "no host context: any rejection after a cancel request reads as the cancellation",
    () =>
      withoutHostContext(async () => {
        await runVirtual(function* () {
          const cause = new Error("aborted fetch");
          const t = asyncio.createTask(rejectOnAbort(() => cause));
          yield* asyncio.sleep(0);
          t.cancel("why");
          const error = yield* cancelledErrorOf(t);
          assert.ok(t.cancelled());
          assert.equal(error.message, "why");
          assert.equal(error.cause, cause, "the rejection is kept as the cause");
        });
      }),
  );
});

Deno.test("async task: a result after a cancel request stands (the cancellation was swallowed)", async () => {
  await runVirtual(function* () {
    const t = asyncio.createTask(async (signal: AbortSignal) => {
      try {
        await asyncio.sleep(60_000, { signal });
      } catch (error) {
        assert.ok(error instanceof asyncio.CancelledError);
        return "swallowed";
      }
      return "slept";
    });
    yield* asyncio.sleep(0);
    t.cancel();
    assert.equal(yield* t, "swallowed");
    assert.equal(t.cancelled(), false);
    assert.equal(t.cancelling(), 1);
  });
});

Deno.test("async task: a rejection without a cancel request fails the task", async () => {
  await runVirtual(function* () {
    const boom = new RangeError("boom");
    const t = asyncio.createTask(async () => {
      await asyncio.sleep(1);
      throw boom;
    });
    try {
      yield* t;
      assert.fail("not reached");
    } catch (error) {
      assert.equal(error, boom);
    }
    assert.equal(t.cancelled(), false);
    // A CancelledError thrown by the function itself ends the task cancelled.
    const c = asyncio.createTask(async () => {
      await asyncio.sleep(1);
      throw new asyncio.CancelledError("self");
    });
    const error = yield* cancelledErrorOf(c);
    assert.equal(error.message, "self");
    assert.ok(c.cancelled());
  });
});

Deno.test("a task failing with `undefined` still reads as failed", async () => {
  await runVirtual(function* () {
    const t = asyncio.createTask(function* () {
      // deno-lint-ignore no-throw-literal
      throw undefined;
    });
    const a = asyncio.createTask(() => Promise.reject());
    yield* asyncio.sleep(1);
    for (const task of [t, a]) {
      assert.ok(task.done());
      assert.equal(task.cancelled(), false);
      const error = task.exception();
      assert.ok(error instanceof Error, "exception() is not undefined, which would mean success");
      assert.throws(() => task.result(), (thrown) => thrown === error);
    }
  });
});

Deno.test("async task: a function declaring no parameter is called without the signal", async () => {
  await runVirtual(function* () {
    let args: unknown[] = ["not called"];
    const t = asyncio.createTask(function (...rest: unknown[]) {
      args = rest;
      return Promise.resolve("ok");
    });
    assert.equal(yield* t, "ok");
    assertEmpty(args);
    assert.equal(t.signal.aborted, false, "the signal is still there on demand");
  });
});

Deno.test("async task: a thenable that is not a Promise is followed", async () => {
  await runVirtual(function* () {
    const thenable = {
      then(resolve: (value: number) => void) {
        resolve(5);
      },
    };
    const t = asyncio.createTask(() => thenable as PromiseLike<number>);
    assert.equal(yield* t, 5);
  });
});

Deno.test("a function returning a Future: the task waits on it, and cancel() reaches it", async () => {
  await runVirtual(function* () {
    const loop = asyncio.getRunningLoop();
    const fut = loop.createFuture<string>();
    const t = asyncio.createTask(() => fut);
    yield* asyncio.sleep(0);
    assert.equal(t.done(), false);
    loop.callSoon(() => fut.setResult("from the future"));
    assert.equal(yield* t, "from the future");
    const other = loop.createFuture<string>();
    const c = asyncio.createTask(() => other);
    yield* asyncio.sleep(0);
    c.cancel();
    assert.ok(other.cancelled());
    yield* cancelledErrorOf(c);
  });
});

Deno.test("async task: finally blocks run on cancel when the waits take the signal", async () => {
  await runVirtual(function* () {
    const log: string[] = [];
    const t = asyncio.createTask(async (signal: AbortSignal) => {
      try {
        await asyncio.sleep(60_000, { signal });
        log.push("slept in");
      } finally {
        log.push("finally");
      }
    });
    yield* asyncio.sleep(10);
    t.cancel();
    try {
      yield* t;
    } catch (error) {
      assert.ok(error instanceof asyncio.CancelledError);
    }
    assert.deepEqual(log, ["finally"]);
    assert.equal(asyncio.getRunningLoop().time(), 10);
  });
});

Deno.test("eager: an async function runs synchronously up to its first await", async () => {
  await runVirtual(function* () {
    const log: string[] = [];
    const t = asyncio.createTask(async () => {
      log.push("sync part");
      await asyncio.sleep(1);
      log.push("after await");
      return 1;
    }, { eagerStart: true });
    assert.deepEqual(log, ["sync part"]);
    assert.equal(yield* t, 1);
    assert.deepEqual(log, ["sync part", "after await"]);
    const quick = asyncio.createTask(() => "no await", { eagerStart: true });
    assert.ok(quick.done());
    assert.equal(quick.result(), "no await");
  });
});

Deno.test("a generator returning a Future: the task's result is that Future, as in Python", async () => {
  // CPython: test_tasks.py test_coroutine_non_gen_function_return_future
  await runVirtual(function* () {
    const fut = asyncio.getRunningLoop().createFuture<string>();
    const t1 = asyncio.createTask(function* () {
      return fut;
    });
    const t2 = asyncio.createTask(function* () {
      fut.setResult("test");
    });
    assert.equal(yield* t1, fut);
    assert.equal(t2.result(), undefined);
    // An async function cannot do this: JavaScript promises adopt a returned thenable,
    // so such a task resolves to the Future's result instead.
    const adopted = asyncio.createTask(async () => fut);
    assert.equal(yield* adopted, "test");
  });
});

Deno.test("a generator task's signal: aborted on cancel, and already aborted when read late", async () => {
  await runVirtual(function* () {
    let signal: AbortSignal | undefined;
    const t = asyncio.createTask(function* (s: AbortSignal) {
      signal = s;
      yield* asyncio.sleep(60_000);
    });
    yield* asyncio.sleep(0);
    assert.equal(signal, t.signal);
    const seen: string[] = [];
    signal!.addEventListener("abort", () => seen.push("abort"));
    t.cancel();
    assert.deepEqual(seen, ["abort"]);
    yield* cancelledErrorOf(t);
    const late = asyncio.createTask(function* () {
      yield* asyncio.sleep(60_000);
    });
    late.cancel();
    assert.equal(late.signal.aborted, true, "created after the cancel request");
    assert.ok(late.signal.reason instanceof asyncio.CancelledError);
    yield* cancelledErrorOf(late);
    // Also when the cancel request already reached the future the task waits on.
    const waiting = asyncio.createTask(function* () {
      yield* asyncio.sleep(60_000);
    });
    yield* asyncio.sleep(0);
    waiting.cancel("bye");
    assert.equal(waiting.signal.reason.message, "bye");
    yield* cancelledErrorOf(waiting);
  });
});

// ------------------------------------------------------------ unretrieved exceptions

Deno.test("a failed task nobody awaited is reported once, when run() ends", async () => {
  const contexts: asyncio.ExceptionContext[] = [];
  const boom = new Error("boom");
  let task: asyncio.Task<void> | undefined;
  await runVirtual(function* () {
    asyncio.getRunningLoop().setExceptionHandler((_loop, context) => contexts.push(context));
    task = asyncio.createTask(function* () {
      yield* asyncio.sleep(1);
      throw boom;
    });
    yield* asyncio.sleep(10);
    assert.ok(task.done());
    assertEmpty(contexts, "not before run() ends");
  });
  assert.equal(contexts.length, 1);
  assert.equal(contexts[0].message, "Task exception was never retrieved");
  assert.equal(contexts[0].exception, boom);
  assert.equal(contexts[0].task, task);
  assert.equal(contexts[0].future, task);
});

Deno.test("nothing is reported for a failure that was awaited, read, or cancelled after", async (t) => {
  // CPython: test_tasks.py test_tb_logger_not_called_after_cancel
  const cases: Array<[string, (task: asyncio.Task<void>) => Generator<unknown, void>]> = [
    ["yield*", function* (task) {
      try {
        yield* task;
      } catch { /* retrieved */ }
    }],
    ["exception()", function* (task) {
      yield* asyncio.sleep(50);
      task.exception();
    }],
    ["cancel() after it failed", function* (task) {
      yield* asyncio.sleep(50);
      assert.equal(task.cancel(), false);
    }],
    ["gather()", function* (task) {
      yield* asyncio.gather([task], { returnExceptions: true });
    }],
  ];
  for (const [name, consume] of cases) {
    await t.step(name, async () => {
      const contexts: asyncio.ExceptionContext[] = [];
      await runVirtual(function* () {
        asyncio.getRunningLoop().setExceptionHandler((_loop, context) => contexts.push(context));
        const task = asyncio.createTask(function* () {
          yield* asyncio.sleep(1);
          throw new TypeError("failed");
        });
        yield* consume(task);
      });
      assertEmpty(contexts);
    });
  }
});

Deno.test("getStack(): the creation stack in debug mode, empty otherwise", async () => {
  await runVirtual(function* () {
    const t = asyncio.createTask(function* () {});
    assert.deepEqual(t.getStack(), []);
    yield* t;
  });
  await runVirtual(function* () {
    const t = asyncio.createTask(function* () {});
    const stack = t.getStack();
    assert.ok(stack.length > 0);
    assert.ok(stack.some((line) => line.includes("task_test.ts")), stack.join("\n"));
    yield* t;
  }, { debug: true });
});

Deno.test("both styles wait on each other", async () => {
  const result = await runVirtual(function* () {
    const gen = asyncio.createTask(function* () {
      yield* asyncio.sleep(10);
      return 1;
    });
    const asy = asyncio.createTask(async () => (await gen) + 1);
    const back = asyncio.createTask(function* () {
      return (yield* asy) + 1;
    });
    return yield* back;
  });
  assert.equal(result, 3);
});

/** The cases of the test below, for one host form. */
async function signalWaitCases(t: Deno.TestContext): Promise<void> {
  // The task cancels such a wait itself instead of through an abort listener
  // (a Deno listener costs ~3 µs and 660 B); behaviour must be the same.
  // Without a host context the error is the signal's reason itself; with
  // one, the task cancels the sleep as Python's Task.cancel(msg) does.
  await t.step("one wait", async () => {
    await runVirtual(function* () {
      const task = asyncio.createTask(async (signal: AbortSignal) => {
        try {
          await asyncio.sleep(60_000, { signal });
        } catch (error) {
          assert.ok(error instanceof asyncio.CancelledError);
          assert.equal(error.message, "stop");
          if (asyncContextKind === "none") assert.equal(error, signal.reason);
          throw error;
        }
      });
      yield* asyncio.sleep(10);
      task.cancel("stop");
      yield* asyncio.wait([task]);
      assert.throws(() => task.result(), { name: "CancelledError", message: "stop" });
      assert.equal(asyncio.getRunningLoop().time(), 10);
    });
  });
  await t.step("two waits at once and sequential waits", async () => {
    await runVirtual(function* () {
      const reached: string[] = [];
      const task = asyncio.createTask(async (signal: AbortSignal) => {
        for (let i = 0; i < 3; i++) {
          await asyncio.sleep(5, { signal });
          await asyncio.sleep(0, { signal });
          reached.push(`round ${i}`);
        }
        // Two waits with the same signal at once: both must be cancelled.
        await asyncio.gather([
          asyncio.sleep(60_000, { signal }),
          asyncio.sleep(70_000, { signal }),
        ]);
      });
      yield* asyncio.sleep(100);
      task.cancel();
      yield* asyncio.gather([task], { returnExceptions: true });
      assert.ok(task.cancelled());
      assert.deepEqual(reached, ["round 0", "round 1", "round 2"]);
      assert.equal(asyncio.getRunningLoop().time(), 100);
    });
  });
  await t.step("a function that waits with the signal, then returns a generator", async () => {
    await runVirtual(function* () {
      let nap!: asyncio.Future<void>;
      const task = asyncio.createTask((signal: AbortSignal) => {
        nap = asyncio.sleep(60_000, { signal });
        return (function* () {
          yield* asyncio.sleep(60_000);
        })();
      });
      yield* asyncio.sleep(10);
      task.cancel();
      yield* asyncio.gather([task], { returnExceptions: true });
      yield* asyncio.sleep(0);
      assert.ok(nap.cancelled(), "the wait made before the generator still follows the signal");
    });
  });
  await t.step("another task's signal", async () => {
    await runVirtual(function* () {
      const owner = asyncio.createTask(async (signal: AbortSignal) => {
        await asyncio.sleep(60_000, { signal });
      });
      yield* asyncio.sleep(0);
      const borrowed = asyncio.sleep(60_000, { signal: owner.signal });
      owner.cancel();
      yield* asyncio.gather([owner], { returnExceptions: true });
      assert.ok(borrowed.cancelled());
    });
  });
}

Deno.test("an async task's waits made with its own signal are cancelled with the signal's reason", async (t) => {
  await t.step("host context", (t) => signalWaitCases(t));
  await t.step("no host context", (t) => withoutHostContext(() => signalWaitCases(t)));
});

Deno.test("a failure a waiter never saw (it was cancelled first) is reported, not lost", async () => {
  // Task B waits on A; A fails, and B is cancelled before it wakes. Python
  // marks A's exception retrieved (cancel() forwarded to a done future, then
  // the wake-up reads it) and drops it; here it stays unretrieved and is
  // reported once when the loop closes (fuzzer regression waiter-cancel-keeps-failure).
  const reports: asyncio.ExceptionContext[] = [];
  await runVirtual(function* () {
    asyncio.getRunningLoop().setExceptionHandler((_loop, context) => reports.push(context));
    const a = asyncio.createTask(function* () {
      throw new Error("E1");
    });
    const b = asyncio.createTask(function* () {
      yield* a;
    }, { eagerStart: true });
    yield* asyncio.sleep(0); // A fails; B's wake-up is now queued
    b.cancel();
    const [outcome] = yield* asyncio.gather([b], { returnExceptions: true });
    assert.ok(outcome instanceof asyncio.CancelledError, "B sees its cancellation");
  });
  assert.equal(reports.length, 1);
  assert.equal((reports[0].exception as Error).message, "E1");
});

Deno.test("yielding a coroutine instead of yield* fails with a message that says so", async () => {
  // Python's nearest warning is "coroutine ... was never awaited"; a generator
  // that is called and dropped never reaches the library, but one yielded by
  // mistake does.
  await runVirtual(function* () {
    function* helper() {
      yield* asyncio.sleep(1);
      return 1;
    }
    const task = asyncio.createTask(function* () {
      yield helper();
    });
    const [outcome] = yield* asyncio.gather([task], { returnExceptions: true });
    assert.ok(outcome instanceof TypeError);
    assert.match((outcome as Error).message, /never run: use yield\* to run a coroutine/);
  });
});
