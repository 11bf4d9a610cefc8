import assert from "node:assert/strict";
import * as asyncio from "../mod.ts";
import { drain, iterationCounter, ran, runVirtual, virtualLoop } from "./_helpers.ts";

Deno.test("shield(): the outer future gets the inner result", async () => {
  // CPython: test_tasks.py test_shield_result
  const { loop } = virtualLoop();
  const inner = new asyncio.Future<number>({ loop });
  const outer = asyncio.shield(inner);
  inner.setResult(42);
  assert.equal(await outer, 42);
  loop.close();
});

Deno.test("shield(): the outer future gets the inner exception", async () => {
  // CPython: test_tasks.py test_shield_exception
  const { loop, reports } = virtualLoop();
  const inner = new asyncio.Future<number>({ loop });
  const outer = asyncio.shield(inner);
  await drain(loop);
  const error = new Error("expected");
  inner.setException(error);
  await drain(loop);
  assert.equal(outer.exception(), error);
  loop.close();
  assert.equal(reports.length, 0, "retrieved through the outer future: nothing to report");
});

Deno.test("shield(): cancelling the inner future cancels the outer one, without its message", async () => {
  // CPython: test_tasks.py test_shield_cancel_inner. Python's shield calls
  // outer.cancel() with no message (fuzzer regression shield-cancel-message).
  const { loop } = virtualLoop();
  const inner = new asyncio.Future<number>({ loop });
  const outer = asyncio.shield(inner);
  await drain(loop);
  inner.cancel("stop");
  await drain(loop);
  assert.ok(outer.cancelled());
  assert.throws(() => outer.result(), { name: "CancelledError", message: "" });
  loop.close();
});

Deno.test("shield(): cancelling the outer future leaves the inner one and detaches from it", async () => {
  // CPython: test_tasks.py test_shield_cancel_outer
  const { loop, reports } = virtualLoop({ debug: true, slowCallbackMs: 0 });
  const inner = new asyncio.Future<number>({ loop });
  const outer = asyncio.shield(inner);
  await drain(loop);
  assert.equal(outer.cancel(), true);
  await drain(loop);
  assert.ok(outer.cancelled());
  assert.equal(inner.done(), false);
  reports.length = 0;
  inner.setResult(1);
  await drain(loop);
  assert.deepEqual(ran(reports).filter((n) => n === "innerDone()"), [], "callback removed");
  assert.equal(outer.cancel(), false);
  loop.close();
});

Deno.test("shield(): an awaitable already done is returned as it is", async () => {
  // CPython: test_tasks.py test_shield_shortcut
  const { loop } = virtualLoop();
  const fut = new asyncio.Future<number>({ loop });
  fut.setResult(42);
  assert.equal(asyncio.shield(fut), fut);
  assert.equal(await asyncio.shield(fut), 42);
  loop.close();
});

Deno.test("shield(): cancelling the waiting task does not cancel the shielded work", async () => {
  // CPython: test_tasks.py test_shield_effect
  await runVirtual(function* () {
    let proof = 0;
    const waiter = new asyncio.Future<void>();
    const inner = function* () {
      yield* waiter;
      proof += 1;
    };
    const outer = asyncio.createTask(function* () {
      yield* asyncio.shield(inner);
      proof += 100;
    });
    yield* asyncio.sleep(0);
    outer.cancel();
    yield* asyncio.wait([outer]);
    assert.ok(outer.cancelled());
    waiter.setResult();
    yield* asyncio.sleep(0);
    yield* asyncio.sleep(0);
    assert.equal(proof, 1);
  });
});

Deno.test("shield(): the same, with async functions and their signals", async () => {
  await runVirtual(async () => {
    const log: string[] = [];
    const work = asyncio.createTask(async (signal: AbortSignal) => {
      await asyncio.sleep(100, { signal });
      log.push("work done");
      return "result";
    });
    const caller = asyncio.createTask(async (signal: AbortSignal) => {
      const shielded = asyncio.shield(work);
      signal.addEventListener("abort", () => shielded.cancel(), { once: true });
      try {
        return await shielded;
      } catch (error) {
        log.push(`caller: ${(error as Error).name}`);
        throw error;
      }
    });
    await asyncio.sleep(10);
    caller.cancel();
    await assert.rejects(caller, asyncio.CancelledError);
    assert.equal(await work, "result");
    assert.deepEqual(log, ["caller: CancelledError", "work done"]);
  });
});

Deno.test("shield(): a shielded gather is not cancelled", async () => {
  // CPython: test_tasks.py test_shield_gather
  const { loop } = virtualLoop();
  const child1 = new asyncio.Future<number>({ loop });
  const child2 = new asyncio.Future<number>({ loop });
  const parent = asyncio.gather([child1, child2]);
  const outer = asyncio.shield(parent);
  await drain(loop);
  outer.cancel();
  await drain(loop);
  assert.ok(outer.cancelled());
  child1.setResult(1);
  child2.setResult(2);
  await drain(loop);
  assert.deepEqual(parent.result(), [1, 2]);
  loop.close();
});

Deno.test("shield(): cancelling a gather of shields cancels the shields, not the children", async () => {
  // CPython: test_tasks.py test_gather_shield
  const { loop } = virtualLoop();
  const child1 = new asyncio.Future<number>({ loop });
  const child2 = new asyncio.Future<number>({ loop });
  const inner1 = asyncio.shield(child1);
  const inner2 = asyncio.shield(child2);
  const parent = asyncio.gather([inner1, inner2]);
  await drain(loop);
  parent.cancel();
  await drain(loop);
  assert.ok(parent.exception() instanceof asyncio.CancelledError);
  assert.ok(inner1.cancelled() && inner2.cancelled());
  assert.ok(!child1.done() && !child2.done());
  child1.setResult(1);
  child2.setResult(2);
  await drain(loop);
  loop.close();
});

Deno.test("shield(): a generator or function becomes a task on the running loop", async () => {
  // CPython: test_tasks.py test_shield_coroutine_use_running_loop
  await runVirtual(function* () {
    const outer = asyncio.shield(function* () {
      yield* asyncio.sleep(0);
      return 42;
    });
    assert.equal(outer.getLoop(), asyncio.getRunningLoop());
    assert.equal(yield* outer, 42);
    const fromGenerator = asyncio.shield((function* () {
      yield* asyncio.sleep(1);
      return "g";
    })());
    assert.equal(yield* fromGenerator, "g");
    assert.equal(yield* asyncio.shield(Promise.resolve("p")), "p");
  });
});

Deno.test("shield(): a failure of the inner task after the shield was cancelled is reported", async () => {
  // SPEC: unlike CPython, an exception that arrives after the outer future was
  // cancelled is reported to the loop's exception handler, not dropped.
  const { loop, reports } = virtualLoop();
  const inner = new asyncio.Future<number>({ loop });
  const outer = asyncio.shield(inner);
  outer.cancel();
  const error = new Error("lost?");
  inner.setException(error);
  await drain(loop);
  loop.close();
  assert.equal(reports.length, 1);
  assert.equal(reports[0].exception, error);
  assert.equal(reports[0].future, inner);
  assert.match(reports[0].message, /never retrieved/);
});

Deno.test("shield(): even when the failure came just before the cancellation was processed", async () => {
  // CPython drops it in this window: its callback sees the outer cancelled and
  // marks the inner exception retrieved.
  const { loop, reports } = virtualLoop();
  const inner = new asyncio.Future<number>({ loop });
  const outer = asyncio.shield(inner);
  const error = new Error("in the window");
  inner.setException(error); // shield's callback is now scheduled, not run
  outer.cancel();
  await drain(loop);
  assert.ok(outer.cancelled());
  loop.close();
  assert.equal(reports.length, 1);
  assert.equal(reports[0].exception, error);
});

Deno.test("shield(): a failure the program retrieves itself is not reported", async () => {
  await runVirtual(function* () {
    const reports: asyncio.ExceptionContext[] = [];
    asyncio.getRunningLoop().setExceptionHandler((_loop, context) => reports.push(context));
    const job = asyncio.createTask(function* () {
      yield* asyncio.sleep(100);
      throw new Error("job failed");
    });
    try {
      yield* asyncio.waitFor(asyncio.shield(job), 10);
    } catch (error) {
      assert.ok(error instanceof asyncio.TimeoutError);
    }
    try {
      yield* job;
    } catch (error) {
      assert.equal((error as Error).message, "job failed");
    }
    yield* asyncio.sleep(0);
    assert.equal(reports.length, 0);
  });
});

Deno.test("shield(): a task made by shield() that fails after the waiter left is reported at run() end", async () => {
  const reports: asyncio.ExceptionContext[] = [];
  await runVirtual(function* () {
    asyncio.getRunningLoop().setExceptionHandler((_loop, context) => reports.push(context));
    const waiter = asyncio.createTask(function* () {
      yield* asyncio.shield(function* () {
        yield* asyncio.sleep(50);
        throw new Error("nobody waits for me");
      });
    });
    yield* asyncio.sleep(10);
    waiter.cancel();
    yield* asyncio.sleep(100);
  });
  assert.equal(reports.length, 1);
  assert.equal((reports[0].exception as Error).message, "nobody waits for me");
  assert.match(reports[0].message, /Task exception was never retrieved/);
});

Deno.test("shield(): anything not awaitable throws TypeError", () => {
  assert.throws(() => asyncio.shield(42 as never), {
    name: "TypeError",
    message:
      /^shield\(\): 'aw' must be a Future, a Task, a generator, a function or a promise, got 42$/,
  });
});

Deno.test("shield(): the caller resumes in the same loop iteration as in CPython", async () => {
  // Compared with CPython 3.13: shield(t) on a task doing sleep(0) takes 4
  // iterations, counted by a call_soon chain.
  await runVirtual(function* () {
    const ticks = iterationCounter();
    yield* asyncio.sleep(0);
    const t = asyncio.createTask(() => asyncio.sleep(0));
    const t0 = ticks();
    yield* asyncio.shield(t);
    assert.equal(ticks() - t0, 4);
  });
});
