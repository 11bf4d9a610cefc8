import assert from "node:assert/strict";
import * as asyncio from "../mod.ts";
import { assertEmpty, assertIdentical, chain, drain, runVirtual, virtualLoop } from "./_helpers.ts";

/** Counts the calls of a done callback, like CPython's MockCallback. */
function callbackCounter(): { cb: (f: asyncio.Future<unknown>) => void; calls: unknown[] } {
  const calls: unknown[] = [];
  return { cb: (f) => calls.push(f), calls };
}

/** CPython's CoroutineGatherTests.wrap_futures: each future behind a coroutine. */
function wrap<T>(futures: asyncio.Future<T>[]): Generator<unknown, T>[] {
  return futures.map((fut) =>
    (function* () {
      return yield* fut;
    })()
  );
}

Deno.test("gather(): results in input order once every child is done", async (t) => {
  // CPython: test_tasks.py GatherTestsBase test_success, test_result_exception_success
  for (const wrapped of [false, true]) {
    for (const returnExceptions of [undefined, false, true]) {
      await t.step(
        `${wrapped ? "coroutines" : "futures"}, returnExceptions=${returnExceptions}`,
        async () => {
          const { loop } = virtualLoop();
          const [a, b, c] = [0, 1, 2].map(() => loop.createFuture<number>());
          // (Wrapped in an object: a promise resolved with a Future would adopt it.)
          const { fut } = await loop.runUntilComplete<{ fut: asyncio.Future<number[]> }>(
            function* () {
              const aws = wrapped ? wrap([a, b, c]) : [a, b, c];
              return { fut: asyncio.gather(aws, { returnExceptions }) };
            },
          );
          const { cb, calls } = callbackCounter();
          fut.addDoneCallback(cb);
          b.setResult(1);
          a.setResult(2);
          await drain(loop);
          assertEmpty(calls);
          assert.equal(fut.done(), false);
          c.setResult(3);
          await drain(loop);
          assertIdentical(calls, [fut]);
          assert.deepEqual(fut.result(), [2, 1, 3]);
          loop.close();
        },
      );
    }
  }
});

Deno.test("gather(): the first exception fails it; later outcomes are ignored and not reported", async (t) => {
  // CPython: test_tasks.py GatherTestsBase test_one_exception
  for (const wrapped of [false, true]) {
    await t.step(wrapped ? "coroutines" : "futures", async () => {
      const { loop, reports } = virtualLoop();
      const [a, b, c, d, e] = [0, 1, 2, 3, 4].map(() => loop.createFuture<number>());
      const { fut } = await loop.runUntilComplete<{ fut: asyncio.Future<number[]> }>(
        function* () {
          return { fut: asyncio.gather(wrapped ? wrap([a, b, c, d, e]) : [a, b, c, d, e]) };
        },
      );
      const { cb, calls } = callbackCounter();
      fut.addDoneCallback(cb);
      const exc = new RangeError("zero division");
      a.setResult(1);
      b.setException(exc);
      await drain(loop);
      assert.ok(fut.done());
      assertIdentical(calls, [fut]);
      assert.equal(fut.exception(), exc);
      // Does nothing:
      c.setResult(3);
      d.cancel();
      e.setException(new Error("ignored"));
      await drain(loop);
      loop.close();
      assertEmpty(reports, "the later failure counts as retrieved");
    });
  }
});

Deno.test("gather(returnExceptions): exceptions take their place in the results", async () => {
  // CPython: test_tasks.py GatherTestsBase test_return_exceptions
  const { loop } = virtualLoop();
  const [a, b, c, d] = [0, 1, 2, 3].map(() => loop.createFuture<number>());
  const fut = asyncio.gather([a, b, c, d], { returnExceptions: true });
  const { cb, calls } = callbackCounter();
  fut.addDoneCallback(cb);
  const exc = new RangeError("zero division");
  const exc2 = new Error("runtime");
  b.setResult(1);
  c.setException(exc);
  a.setResult(3);
  await drain(loop);
  assert.equal(fut.done(), false);
  d.setException(exc2);
  await drain(loop);
  assertIdentical(calls, [fut]);
  assert.deepEqual(fut.result(), [3, 1, exc, exc2]);
  loop.close();
});

Deno.test("gather(): a cancelled child fails it with CancelledError; the gather is not cancelled()", async () => {
  // CPython: test_tasks.py FutureGatherTests test_one_cancellation
  const { loop, reports } = virtualLoop();
  const [a, b, c, d, e] = [0, 1, 2, 3, 4].map(() => loop.createFuture<number>());
  const fut = asyncio.gather([a, b, c, d, e]);
  const { cb, calls } = callbackCounter();
  fut.addDoneCallback(cb);
  a.setResult(1);
  b.cancel("child");
  await drain(loop);
  assert.ok(fut.done());
  assertIdentical(calls, [fut]);
  assert.equal(fut.cancelled(), false);
  const error = fut.exception();
  assert.ok(error instanceof asyncio.CancelledError);
  assert.equal(error.message, "child");
  // The siblings were not cancelled, and what they do next is ignored:
  assert.equal(c.cancelled(), false);
  c.setResult(3);
  d.cancel();
  e.setException(new Error("ignored"));
  await drain(loop);
  loop.close();
  assertEmpty(reports);
});

Deno.test("gather(returnExceptions): cancelled children give CancelledError entries", async () => {
  // CPython: test_tasks.py FutureGatherTests test_result_exception_one_cancellation
  const { loop } = virtualLoop();
  const [a, b, c, d, e, f] = [0, 1, 2, 3, 4, 5].map(() => loop.createFuture<number>());
  const fut = asyncio.gather([a, b, c, d, e, f], { returnExceptions: true });
  const { cb, calls } = callbackCounter();
  fut.addDoneCallback(cb);
  a.setResult(1);
  const zde = new RangeError("zero division");
  b.setException(zde);
  c.cancel();
  await drain(loop);
  assert.equal(fut.done(), false);
  d.setResult(3);
  e.cancel("e");
  const rte = new Error("runtime");
  f.setException(rte);
  const res = await loop.runUntilComplete<unknown[]>(fut);
  assert.ok(res[2] instanceof asyncio.CancelledError);
  assert.ok(res[4] instanceof asyncio.CancelledError);
  assert.equal((res[4] as Error).message, "e");
  res[2] = res[4] = null;
  assert.deepEqual(res, [1, zde, null, 3, null, rte]);
  assertIdentical(calls, [fut]);
  loop.close();
});

Deno.test("gather(): a cancelled child task does not cancel its siblings, which keep running", async () => {
  await runVirtual(function* () {
    const log: string[] = [];
    const sibling = asyncio.createTask(function* () {
      yield* asyncio.sleep(100);
      log.push("sibling finished");
      return "sibling";
    });
    const victim = asyncio.createTask(function* () {
      yield* asyncio.sleep(1_000);
    });
    const g = asyncio.gather([sibling, victim]);
    yield* asyncio.sleep(10);
    victim.cancel("victim");
    try {
      yield* g;
      assert.fail("not reached");
    } catch (error) {
      assert.ok(error instanceof asyncio.CancelledError);
      assert.equal(error.message, "victim");
    }
    assert.equal(g.cancelled(), false);
    assert.equal(sibling.done(), false);
    assert.equal(yield* sibling, "sibling");
    assert.deepEqual(log, ["sibling finished"]);
  });
});

Deno.test("gather(): on the first failure the other children keep running", async () => {
  await runVirtual(function* () {
    const loop = asyncio.getRunningLoop();
    const boom = new Error("boom");
    const slow = asyncio.createTask(function* () {
      yield* asyncio.sleep(500);
      return "slow";
    });
    const g = asyncio.gather([
      slow,
      function* () {
        yield* asyncio.sleep(10);
        throw boom;
      },
    ]);
    try {
      yield* g;
      assert.fail("not reached");
    } catch (error) {
      assert.equal(error, boom);
    }
    assert.equal(loop.time(), 10);
    assert.equal(slow.done(), false);
    assert.equal(g.cancel(), false, "a done gather cannot cancel its children");
    assert.equal(yield* slow, "slow");
    assert.equal(loop.time(), 500);
  });
});

Deno.test("gather(): cancelling the gather cancels every unfinished child", async () => {
  // CPython: test_tasks.py CoroutineGatherTests test_cancellation_broadcast
  const { loop } = virtualLoop();
  let proof = 0;
  const waiter = loop.createFuture<void>();
  function* inner() {
    yield* waiter;
    proof += 1;
  }
  const child1 = loop.createTask(inner);
  const child2 = loop.createTask(inner);
  let gatherer: asyncio.Future<unknown> | undefined;
  const f = loop.createTask(function* () {
    gatherer = asyncio.gather([child1, child2]);
    yield* gatherer;
    proof += 100;
  });
  const running = loop.runUntilComplete(f);
  await drain(loop);
  assert.equal(f.cancel(), true);
  await assert.rejects(running, asyncio.CancelledError);
  assert.equal(gatherer!.cancel(), false);
  assert.ok(waiter.cancelled());
  assert.ok(child1.cancelled());
  assert.ok(child2.cancelled());
  await drain(loop);
  assert.equal(proof, 0);
  loop.close();
});

Deno.test("gather().cancel(msg): the message reaches the children and the awaiter", async () => {
  await runVirtual(function* () {
    const messages: string[] = [];
    const child = () =>
      asyncio.createTask(function* () {
        try {
          yield* asyncio.sleep(1_000);
        } catch (error) {
          messages.push((error as Error).message);
          throw error;
        }
      });
    const g = asyncio.gather([child(), child()]);
    yield* asyncio.sleep(0);
    assert.equal(g.cancel("stop"), true);
    try {
      yield* g;
      assert.fail("not reached");
    } catch (error) {
      assert.ok(error instanceof asyncio.CancelledError);
      assert.equal(error.message, "stop");
    }
    assert.deepEqual(messages, ["stop", "stop"]);
  });
});

Deno.test("gather(returnExceptions).cancel(msg) still ends in CancelledError (bpo-32684)", async (t) => {
  // CPython: test_tasks.py test_cancel_gather_2
  for (const msg of [undefined, "my message"]) {
    await t.step(`msg=${msg}`, async () => {
      const error = await runVirtual(function* () {
        const loop = asyncio.getRunningLoop();
        const qwe = asyncio.createTask(function* () {
          for (;;) {
            yield* asyncio.gather([asyncio.sleep(50)], { returnExceptions: true });
            if (loop.time() > 1_000) return;
          }
        });
        yield* asyncio.sleep(200);
        qwe.cancel(msg);
        try {
          yield* qwe;
        } catch (error) {
          return error;
        }
      });
      assert.ok(error instanceof asyncio.CancelledError);
      assert.equal(error.message, msg ?? "");
    });
  }
});

Deno.test("gather(returnExceptions): cancelled with a child that swallows it: still CancelledError", async () => {
  await runVirtual(function* () {
    const swallower = asyncio.createTask(function* () {
      try {
        yield* asyncio.sleep(1_000);
      } catch {
        return "swallowed";
      }
    });
    const g = asyncio.gather([swallower], { returnExceptions: true });
    yield* asyncio.sleep(0);
    assert.equal(g.cancel("m"), true);
    try {
      yield* g;
      assert.fail("not reached");
    } catch (error) {
      assert.ok(error instanceof asyncio.CancelledError);
    }
    assert.equal(yield* swallower, "swallowed");
  });
});

Deno.test("gather().cancel() once every child is done returns false (bpo-26923)", async () => {
  // CPython: test_tasks.py test_cancel_gather_1
  const { loop } = virtualLoop();
  const fut = loop.createFuture<number>();
  const { gatherTask } = await loop.runUntilComplete<{ gatherTask: asyncio.Future<number[]> }>(
    function* () {
      // The indirection through a coroutine keeps the gather pending after fut is done.
      return {
        gatherTask: asyncio.gather([
          function* () {
            return yield* fut;
          },
        ]),
      };
    },
  );
  let cancelResult: boolean | null = null;
  fut.addDoneCallback(() => {
    cancelResult = gatherTask.cancel();
  });
  fut.setResult(42);
  assert.deepEqual(await loop.runUntilComplete(gatherTask), [42]);
  assert.equal(cancelResult, false);
  assert.equal(gatherTask.cancelled(), false);
  loop.close();
});

Deno.test("gather(): the order of events matches CPython", async () => {
  // CPython order (Python 3.13, gather of two tasks doing 1 and 2 sleep(0), call_soon chain):
  // cb0, child1 done, cb1, child2 done, cb2, cb3, gathered [1, 2]
  const log = await runVirtual(function* () {
    const log: string[] = [];
    const child = (n: number) =>
      function* () {
        for (let i = 0; i < n; i++) yield* asyncio.sleep(0);
        log.push(`child${n} done`);
        return n;
      };
    const t1 = asyncio.createTask(child(1));
    const t2 = asyncio.createTask(child(2));
    chain(asyncio.getRunningLoop(), log, 6);
    const r = yield* asyncio.gather([t1, t2]);
    log.push(`gathered ${JSON.stringify(r)}`);
    return log;
  });
  assert.deepEqual(log.slice(0, 7), [
    "cb0",
    "child1 done",
    "cb1",
    "child2 done",
    "cb2",
    "cb3",
    "gathered [1,2]",
  ]);
});

Deno.test("gather(): a typed tuple of results", async () => {
  const [n, s, b, v] = await runVirtual(function* () {
    const loop = asyncio.getRunningLoop();
    const fut = loop.createFuture<boolean>();
    fut.setResult(true);
    return yield* asyncio.gather([
      (function* () {
        yield* asyncio.sleep(1);
        return 1;
      })(),
      async () => "two",
      fut,
      asyncio.sleep(1),
    ]);
  });
  // Compile-time checks: each element has its own type.
  const num: number = n;
  const str: string = s;
  const bool: boolean = b;
  const nothing: void = v;
  assert.deepEqual([num, str, bool, nothing], [1, "two", true, undefined]);
});

Deno.test("gather(returnExceptions): each element is its result or an Error", async () => {
  const results = await runVirtual(function* () {
    return yield* asyncio.gather([
      async () => 1,
      async () => {
        throw new RangeError("boom");
      },
    ], { returnExceptions: true });
  });
  const first: number | Error = results[0];
  const second: number | Error = results[1];
  assert.equal(first, 1);
  assert.ok(second instanceof RangeError);
});

Deno.test("gather(): an awaitable listed twice is one child", async () => {
  // CPython: test_tasks.py CoroutineGatherTests test_duplicate_coroutines
  await runVirtual(function* () {
    let runs = 0;
    function* coro(s: string) {
      runs++;
      yield* asyncio.sleep(0);
      return s;
    }
    const c = coro("abc");
    assert.deepEqual(yield* asyncio.gather([c, c, coro("def"), c]), ["abc", "abc", "def", "abc"]);
    assert.equal(runs, 2);
    const loop = asyncio.getRunningLoop();
    const fut = loop.createFuture<number>();
    loop.callSoon(() => fut.setResult(5));
    assert.deepEqual(yield* asyncio.gather([fut, fut]), [5, 5]);
    const done = loop.createFuture<number>();
    done.setResult(6);
    assert.deepEqual(yield* asyncio.gather([done, fut, done]), [6, 5, 6]);
    const fn = function* () {
      runs++;
      return 7;
    };
    assert.deepEqual(yield* asyncio.gather([fn, fn]), [7, 7]);
    assert.equal(runs, 3, "a function listed twice runs once");
  });
});

Deno.test("gather(): many duplicates of done futures", async () => {
  await runVirtual(function* () {
    const loop = asyncio.getRunningLoop();
    const futures = Array.from({ length: 20 }, (_, i) => {
      const f = loop.createFuture<number>();
      f.setResult(i);
      return f;
    });
    const aws = [...futures, ...futures, ...futures];
    const g = asyncio.gather(aws);
    assert.ok(g.done(), "a gather of done futures is done at once");
    assert.deepEqual(yield* g, aws.map((f) => f.result()));
  });
});

Deno.test("gather([]): resolves at once to []", async () => {
  // CPython: test_tasks.py test_constructor_empty_sequence_use_running_loop
  await runVirtual(function* () {
    const g = asyncio.gather([]);
    assert.ok(g instanceof asyncio.Future);
    assert.equal(g.getLoop(), asyncio.getRunningLoop());
    assert.ok(g.done());
    assert.deepEqual(g.result(), []);
    assert.deepEqual(yield* g, []);
    assert.equal(g.cancel(), false);
  });
});

Deno.test("gather(): the loop of the first future, else the current loop", async () => {
  // CPython: test_tasks.py test_constructor_homogenous_futures, test_constructor_use_running_loop
  const { loop: other } = virtualLoop();
  const children = [0, 1, 2].map(() => other.createFuture<number>());
  const fut = asyncio.gather(children);
  assert.equal(fut.getLoop(), other);
  await drain(other);
  assert.equal(fut.done(), false);
  fut.cancel();
  await drain(other);
  await runVirtual(function* () {
    function* coro() {
      return "abc";
    }
    const g = asyncio.gather([coro(), coro()]);
    assert.equal(g.getLoop(), asyncio.getRunningLoop());
    assert.deepEqual(yield* g, ["abc", "abc"]);
  });
  other.close();
});

Deno.test("gather(): the exception of the first failing child, not of the first listed", async () => {
  // CPython: test_tasks.py CoroutineGatherTests test_exception_marking
  const { loop, reports } = virtualLoop();
  const a = loop.createFuture<void>();
  const b = loop.createFuture<void>();
  function* inner(f: asyncio.Future<void>, name: string) {
    yield* f;
    throw new Error(name);
  }
  const f = loop.createTask(function* () {
    yield* asyncio.gather([inner(a, "a"), inner(b, "b")]);
  });
  const running = loop.runUntilComplete(f).catch(() => {});
  await drain(loop);
  b.setResult();
  await drain(loop);
  a.setResult();
  await running;
  await drain(loop);
  assert.equal((f.exception() as Error).message, "b");
  loop.close();
  assertEmpty(reports, "a's later failure counts as retrieved");
});

Deno.test("gather(): promises are followed", async () => {
  const results = await runVirtual(function* () {
    return yield* asyncio.gather([Promise.resolve(1), Promise.resolve("x")]);
  });
  assert.deepEqual(results, [1, "x"]);
});

Deno.test("gather(): bad arguments throw TypeError naming the argument", async () => {
  // CPython: test_tasks.py CoroutineGatherTests test_issue46672
  await runVirtual(function* () {
    assert.throws(() => asyncio.gather(5 as unknown as []), {
      name: "TypeError",
      message: "gather(): 'aws' must be an array of awaitables, got 5",
    });
    const fut = asyncio.getRunningLoop().createFuture<number>();
    assert.throws(() => asyncio.gather(fut as unknown as []), {
      name: "TypeError",
      message: /^gather\(\): 'aws' must be an array of awaitables, got /,
    });
    assert.throws(() => asyncio.gather([fut, {} as asyncio.Future<number>]), {
      name: "TypeError",
      message:
        "gather(): 'aws[1]' must be a Future, a Task, a generator, a function or a promise, got an object",
    });
    assert.throws(() => asyncio.gather([fut], { returnExceptions: 1 as unknown as boolean }), {
      name: "TypeError",
      message: "gather(): 'returnExceptions' must be a boolean, got 1",
    });
    assert.throws(() => asyncio.gather([fut], 1 as unknown as asyncio.GatherOptions), {
      name: "TypeError",
      message: "gather(): 'options' must be an object, got 1",
    });
    fut.setResult(1);
    yield* asyncio.sleep(0);
  });
});

Deno.test("gather(): any iterable of awaitables", async () => {
  await runVirtual(function* () {
    const loop = asyncio.getRunningLoop();
    const futures = new Set([1, 2, 3].map((n) => {
      const f = loop.createFuture<number>();
      loop.callSoon(() => f.setResult(n));
      return f;
    }));
    const results = yield* asyncio.gather(futures as unknown as asyncio.Future<number>[]);
    assert.deepEqual(results, [1, 2, 3]);
  });
});

Deno.test("gather(): futures of two loops are refused", () => {
  // CPython: test_tasks.py FutureGatherTests test_constructor_heterogenous_futures (ValueError there)
  const one = virtualLoop().loop;
  const other = virtualLoop().loop;
  const f1 = one.createFuture();
  const f2 = other.createFuture();
  assert.throws(() => asyncio.gather([f1, f2]), {
    name: "Error",
    message: /^gather\(\): 'aws\[1\]' belongs to another event loop/,
  });
  f1.cancel();
  f2.cancel();
  one.close();
  other.close();
});

Deno.test("gather(): a child failing with `undefined` fails the gather (it cannot read as success)", async () => {
  // JavaScript can throw `undefined`, which exception() would return for a success: the core
  // turns such a failure into an Error. Before, gather() counted the child as a success and hung.
  await runVirtual(function* () {
    const g = asyncio.gather([() => Promise.reject(), asyncio.sleep(10)]);
    try {
      yield* asyncio.waitFor(g, 1_000);
      assert.fail("not reached");
    } catch (error) {
      assert.ok(error instanceof Error);
      assert.equal(error instanceof asyncio.TimeoutError, false, "the gather did not hang");
    }
    const settled = yield* asyncio.gather([function* () {
      // deno-lint-ignore no-throw-literal
      throw undefined;
    }], { returnExceptions: true });
    assert.ok(settled[0] instanceof Error);
    assert.equal(asyncio.getRunningLoop().time(), 0);
  });
});

Deno.test("gather() cancelled while its last child swallowed the cancel: Python's _cancel_message is kept", async () => {
  // python3.13: g.cancel("outer"); t.cancel("second"); t catches and returns 5 ->
  // `await g` raises CancelledError('second'), t.cancelled() is False.
  await runVirtual(function* () {
    const t = asyncio.createTask(function* () {
      try {
        yield* asyncio.sleep(10);
      } catch {
        // swallowed
      }
      return 5;
    });
    yield* asyncio.sleep(0);
    const g = asyncio.gather([t]);
    yield* asyncio.sleep(0);
    g.cancel("outer");
    t.cancel("second");
    try {
      yield* g;
      assert.fail("the gather must end in cancellation");
    } catch (error) {
      assert.ok(error instanceof asyncio.CancelledError);
      assert.equal(error.message, "second");
    }
    assert.equal(t.cancelled(), false);
    assert.equal(t.result(), 5);
  });
});

Deno.test("gather(coroutine) instead of gather([coroutine]) is refused, not iterated", async () => {
  // Iterating a generator would run it outside any task (or forever).
  function* forever() {
    while (true) yield* asyncio.sleep(0);
  }
  assert.throws(
    () => asyncio.gather(forever() as never),
    { name: "TypeError", message: /^gather\(\): 'aws' must be an array .*pass \[coroutine\]$/ },
  );
  // Other iterables are still taken.
  const results = await runVirtual(() => asyncio.gather(new Set([asyncio.sleep(1).then(() => 7)])));
  assert.deepEqual(results, [7]);
});
