import assert from "node:assert/strict";
import * as asyncio from "../mod.ts";
import { assertEmpty, drain, runVirtual, virtualLoop } from "./_helpers.ts";

Deno.test("ensureFuture(): a Future or Task is returned as it is", async () => {
  // CPython: test_tasks.py test_ensure_future_future, test_ensure_future_task
  const { loop } = virtualLoop();
  const fOrig = loop.createFuture<string>();
  fOrig.setResult("ko");
  assert.equal(asyncio.ensureFuture(fOrig), fOrig);
  const tOrig = loop.createTask(function* () {
    return "ok";
  });
  assert.equal(asyncio.ensureFuture(tOrig), tOrig);
  assert.equal(await loop.runUntilComplete(tOrig), "ok");
  await runVirtual(function* () {
    assert.equal(asyncio.ensureFuture(fOrig), fOrig, "even from inside another loop's run()");
    yield* asyncio.sleep(0);
  });
  loop.close();
});

Deno.test("ensureFuture(): a generator object becomes a task of the running loop", async () => {
  // CPython: test_tasks.py test_ensure_future_coroutine
  await runVirtual(function* () {
    function* notmuch() {
      yield* asyncio.sleep(0);
      return "ok";
    }
    const t = asyncio.ensureFuture(notmuch());
    assert.ok(t instanceof asyncio.Task);
    assert.equal(t.getLoop(), asyncio.getRunningLoop());
    assert.equal(t.done(), false);
    assert.equal(yield* t, "ok");
  });
});

Deno.test("ensureFuture(): generator functions and async functions become tasks", async () => {
  await runVirtual(function* () {
    const fromGeneratorFunction = asyncio.ensureFuture(function* () {
      return 1;
    });
    const fromAsync = asyncio.ensureFuture(async (signal: AbortSignal) => {
      assert.ok(signal instanceof AbortSignal);
      await asyncio.sleep(1, { signal });
      return 2;
    });
    assert.ok(fromGeneratorFunction instanceof asyncio.Task);
    assert.ok(fromAsync instanceof asyncio.Task);
    assert.deepEqual(yield* asyncio.gather([fromGeneratorFunction, fromAsync]), [1, 2]);
  });
});

Deno.test("ensureFuture(): a promise becomes a Future that follows it", async () => {
  await runVirtual(function* () {
    const fut = asyncio.ensureFuture(Promise.resolve("resolved"));
    assert.ok(fut instanceof asyncio.Future);
    assert.equal(fut instanceof asyncio.Task, false);
    assert.equal(fut.getLoop(), asyncio.getRunningLoop());
    assert.equal(fut.done(), false, "a promise settles later");
    assert.equal(yield* fut, "resolved");
    const boom = new RangeError("rejected");
    const failed = asyncio.ensureFuture(Promise.reject(boom));
    try {
      yield* failed;
      assert.fail("not reached");
    } catch (error) {
      assert.equal(error, boom);
    }
    assert.equal(failed.exception(), boom);
  });
});

Deno.test("ensureFuture(): a thenable that is not a Promise", async () => {
  // CPython: test_tasks.py test_ensure_future_awaitable (an object with __await__)
  await runVirtual(function* () {
    const thenable: PromiseLike<string> = {
      then<R1, R2>(
        onfulfilled?: ((value: string) => R1 | PromiseLike<R1>) | null,
        _onrejected?: ((reason: unknown) => R2 | PromiseLike<R2>) | null,
      ): PromiseLike<R1 | R2> {
        queueMicrotask(() => onfulfilled?.("ok"));
        return this as unknown as PromiseLike<R1 | R2>;
      },
    };
    assert.equal(yield* asyncio.ensureFuture(thenable), "ok");
  });
});

Deno.test("ensureFuture(): cancelling the Future does not stop the promise", async () => {
  await runVirtual(function* () {
    const contexts: asyncio.ExceptionContext[] = [];
    asyncio.getRunningLoop().setExceptionHandler((_loop, context) => contexts.push(context));
    let resolve: (value: string) => void = () => {};
    const promise = new Promise<string>((r) => resolve = r);
    const fut = asyncio.ensureFuture(promise);
    assert.equal(fut.cancel(), true);
    assert.ok(fut.cancelled());
    resolve("still resolves");
    assert.equal(yield* asyncio.ensureFuture(promise), "still resolves");
    assert.ok(fut.cancelled(), "the late result is ignored");
    assertEmpty(contexts);
  });
});

Deno.test("ensureFuture(): a promise failing after its Future was cancelled is reported", async () => {
  await runVirtual(function* () {
    const loop = asyncio.getRunningLoop();
    const contexts: asyncio.ExceptionContext[] = [];
    loop.setExceptionHandler((_loop, context) => contexts.push(context));
    const rejecters: Array<(reason: unknown) => void> = [];
    const follow = () => {
      const fut = asyncio.ensureFuture(new Promise((_, reject) => rejecters.push(reject)));
      fut.cancel();
      return fut;
    };
    const reported = follow();
    follow();
    follow();
    const boom = new Error("lost failure");
    rejecters[0](boom);
    rejecters[1](new asyncio.CancelledError("an abort is no news"));
    rejecters[2](new DOMException("aborted", "AbortError"));
    yield* asyncio.sleep(1);
    assert.equal(contexts.length, 1);
    assert.equal(
      contexts[0].message,
      "A promise failed after the Future that followed it was cancelled",
    );
    assert.equal(contexts[0].exception, boom);
    assert.equal(contexts[0].future, reported);
  });
});

Deno.test("ensureFuture(): a rejected promise nobody retrieved is reported when run() ends", async () => {
  const contexts: asyncio.ExceptionContext[] = [];
  const boom = new Error("nobody looked");
  await runVirtual(function* () {
    asyncio.getRunningLoop().setExceptionHandler((_loop, context) => contexts.push(context));
    asyncio.ensureFuture(Promise.reject(boom));
    yield* asyncio.sleep(1);
  });
  assert.equal(contexts.length, 1);
  assert.equal(contexts[0].message, "Future exception was never retrieved");
  assert.equal(contexts[0].exception, boom);
});

Deno.test("ensureFuture(): anything else throws TypeError naming the argument", () => {
  // CPython: test_tasks.py test_ensure_future_neither
  assert.throws(() => asyncio.ensureFuture("ok" as unknown as asyncio.Future<string>), {
    name: "TypeError",
    message:
      `ensureFuture(): 'aw' must be a Future, a Task, a generator, a function or a promise, got "ok"`,
  });
  for (const value of [5, null, undefined, {}, [], Symbol("s")]) {
    assert.throws(
      () => asyncio.ensureFuture(value as unknown as asyncio.Future<unknown>),
      { name: "TypeError", message: /^ensureFuture\(\): 'aw' must be / },
    );
  }
});

Deno.test("ensureFuture() outside run(): the default loop", async () => {
  const fut = asyncio.ensureFuture(Promise.resolve(1));
  assert.equal(fut.getLoop(), asyncio.getEventLoop());
  assert.equal(await fut, 1);
  await drain(fut.getLoop());
});

// The race CI once lost: the failed future is garbage-collected during the
// run, and the loop closes before the host runs its finalizer. It must be
// reported at close all the same, and only once. Needs `gc()` (the test task
// passes --expose-gc); without it the race cannot be forced.
const forceGc = (globalThis as { gc?: () => void }).gc;
Deno.test({
  name: "a failed future collected before its finalizer ran is still reported when its loop closes",
  ignore: forceGc === undefined,
  fn: async () => {
    const contexts: asyncio.ExceptionContext[] = [];
    const boom = new Error("collected early");
    const loop = new asyncio.EventLoop({ clock: new asyncio.VirtualClock() });
    loop.setExceptionHandler((_loop, context) => contexts.push(context));
    (() => loop.createFuture().setException(boom))();
    // A WeakRef made in this job keeps its target alive until the job ends.
    await new Promise((resolve) => setTimeout(resolve, 0));
    forceGc!();
    loop.close(); // in the same job as gc(): no finalizer has run yet
    assert.equal(contexts.length, 1);
    assert.equal(contexts[0].message, "Future exception was never retrieved");
    assert.equal(contexts[0].exception, boom);
    await new Promise((resolve) => setTimeout(resolve, 0)); // the finalizer's turn
    assert.equal(contexts.length, 1, "reported once");
  },
});
