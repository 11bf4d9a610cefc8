import assert from "node:assert/strict";
import * as asyncio from "../mod.ts";
import {
  assertIdentical,
  drain,
  iterationCounter,
  ran,
  runVirtual,
  SpyClock,
  virtualLoop,
} from "./_helpers.ts";

/** A generator function that sleeps `ms` then returns `value`. */
function sleeper<T>(ms: number, value: T): () => asyncio.Coroutine<T> {
  return function* () {
    yield* asyncio.sleep(ms);
    return value;
  };
}

Deno.test("asCompleted(): results in completion order, plain and async iteration", async (t) => {
  // CPython: test_tasks.py test_as_completed
  await t.step("plain iteration with yield*", async () => {
    const res = await runVirtual(function* () {
      const values: string[] = [];
      const it = asyncio.asCompleted([sleeper(10, "b"), sleeper(150, "c"), sleeper(10, "a")]);
      for (const next of it) values.push(yield* next);
      assert.equal(asyncio.getRunningLoop().time(), 150);
      return values;
    });
    assert.deepEqual(new Set(res.slice(0, 2)), new Set(["a", "b"]));
    assert.equal(res[2], "c");
  });
  await t.step("plain iteration with await", async () => {
    const res = await runVirtual(async () => {
      const values: string[] = [];
      for (const next of asyncio.asCompleted([sleeper(10, "b"), sleeper(150, "c")])) {
        values.push(await next);
      }
      return values;
    });
    assert.deepEqual(res, ["b", "c"]);
  });
  await t.step("for await", async () => {
    const res = await runVirtual(async () => {
      const values: string[] = [];
      for await (const done of asyncio.asCompleted([sleeper(10, "b"), sleeper(150, "c")])) {
        assert.ok(done.done());
        values.push(done.result());
      }
      return values;
    });
    assert.deepEqual(res, ["b", "c"]);
  });
});

Deno.test("asCompleted(): for await yields the given futures and tasks themselves", async () => {
  // CPython: test_tasks.py test_as_completed_same_tasks_in_as_out
  await runVirtual(async () => {
    const coroA = sleeper(0, "a")();
    const taskB = asyncio.createTask(sleeper(0, "b"));
    const coroC = sleeper(0, "c")();
    const taskD = asyncio.createTask(sleeper(0, "d"));
    const inputs = [coroA, taskB, coroC, taskD];
    const out = new Set<unknown>();
    for await (const f of asyncio.asCompleted<string>(inputs)) out.add(f);
    assert.equal(out.size, 4);
    assert.ok(out.has(taskB) && out.has(taskD), "tasks come back as they are");
    assert.ok(!out.has(coroA) && !out.has(coroC), "generators come back as their tasks");
    for (const f of out) assert.ok(f instanceof asyncio.Task);
  });
});

Deno.test("asCompleted(): a timeout raises TimeoutError for what is left, cancels nothing", async (t) => {
  // CPython: test_tasks.py test_as_completed_with_timeout
  await t.step("plain iteration: each remaining awaitable raises", async () => {
    await runVirtual(function* () {
      const loop = asyncio.getRunningLoop();
      const a = asyncio.createTask(sleeper(100, "a"));
      const b = asyncio.createTask(sleeper(150, "b"));
      const values: unknown[] = [];
      for (const next of asyncio.asCompleted([a, b], { timeout: 120 })) {
        try {
          values.push([1, yield* next]);
        } catch (error) {
          values.push([2, error]);
        }
      }
      assert.equal(values.length, 2);
      assert.deepEqual(values[0], [1, "a"]);
      const [kind, error] = values[1] as [number, Error];
      assert.equal(kind, 2);
      assert.ok(error instanceof asyncio.TimeoutError);
      assert.equal(error.message, "asCompleted(): timed out after 120 ms");
      assert.equal(loop.time(), 120);
      assert.equal(b.cancelled(), false);
      assert.equal(yield* b, "b");
    });
  });
  await t.step("for await: the loop raises", async () => {
    await runVirtual(async () => {
      const loop = asyncio.getRunningLoop();
      const a = asyncio.createTask(sleeper(100, "a"));
      const b = asyncio.createTask(sleeper(150, "b"));
      const values: unknown[] = [];
      try {
        for await (const f of asyncio.asCompleted([a, b], { timeout: 120 })) {
          values.push([1, await f]);
        }
      } catch (error) {
        values.push([2, error]);
      }
      assert.deepEqual(values[0], [1, "a"]);
      assert.ok((values[1] as [number, Error])[1] instanceof asyncio.TimeoutError);
      assert.equal(loop.time(), 120);
      assert.equal(await b, "b");
    });
  });
});

Deno.test("asCompleted(): the timer is cancelled once everything finished", async (t) => {
  // CPython: test_tasks.py test_as_completed_with_unused_timeout
  for (const style of ["plain", "async"]) {
    await t.step(style, async () => {
      const clock = new SpyClock();
      await asyncio.run(async () => {
        const it = asyncio.asCompleted([sleeper(10, "a")], { timeout: 1_000 });
        if (style === "plain") {
          for (const next of it) assert.equal(await next, "a");
        } else {
          for await (const f of it) assert.equal(await f, "a");
        }
        await asyncio.sleep(0);
        assert.equal(clock.armed, null, "no timer left armed");
        assert.equal(asyncio.getRunningLoop().time(), 10);
      }, { clock });
    });
  }
});

Deno.test("asCompleted(): breaking out keeps the iterator; a later loop resumes it", async (t) => {
  // CPython: test_tasks.py test_as_completed_resume_iterator
  const inputs = () => [0, 1, 2, 3].map((i) => sleeper(i, i));
  await t.step("plain", async () => {
    const collected = await runVirtual(function* () {
      const it = asyncio.asCompleted(inputs());
      const got: number[] = [];
      for (const next of it) {
        got.push(yield* next);
        if (got.length === 2) break;
      }
      assert.equal(got.length, 2);
      for (const next of it) got.push(yield* next);
      return got;
    });
    assert.deepEqual(collected.sort(), [0, 1, 2, 3]);
  });
  await t.step("async", async () => {
    const collected = await runVirtual(async () => {
      const it = asyncio.asCompleted(inputs());
      const got: number[] = [];
      for await (const f of it) {
        got.push(f.result());
        if (got.length === 2) break;
      }
      for await (const f of it) got.push(f.result());
      return got;
    });
    assert.deepEqual(collected.sort(), [0, 1, 2, 3]);
  });
});

Deno.test("asCompleted(): an awaitable takes its place when first waited on, not when yielded", async () => {
  // CPython: test_tasks.py test_as_completed_reverse_wait
  await runVirtual(function* () {
    const loop = asyncio.getRunningLoop();
    const futs = [...asyncio.asCompleted([sleeper(50, "a"), sleeper(100, "b")])];
    assert.equal(futs.length, 2);
    assert.equal(yield* futs[1], "a");
    assert.equal(loop.time(), 50);
    assert.equal(yield* futs[0], "b");
    assert.equal(loop.time(), 100);
  });
});

Deno.test("asCompleted(): the awaitables can be awaited concurrently (as tasks)", async (t) => {
  // CPython: test_tasks.py test_as_completed_concurrent
  for (const style of ["plain", "async"]) {
    await t.step(style, async () => {
      await runVirtual(async () => {
        const fs = [sleeper(50, "a"), sleeper(50, "b")];
        let futs: (asyncio.Awaitable<string> | asyncio.CompletedFuture<string>)[];
        if (style === "plain") {
          futs = [...asyncio.asCompleted(fs)];
        } else {
          futs = [];
          for await (const f of asyncio.asCompleted(fs)) futs.push(f);
        }
        assert.equal(futs.length, 2);
        const { done } = await asyncio.wait(
          futs.map((f) => asyncio.ensureFuture(f as asyncio.Awaitable<string>)),
        );
        assert.deepEqual(new Set([...done].map((f) => f.result())), new Set(["a", "b"]));
      });
    });
  }
});

Deno.test("asCompleted(): an awaitable listed twice is one input", async (t) => {
  // CPython: test_tasks.py test_as_completed_duplicate_coroutines
  for (const style of ["plain", "async"]) {
    await t.step(style, async () => {
      const result = await runVirtual(async () => {
        const c = sleeper(0, "ham")();
        const got: string[] = [];
        const it = asyncio.asCompleted([c, c, sleeper(0, "spam")()]);
        if (style === "plain") { for (const next of it) got.push(await next); }
        else for await (const f of it) got.push(f.result());
        return got;
      });
      assert.equal(result.length, 2);
      assert.deepEqual(new Set(result), new Set(["ham", "spam"]));
    });
  }
});

Deno.test("asCompleted(): uses the running loop for what it wraps", async () => {
  // CPython: test_tasks.py test_as_completed_coroutine_use_running_loop
  await runVirtual(function* () {
    const futs = [...asyncio.asCompleted([sleeper(0, 42)])];
    assert.equal(futs.length, 1);
    assert.equal(yield* futs[0], 42);
  });
});

Deno.test("asCompleted(): bad arguments throw TypeError at once and start nothing", () => {
  // CPython: test_tasks.py test_as_completed_invalid_args
  const { loop } = virtualLoop();
  const fut = new asyncio.Future<number>({ loop });
  assert.throws(() => asyncio.asCompleted(fut as never), {
    name: "TypeError",
    message: "asCompleted(): 'aws' must be an iterable of awaitables, got a Future; pass [future]",
  });
  const coro = sleeper(0, 1)();
  assert.throws(() => asyncio.asCompleted(coro as never), /got a generator/);
  assert.throws(() => asyncio.asCompleted(Promise.resolve([1]) as never), /got a promise/);
  assert.throws(() => asyncio.asCompleted(7 as never), /got 7/);
  let started = false;
  const first = function* () {
    started = true;
    yield* asyncio.sleep(0);
  };
  assert.throws(() => asyncio.asCompleted([first, 5 as never]), {
    name: "TypeError",
    message:
      "asCompleted(): 'aws[1]' must be a Future, a Task, a generator, a function or a promise, got 5",
  });
  assert.throws(() => asyncio.asCompleted([fut], { timeout: "1" as never }), TypeError);
  assert.throws(() => asyncio.asCompleted([fut], { timeout: NaN }), RangeError);
  assert.throws(() => asyncio.asCompleted([fut], 1 as never), /'options' must be an object/);
  assert.equal(started, false);
  loop.close();
});

Deno.test("asCompleted(): no inputs, nothing to iterate", async () => {
  await runVirtual(async () => {
    assert.deepEqual([...asyncio.asCompleted([], { timeout: 10 })], []);
    for await (const _ of asyncio.asCompleted([])) assert.fail("nothing to yield");
  });
});

Deno.test("asCompleted(): a failure is raised by its awaitable; for await yields the failed future", async () => {
  await runVirtual(async () => {
    const boom = async () => {
      await asyncio.sleep(5);
      throw new Error("boom");
    };
    const plain: string[] = [];
    for (const next of asyncio.asCompleted([boom, sleeper(10, "ok")])) {
      try {
        plain.push(await next);
      } catch (error) {
        plain.push((error as Error).message);
      }
    }
    assert.deepEqual(plain, ["boom", "ok"]);
    const futures: asyncio.CompletedFuture<string>[] = [];
    for await (const f of asyncio.asCompleted([boom, sleeper(10, "ok")])) futures.push(f);
    assert.equal((futures[0].exception() as Error).message, "boom");
    assert.equal(futures[1].result(), "ok");
  });
});

Deno.test("asCompleted(): waiting twice on one awaitable gives the same outcome", async () => {
  await runVirtual(function* () {
    const [next] = asyncio.asCompleted([sleeper(10, "x")]);
    assert.equal(yield* next, "x");
    assert.equal(yield* next, "x");
    assert.equal(yield* asyncio.ensureFuture(Promise.resolve(next)), "x");
  });
});

Deno.test("asCompleted(): a cancelled wait loses no completion", async () => {
  await runVirtual(function* () {
    const it = asyncio.asCompleted([sleeper(10, "a"), sleeper(20, "b")]);
    const first = it.next().value!;
    const second = it.next().value!;
    const impatient = asyncio.createTask(function* () {
      return yield* first;
    });
    yield* asyncio.sleep(5);
    impatient.cancel();
    yield* asyncio.wait([impatient]);
    assert.ok(impatient.cancelled());
    // The first place was given up: "a" goes to the next one waiting.
    assert.equal(yield* second, "a");
    assert.throws(() => asyncio.ensureFuture(first).result(), asyncio.InvalidStateError);
  });
});

Deno.test("asCompleted(): a generator task can step the async iterator with yield*", async () => {
  await runVirtual(function* () {
    const a = asyncio.createTask(sleeper(20, "a"));
    const b = asyncio.createTask(sleeper(10, "b"));
    const it = asyncio.asCompleted([a, b])[Symbol.asyncIterator]();
    const order: unknown[] = [];
    for (;;) {
      const step = yield* it.next() as asyncio.Future<
        IteratorResult<asyncio.CompletedFuture<string>>
      >;
      if (step.done) break;
      order.push(step.value);
    }
    assertIdentical(order, [b, a]);
  });
});

Deno.test("asCompleted(): promises and async functions as inputs", async () => {
  await runVirtual(async () => {
    const got: number[] = [];
    const slow = new Promise<number>((resolve) => setTimeout(() => resolve(2), 0));
    for (const next of asyncio.asCompleted<number>([slow, async () => 1])) got.push(await next);
    assert.deepEqual(got, [1, 2]);
  });
});

Deno.test("asCompleted(): on timeout the callbacks on the inputs are removed", async () => {
  const { loop, clock, reports } = virtualLoop({ debug: true, slowCallbackMs: 0 });
  const slow = new asyncio.Future<number>({ loop });
  const it = asyncio.asCompleted([slow], { timeout: 10 });
  const [only] = it;
  const outcome = loop.createTask(only as unknown as asyncio.Coroutine<number>);
  await clock.advance(10);
  assert.ok(outcome.exception() instanceof asyncio.TimeoutError);
  reports.length = 0;
  slow.setResult(1);
  await drain(loop);
  assert.deepEqual(ran(reports).filter((n) => n === "onCompletion()"), []);
  assert.equal(slow.cancelled(), false);
  loop.close();
});

Deno.test("asCompleted(): completions are delivered through one callback per input", async () => {
  const { loop, reports } = virtualLoop({ debug: true, slowCallbackMs: 0 });
  const a = new asyncio.Future<number>({ loop });
  const b = new asyncio.Future<number>({ loop });
  const outcomes = [...asyncio.asCompleted([a, b])].map((x) =>
    loop.createTask(x as unknown as asyncio.Coroutine<number>)
  );
  await drain(loop);
  reports.length = 0;
  b.setResult(2);
  a.setResult(1);
  await drain(loop);
  assert.deepEqual(ran(reports).filter((n) => n === "onCompletion()").length, 2);
  assert.deepEqual(outcomes.map((f) => f.result()), [2, 1]);
  loop.close();
});

Deno.test("asCompleted(): a failure nobody reads is still reported", async () => {
  const { loop, reports } = virtualLoop();
  const failing = new asyncio.Future<number>({ loop });
  const it = asyncio.asCompleted([failing]);
  failing.setException(new Error("unread"));
  await drain(loop);
  void it;
  loop.close();
  assert.equal(reports.length, 1);
  assert.match(reports[0].message, /never retrieved/);
});

Deno.test("asCompleted(): the caller resumes in the same loop iteration as in CPython", async () => {
  // Compared with CPython 3.13: awaiting as_completed([t])'s one awaitable,
  // t doing sleep(0), takes 4 iterations, counted by a call_soon chain.
  await runVirtual(function* () {
    const ticks = iterationCounter();
    yield* asyncio.sleep(0);
    const t = asyncio.createTask(() => asyncio.sleep(0));
    const t0 = ticks();
    for (const next of asyncio.asCompleted([t])) yield* next;
    assert.equal(ticks() - t0, 4);
  });
});
