import assert from "node:assert/strict";
import * as asyncio from "../mod.ts";
import {
  assertIdentical,
  captureReports,
  drain,
  iterationCounter,
  ran,
  runVirtual,
  SpyClock,
  virtualLoop,
} from "./_helpers.ts";

/** A task that sleeps `ms` then returns `value`. */
function after<T>(ms: number, value: T): asyncio.Task<T> {
  return asyncio.createTask(function* () {
    yield* asyncio.sleep(ms);
    return value;
  });
}

/** A task that sleeps `ms` then throws `error`. */
function failAfter(ms: number, error: Error): asyncio.Task<string> {
  return asyncio.createTask(function* (): asyncio.Coroutine<string> {
    yield* asyncio.sleep(ms);
    throw error;
  });
}

Deno.test("wait(): ALL_COMPLETED waits for every future; again with all done it returns without time passing", async () => {
  // CPython: test_tasks.py test_wait
  await runVirtual(function* () {
    const loop = asyncio.getRunningLoop();
    const a = after(100, "a");
    const b = after(150, "b");
    const first = yield* asyncio.wait([b, a]);
    assertIdentical(first.done, new Set([a, b]));
    assert.equal(first.pending.size, 0);
    assert.equal(loop.time(), 150);
    const again = asyncio.wait([b, a]);
    // As in CPython, the done callbacks run in the next iteration: not done yet.
    assert.equal(again.done(), false);
    assertIdentical((yield* again).done, new Set([a, b]));
    assert.equal(loop.time(), 150);
  });
});

Deno.test("wait(): the constants are the strings Python uses, ALL_COMPLETED is the default", () => {
  assert.equal(asyncio.FIRST_COMPLETED, "FIRST_COMPLETED");
  assert.equal(asyncio.FIRST_EXCEPTION, "FIRST_EXCEPTION");
  assert.equal(asyncio.ALL_COMPLETED, "ALL_COMPLETED");
});

Deno.test("wait(): a future listed twice counts once", async () => {
  // CPython: test_tasks.py test_wait_duplicate_coroutines
  await runVirtual(function* () {
    const c = after(0, "test");
    const { done, pending } = yield* asyncio.wait([c, c, after(0, "spam")]);
    assert.equal(pending.size, 0);
    assert.deepEqual(new Set([...done].map((f) => f.result())), new Set(["test", "spam"]));
  });
});

Deno.test("wait(): FIRST_COMPLETED returns when one is done, leaving the others running", async () => {
  // CPython: test_tasks.py test_wait_first_completed
  await runVirtual(function* () {
    const loop = asyncio.getRunningLoop();
    const a = after(10_000, "a");
    const b = after(100, "b");
    const { done, pending } = yield* asyncio.wait([b, a], {
      returnWhen: asyncio.FIRST_COMPLETED,
    });
    assertIdentical(done, new Set([b]));
    assertIdentical(pending, new Set([a]));
    assert.equal(a.done(), false, "wait() cancels nothing");
    assert.equal(b.result(), "b");
    assert.equal(loop.time(), 100);
    a.cancel();
  });
});

Deno.test("wait(): futures done by the time the waiter resumes count as done", async () => {
  // CPython: test_tasks.py test_wait_really_done
  await runVirtual(function* () {
    const a = asyncio.createTask(function* () {
      yield* asyncio.sleep(0);
    });
    const b = asyncio.createTask(function* () {
      yield* asyncio.sleep(0);
      yield* asyncio.sleep(0);
    });
    const { done, pending } = yield* asyncio.wait([b, a], {
      returnWhen: asyncio.FIRST_COMPLETED,
    });
    assertIdentical(done, new Set([a, b]));
    assert.equal(pending.size, 0);
  });
});

Deno.test("wait(): FIRST_EXCEPTION with a task that fails at once", async () => {
  // CPython: test_tasks.py test_wait_first_exception
  await runVirtual(function* () {
    const loop = asyncio.getRunningLoop();
    const a = after(10_000, "a");
    const b = asyncio.createTask(function* () {
      throw new RangeError("err");
    });
    const { done, pending } = yield* asyncio.wait([b, a], {
      returnWhen: asyncio.FIRST_EXCEPTION,
    });
    assertIdentical(done, new Set([b]));
    assertIdentical(pending, new Set([a]));
    assert.equal(loop.time(), 0);
    a.cancel();
  });
});

Deno.test("wait(): FIRST_EXCEPTION with a failure during the wait", async () => {
  // CPython: test_tasks.py test_wait_first_exception_in_wait
  await runVirtual(async () => {
    const loop = asyncio.getRunningLoop();
    const a = after(10_000, "a");
    const b = failAfter(10, new RangeError("err"));
    const { done, pending } = await asyncio.wait([b, a], {
      returnWhen: asyncio.FIRST_EXCEPTION,
    });
    assertIdentical(done, new Set([b]));
    assertIdentical(pending, new Set([a]));
    assert.equal(loop.time(), 10);
    a.cancel();
  });
});

Deno.test("wait(): FIRST_EXCEPTION ignores successes and cancellations, then returns when all are done", async () => {
  await runVirtual(function* () {
    const loop = asyncio.getRunningLoop();
    const ok = after(10, "ok");
    const cancelled = after(20, "never");
    loop.callLater(5, () => cancelled.cancel());
    const late = after(30, "late");
    const { done, pending } = yield* asyncio.wait([ok, cancelled, late], {
      returnWhen: asyncio.FIRST_EXCEPTION,
    });
    assert.equal(loop.time(), 30);
    assertIdentical(done, new Set([ok, cancelled, late]));
    assert.equal(pending.size, 0);
  });
});

Deno.test("wait(): FIRST_EXCEPTION with a failure already there returns two iterations later, and reads it", async () => {
  const { loop, reports } = virtualLoop();
  const failed = new asyncio.Future<number>({ loop });
  failed.setException(new Error("already failed"));
  const running = new asyncio.Future<number>({ loop });
  const w = asyncio.wait([running, failed], { returnWhen: asyncio.FIRST_EXCEPTION });
  // CPython: the done callback runs in the next iteration, the waiter resumes in the one after.
  assert.equal(w.done(), false);
  await loop.runUntilComplete(w);
  assertIdentical(w.result().done, new Set([failed]));
  // Python's wait() calls exception() on it, which marks it retrieved.
  loop.close();
  assert.equal(reports.length, 0);
});

Deno.test("wait(): FIRST_COMPLETED counts a cancelled future as completed", async () => {
  await runVirtual(function* () {
    const a = after(1_000, "a");
    const b = after(1_000, "b");
    asyncio.getRunningLoop().callLater(10, () => b.cancel());
    const { done } = yield* asyncio.wait([a, b], { returnWhen: asyncio.FIRST_COMPLETED });
    assertIdentical(done, new Set([b]));
    a.cancel();
  });
});

Deno.test("wait(): ALL_COMPLETED with a failure: both in done, the failure readable", async () => {
  // CPython: test_tasks.py test_wait_with_exception
  await runVirtual(function* () {
    const a = after(100, "a");
    const b = failAfter(150, new Error("really"));
    for (let round = 0; round < 2; round++) {
      const { done, pending } = yield* asyncio.wait([b, a]);
      assert.equal(done.size, 2);
      assert.equal(pending.size, 0);
      const errors = [...done].filter((f) => f.exception() !== undefined);
      assert.equal(errors.length, 1);
      assert.equal(asyncio.getRunningLoop().time(), 150);
    }
  });
});

Deno.test("wait(): a timeout returns what is done so far and cancels nothing", async () => {
  // CPython: test_tasks.py test_wait_with_timeout
  await runVirtual(function* () {
    const loop = asyncio.getRunningLoop();
    const a = after(100, "a");
    const b = after(150, "b");
    const { done, pending } = yield* asyncio.wait([b, a], { timeout: 110 });
    assertIdentical(done, new Set([a]));
    assertIdentical(pending, new Set([b]));
    assert.equal(loop.time(), 110);
    assert.equal(b.cancelled(), false);
    assert.equal(yield* b, "b");
  });
});

Deno.test("wait(): a future finishing with the timeout in the same tick is done", async () => {
  // CPython: test_tasks.py test_wait_concurrent_complete
  await runVirtual(function* () {
    const loop = asyncio.getRunningLoop();
    const a = after(100, "a");
    const b = after(150, "b");
    // Let a and b arm their timers before the wait arms its own, as in CPython
    // where they run before the wait's task: a's timer then fires first.
    yield* asyncio.sleep(0);
    const { done, pending } = yield* asyncio.wait([b, a], { timeout: 100 });
    assertIdentical(done, new Set([a]));
    assertIdentical(pending, new Set([b]));
    assert.equal(loop.time(), 100);
    b.cancel();
  });
});

Deno.test("wait(): timeout 0 (or negative) returns at the next iteration; null waits", async () => {
  await runVirtual(function* () {
    const a = after(10, "a");
    for (const timeout of [0, -5]) {
      const { done, pending } = yield* asyncio.wait([a], { timeout });
      assert.equal(done.size, 0);
      assertIdentical(pending, new Set([a]));
    }
    const { done } = yield* asyncio.wait([a], { timeout: null });
    assertIdentical(done, new Set([a]));
  });
});

Deno.test("wait(): any iterable of futures (Set, array iterator)", async () => {
  // CPython: test_tasks.py test_wait_with_iterator_of_tasks
  await runVirtual(function* () {
    const a = after(100, "a");
    const b = after(150, "b");
    const one = yield* asyncio.wait([b, a].values());
    assertIdentical(one.done, new Set([a, b]));
    const two = yield* asyncio.wait(new Set([a, b]));
    assertIdentical(two.done, new Set([a, b]));
  });
});

Deno.test("wait(): bad arguments throw synchronously with a clear message", async (t) => {
  // CPython: test_tasks.py test_wait_errors, test_wait_invalid_args
  const { loop } = virtualLoop();
  const fut = new asyncio.Future<number>({ loop });
  await t.step("empty", () => {
    assert.throws(() => asyncio.wait([]), {
      name: "RangeError",
      message: "wait(): 'futures' must not be empty",
    });
    assert.throws(() => asyncio.wait(new Set<asyncio.Future<number>>()), RangeError);
  });
  await t.step("a single future, a generator, a promise or a non-iterable", () => {
    assert.throws(() => asyncio.wait(fut as never), {
      name: "TypeError",
      message:
        /^wait\(\): 'futures' must be an iterable of Futures and Tasks, got a Future; pass \[future\]$/,
    });
    const gen = (function* () {
      yield fut;
    })();
    assert.throws(() => asyncio.wait(gen), {
      name: "TypeError",
      message: /got a generator \(taken for a coroutine\); pass an array/,
    });
    assert.throws(() => asyncio.wait(Promise.resolve([fut]) as never), TypeError);
    assert.throws(() => asyncio.wait(42 as never), /got 42/);
    assert.throws(() => asyncio.wait(null as never), /got null/);
  });
  await t.step("elements that are not futures point to ensureFuture()", () => {
    const coro = (function* () {})();
    for (const bad of [coro, Promise.resolve(1), () => 1, 5]) {
      assert.throws(() => asyncio.wait([fut, bad as never]), {
        name: "TypeError",
        message:
          /^wait\(\): 'futures\[1\]' must be a Future or a Task, got .+; wrap it with ensureFuture\(\)/,
      });
    }
  });
  await t.step("returnWhen", () => {
    assert.throws(() => asyncio.wait([fut], { returnWhen: "FIRST" as never }), {
      name: "RangeError",
      message:
        `wait(): 'returnWhen' must be FIRST_COMPLETED, FIRST_EXCEPTION or ALL_COMPLETED, got "FIRST"`,
    });
    assert.throws(() => asyncio.wait([fut], { returnWhen: -1 as never }), {
      name: "TypeError",
      message: /got -1$/,
    });
  });
  await t.step("timeout and options", () => {
    assert.throws(() => asyncio.wait([fut], { timeout: "1" as never }), {
      name: "TypeError",
      message: `wait(): 'timeout' must be a number, got "1"`,
    });
    assert.throws(() => asyncio.wait([fut], { timeout: NaN }), RangeError);
    assert.throws(() => asyncio.wait([fut], 5 as never), /'options' must be an object/);
  });
  await t.step("nothing was registered on the futures", () => {
    assert.equal(fut.done(), false);
  });
  loop.close();
});

Deno.test("wait(): cancelling the waiting task stops the wait and leaves the futures alone", async () => {
  await runVirtual(function* () {
    const a = after(1_000, "a");
    const b = after(2_000, "b");
    let waitFuture!: asyncio.Future<asyncio.WaitResult<asyncio.Task<string>>>;
    const waiter = asyncio.createTask(function* () {
      waitFuture = asyncio.wait([a, b], { timeout: 5_000 });
      return yield* waitFuture;
    });
    yield* asyncio.sleep(10);
    waiter.cancel();
    yield* asyncio.wait([waiter]);
    assert.ok(waiter.cancelled());
    assert.ok(waitFuture.cancelled());
    assert.equal(a.done() || b.done(), false);
    assert.equal(yield* a, "a");
    assert.equal(yield* b, "b");
  });
});

Deno.test("wait(): a cancelled wait removes its callbacks from the futures (no leak)", async () => {
  const { loop, reports } = virtualLoop({ debug: true, slowCallbackMs: 0 });
  const long = new asyncio.Future<number>({ loop });
  // Many cancelled waits on one long-lived future leave nothing on it.
  for (let i = 0; i < 100; i++) asyncio.wait([long], { timeout: 1_000 }).cancel();
  const live = asyncio.wait([long]);
  await drain(loop);
  reports.length = 0;
  long.setResult(1);
  await drain(loop);
  assert.deepEqual(ran(reports).filter((n) => n === "onCompletion()"), ["onCompletion()"]);
  assert.ok(live.done());
  loop.close();
});

Deno.test("wait(): no callback or timer is left behind when the condition is met early", async () => {
  const clock = new SpyClock();
  await asyncio.run(function* () {
    const loop = asyncio.getRunningLoop();
    const a = after(10, "a");
    const b = after(1_000, "b");
    const { pending } = yield* asyncio.wait([a, b], {
      timeout: 60_000,
      returnWhen: asyncio.FIRST_COMPLETED,
    });
    assertIdentical(pending, new Set([b]));
    // Only b's sleep is armed: the wait's 60 s timer is gone.
    yield* asyncio.sleep(0);
    assert.equal(clock.armed, 1_000);
    yield* b;
    yield* asyncio.sleep(0);
    assert.equal(clock.armed, null);
    assert.equal(loop.time(), 1_000);
  }, { clock });
});

Deno.test("wait(): a completion after the wait was cancelled is not lost to anyone else", async () => {
  const { loop, reports } = virtualLoop();
  const f = new asyncio.Future<number>({ loop });
  const w = asyncio.wait([f]);
  assert.ok(w.cancel());
  assert.equal(w.cancelled(), true);
  f.setException(new Error("later"));
  await drain(loop);
  // The wait did not read it: it is still reported as never retrieved.
  loop.close();
  assert.equal(reports.length, 1);
  assert.match(String(reports[0].message), /never retrieved/);
});

Deno.test("wait(): works from an async function, and the result sets hold the given futures", async () => {
  await runVirtual(async () => {
    const loop = asyncio.getRunningLoop();
    const f = loop.createFuture<number>();
    loop.callLater(5, () => f.setResult(7));
    const { done } = await asyncio.wait([f]);
    assert.ok(done.has(f));
    assert.equal([...done][0].result(), 7);
  });
});

Deno.test("wait(): reports nothing in a normal run", async () => {
  await runVirtual(function* () {
    const reports = captureReports(asyncio.getRunningLoop());
    const a = after(5, 1);
    yield* asyncio.wait([a], { timeout: 1 });
    yield* asyncio.wait([a]);
    assert.equal(reports.length, 0);
  });
});

Deno.test("wait(): the caller resumes in the same loop iteration as in CPython", async () => {
  // Compared with CPython 3.13: wait([t]) on a task doing sleep(0) takes 4
  // iterations, counted by a call_soon chain.
  await runVirtual(function* () {
    const ticks = iterationCounter();
    yield* asyncio.sleep(0);
    const t = asyncio.createTask(() => asyncio.sleep(0));
    const t0 = ticks();
    yield* asyncio.wait([t]);
    assert.equal(ticks() - t0, 4);
  });
});
