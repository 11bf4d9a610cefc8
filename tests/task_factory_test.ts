import assert from "node:assert/strict";
import * as asyncio from "../mod.ts";
import { type Gen, runVirtual } from "./_helpers.ts";

/** A factory that records what it was given and makes plain tasks. */
function recordingFactory(seen: Array<{ coro: string; options: Record<string, unknown> }>) {
  const factory: asyncio.TaskFactory = (loop, coro, options) => {
    seen.push({ coro: typeof coro, options: { ...options } });
    const { name, eagerStart } = options;
    return new asyncio.Task(coro, {
      loop,
      name: name as string | undefined,
      eagerStart: eagerStart as boolean | undefined,
    });
  };
  return factory;
}

function* child(log: string[], n: number): Gen<number> {
  log.push(`start ${n}`);
  yield* asyncio.sleep(0);
  log.push(`end ${n}`);
  return n;
}

Deno.test("setTaskFactory(): every task the package makes for the user goes through it", async () => {
  // CPython: test_base_events.py BaseEventLoopTests.test_set_task_factory, and
  // (3.14) create_task passing its keyword arguments to the factory. Checked
  // with CPython 3.13 for the order of events: created, start 1, start 2,
  // start 3, end 1, end 2, end 3, then the group's child, then ensure_future's.
  const log: string[] = [];
  const seen: Array<{ coro: string; options: Record<string, unknown> }> = [];
  await runVirtual(function* () {
    const loop = asyncio.getRunningLoop();
    loop.setTaskFactory(recordingFactory(seen));
    const first = asyncio.createTask(() => child(log, 1), { name: "first" });
    assert.equal(first.getName(), "first");
    log.push("created");
    assert.deepEqual(yield* asyncio.gather([() => child(log, 2), () => child(log, 3)]), [2, 3]);
    yield* asyncio.taskGroup(function* (tg) {
      tg.createTask(() => child(log, 4), { name: "in group" });
    });
    yield* asyncio.ensureFuture(() => child(log, 5));
    yield* loop.createTask(() => child(log, 6));
    yield* asyncio.shield(() => child(log, 7));
    yield* first;
  });
  assert.deepEqual(log, [
    "created",
    "start 1",
    "start 2",
    "start 3",
    "end 1",
    "end 2",
    "end 3",
    "start 4",
    "end 4",
    "start 5",
    "end 5",
    "start 6",
    "end 6",
    "start 7",
    "end 7",
  ]);
  assert.deepEqual(seen.map((s) => s.options), [
    { name: "first" },
    {},
    {},
    { name: "in group" },
    {},
    {},
    {},
  ]);
});

Deno.test("setTaskFactory(): other options reach the factory, `loop` does not", async () => {
  const seen: Array<{ coro: string; options: Record<string, unknown> }> = [];
  await runVirtual(function* () {
    const loop = asyncio.getRunningLoop();
    loop.setTaskFactory(recordingFactory(seen));
    yield* asyncio.createTask(function* () {}, { loop, priority: 3, name: "p" });
    yield* asyncio.taskGroup(function* (tg) {
      tg.createTask(function* () {}, { priority: 1 });
    });
  });
  assert.deepEqual(seen.map((s) => s.options), [{ priority: 3, name: "p" }, { priority: 1 }]);
});

Deno.test("createTask(): an option nothing understands is a TypeError without a factory", async () => {
  // As Python's Task(coro, foo=1): "unexpected keyword argument".
  await runVirtual(function* () {
    assert.throws(() => asyncio.createTask(function* () {}, { priority: 3 }), {
      name: "TypeError",
      message:
        "createTask(): unknown option 'priority' (only a loop's task factory takes other options)",
    });
    yield* asyncio.taskGroup(function* (tg) {
      assert.throws(() => tg.createTask(function* () {}, { priority: 3 }), {
        name: "TypeError",
        message: /^TaskGroup\.createTask\(\): unknown option 'priority'/,
      });
      assert.throws(() => tg.createTask(function* () {}, { loop: asyncio.getRunningLoop() }), {
        name: "TypeError",
        message: /^TaskGroup\.createTask\(\): 'loop' is not an option here/,
      });
    });
  });
});

Deno.test("setTaskFactory(): a factory must return a Task", async () => {
  await runVirtual(function* () {
    asyncio.getRunningLoop().setTaskFactory(() => "not a task" as never);
    assert.throws(() => asyncio.createTask(function* () {}), {
      name: "TypeError",
      message: `createTask(): the loop's task factory must return a Task, got "not a task"`,
    });
    asyncio.getRunningLoop().setTaskFactory(null);
    assert.equal(asyncio.getRunningLoop().getTaskFactory(), null);
    yield* asyncio.createTask(function* () {});
  });
});

Deno.test("setTaskFactory(): run() makes its main task through the loop's factory", async () => {
  // CPython: runners.py Runner.run calls self._loop.create_task(coro).
  const clock = new asyncio.VirtualClock({ autojump: true });
  const runner = new asyncio.Runner({ clock });
  const names: string[] = [];
  runner.getLoop().setTaskFactory((loop, coro, options) => {
    const task = asyncio.eagerTaskFactory(loop, coro, options);
    names.push(task.getName());
    return task;
  });
  try {
    assert.equal(
      await runner.run(function* () {
        return asyncio.currentTask()!.getName();
      }),
      names[0],
    );
  } finally {
    runner.close();
  }
  assert.equal(names.length, 1);
});

Deno.test("eagerTaskFactory: each task runs its first step inside the call that makes it", async () => {
  // CPython: test_eager_task_factory.py EagerTaskFactoryLoopTests.test_eager_task_factory_set,
  // and the order of events checked with CPython 3.13: start 6, created6,
  // start 7, start 8, end 6, end 7, end 8.
  const log: string[] = [];
  await runVirtual(function* () {
    asyncio.getRunningLoop().setTaskFactory(asyncio.eagerTaskFactory);
    const task = asyncio.createTask(() => child(log, 6));
    log.push("created6");
    yield* asyncio.gather([() => child(log, 7), () => child(log, 8)]);
    yield* task;
  });
  assert.deepEqual(log, ["start 6", "created6", "start 7", "start 8", "end 6", "end 7", "end 8"]);
});

Deno.test("eagerTaskFactory: a coroutine that never waits finishes without touching the loop", async () => {
  // CPython: test_eager_task_factory.py test_eager_task_factory_set (the task is done at once).
  await runVirtual(function* () {
    const loop = asyncio.getRunningLoop();
    loop.setTaskFactory(asyncio.eagerTaskFactory);
    const task = asyncio.createTask(function* () {
      return "done";
    });
    assert.equal(task.done(), true);
    assert.equal(task.result(), "done");
    assert.equal(asyncio.allTasks(loop).has(task), false);
  });
});

Deno.test("eagerTaskFactory: `eagerStart: false` still schedules the first step", async () => {
  // CPython 3.14: test_eager_task_factory.py test_eager_start_false (create_eager_task_factory
  // takes eager_start=True as a default, which the caller can override).
  const log: string[] = [];
  await runVirtual(function* () {
    asyncio.getRunningLoop().setTaskFactory(asyncio.eagerTaskFactory);
    const task = asyncio.createTask(function* () {
      log.push("step");
    }, { eagerStart: false });
    log.push("created");
    yield* task;
  });
  assert.deepEqual(log, ["created", "step"]);
});

Deno.test("createEagerTaskFactory(): tasks of a custom class, started eagerly", async () => {
  // CPython: test_eager_task_factory.py test_custom_task_factory (a Task subclass through
  // create_eager_task_factory), both coroutine styles.
  class NamedTask<T> extends asyncio.Task<T> {
    constructor(coro: asyncio.TaskCoroutine<T>, options?: asyncio.TaskOptions) {
      super(coro, { ...options, name: `custom-${options?.name ?? "x"}` });
    }
  }
  const results = await runVirtual(function* () {
    asyncio.getRunningLoop().setTaskFactory(asyncio.createEagerTaskFactory(NamedTask));
    const generator = asyncio.createTask(function* () {
      yield* asyncio.sleep(1);
      return asyncio.currentTask()!.getName();
    }, { name: "gen" });
    const started: string[] = [];
    const fn = asyncio.createTask(async (signal: AbortSignal) => {
      started.push("async");
      await asyncio.sleep(1, { signal });
      return "async done";
    }, { name: "async" });
    assert.deepEqual(started, ["async"], "the async function ran up to its first await");
    assert.ok(generator instanceof NamedTask && fn instanceof NamedTask);
    return yield* asyncio.gather([generator, fn]);
  });
  assert.deepEqual(results, ["custom-gen", "async done"]);
});

Deno.test("setTaskFactory(): a block given to createTask() runs in the factory's task", async () => {
  // Python: create_task(asyncio.wait_for(coro, t)) goes through the factory; the
  // block runs inside the task it makes, as any coroutine.
  const made: asyncio.Task<unknown>[] = [];
  await runVirtual(function* () {
    const loop = asyncio.getRunningLoop();
    loop.setTaskFactory((l, coro, options) => {
      const task = asyncio.eagerTaskFactory(l, coro, options);
      made.push(task);
      return task;
    });
    let inside: asyncio.Task<unknown> | null = null;
    const task = asyncio.createTask(
      asyncio.timeout(100, function* () {
        inside = asyncio.currentTask();
        yield* asyncio.sleep(1);
        return "in time";
      }),
      { name: "timed" },
    );
    assert.equal(made.length, 1);
    assert.equal(task, made[0]);
    assert.equal(task.getName(), "timed");
    assert.equal(inside, task, "the eager first step entered the block");
    assert.equal(yield* task, "in time");
  });
});

Deno.test("setTaskFactory(): a factory on one loop does not touch another", async () => {
  const other = new asyncio.EventLoop({ clock: new asyncio.VirtualClock() });
  other.setTaskFactory(() => {
    throw new Error("the other loop's factory");
  });
  try {
    await runVirtual(function* () {
      assert.equal(asyncio.getRunningLoop().getTaskFactory(), null);
      yield* asyncio.createTask(function* () {});
    });
    assert.throws(() => other.createTask(function* () {}), { message: "the other loop's factory" });
  } finally {
    other.close();
  }
});
