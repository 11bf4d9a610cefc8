import assert from "node:assert/strict";
import * as asyncio from "../mod.ts";
import { type Gen, runChecked } from "./_helpers.ts";

/** CPython's `create_task(lock.acquire())`: a task whose coroutine is the acquire itself. */
function acquireTask(lock: asyncio.Lock): asyncio.Task<Disposable> {
  return asyncio.createTask(function* () {
    return yield* lock.acquire();
  });
}

/** The waiters a lock reports in its repr (CPython's `len(lock._waiters)`). */
function waiters(lock: asyncio.Lock): number {
  const match = /waiters:(\d+)/.exec(String(lock));
  return match === null ? 0 : Number(match[1]);
}

function* outcome(task: asyncio.Future<unknown>): Gen<string> {
  try {
    yield* task;
    return "ok";
  } catch (error) {
    return (error as Error).name;
  }
}

// ------------------------------------------------------------ CPython's LockTests

Deno.test("Lock: acquire() resolves at once when free; release() frees it", async () => {
  // CPython: test_locks.py test_release_no_waiters, test_lock
  await runChecked(function* () {
    const lock = new asyncio.Lock();
    assert.equal(lock.locked(), false);
    const fut = lock.acquire();
    assert.ok(fut instanceof asyncio.Future);
    assert.ok(fut.done(), "the fast path returns a completed future");
    yield* fut;
    assert.equal(lock.locked(), true);
    lock.release();
    assert.equal(lock.locked(), false);
  });
});

Deno.test("Lock: waiters acquire in FIFO order, one per release", async () => {
  // CPython: test_locks.py test_acquire
  await runChecked(function* () {
    const lock = new asyncio.Lock();
    const result: number[] = [];
    yield* lock.acquire();
    const c = (n: number) =>
      asyncio.createTask(function* () {
        yield* lock.acquire();
        result.push(n);
        return true;
      });
    const t1 = c(1);
    const t2 = c(2);
    yield* asyncio.sleep(0);
    assert.deepEqual(result, []);
    lock.release();
    yield* asyncio.sleep(0);
    assert.deepEqual(result, [1]);
    yield* asyncio.sleep(0);
    assert.deepEqual(result, [1]);
    const t3 = c(3);
    lock.release();
    yield* asyncio.sleep(0);
    assert.deepEqual(result, [1, 2]);
    lock.release();
    yield* asyncio.sleep(0);
    assert.deepEqual(result, [1, 2, 3]);
    for (const t of [t1, t2, t3]) assert.equal(t.result(), true);
  });
});

Deno.test("Lock: a cancelled acquire leaves no waiter behind", async () => {
  // CPython: test_locks.py test_acquire_cancel
  await runChecked(function* () {
    const lock = new asyncio.Lock();
    yield* lock.acquire();
    const task = acquireTask(lock);
    asyncio.getRunningLoop().callSoon(() => task.cancel());
    assert.equal(yield* outcome(task), "CancelledError");
    assert.equal(waiters(lock), 0);
    assert.equal(lock.locked(), true);
  });
});

Deno.test("Lock: a waiter cancelled while the lock is released passes the turn on", async () => {
  // CPython: test_locks.py test_cancel_race
  await runChecked(function* () {
    const lock = new asyncio.Lock();
    const loop = asyncio.getRunningLoop();
    const lockit = (blocker: asyncio.Future<void> | null) =>
      asyncio.createTask(function* () {
        yield* lock.acquire();
        try {
          if (blocker !== null) yield* blocker;
        } finally {
          lock.release();
        }
      });
    const fa = loop.createFuture<void>();
    const ta = lockit(fa);
    yield* asyncio.sleep(0);
    assert.ok(lock.locked());
    const tb = lockit(null);
    yield* asyncio.sleep(0);
    assert.equal(waiters(lock), 1);
    const tc = lockit(null);
    yield* asyncio.sleep(0);
    assert.equal(waiters(lock), 2);
    // The race: B is cancelled while A releases.
    fa.setResult();
    tb.cancel();
    yield* asyncio.sleep(0);
    assert.equal(lock.locked(), false);
    assert.ok(ta.done());
    assert.ok(tb.cancelled());
    yield* tc;
  });
});

Deno.test("Lock: cancelling one waiter and releasing lets exactly one other in", async () => {
  // CPython: test_locks.py test_cancel_release_race (bpo-32734)
  await runChecked(function* () {
    const lock = new asyncio.Lock();
    const loop = asyncio.getRunningLoop();
    let lockCount = 0;
    let callCount = 0;
    const lockit = () =>
      asyncio.createTask(function* () {
        callCount++;
        yield* lock.acquire();
        lockCount++;
      });
    yield* lock.acquire();
    const t1 = lockit();
    const t2 = lockit();
    const t3 = lockit();
    yield* asyncio.sleep(0);
    loop.callSoon(() => {
      t1.cancel();
      lock.release();
    });
    assert.equal(yield* outcome(t1), "CancelledError");
    assert.equal(lockCount, 1, "only one lock was taken");
    assert.equal(callCount, 3);
    assert.ok(t1.cancelled() && t2.done());
    t3.cancel();
    yield* asyncio.sleep(0);
    assert.ok(t3.cancelled());
  });
});

Deno.test("Lock: a woken waiter cancelled before it runs wakes the next one", async () => {
  // CPython: test_locks.py test_finished_waiter_cancelled
  await runChecked(function* () {
    const lock = new asyncio.Lock();
    yield* lock.acquire();
    const tb = acquireTask(lock);
    yield* asyncio.sleep(0);
    assert.equal(waiters(lock), 1);
    const tc = acquireTask(lock);
    tb.cancel();
    lock.release();
    yield* asyncio.sleep(0);
    assert.ok(lock.locked());
    assert.ok(tb.cancelled());
    yield* tc;
  });
});

Deno.test("Lock: release() of an unlocked lock throws", () => {
  // CPython: test_locks.py test_release_not_acquired
  const lock = new asyncio.Lock();
  assert.throws(() => lock.release(), {
    name: "Error",
    message: /Lock.release\(\): the lock is not acquired/,
  });
});

Deno.test("Lock: `using` releases at the end of the block", async () => {
  // CPython: test_locks.py test_context_manager (async with lock)
  await runChecked(function* () {
    const lock = new asyncio.Lock();
    {
      using _ = yield* lock.acquire();
      assert.ok(lock.locked());
    }
    assert.equal(lock.locked(), false);
    try {
      using _ = yield* lock.acquire();
      throw new Error("boom");
    } catch (error) {
      assert.equal((error as Error).message, "boom");
    }
    assert.equal(lock.locked(), false, "released when the block throws, too");
  });
});

Deno.test("Lock: toString() shows the state like Python's repr", async () => {
  // CPython: test_locks.py test_repr
  await runChecked(function* () {
    const lock = new asyncio.Lock();
    assert.equal(String(lock), "<Lock [unlocked]>");
    yield* lock.acquire();
    assert.equal(String(lock), "<Lock [locked]>");
    const t = acquireTask(lock);
    yield* asyncio.sleep(0);
    assert.equal(String(lock), "<Lock [locked, waiters:1]>");
    lock.release();
    yield* t;
    lock.release();
  });
});

Deno.test("Lock: waiting on another event loop than the first one throws", async () => {
  // CPython: test_locks.py test_ambiguous_loops ("is bound to a different event loop")
  const lock = new asyncio.Lock();
  await runChecked(function* () {
    yield* lock.acquire();
    const t = acquireTask(lock); // binds the lock to this loop
    yield* asyncio.sleep(0);
    lock.release();
    yield* t;
    lock.release();
  });
  await runChecked(function* () {
    // The fast path touches no loop, as in CPython.
    yield* lock.acquire();
    assert.throws(
      () => lock.acquire(),
      /Lock.acquire\(\): this Lock is bound to a different event loop/,
    );
    lock.release();
  });
});

// ------------------------------------------------------------ exact ordering (CPython traces)

Deno.test("Lock: hand-over, cancellation and wake-up order match CPython step by step", async () => {
  // The same program under CPython 3.13 (tick = a loop.call_soon chain, one
  // entry per iteration) logs exactly this sequence; checked by running it
  // with ~/.pyenv/versions/3.13.0/bin/python3.
  const log = await runChecked(function* () {
    const lock = new asyncio.Lock();
    const loop = asyncio.getRunningLoop();
    const log: string[] = [];
    const worker = (name: string) =>
      asyncio.createTask(function* () {
        log.push(`${name} wants`);
        try {
          yield* lock.acquire();
        } catch (error) {
          log.push(`${name} ${(error as Error).name}`);
          throw error;
        }
        try {
          log.push(`${name} has`);
          yield* asyncio.sleep(0);
          yield* asyncio.sleep(0);
          log.push(`${name} releases`);
        } finally {
          lock.release();
        }
      });
    const tick = (i: number) => {
      log.push(`tick${i}`);
      if (i < 12) loop.callSoon(tick, i + 1);
    };
    const tasks = ["a", "b", "c", "d", "e"].map(worker);
    loop.callSoon(tick, 0);
    yield* asyncio.sleep(0);
    tasks[1].cancel(); // b waits in the queue
    yield* asyncio.sleep(0);
    yield* asyncio.sleep(0);
    tasks[2].cancel(); // c was just handed the lock and has not run yet
    yield* asyncio.gather(tasks, { returnExceptions: true });
    return log.slice(); // as printed at this point by the Python program
  });
  assert.deepEqual(log, [
    "a wants",
    "a has",
    "b wants",
    "c wants",
    "d wants",
    "e wants",
    "tick0",
    "tick1",
    "b CancelledError",
    "a releases",
    "tick2",
    "c CancelledError",
    "tick3",
    "d has",
    "tick4",
    "tick5",
    "d releases",
    "tick6",
    "e has",
    "tick7",
    "tick8",
    "e releases",
    "tick9",
    "tick10",
  ]);
});

// ------------------------------------------------------------ future mode (async functions, signals)

Deno.test("Lock: async-function tasks take turns in FIFO order", async () => {
  const log: string[] = [];
  await runChecked(function* () {
    const lock = new asyncio.Lock();
    const worker = (name: string) =>
      asyncio.createTask(async (signal: AbortSignal) => {
        using _ = await lock.acquire({ signal });
        log.push(`${name} in`);
        await asyncio.sleep(5, { signal });
        log.push(`${name} out`);
      });
    yield* asyncio.gather([worker("a"), worker("b"), worker("c")]);
    assert.equal(lock.locked(), false);
  });
  assert.deepEqual(log, ["a in", "a out", "b in", "b out", "c in", "c out"]);
});

Deno.test("Lock: acquire() queues at once, before the future is awaited", async () => {
  await runChecked(function* () {
    const lock = new asyncio.Lock();
    yield* lock.acquire();
    const first = lock.acquire();
    const second = lock.acquire();
    assert.equal(waiters(lock), 2);
    lock.release();
    yield* asyncio.sleep(0);
    assert.ok(first.done() && !second.done(), "the first caller got it");
    using _ = first.result();
    assert.equal(waiters(lock), 1);
    first.result()[Symbol.dispose]();
    yield* second;
    lock.release();
  });
});

Deno.test("Lock: cancelling a queued acquire() future removes it at once", async () => {
  await runChecked(function* () {
    const lock = new asyncio.Lock();
    yield* lock.acquire();
    const op = lock.acquire();
    assert.equal(waiters(lock), 1);
    assert.equal(op.cancel("no more"), true);
    assert.ok(op.cancelled(), "cancelled synchronously, like any future");
    assert.throws(() => op.result(), { name: "CancelledError", message: "no more" });
    assert.equal(waiters(lock), 0);
    assert.equal(op.cancel(), false);
    lock.release();
    assert.equal(lock.locked(), false);
  });
});

Deno.test("Lock: an acquire() future cancelled after its wake-up passes the lock on", async () => {
  await runChecked(function* () {
    const lock = new asyncio.Lock();
    yield* lock.acquire();
    const first = lock.acquire();
    const second = lock.acquire();
    lock.release(); // wakes `first`; it would take the lock next iteration
    first.cancel();
    assert.ok(first.cancelled());
    yield* asyncio.sleep(0);
    yield* asyncio.sleep(0);
    assert.ok(second.done(), "the wake-up was passed on");
    assert.ok(lock.locked());
    lock.release();
  });
});

Deno.test("Lock: an aborted signal cancels the wait and never takes the lock", async () => {
  await runChecked(function* () {
    const lock = new asyncio.Lock();
    yield* lock.acquire();
    const controller = new AbortController();
    const reason = new Error("user gave up");
    const op = lock.acquire({ signal: controller.signal });
    controller.abort(reason);
    assert.ok(op.cancelled());
    try {
      op.result();
      assert.fail("not cancelled");
    } catch (error) {
      assert.ok(error instanceof asyncio.CancelledError);
      assert.equal(error.cause, reason);
      assert.equal(error.message, "user gave up");
    }
    assert.equal(waiters(lock), 0);
    lock.release();
    assert.equal(lock.locked(), false);
  });
});

Deno.test("Lock: a signal aborted before the call never takes even a free lock", async () => {
  await runChecked(function* () {
    const lock = new asyncio.Lock();
    const op = lock.acquire({ signal: AbortSignal.abort() });
    assert.ok(op.cancelled());
    assert.equal(lock.locked(), false);
    yield* asyncio.sleep(0);
  });
});

Deno.test("Lock: an abort racing with the wake-up (async task) passes the lock on", async () => {
  const log: string[] = [];
  await runChecked(function* () {
    const lock = new asyncio.Lock();
    yield* lock.acquire();
    const controller = new AbortController();
    const a = asyncio.createTask(async () => {
      try {
        await lock.acquire({ signal: controller.signal });
        log.push("a has");
      } catch (error) {
        log.push(`a ${(error as Error).name}`);
      }
    });
    const b = asyncio.createTask(async (signal: AbortSignal) => {
      using _ = await lock.acquire({ signal });
      log.push("b has");
    });
    yield* asyncio.sleep(0);
    lock.release(); // hands the lock to a...
    controller.abort(); // ...which gives up before it runs
    yield* asyncio.gather([a, b]);
    assert.equal(lock.locked(), false);
  });
  assert.deepEqual(log, ["a CancelledError", "b has"]);
});

Deno.test("Lock: cancelling an async task aborts its signal and its queued acquire", async () => {
  await runChecked(function* () {
    const lock = new asyncio.Lock();
    yield* lock.acquire();
    const task = asyncio.createTask(async (signal: AbortSignal) => {
      await lock.acquire({ signal });
      return "acquired";
    });
    yield* asyncio.sleep(0);
    assert.equal(waiters(lock), 1);
    task.cancel();
    assert.equal(yield* outcome(task), "CancelledError");
    assert.equal(waiters(lock), 0);
    lock.release();
    assert.equal(lock.locked(), false);
  });
});

// ------------------------------------------------------------ coroutine mode details

Deno.test("Lock: yield* on a future already woken falls back to waiting on the future", async () => {
  await runChecked(function* () {
    const lock = new asyncio.Lock();
    yield* lock.acquire();
    const op = lock.acquire(); // future mode
    lock.release(); // woken; its resumption is queued
    const releaser = yield* op; // cannot take over any more: waits for the future
    assert.ok(lock.locked());
    releaser[Symbol.dispose]();
    assert.equal(lock.locked(), false);
  });
});

Deno.test("Lock: two tasks waiting on the same acquire() future both see the result", async () => {
  await runChecked(function* () {
    const lock = new asyncio.Lock();
    yield* lock.acquire();
    const op = lock.acquire();
    const a = asyncio.createTask(function* () {
      return yield* op; // takes over (coroutine mode)
    });
    const b = asyncio.createTask(function* () {
      return yield* op; // waits on the future
    });
    yield* asyncio.sleep(0);
    lock.release();
    const [ra, rb] = yield* asyncio.gather([a, b]);
    assert.equal(ra, rb);
    assert.equal(ra, op.result());
    ra[Symbol.dispose]();
    assert.equal(lock.locked(), false);
  });
});

Deno.test("Lock: cancelling the future a task drives cancels the task's wait", async () => {
  await runChecked(function* () {
    const lock = new asyncio.Lock();
    yield* lock.acquire();
    const op = lock.acquire();
    const a = asyncio.createTask(function* () {
      return yield* op;
    });
    yield* asyncio.sleep(0); // a drives op now
    assert.equal(op.cancel(), true);
    assert.equal(yield* outcome(a), "CancelledError");
    assert.ok(op.cancelled());
    assert.equal(a.cancelled(), true);
    assert.equal(waiters(lock), 0);
    lock.release();
  });
});

Deno.test("Lock: a task cancelled while driving its acquire never holds the lock", async () => {
  await runChecked(function* () {
    const lock = new asyncio.Lock();
    yield* lock.acquire();
    let got = false;
    const a = asyncio.createTask(function* () {
      yield* lock.acquire();
      got = true;
    });
    yield* asyncio.sleep(0);
    lock.release();
    a.cancel(); // woken and cancelled in the same iteration
    assert.equal(yield* outcome(a), "CancelledError");
    assert.equal(got, false);
    assert.equal(lock.locked(), false);
    assert.equal(waiters(lock), 0);
  });
});

Deno.test("Lock: abandoning a driven acquire (iterator return()) cleans up like a cancel", async () => {
  await runChecked(function* () {
    const lock = new asyncio.Lock();
    yield* lock.acquire();
    const op = lock.acquire();
    const next = lock.acquire();
    const it = op[Symbol.iterator]();
    it.next(); // now driven by hand (coroutine mode), parked on its waiter
    lock.release(); // the turn goes to op's waiter...
    assert.deepEqual(it.return!(), { done: true, value: undefined }); // ...which is abandoned
    assert.ok(op.cancelled());
    yield* next; // the wake-up was passed on
    assert.ok(lock.locked());
    assert.equal(waiters(lock), 0);
    lock.release();
  });
});

// ------------------------------------------------------------ the Disposable

Deno.test("Lock: disposing twice releases once", async () => {
  await runChecked(function* () {
    const lock = new asyncio.Lock();
    const releaser = yield* lock.acquire();
    releaser[Symbol.dispose]();
    assert.equal(lock.locked(), false);
    releaser[Symbol.dispose]();
    assert.equal(lock.locked(), false);
  });
});

Deno.test("Lock: a stale releaser never releases someone else's acquisition", async () => {
  await runChecked(function* () {
    const lock = new asyncio.Lock();
    const first = yield* lock.acquire();
    lock.release(); // released by hand, not by the releaser
    const second = yield* lock.acquire();
    first[Symbol.dispose](); // stale: must not touch the second acquisition
    assert.ok(lock.locked());
    second[Symbol.dispose]();
    assert.equal(lock.locked(), false);
    const third = yield* lock.acquire();
    second[Symbol.dispose]();
    first[Symbol.dispose]();
    assert.ok(lock.locked());
    third[Symbol.dispose]();
    assert.equal(lock.locked(), false);
  });
});

Deno.test("Lock: each acquisition resolves to its own releaser, contended or not", async () => {
  await runChecked(function* () {
    const lock = new asyncio.Lock();
    const a = yield* lock.acquire();
    const op = lock.acquire();
    a[Symbol.dispose]();
    const b = yield* op;
    assert.notEqual(a, b);
    assert.equal(typeof b[Symbol.dispose], "function");
    b[Symbol.dispose]();
    assert.equal(lock.locked(), false);
  });
});

// ------------------------------------------------------------ arguments

Deno.test("Lock: acquire() rejects bad options clearly", () => {
  const lock = new asyncio.Lock();
  // deno-lint-ignore no-explicit-any
  const bad = lock as any;
  assert.throws(() => bad.acquire(null), {
    name: "TypeError",
    message: "Lock.acquire(): 'options' must be an object, got null",
  });
  assert.throws(() => bad.acquire({ signal: "x" }), {
    name: "TypeError",
    message: `Lock.acquire(): 'signal' must be an AbortSignal, got "x"`,
  });
  assert.equal(lock.locked(), false);
});
