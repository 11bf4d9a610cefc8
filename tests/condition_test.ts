import assert from "node:assert/strict";
import * as asyncio from "../mod.ts";
import { type Gen, runChecked } from "./_helpers.ts";

function waiters(cond: asyncio.Condition): number {
  const match = /waiters:(\d+)/.exec(String(cond));
  return match === null ? 0 : Number(match[1]);
}

/** Waits for `task`; returns its CancelledError, or fails. */
function* cancellation(task: asyncio.Future<unknown>): Gen<asyncio.CancelledError> {
  try {
    yield* task;
  } catch (error) {
    if (error instanceof asyncio.CancelledError) return error;
    throw error;
  }
  throw new Error(`${task} was not cancelled`);
}

// ------------------------------------------------------------ CPython's ConditionTests

Deno.test("Condition: notify() wakes waiters one by one, each re-acquiring the lock", async () => {
  // CPython: test_locks.py ConditionTests.test_wait
  await runChecked(function* () {
    const cond = new asyncio.Condition();
    const result: number[] = [];
    const c = (n: number) =>
      asyncio.createTask(function* () {
        yield* cond.acquire();
        if (yield* cond.wait()) result.push(n);
        return true;
      });
    const t1 = c(1);
    const t2 = c(2);
    const t3 = c(3);
    yield* asyncio.sleep(0);
    assert.deepEqual(result, []);
    assert.equal(cond.locked(), false);

    yield* cond.acquire();
    cond.notify();
    yield* asyncio.sleep(0);
    assert.deepEqual(result, []);
    assert.ok(cond.locked());

    cond.release();
    yield* asyncio.sleep(0);
    assert.deepEqual(result, [1]);
    assert.ok(cond.locked());

    cond.notify(2);
    yield* asyncio.sleep(0);
    assert.deepEqual(result, [1]);
    assert.ok(cond.locked());

    cond.release();
    yield* asyncio.sleep(0);
    assert.deepEqual(result, [1, 2]);
    assert.ok(cond.locked());

    cond.release();
    yield* asyncio.sleep(0);
    assert.deepEqual(result, [1, 2, 3]);
    assert.ok(cond.locked());
    for (const t of [t1, t2, t3]) assert.equal(t.result(), true);
  });
});

Deno.test("Condition: a cancelled wait re-acquires the lock and leaves no waiter", async () => {
  // CPython: test_locks.py ConditionTests.test_wait_cancel
  await runChecked(function* () {
    const cond = new asyncio.Condition();
    yield* cond.acquire();
    const wait = asyncio.createTask(function* () {
      return yield* cond.wait();
    });
    asyncio.getRunningLoop().callSoon(() => wait.cancel());
    yield* cancellation(wait);
    assert.equal(waiters(cond), 0);
    assert.ok(cond.locked());
  });
});

Deno.test("Condition: a notified wait cancelled while the lock is contested still ends holding it", async () => {
  // CPython: test_locks.py ConditionTests.test_wait_cancel_contested
  await runChecked(function* () {
    const cond = new asyncio.Condition();
    yield* cond.acquire();
    assert.ok(cond.locked());
    const waitTask = asyncio.createTask(function* () {
      return yield* cond.wait();
    });
    yield* asyncio.sleep(0);
    assert.equal(cond.locked(), false);
    // Notify, but contest the lock before cancelling.
    yield* cond.acquire();
    assert.ok(cond.locked());
    cond.notify();
    const loop = asyncio.getRunningLoop();
    loop.callSoon(() => waitTask.cancel());
    loop.callSoon(() => cond.release());
    try {
      yield* waitTask;
    } catch (error) {
      // Should not happen, since there is no cancellation point left.
      if (!(error instanceof asyncio.CancelledError)) throw error;
    }
    assert.ok(cond.locked());
  });
});

Deno.test("Condition: a task cancelled while re-acquiring after notify ends cancelled", async () => {
  // CPython: test_locks.py ConditionTests.test_wait_cancel_after_notify (bpo-32841)
  await runChecked(function* () {
    let waited = false;
    const cond = new asyncio.Condition();
    const waiter = asyncio.createTask(function* () {
      using _ = yield* cond.acquire();
      waited = true;
      yield* cond.wait();
    });
    yield* asyncio.sleep(0); // start waiting
    yield* cond.acquire();
    cond.notify();
    yield* asyncio.sleep(0); // get to acquire()
    waiter.cancel();
    yield* asyncio.sleep(0); // activate the cancellation
    cond.release();
    yield* asyncio.sleep(0); // the cancellation happens
    assert.ok(waiter.cancelled());
    assert.ok(waited);
    assert.equal(cond.locked(), false, "the waiter's `using` released the re-acquired lock");
  });
});

Deno.test("Condition: wait() on an unlocked condition throws", () => {
  // CPython: test_locks.py ConditionTests.test_wait_unacquired (RuntimeError there)
  const cond = new asyncio.Condition();
  assert.throws(() => cond.wait(), {
    name: "Error",
    message: "Condition.wait(): the lock is not acquired; acquire() the condition before waiting",
  });
});

Deno.test("Condition: waitFor() waits until the predicate holds", async () => {
  // CPython: test_locks.py ConditionTests.test_wait_for
  await runChecked(function* () {
    const cond = new asyncio.Condition();
    let presult = false;
    const result: number[] = [];
    const t = asyncio.createTask(function* () {
      yield* cond.acquire();
      if (yield* cond.waitFor(() => presult)) {
        result.push(1);
        cond.release();
      }
      return true;
    });
    yield* asyncio.sleep(0);
    assert.deepEqual(result, []);
    yield* cond.acquire();
    cond.notify();
    cond.release();
    yield* asyncio.sleep(0);
    assert.deepEqual(result, []);
    presult = true;
    yield* cond.acquire();
    cond.notify();
    cond.release();
    yield* asyncio.sleep(0);
    assert.deepEqual(result, [1]);
    assert.equal(t.result(), true);
  });
});

Deno.test("Condition: waitFor() with a true predicate needs no lock; a false one does", async () => {
  // CPython: test_locks.py ConditionTests.test_wait_for_unacquired
  await runChecked(function* () {
    const cond = new asyncio.Condition();
    const res = yield* cond.waitFor(() => [1, 2, 3]);
    assert.deepEqual(res, [1, 2, 3]);
    assert.throws(() => cond.waitFor(() => false), {
      name: "Error",
      message:
        "Condition.waitFor(): the lock is not acquired; acquire() the condition before waiting",
    });
  });
});

Deno.test("Condition: notify(n) wakes at most n waiters", async () => {
  // CPython: test_locks.py ConditionTests.test_notify
  await runChecked(function* () {
    const cond = new asyncio.Condition();
    const result: number[] = [];
    const c = (n: number) =>
      asyncio.createTask(function* () {
        yield* cond.acquire();
        if (yield* cond.wait()) {
          result.push(n);
          cond.release();
        }
        return true;
      });
    const tasks = [c(1), c(2), c(3)];
    yield* asyncio.sleep(0);
    assert.deepEqual(result, []);
    yield* cond.acquire();
    cond.notify(1);
    cond.release();
    yield* asyncio.sleep(0);
    assert.deepEqual(result, [1]);
    yield* cond.acquire();
    cond.notify(1);
    cond.notify(2048);
    cond.release();
    yield* asyncio.sleep(0);
    assert.deepEqual(result, [1, 2, 3]);
    for (const t of tasks) assert.equal(t.result(), true);
  });
});

Deno.test("Condition: notifyAll() wakes every waiter", async () => {
  // CPython: test_locks.py ConditionTests.test_notify_all
  await runChecked(function* () {
    const cond = new asyncio.Condition();
    const result: number[] = [];
    const c = (n: number) =>
      asyncio.createTask(function* () {
        yield* cond.acquire();
        if (yield* cond.wait()) {
          result.push(n);
          cond.release();
        }
        return true;
      });
    const tasks = [c(1), c(2)];
    yield* asyncio.sleep(0);
    assert.deepEqual(result, []);
    yield* cond.acquire();
    cond.notifyAll();
    cond.release();
    yield* asyncio.sleep(0);
    assert.deepEqual(result, [1, 2]);
    for (const t of tasks) assert.equal(t.result(), true);
  });
});

Deno.test("Condition: notify() and notifyAll() on an unlocked condition throw", () => {
  // CPython: test_locks.py test_notify_unacquired, test_notify_all_unacquired
  const cond = new asyncio.Condition();
  assert.throws(() => cond.notify(), /Condition.notify\(\): the lock is not acquired/);
  assert.throws(() => cond.notifyAll(), /Condition.notifyAll\(\): the lock is not acquired/);
});

Deno.test("Condition: toString() shows the state like Python's repr", async () => {
  // CPython: test_locks.py ConditionTests.test_repr
  await runChecked(function* () {
    const cond = new asyncio.Condition();
    assert.equal(String(cond), "<Condition [unlocked]>");
    yield* cond.acquire();
    assert.equal(String(cond), "<Condition [locked]>");
    const op = cond.wait();
    assert.equal(String(cond), "<Condition [unlocked, waiters:1]>");
    yield* cond.acquire();
    cond.notify();
    cond.release();
    yield* op;
    assert.equal(String(cond), "<Condition [locked]>");
    cond.release();
  });
});

Deno.test("Condition: `using` on acquire() releases the lock", async () => {
  // CPython: test_locks.py ConditionTests.test_context_manager
  await runChecked(function* () {
    const cond = new asyncio.Condition();
    assert.equal(cond.locked(), false);
    {
      using _ = yield* cond.acquire();
      assert.ok(cond.locked());
    }
    assert.equal(cond.locked(), false);
  });
});

Deno.test("Condition: an explicit lock is shared with the condition", async () => {
  // CPython: test_locks.py ConditionTests.test_explicit_lock
  await runChecked(function* () {
    function* f(lock?: asyncio.Lock, cond?: asyncio.Condition): Gen<void> {
      lock ??= new asyncio.Lock();
      cond ??= new asyncio.Condition(lock);
      assert.equal(lock.locked(), false);
      assert.equal(cond.locked(), false);
      {
        using _ = yield* cond.acquire();
        assert.ok(lock.locked());
        assert.ok(cond.locked());
      }
      assert.equal(lock.locked(), false);
      assert.equal(cond.locked(), false);
      {
        using _ = yield* lock.acquire();
        assert.ok(lock.locked());
        assert.ok(cond.locked());
      }
      assert.equal(lock.locked(), false);
      assert.equal(cond.locked(), false);
    }
    yield* f();
    yield* f(new asyncio.Lock());
    const lock = new asyncio.Lock();
    yield* f(lock, new asyncio.Condition(lock));
  });
});

Deno.test("Condition: a condition bound to another loop refuses to wait", async () => {
  // CPython: test_locks.py ConditionTests.test_ambiguous_loops (wrong_loop_in_cond)
  const cond = new asyncio.Condition();
  await runChecked(function* () {
    yield* cond.acquire();
    const op = cond.wait(); // binds the condition to this loop
    yield* cond.acquire();
    cond.notify();
    cond.release();
    yield* op;
    cond.release();
  });
  await runChecked(function* () {
    yield* cond.acquire();
    assert.throws(
      () => cond.wait(),
      /Condition.wait\(\): this Condition is bound to a different event loop/,
    );
    cond.release();
  });
});

Deno.test("Condition: a timed-out waitFor() re-acquires the lock", async () => {
  // CPython: test_locks.py ConditionTests.test_timeout_in_block
  await runChecked(function* () {
    const cond = new asyncio.Condition();
    using _ = yield* cond.acquire();
    try {
      yield* asyncio.waitFor(cond.wait(), 500);
      assert.fail("no timeout");
    } catch (error) {
      assert.ok(error instanceof asyncio.TimeoutError);
    }
    assert.ok(cond.locked());
  });
});

Deno.test("Condition: the CancelledError of a cancelled wait is re-raised unchanged", async () => {
  // CPython: test_locks.py ConditionTests.test_cancelled_error_wakeup
  await runChecked(function* () {
    const wake = false;
    let raised: unknown = null;
    const cond = new asyncio.Condition();
    const task = asyncio.createTask(function* () {
      using _ = yield* cond.acquire();
      try {
        yield* cond.waitFor(() => wake);
      } catch (error) {
        assert.ok(error instanceof asyncio.CancelledError);
        raised = error;
        throw error;
      }
    });
    yield* asyncio.sleep(0);
    task.cancel("foo"); // while waiting on the condition
    const error = yield* cancellation(task);
    assert.equal(error.message, "foo");
    assert.equal(error, raised, "the same instance as the one raised inside");
  });
});

Deno.test("Condition: the CancelledError received while re-acquiring is re-raised unchanged", async () => {
  // CPython: test_locks.py ConditionTests.test_cancelled_error_re_aquire
  await runChecked(function* () {
    let wake = false;
    let raised: unknown = null;
    const cond = new asyncio.Condition();
    const task = asyncio.createTask(function* () {
      using _ = yield* cond.acquire();
      try {
        yield* cond.waitFor(() => wake);
      } catch (error) {
        assert.ok(error instanceof asyncio.CancelledError);
        raised = error;
        throw error;
      }
    });
    yield* asyncio.sleep(0);
    yield* cond.acquire();
    wake = true;
    cond.notify();
    yield* asyncio.sleep(0);
    task.cancel("foo"); // now trying to re-acquire the lock
    cond.release();
    const error = yield* cancellation(task);
    assert.equal(error.message, "foo");
    assert.equal(error, raised);
  });
});

/** The consumers of test_cancelled_wakeup and test_cancelled_wakeup_relock. */
function consumers(cond: asyncio.Condition, state: { value: number }): asyncio.Task<void>[] {
  const consumer = () =>
    asyncio.createTask(function* () {
      using _ = yield* cond.acquire();
      for (;;) {
        yield* cond.waitFor(() => state.value !== 0);
        if (state.value < 0) return;
        state.value -= 1;
      }
    });
  return [consumer(), consumer()];
}

Deno.test("Condition: a waiter cancelled as it is notified passes the notification on", async () => {
  // CPython: test_locks.py ConditionTests.test_cancelled_wakeup
  await runChecked(function* () {
    const cond = new asyncio.Condition();
    const state = { value: 0 };
    const c = consumers(cond, state);
    yield* asyncio.sleep(0); // let them settle
    {
      using _ = yield* cond.acquire();
      state.value += 1; // produce one item and wake one consumer
      cond.notify(1);
      c[0].cancel(); // cancelled before it could run
      // The item must still be consumed: the notification was not lost.
      try {
        yield* asyncio.timeout(10, function* () {
          yield* cond.waitFor(() => state.value === 0);
        });
      } catch (error) {
        if (!(error instanceof asyncio.TimeoutError)) throw error;
      }
      assert.equal(state.value, 0);
      state.value = -1;
      cond.notifyAll();
    }
    yield* c[1];
    assert.ok(c[0].cancelled());
  });
});

Deno.test("Condition: a waiter cancelled while re-acquiring passes the notification on", async () => {
  // CPython: test_locks.py ConditionTests.test_cancelled_wakeup_relock
  await runChecked(function* () {
    const cond = new asyncio.Condition();
    const state = { value: 0 };
    const c = consumers(cond, state);
    yield* asyncio.sleep(0);
    {
      using _ = yield* cond.acquire();
      state.value += 1;
      cond.notify(1);
      yield* asyncio.sleep(0); // the consumer wakes and queues for the lock
      c[0].cancel(); // cancelled while re-acquiring
      try {
        yield* asyncio.timeout(10, function* () {
          yield* cond.waitFor(() => state.value === 0);
        });
      } catch (error) {
        if (!(error instanceof asyncio.TimeoutError)) throw error;
      }
      assert.equal(state.value, 0);
      state.value = -1;
      cond.notifyAll();
    }
    yield* c[1];
  });
});

// ------------------------------------------------------------ exact ordering (CPython trace)

Deno.test("Condition: notify, cancel and re-acquire order match CPython step by step", async () => {
  // The same program under CPython 3.13 logs exactly this sequence (checked
  // with ~/.pyenv/versions/3.13.0/bin/python3).
  const log = await runChecked(function* () {
    const cond = new asyncio.Condition();
    const loop = asyncio.getRunningLoop();
    const log: string[] = [];
    const waiter = (name: string) =>
      asyncio.createTask(function* () {
        yield* cond.acquire();
        try {
          log.push(`${name} waits`);
          yield* cond.wait();
          log.push(`${name} woke`);
        } catch (error) {
          log.push(`${name} ${(error as Error).name} locked=${cond.locked()}`);
          throw error;
        } finally {
          cond.release();
        }
      });
    const tick = (i: number) => {
      log.push(`tick${i}`);
      if (i < 8) loop.callSoon(tick, i + 1);
    };
    const tasks = ["a", "b", "c", "d"].map(waiter);
    yield* asyncio.sleep(0);
    loop.callSoon(tick, 0);
    yield* cond.acquire();
    cond.notify(2);
    tasks[0].cancel(); // notified, then cancelled before it runs
    tasks[2].cancel(); // not notified, cancelled
    cond.release();
    yield* asyncio.sleep(0);
    yield* cond.acquire();
    log.push("main notifies all");
    cond.notifyAll();
    cond.release();
    yield* asyncio.gather(tasks, { returnExceptions: true });
    return log.slice();
  });
  assert.deepEqual(log, [
    "a waits",
    "b waits",
    "c waits",
    "d waits",
    "tick0",
    "a CancelledError locked=true", // notified, cancelled: passes its notification to c
    "b woke",
    "c CancelledError locked=true", // c was cancelled too: its notification goes to d
    "main notifies all",
    "tick1",
    "d woke",
    "tick2",
    "tick3",
  ]);
});

// ------------------------------------------------------------ future mode, releasers, arguments

Deno.test("Condition: async-function waiters with signals", async () => {
  const log: string[] = [];
  await runChecked(function* () {
    const cond = new asyncio.Condition();
    let ready = false;
    const controller = new AbortController();
    const a = asyncio.createTask(async (signal: AbortSignal) => {
      using _ = await cond.acquire({ signal });
      log.push(`a got ${await cond.waitFor(() => ready && "yes", { signal })}`);
    });
    const b = asyncio.createTask(async () => {
      using _ = await cond.acquire();
      try {
        await cond.wait({ signal: controller.signal });
      } catch (error) {
        log.push(`b ${(error as Error).name} locked=${cond.locked()}`);
      }
    });
    // Async functions advance on promise jobs: poll until both wait.
    while (waiters(cond) < 2) yield* asyncio.sleep(0);
    controller.abort();
    yield* asyncio.sleep(0);
    {
      using _ = yield* cond.acquire();
      ready = true;
      cond.notifyAll();
    }
    yield* asyncio.gather([a, b]);
    assert.equal(cond.locked(), false);
  });
  assert.deepEqual(log, ["b CancelledError locked=true", "a got yes"]);
});

Deno.test("Condition: cancelling a wait() future re-acquires the lock before it is cancelled", async () => {
  await runChecked(function* () {
    const cond = new asyncio.Condition();
    yield* cond.acquire();
    const op = cond.wait();
    assert.equal(cond.locked(), false);
    yield* cond.acquire(); // someone else holds the lock now
    assert.equal(op.cancel("stop"), true);
    assert.equal(op.done(), false, "still re-acquiring, as CPython's wait() does");
    assert.equal(waiters(cond), 0);
    cond.release();
    yield* asyncio.sleep(0);
    assert.ok(op.cancelled());
    assert.ok(cond.locked(), "the cancelled wait holds the lock again");
    assert.throws(() => op.result(), { name: "CancelledError", message: "stop" });
    cond.release();
  });
});

Deno.test("Condition: a `using` acquisition survives wait() and still releases", async () => {
  await runChecked(function* () {
    const cond = new asyncio.Condition();
    let go = false;
    const t = asyncio.createTask(function* () {
      using _ = yield* cond.acquire();
      yield* cond.waitFor(() => go);
      assert.ok(cond.locked());
    });
    yield* asyncio.sleep(0);
    {
      using _ = yield* cond.acquire();
      go = true;
      cond.notify();
    }
    yield* t;
    assert.equal(cond.locked(), false, "the releaser from before the wait released it");
  });
});

Deno.test("Condition: waitFor() resolves to the predicate's value and fails with its error", async () => {
  await runChecked(function* () {
    const cond = new asyncio.Condition();
    const boom = new Error("predicate failed");
    const failing = cond.waitFor(() => {
      throw boom;
    });
    assert.ok(failing.done());
    assert.equal(failing.exception(), boom);
    yield* cond.acquire();
    let calls = 0;
    const later = cond.waitFor(() => {
      calls++;
      if (calls === 2) throw boom;
      return 0;
    });
    yield* cond.acquire(); // the wait released it
    cond.notify();
    cond.release();
    try {
      yield* later;
      assert.fail("no error");
    } catch (error) {
      assert.equal(error, boom);
    }
    assert.ok(cond.locked(), "the lock is held again when the predicate fails");
    cond.release();
  });
});

Deno.test("Condition: a waitFor() future cancelled from its own predicate ends cancelled, lock held", async () => {
  await runChecked(function* () {
    const cond = new asyncio.Condition();
    yield* cond.acquire();
    let op: asyncio.Future<boolean> | null = null;
    let calls = 0;
    op = cond.waitFor(() => {
      calls++;
      if (calls === 2) op!.cancel("from the predicate"); // the body is running: deferred
      return false;
    });
    yield* cond.acquire();
    cond.notify();
    cond.release();
    try {
      yield* op;
      assert.fail("not cancelled");
    } catch (error) {
      assert.ok(error instanceof asyncio.CancelledError);
      assert.equal(error.message, "from the predicate");
    }
    assert.equal(calls, 2);
    assert.ok(cond.locked(), "re-acquired before the cancellation surfaced");
    assert.equal(waiters(cond), 0);
    cond.release();
  });
});

Deno.test("Condition: an abandoned driven wait() still re-acquires the lock, then is cancelled", async () => {
  await runChecked(function* () {
    const cond = new asyncio.Condition();
    yield* cond.acquire();
    const op = cond.wait();
    const it = op[Symbol.iterator]();
    it.next(); // driven by hand (coroutine mode)
    yield* cond.acquire(); // someone else holds the lock
    it.return!(); // abandoned: the cleanup must wait for the lock
    assert.equal(op.done(), false);
    cond.release();
    yield* asyncio.sleep(0);
    assert.ok(op.cancelled());
    assert.ok(cond.locked(), "the abandoned wait re-acquired the lock");
    cond.release();
  });
});

Deno.test("Condition: bad arguments are rejected clearly", () => {
  // deno-lint-ignore no-explicit-any
  const any = (x: unknown) => x as any;
  assert.throws(() => new asyncio.Condition(any({})), {
    name: "TypeError",
    message: "Cannot create Condition: 'lock' must be a Lock, got an object",
  });
  const cond = new asyncio.Condition();
  assert.throws(() => cond.waitFor(any(null)), {
    name: "TypeError",
    message: "Condition.waitFor(): 'predicate' must be a function, got null",
  });
  assert.throws(() => cond.notify(any("1")), {
    name: "TypeError",
    message: `Condition.notify(): 'n' must be a number, got "1"`,
  });
  assert.throws(() => cond.notify(-1), {
    name: "RangeError",
    message: "Condition.notify(): 'n' must be an integer >= 0 or Infinity, got -1",
  });
  assert.throws(() => cond.notify(NaN), RangeError);
  assert.throws(() => cond.notify(1.5), RangeError);
});
