import assert from "node:assert/strict";
import * as asyncio from "../mod.ts";
import { runChecked } from "./_helpers.ts";

/** CPython's `create_task(sem.acquire())`. */
function acquireTask(sem: asyncio.Semaphore): asyncio.Task<Disposable> {
  return asyncio.createTask(function* () {
    return yield* sem.acquire();
  });
}

/** The permits a semaphore reports (CPython's `sem._value`), or 0 when locked. */
function value(sem: asyncio.Semaphore): number {
  const match = /value:(\d+)/.exec(String(sem));
  return match === null ? 0 : Number(match[1]);
}

function waiters(sem: asyncio.Semaphore): number {
  const match = /waiters:(\d+)/.exec(String(sem));
  return match === null ? 0 : Number(match[1]);
}

Deno.test("Semaphore: a zero semaphore is locked", () => {
  // CPython: test_locks.py test_initial_value_zero
  assert.equal(new asyncio.Semaphore(0).locked(), true);
  assert.equal(new asyncio.Semaphore().locked(), false);
});

Deno.test("Semaphore: bad initial values are rejected clearly", () => {
  // CPython: test_locks.py test_semaphore_value (ValueError there)
  assert.throws(() => new asyncio.Semaphore(-1), {
    name: "RangeError",
    message: "Cannot create Semaphore: 'value' must be an integer >= 0, got -1",
  });
  assert.throws(() => new asyncio.BoundedSemaphore(-1), {
    name: "RangeError",
    message: "Cannot create BoundedSemaphore: 'value' must be an integer >= 0, got -1",
  });
  assert.throws(() => new asyncio.Semaphore(NaN), RangeError);
  assert.throws(() => new asyncio.Semaphore(1.5), RangeError);
  assert.throws(() => new asyncio.Semaphore(Infinity), RangeError);
  // deno-lint-ignore no-explicit-any
  assert.throws(() => new asyncio.Semaphore("2" as any), {
    name: "TypeError",
    message: `Cannot create Semaphore: 'value' must be a number, got "2"`,
  });
});

Deno.test("Semaphore: toString() shows the state like Python's repr", async () => {
  // CPython: test_locks.py SemaphoreTests.test_repr
  await runChecked(function* () {
    const sem = new asyncio.Semaphore();
    assert.equal(String(sem), "<Semaphore [unlocked, value:1]>");
    yield* sem.acquire();
    assert.equal(String(sem), "<Semaphore [locked]>");
    const op = sem.acquire();
    assert.equal(String(sem), "<Semaphore [locked, waiters:1]>");
    sem.release();
    yield* op;
    sem.release();
    assert.equal(String(new asyncio.BoundedSemaphore(2)), "<BoundedSemaphore [unlocked, value:2]>");
  });
});

Deno.test("Semaphore: permits are handed out FIFO as they are released", async () => {
  // CPython: test_locks.py SemaphoreTests.test_acquire
  await runChecked(function* () {
    const sem = new asyncio.Semaphore(3);
    const result: number[] = [];
    yield* sem.acquire();
    yield* sem.acquire();
    assert.equal(sem.locked(), false);
    const c = (n: number) =>
      asyncio.createTask(function* () {
        yield* sem.acquire();
        result.push(n);
        return true;
      });
    const t1 = c(1);
    const t2 = c(2);
    const t3 = c(3);
    yield* asyncio.sleep(0);
    assert.deepEqual(result, [1]);
    assert.ok(sem.locked());
    assert.equal(waiters(sem), 2);
    assert.equal(value(sem), 0);
    const t4 = c(4);
    sem.release();
    sem.release();
    assert.equal(value(sem), 0, "both permits went straight to waiters");
    yield* asyncio.sleep(0);
    assert.equal(result.length, 3);
    assert.ok(sem.locked());
    assert.equal(waiters(sem), 1);
    assert.equal(t1.result(), true);
    const raced = [t2, t3, t4].filter((t) => t.done());
    assert.equal(raced.length, 2);
    sem.release();
    yield* asyncio.gather([t2, t3, t4]);
  });
});

Deno.test("Semaphore: a cancelled acquire leaves the waiters clean", async () => {
  // CPython: test_locks.py SemaphoreTests.test_acquire_cancel
  await runChecked(function* () {
    const sem = new asyncio.Semaphore();
    yield* sem.acquire();
    const acquire = acquireTask(sem);
    asyncio.getRunningLoop().callSoon(() => acquire.cancel());
    try {
      yield* acquire;
      assert.fail("not cancelled");
    } catch (error) {
      assert.ok(error instanceof asyncio.CancelledError);
    }
    assert.equal(waiters(sem), 0);
  });
});

Deno.test("Semaphore: waiters cancelled before the release do not swallow the permit", async () => {
  // CPython: test_locks.py test_acquire_cancel_before_awoken
  await runChecked(function* () {
    const sem = new asyncio.Semaphore(0);
    const [t1, t2, t3, t4] = [0, 1, 2, 3].map(() => acquireTask(sem));
    yield* asyncio.sleep(0);
    t1.cancel();
    t2.cancel();
    sem.release();
    yield* asyncio.sleep(0);
    yield* asyncio.sleep(0);
    assert.equal([t3, t4].filter((t) => t.done()).length, 1);
    assert.ok(t3.done());
    assert.ok(!t4.done());
    t3.cancel();
    t4.cancel();
    yield* asyncio.sleep(0);
  });
});

Deno.test("Semaphore: cancelling the first waiter does not hang the second", async () => {
  // CPython: test_locks.py test_acquire_hang
  await runChecked(function* () {
    const sem = new asyncio.Semaphore(0);
    const t1 = acquireTask(sem);
    const t2 = acquireTask(sem);
    yield* asyncio.sleep(0);
    t1.cancel();
    sem.release();
    yield* asyncio.sleep(0);
    yield* asyncio.sleep(0);
    assert.ok(sem.locked());
    assert.ok(t2.done());
  });
});

Deno.test("Semaphore: a task cancelled while queued behind a holder does not block it", async () => {
  // CPython: test_locks.py test_acquire_no_hang
  await runChecked(function* () {
    const sem = new asyncio.Semaphore(1);
    let t2: asyncio.Task<void> | null = null;
    const t1 = asyncio.createTask(function* () {
      {
        using _ = yield* sem.acquire();
        yield* asyncio.sleep(0);
      }
      t2!.cancel();
    });
    t2 = asyncio.createTask(function* () {
      using _ = yield* sem.acquire();
      assert.fail("t2 must not get the permit");
    });
    const [r1, r2] = yield* asyncio.gather([t1, t2], { returnExceptions: true });
    assert.equal(r1, undefined);
    assert.ok(r2 instanceof asyncio.CancelledError);
    yield* asyncio.waitFor(sem.acquire(), 1000);
  });
});

Deno.test("BoundedSemaphore: releasing more than acquired throws", () => {
  // CPython: test_locks.py test_release_not_acquired (ValueError there)
  const sem = new asyncio.BoundedSemaphore();
  assert.throws(() => sem.release(), {
    name: "Error",
    message: /BoundedSemaphore.release\(\): released too many times \(the bound is 1\)/,
  });
});

Deno.test("Semaphore: release() with no waiters unlocks", async () => {
  // CPython: test_locks.py test_release_no_waiters
  await runChecked(function* () {
    const sem = new asyncio.Semaphore();
    yield* sem.acquire();
    assert.ok(sem.locked());
    sem.release();
    assert.equal(sem.locked(), false);
  });
});

Deno.test("Semaphore: acquisitions alternate FIFO between tasks", async () => {
  // CPython: test_locks.py test_acquire_fifo_order
  const result = await runChecked(function* () {
    const sem = new asyncio.Semaphore(1);
    const result: string[] = [];
    const coro = (tag: string) =>
      asyncio.createTask(function* () {
        yield* sem.acquire();
        result.push(`${tag}_1`);
        yield* asyncio.sleep(10);
        sem.release();
        yield* sem.acquire();
        result.push(`${tag}_2`);
        yield* asyncio.sleep(10);
        sem.release();
      });
    yield* asyncio.gather([coro("c1"), coro("c2"), coro("c3")]);
    return result;
  });
  assert.deepEqual(result, ["c1_1", "c2_1", "c3_1", "c1_2", "c2_2", "c3_2"]);
});

Deno.test("Semaphore: a releasing task that re-acquires waits behind earlier waiters", async () => {
  // CPython: test_locks.py test_acquire_fifo_order_2
  await runChecked(function* () {
    const sem = new asyncio.Semaphore(1);
    const result: number[] = [];
    const t1 = asyncio.createTask(function* () {
      yield* sem.acquire();
      result.push(1);
      return true;
    });
    const t2 = asyncio.createTask(function* () {
      yield* sem.acquire();
      result.push(2);
      sem.release();
      yield* sem.acquire();
      result.push(4);
      return true;
    });
    const t3 = asyncio.createTask(function* () {
      yield* sem.acquire();
      result.push(3);
      return true;
    });
    yield* asyncio.sleep(0);
    sem.release();
    sem.release();
    yield* asyncio.gather([t1, t2, t3]);
    assert.deepEqual(result, [1, 2, 3, 4]);
  });
});

Deno.test("Semaphore: a cancelled first waiter lets the others through in order", async () => {
  // CPython: test_locks.py test_acquire_fifo_order_3
  await runChecked(function* () {
    const sem = new asyncio.Semaphore(0);
    const result: number[] = [];
    const c = (n: number) =>
      asyncio.createTask(function* () {
        yield* sem.acquire();
        result.push(n);
        return true;
      });
    const tasks = [c(1), c(2), c(3)];
    yield* asyncio.sleep(0);
    tasks[0].cancel();
    yield* asyncio.sleep(0);
    sem.release();
    sem.release();
    yield* asyncio.gather(tasks, { returnExceptions: true });
    assert.deepEqual(result, [2, 3]);
  });
});

Deno.test("Semaphore: a successful acquire wakes every waiter FIFO held back", async () => {
  // CPython: test_locks.py test_acquire_fifo_order_4
  await runChecked(function* () {
    const sem = new asyncio.Semaphore(0);
    const result: number[] = [];
    let t4: asyncio.Task<boolean> | null = null;
    const c4 = () =>
      asyncio.createTask(function* () {
        result.push(4);
        return true;
      });
    const t1 = asyncio.createTask(function* () {
      assert.equal(value(sem), 0);
      yield* sem.acquire();
      assert.equal(value(sem), 0, "every waiter was woken");
      t4 = c4(); // runs after c3, not c2
      result.push(1);
      return true;
    });
    const t2 = asyncio.createTask(function* () {
      sem.release();
      sem.release();
      sem.release();
      assert.equal(value(sem), 0); // locked: c1 has not woken yet
      assert.match(String(sem), /^<Semaphore \[locked, waiters:1\]>$/);
      yield* sem.acquire();
      result.push(2);
      return true;
    });
    const t3 = asyncio.createTask(function* () {
      yield* sem.acquire();
      assert.ok(sem.locked());
      result.push(3);
      return true;
    });
    yield* asyncio.sleep(0);
    // Three waiters queued (the first not awake yet), two permits free.
    assert.equal(waiters(sem), 3);
    yield* asyncio.sleep(0);
    yield* asyncio.gather([t1, t2, t3, t4!]);
    assert.deepEqual(result, [1, 2, 3, 4]);
  });
});

// ------------------------------------------------------------ exact ordering (CPython trace)

Deno.test("Semaphore: hand-over and cancellation order match CPython step by step", async () => {
  // The same program under CPython 3.13 logs exactly this sequence (checked
  // with ~/.pyenv/versions/3.13.0/bin/python3).
  const log = await runChecked(function* () {
    const sem = new asyncio.Semaphore(2);
    const loop = asyncio.getRunningLoop();
    const log: string[] = [];
    const worker = (name: string) =>
      asyncio.createTask(function* () {
        try {
          yield* sem.acquire();
        } catch (error) {
          log.push(`${name} ${(error as Error).name}`);
          throw error;
        }
        try {
          log.push(`${name} has`);
          yield* asyncio.sleep(0);
        } finally {
          sem.release();
          log.push(`${name} released`);
        }
      });
    const tick = (i: number) => {
      log.push(`tick${i}`);
      if (i < 8) loop.callSoon(tick, i + 1);
    };
    const tasks = ["a", "b", "c", "d", "e", "f"].map(worker);
    loop.callSoon(tick, 0);
    yield* asyncio.sleep(0);
    tasks[2].cancel();
    yield* asyncio.sleep(0);
    tasks[3].cancel();
    yield* asyncio.gather(tasks, { returnExceptions: true });
    return log.slice();
  });
  assert.deepEqual(log, [
    "a has",
    "b has",
    "tick0",
    "a released",
    "b released",
    "tick1",
    "c CancelledError",
    "d CancelledError", // woken with a permit, then cancelled: gives it back, f gets it
    "e has",
    "tick2",
    "f has",
    "e released",
    "tick3",
    "f released",
    "tick4",
    "tick5",
  ]);
});

// ------------------------------------------------------------ future mode, releasers

Deno.test("Semaphore: async-function tasks with signals never take a permit when aborted", async () => {
  const log: string[] = [];
  await runChecked(function* () {
    const sem = new asyncio.Semaphore(1);
    yield* sem.acquire();
    const controller = new AbortController();
    const a = asyncio.createTask(async () => {
      try {
        using _ = await sem.acquire({ signal: controller.signal });
        log.push("a has");
      } catch (error) {
        log.push(`a ${(error as Error).name}`);
      }
    });
    const b = asyncio.createTask(async (signal: AbortSignal) => {
      using _ = await sem.acquire({ signal });
      log.push("b has");
    });
    yield* asyncio.sleep(0);
    sem.release(); // the permit goes to a...
    controller.abort(); // ...which gives up before it runs: b gets it
    yield* asyncio.gather([a, b]);
    assert.equal(value(sem), 1);
  });
  assert.deepEqual(log, ["a CancelledError", "b has"]);
});

Deno.test("Semaphore: cancelling a queued acquire() future removes it at once", async () => {
  await runChecked(function* () {
    const sem = new asyncio.Semaphore(0);
    const op = sem.acquire();
    assert.equal(waiters(sem), 1);
    assert.ok(op.cancel());
    assert.ok(op.cancelled());
    assert.equal(waiters(sem), 0);
    assert.equal(sem.locked(), true);
    sem.release();
    assert.equal(sem.locked(), false);
    yield* asyncio.sleep(0);
  });
});

Deno.test("Semaphore: the releaser gives back one permit, once", async () => {
  await runChecked(function* () {
    const sem = new asyncio.BoundedSemaphore(2);
    const a = yield* sem.acquire();
    const b = yield* sem.acquire();
    assert.ok(sem.locked());
    a[Symbol.dispose]();
    a[Symbol.dispose]();
    assert.equal(value(sem), 1, "the second dispose did nothing");
    b[Symbol.dispose]();
    assert.equal(value(sem), 2);
  });
});

Deno.test("Semaphore: locked() ignores waiters that are already cancelled", async () => {
  // CPython's locked(): value == 0 or any waiter not cancelled.
  await runChecked(function* () {
    const sem = new asyncio.Semaphore(0);
    const t = acquireTask(sem);
    yield* asyncio.sleep(0);
    t.cancel(); // its waiter is cancelled now, the task runs its cleanup later
    sem.release();
    assert.equal(sem.locked(), false, "a cancelled waiter does not hold a newcomer back");
    const fast = sem.acquire();
    assert.ok(fast.done());
    yield* asyncio.sleep(0);
    assert.ok(t.cancelled());
  });
});

Deno.test("Semaphore: acquire() rejects bad options clearly", () => {
  const sem = new asyncio.BoundedSemaphore();
  // deno-lint-ignore no-explicit-any
  assert.throws(() => (sem as any).acquire("x"), {
    name: "TypeError",
    message: `BoundedSemaphore.acquire(): 'options' must be an object, got "x"`,
  });
});
