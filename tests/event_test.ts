import assert from "node:assert/strict";
import * as asyncio from "../mod.ts";
import { Event as AsyncEvent } from "../mod.ts";
import { runChecked } from "./_helpers.ts";

function waiters(event: AsyncEvent): number {
  const match = /waiters:(\d+)/.exec(String(event));
  return match === null ? 0 : Number(match[1]);
}

Deno.test("Event: set() wakes every waiter; they run in the order they were woken", async () => {
  // CPython: test_locks.py EventTests.test_wait
  await runChecked(function* () {
    const ev = new asyncio.Event();
    assert.equal(ev.isSet(), false);
    const result: number[] = [];
    const c = (n: number) =>
      asyncio.createTask(function* () {
        if (yield* ev.wait()) result.push(n);
      });
    const t1 = c(1);
    const t2 = c(2);
    yield* asyncio.sleep(0);
    assert.deepEqual(result, []);
    const t3 = c(3);
    ev.set();
    yield* asyncio.sleep(0);
    // t3's first step was scheduled before set() woke t1 and t2, and the event
    // is set by then: it does not wait at all.
    assert.deepEqual(result, [3, 1, 2]);
    for (const t of [t1, t2, t3]) assert.equal(t.result(), undefined);
  });
});

Deno.test("Event: wait() on a set event resolves to true at once", async () => {
  // CPython: test_locks.py EventTests.test_wait_on_set
  await runChecked(function* () {
    const ev = new asyncio.Event();
    ev.set();
    const fut = ev.wait();
    assert.ok(fut.done());
    assert.equal(yield* fut, true);
  });
});

Deno.test("Event: a cancelled wait leaves no waiter behind", async () => {
  // CPython: test_locks.py EventTests.test_wait_cancel
  await runChecked(function* () {
    const ev = new asyncio.Event();
    const wait = asyncio.createTask(function* () {
      return yield* ev.wait();
    });
    asyncio.getRunningLoop().callSoon(() => wait.cancel());
    try {
      yield* wait;
      assert.fail("not cancelled");
    } catch (error) {
      assert.ok(error instanceof asyncio.CancelledError);
    }
    assert.equal(waiters(ev), 0);
  });
});

Deno.test("Event: clear() resets the flag", () => {
  // CPython: test_locks.py EventTests.test_clear
  const ev = new asyncio.Event();
  assert.equal(ev.isSet(), false);
  ev.set();
  assert.equal(ev.isSet(), true);
  ev.clear();
  assert.equal(ev.isSet(), false);
});

Deno.test("Event: a waiter woken by set() returns true even if clear() follows", async () => {
  // CPython: test_locks.py EventTests.test_clear_with_waiters
  await runChecked(function* () {
    const ev = new asyncio.Event();
    const result: number[] = [];
    const t = asyncio.createTask(function* () {
      if (yield* ev.wait()) result.push(1);
      return true;
    });
    yield* asyncio.sleep(0);
    assert.deepEqual(result, []);
    ev.set();
    ev.clear();
    assert.equal(ev.isSet(), false);
    ev.set();
    ev.set();
    assert.equal(waiters(ev), 1);
    yield* asyncio.sleep(0);
    assert.deepEqual(result, [1]);
    assert.equal(waiters(ev), 0);
    assert.equal(t.result(), true);
  });
});

Deno.test("Event: toString() shows the state like Python's repr", async () => {
  // CPython: test_locks.py EventTests.test_repr
  await runChecked(function* () {
    const ev = new asyncio.Event();
    assert.equal(String(ev), "<Event [unset]>");
    const op = ev.wait();
    assert.equal(String(ev), "<Event [unset, waiters:1]>");
    ev.set();
    assert.equal(String(ev), "<Event [set, waiters:1]>");
    yield* op;
    assert.equal(String(ev), "<Event [set]>");
  });
});

// ------------------------------------------------------------ future mode

Deno.test("Event: async-function waiters with signals", async () => {
  const log: string[] = [];
  await runChecked(function* () {
    const ev = new asyncio.Event();
    const controller = new AbortController();
    const a = asyncio.createTask(async (signal: AbortSignal) => {
      log.push(`a ${await ev.wait({ signal })}`);
    });
    const b = asyncio.createTask(async () => {
      try {
        await ev.wait({ signal: controller.signal });
        log.push("b woke");
      } catch (error) {
        log.push(`b ${(error as Error).name}`);
      }
    });
    yield* asyncio.sleep(0);
    assert.equal(waiters(ev), 2);
    controller.abort();
    // An awaiting async task drives the wait itself (coroutine mode, as a
    // generator task's yield* does): the waiter leaves when b next runs, as
    // in CPython, where `w` is removed in the cancelled task's own step.
    yield* asyncio.sleep(0);
    assert.equal(waiters(ev), 1, "the aborted wait has left");
    ev.set();
    yield* asyncio.gather([a, b]);
  });
  assert.deepEqual(log, ["b CancelledError", "a true"]);
});

Deno.test("Event: wait() with an already aborted signal is cancelled even if the event is set", () => {
  const ev = new asyncio.Event();
  ev.set();
  const fut = ev.wait({ signal: AbortSignal.abort() });
  assert.ok(fut.cancelled());
});

Deno.test("Event: cancelling a wait() future after set() still removes it", async () => {
  await runChecked(function* () {
    const ev = new asyncio.Event();
    const op = ev.wait();
    ev.set(); // woken, resumption queued
    assert.equal(op.cancel(), true);
    assert.ok(op.cancelled());
    assert.equal(waiters(ev), 0);
    yield* asyncio.sleep(0);
    yield* asyncio.sleep(0);
    assert.ok(op.cancelled(), "the queued resumption did not revive it");
  });
});

Deno.test("Event: a generator task cancelled at the same time as set() ends cancelled", async () => {
  await runChecked(function* () {
    const ev = new asyncio.Event();
    const t = asyncio.createTask(function* () {
      return yield* ev.wait();
    });
    yield* asyncio.sleep(0);
    ev.set();
    t.cancel();
    try {
      yield* t;
      assert.fail("not cancelled");
    } catch (error) {
      assert.ok(error instanceof asyncio.CancelledError);
    }
    assert.equal(waiters(ev), 0);
  });
});

Deno.test("Event: import { Event as AsyncEvent } works beside the DOM Event", () => {
  const ev = new AsyncEvent();
  assert.ok(ev instanceof asyncio.Event);
  assert.notEqual(AsyncEvent as unknown, globalThis.Event);
});

Deno.test("Event: wait() rejects bad options clearly", () => {
  const ev = new asyncio.Event();
  // deno-lint-ignore no-explicit-any
  const bad = ev as any;
  assert.throws(() => bad.wait(5), {
    name: "TypeError",
    message: "Event.wait(): 'options' must be an object, got 5",
  });
  assert.throws(() => bad.wait({ signal: {} }), {
    name: "TypeError",
    message: "Event.wait(): 'signal' must be an AbortSignal, got an object",
  });
});
