import assert from "node:assert/strict";
import * as asyncio from "../mod.ts";
import { chain, drain, runVirtual } from "./_helpers.ts";

/** A virtual clock that records what the loop asks of it: `set <when>` and `clear`. */
class RecordingClock implements asyncio.Clock {
  readonly inner = new asyncio.VirtualClock();
  readonly calls: string[] = [];
  now(): number {
    return this.inner.now();
  }
  setTimer(when: number, callback: () => void): void {
    this.calls.push(`set ${when}`);
    this.inner.setTimer(when, callback);
  }
  clearTimer(): void {
    this.calls.push("clear");
    this.inner.clearTimer();
  }
}

function recordingLoop(): { loop: asyncio.EventLoop; clock: RecordingClock } {
  const clock = new RecordingClock();
  return { loop: new asyncio.EventLoop({ clock }), clock };
}

Deno.test("sleep(): resolves to undefined after the delay, in loop time", async () => {
  // CPython: test_tasks.py test_sleep
  const [result, time] = await runVirtual(function* () {
    const loop = asyncio.getRunningLoop();
    yield* asyncio.sleep(50);
    const result: void = yield* asyncio.sleep(50);
    return [result, loop.time()];
  });
  assert.equal(result, undefined);
  assert.equal(time, 100);
});

Deno.test("sleep(): concurrent sleeps end in deadline order, then in creation order", async () => {
  const log = await runVirtual(function* () {
    const loop = asyncio.getRunningLoop();
    const log: string[] = [];
    const sleeper = (name: string, ms: number) =>
      asyncio.createTask(function* () {
        yield* asyncio.sleep(ms);
        log.push(`${name}@${loop.time()}`);
      });
    yield* asyncio.gather([
      sleeper("c", 30),
      sleeper("a", 10),
      sleeper("b1", 20),
      sleeper("b2", 20),
    ]);
    return log;
  });
  assert.deepEqual(log, ["a@10", "b1@20", "b2@20", "c@30"]);
});

Deno.test("sleep() in an async function", async () => {
  const time = await runVirtual(async () => {
    await asyncio.sleep(250);
    await asyncio.sleep(250);
    return asyncio.getRunningLoop().time();
  });
  assert.equal(time, 500);
});

Deno.test("sleep(): the future is bound to the running loop", async () => {
  await runVirtual(function* () {
    const nap = asyncio.sleep(1);
    assert.ok(nap instanceof asyncio.Future);
    assert.equal(nap.getLoop(), asyncio.getRunningLoop());
    yield* nap;
  });
});

Deno.test("sleep(0): callbacks scheduled before it run before the task resumes", async () => {
  // CPython: test_tasks.py SleepTests.test_sleep_zero
  await runVirtual(function* () {
    let result = 0;
    asyncio.getRunningLoop().callSoon(() => result += 1);
    assert.equal(result, 0);
    yield* asyncio.sleep(0);
    assert.equal(result, 1);
  });
});

Deno.test("sleep(0): exactly one loop iteration in a generator task (CPython's interleaving)", async () => {
  // CPython order (Python 3.13, two tasks looping on `await asyncio.sleep(0)` and a call_soon chain):
  // cb0 a0 b0 cb1 a1 b1 cb2 a2 b2 cb3 cb4 main
  const log = await runVirtual(function* () {
    const log: string[] = [];
    chain(asyncio.getRunningLoop(), log, 4);
    function* worker(name: string) {
      for (let i = 0; i < 3; i++) {
        log.push(`${name}${i}`);
        yield* asyncio.sleep(0);
      }
    }
    const a = asyncio.createTask(worker("a"));
    const b = asyncio.createTask(worker("b"));
    yield* a;
    yield* b;
    log.push("main");
    return log;
  });
  assert.deepEqual(log, [
    "cb0",
    "a0",
    "b0",
    "cb1",
    "a1",
    "b1",
    "cb2",
    "a2",
    "b2",
    "cb3",
    "cb4",
    "main",
  ]);
});

Deno.test("sleep(0) and negative delays arm no timer", async () => {
  const { loop, clock } = recordingLoop();
  const log: string[] = [];
  const task = loop.createTask(function* () {
    yield* asyncio.sleep(0);
    log.push("after 0");
    yield* asyncio.sleep(-1);
    log.push("after -1");
    yield* asyncio.sleep(-Infinity);
    log.push("after -Infinity");
  });
  await loop.runUntilComplete(task);
  assert.deepEqual(log, ["after 0", "after -1", "after -Infinity"]);
  assert.deepEqual(clock.calls, []);
  assert.equal(loop.time(), 0);
  loop.close();
});

Deno.test("sleep(-1) is sleep(0): one loop iteration", async () => {
  const log = await runVirtual(function* () {
    const log: string[] = [];
    chain(asyncio.getRunningLoop(), log, 2);
    yield* asyncio.sleep(-1);
    log.push("resumed");
    return log;
  });
  assert.deepEqual(log.slice(0, 2), ["cb0", "resumed"]);
});

Deno.test("sleep(): cancelling it clears its timer", async () => {
  // CPython: test_tasks.py test_sleep_cancel
  const { loop, clock } = recordingLoop();
  const task = loop.createTask(function* () {
    yield* asyncio.sleep(10_000);
    return "yeah";
  });
  const running = loop.runUntilComplete(task);
  await drain(loop);
  assert.deepEqual(clock.calls, ["set 10000"]);
  task.cancel();
  await assert.rejects(running, asyncio.CancelledError);
  assert.deepEqual(clock.calls, ["set 10000", "clear"]);
  assert.equal(loop.time(), 0);
  loop.close();
});

Deno.test("sleep(): a direct cancel() of the future also clears its timer", async () => {
  const { loop, clock } = recordingLoop();
  const nap = loop.createFuture<void>();
  const task = loop.createTask(function* () {
    const future = asyncio.sleep(5_000);
    yield* asyncio.sleep(0);
    assert.deepEqual(clock.calls, ["set 5000"]);
    assert.equal(future.cancel(), true);
    yield* nap;
  });
  const running = loop.runUntilComplete(task);
  await drain(loop);
  assert.deepEqual(clock.calls, ["set 5000", "clear"]);
  nap.setResult();
  await running;
  loop.close();
});

Deno.test("sleep(Infinity) arms no timer and waits until cancelled", async () => {
  const { loop, clock } = recordingLoop();
  const task = loop.createTask(function* () {
    yield* asyncio.sleep(Infinity);
  });
  const running = loop.runUntilComplete(task);
  await drain(loop);
  await clock.inner.advance(1e12);
  assert.equal(task.done(), false);
  assert.deepEqual(clock.calls, []);
  task.cancel();
  await assert.rejects(running, asyncio.CancelledError);
  loop.close();
});

Deno.test("sleep(): bad arguments throw TypeError or RangeError naming the argument", () => {
  // CPython: test_tasks.py test_sleep_when_delay_is_nan (ValueError there)
  assert.throws(() => asyncio.sleep(NaN), {
    name: "RangeError",
    message: "sleep(): 'ms' must not be NaN",
  });
  assert.throws(() => asyncio.sleep("1" as unknown as number), {
    name: "TypeError",
    message: `sleep(): 'ms' must be a number, got "1"`,
  });
  assert.throws(() => asyncio.sleep(undefined as unknown as number), {
    name: "TypeError",
    message: "sleep(): 'ms' must be a number, got undefined",
  });
  assert.throws(() => asyncio.sleep(1n as unknown as number), {
    name: "TypeError",
    message: "sleep(): 'ms' must be a number, got 1n",
  });
  assert.throws(() => asyncio.sleep(1, 5 as unknown as asyncio.SleepOptions), {
    name: "TypeError",
    message: "sleep(): 'options' must be an object, got 5",
  });
  assert.throws(() => asyncio.sleep(1, { signal: {} as AbortSignal }), {
    name: "TypeError",
    message: "sleep(): 'signal' must be an AbortSignal, got an object",
  });
});

Deno.test("sleep({ signal }): an abort cancels the sleep with CancelledError and clears the timer", async () => {
  const { loop, clock } = recordingLoop();
  const controller = new AbortController();
  const task = loop.createTask(function* () {
    yield* asyncio.sleep(10_000, { signal: controller.signal });
  });
  const running = loop.runUntilComplete(task);
  await drain(loop);
  assert.deepEqual(clock.calls, ["set 10000"]);
  const reason = new Error("user gave up");
  controller.abort(reason);
  const error = await running.catch((e) => e);
  assert.ok(error instanceof asyncio.CancelledError);
  assert.equal(error.message, "user gave up");
  assert.equal(error.cause, reason);
  assert.ok(task.cancelled());
  assert.deepEqual(clock.calls, ["set 10000", "clear"]);
  loop.close();
});

Deno.test("sleep({ signal }): already aborted: the sleep is cancelled at once, no timer", async () => {
  const { loop, clock } = recordingLoop();
  const task = loop.createTask(function* () {
    const nap = asyncio.sleep(10_000, { signal: AbortSignal.abort() });
    assert.ok(nap.cancelled(), "cancelled before sleep() returns");
    try {
      yield* nap;
    } catch (error) {
      return error;
    }
  });
  const error = await loop.runUntilComplete(task);
  assert.ok(error instanceof asyncio.CancelledError);
  assert.equal((error.cause as Error).name, "AbortError");
  assert.equal(error.message, (error.cause as Error).message, "the reason's message");
  assert.deepEqual(clock.calls, []);
  loop.close();
});

Deno.test("sleep({ signal }): a CancelledError reason is used as is; a non-error reason becomes the cause", async () => {
  await runVirtual(function* () {
    const reason = new asyncio.CancelledError("as is");
    const nap = asyncio.sleep(10, { signal: AbortSignal.abort(reason) });
    assert.throws(() => nap.result(), (error) => error === reason);
    const text = asyncio.sleep(10, { signal: AbortSignal.abort("just text") });
    assert.throws(() => text.result(), {
      name: "CancelledError",
      message: "The operation was aborted",
      cause: "just text",
    });
    yield* asyncio.sleep(0);
  });
});

Deno.test("sleep({ signal }): the abort listener is removed once the sleep is done", async () => {
  await runVirtual(function* () {
    const controller = new AbortController();
    const signal = controller.signal;
    let listeners = 0;
    const add = signal.addEventListener.bind(signal);
    const remove = signal.removeEventListener.bind(signal);
    signal.addEventListener = ((...args: Parameters<typeof add>) => {
      listeners++;
      add(...args);
    }) as typeof signal.addEventListener;
    signal.removeEventListener = ((...args: Parameters<typeof remove>) => {
      listeners--;
      remove(...args);
    }) as typeof signal.removeEventListener;
    yield* asyncio.sleep(10, { signal });
    yield* asyncio.sleep(0, { signal });
    const cancelled = asyncio.sleep(10, { signal });
    cancelled.cancel();
    yield* asyncio.sleep(0);
    assert.equal(listeners, 0);
    controller.abort(); // nothing is listening any more
  });
});

Deno.test("sleep({ signal }) with a task's signal: cancelling the task rejects the sleep", async () => {
  await runVirtual(function* () {
    const task = asyncio.createTask(async (signal: AbortSignal) => {
      await asyncio.sleep(0, { signal });
      await asyncio.sleep(60_000, { signal });
    });
    yield* asyncio.sleep(1);
    task.cancel("enough");
    try {
      yield* task;
    } catch (error) {
      assert.ok(error instanceof asyncio.CancelledError);
      assert.equal(error.message, "enough");
    }
    assert.ok(task.cancelled());
    assert.equal(asyncio.getRunningLoop().time(), 1);
  });
});

Deno.test("cancelling a sleep(0) from another task wakes its waiter in a later iteration", async () => {
  // CPython: the waiter of a cancelled future is woken by call_soon, never inside cancel().
  const log = await runVirtual(function* () {
    const log: string[] = [];
    const controller = new AbortController();
    const viaSignal = asyncio.createTask(function* () {
      try {
        yield* asyncio.sleep(0, { signal: controller.signal });
      } catch (error) {
        assert.ok(error instanceof asyncio.CancelledError);
        log.push("signal waiter woke");
      }
    });
    const aborter = asyncio.createTask(function* () {
      controller.abort();
      log.push("after abort()");
    });
    let nap: asyncio.Future<void> | undefined;
    const direct = asyncio.createTask(function* () {
      nap = asyncio.sleep(0);
      try {
        yield* nap;
      } catch (error) {
        assert.ok(error instanceof asyncio.CancelledError);
        log.push("direct waiter woke");
      }
    });
    const canceller = asyncio.createTask(function* () {
      nap!.cancel();
      log.push("after cancel()");
    });
    yield* asyncio.gather([aborter, viaSignal, canceller, direct]);
    return log;
  });
  assert.deepEqual(log, [
    "after abort()",
    "after cancel()",
    "signal waiter woke",
    "direct waiter woke",
  ]);
});
