import assert from "node:assert/strict";
import * as asyncio from "../mod.ts";
import { type Gen, runChecked } from "./_helpers.ts";

const N = 5;

function makeTasks<T>(n: number, coro: () => Gen<T>): asyncio.Task<T>[] {
  return Array.from({ length: n }, () => asyncio.createTask(coro));
}

function* gatherTasks<T>(n: number, coro: () => Gen<T>): Gen<T[]> {
  return (yield* asyncio.gather(makeTasks(n, coro))) as T[];
}

function isBroken(error: unknown): boolean {
  return error instanceof asyncio.BrokenBarrierError;
}

Deno.test("Barrier: toString() follows the state like Python's repr", async () => {
  // CPython: test_locks.py BarrierTests.test_barrier, test_repr
  await runChecked(function* () {
    const barrier = new asyncio.Barrier(N);
    assert.equal(String(barrier), `<Barrier [filling, waiters:0/${N}]>`);
    const waiters: asyncio.Task<unknown>[] = [];
    const wait = () =>
      asyncio.createTask(function* () {
        return yield* barrier.wait();
      });
    const incr = 2;
    for (let i = 0; i < incr; i++) waiters.push(wait());
    yield* asyncio.sleep(0);
    assert.equal(String(barrier), `<Barrier [filling, waiters:${incr}/${N}]>`);
    // the missing waiters
    for (let i = 0; i < barrier.parties - barrier.nWaiting; i++) waiters.push(wait());
    yield* asyncio.sleep(0);
    assert.match(String(barrier), /^<Barrier \[draining, waiters:0\/5\]>$/);
    // a few more, then a reset
    for (let i = 0; i < incr; i++) waiters.push(wait());
    yield* asyncio.sleep(0);
    yield* barrier.reset();
    assert.match(String(barrier), /resetting/);
    // a few more again, then an abort
    for (let i = 0; i < incr; i++) waiters.push(wait());
    yield* asyncio.sleep(0);
    yield* barrier.abort();
    assert.equal(String(barrier), "<Barrier [broken]>");
    assert.ok(barrier.broken);
    yield* asyncio.gather(waiters, { returnExceptions: true });
  });
});

Deno.test("Barrier: parties must be an integer >= 1", () => {
  // CPython: test_locks.py BarrierTests.test_barrier_parties (ValueError there)
  assert.throws(() => new asyncio.Barrier(0), {
    name: "RangeError",
    message: "Cannot create Barrier: 'parties' must be an integer >= 1, got 0",
  });
  assert.throws(() => new asyncio.Barrier(-4), RangeError);
  assert.throws(() => new asyncio.Barrier(NaN), RangeError);
  assert.throws(() => new asyncio.Barrier(2.5), RangeError);
  // deno-lint-ignore no-explicit-any
  assert.throws(() => new asyncio.Barrier("3" as any), {
    name: "TypeError",
    message: `Cannot create Barrier: 'parties' must be a number, got "3"`,
  });
  // deno-lint-ignore no-explicit-any
  assert.throws(() => new (asyncio.Barrier as any)(), TypeError);
  assert.equal(new asyncio.Barrier(N).parties, N);
});

Deno.test("Barrier: each party gets a distinct index", async () => {
  // CPython: test_locks.py BarrierTests.test_context_manager
  await runChecked(function* () {
    const barrier = new asyncio.Barrier(3);
    const results: number[] = [];
    yield* gatherTasks(3, function* () {
      results.push(yield* barrier.wait());
    });
    assert.deepEqual(results.sort(), [0, 1, 2]);
    assert.equal(barrier.nWaiting, 0);
    assert.equal(barrier.broken, false);
  });
});

Deno.test("Barrier: a one-party barrier never waits", async () => {
  // CPython: test_locks.py test_filling_one_task, test_filling_one_task_twice
  await runChecked(function* () {
    const barrier = new asyncio.Barrier(1);
    const first = barrier.wait();
    assert.ok(first.done(), "no suspension at all");
    assert.equal(yield* first, 0);
    const t1 = asyncio.createTask(function* () {
      return yield* barrier.wait();
    });
    yield* asyncio.sleep(0);
    assert.equal(barrier.nWaiting, 0);
    const t2 = asyncio.createTask(function* () {
      return yield* barrier.wait();
    });
    yield* asyncio.sleep(0);
    assert.equal(t1.result(), t2.result());
    assert.equal(barrier.nWaiting, 0);
    assert.equal(barrier.broken, false);
  });
});

Deno.test("Barrier: fills task by task", async () => {
  // CPython: test_locks.py test_filling_task_by_task
  await runChecked(function* () {
    const barrier = new asyncio.Barrier(3);
    const wait = () =>
      asyncio.createTask(function* () {
        return yield* barrier.wait();
      });
    const t1 = wait();
    yield* asyncio.sleep(0);
    assert.equal(barrier.nWaiting, 1);
    assert.match(String(barrier), /filling/);
    const t2 = wait();
    yield* asyncio.sleep(0);
    assert.equal(barrier.nWaiting, 2);
    const t3 = wait();
    yield* asyncio.sleep(0);
    yield* asyncio.wait([t1, t2, t3]);
    assert.equal(barrier.nWaiting, 0);
    assert.equal(barrier.broken, false);
  });
});

Deno.test("Barrier: the same parties pass twice in a row", async () => {
  // CPython: test_locks.py test_filling_tasks_wait_twice, test_filling_tasks_check_return_value
  await runChecked(function* () {
    const barrier = new asyncio.Barrier(N);
    const results: boolean[] = [];
    const indexes = yield* gatherTasks(N, function* () {
      yield* barrier.wait();
      results.push(true);
      const i = yield* barrier.wait();
      results.push(false);
      return i;
    });
    assert.equal(results.filter((x) => x).length, N);
    assert.equal(results.filter((x) => !x).length, N);
    assert.deepEqual(indexes.sort(), [0, 1, 2, 3, 4]);
    assert.equal(barrier.nWaiting, 0);
    assert.equal(barrier.broken, false);
  });
});

Deno.test("Barrier: the parties leave while it drains; the last one out refills it", async () => {
  // CPython: test_locks.py test_draining_state
  await runChecked(function* () {
    const barrier = new asyncio.Barrier(N);
    const results: boolean[] = [];
    yield* gatherTasks(N, function* () {
      yield* barrier.wait();
      results.push(String(barrier).includes("draining"));
    });
    assert.equal(results.length, N);
    assert.equal(results[N - 1], false);
    assert.ok(results.slice(0, N - 1).every((x) => x));
    assert.equal(barrier.nWaiting, 0);
  });
});

Deno.test("Barrier: newcomers block while the previous round drains", async () => {
  // CPython: test_locks.py test_blocking_tasks_while_draining
  await runChecked(function* () {
    const rewait = 2;
    const barrier = new asyncio.Barrier(N);
    const barrierNoWaiting = new asyncio.Barrier(N - rewait);
    let rewaitN = rewait;
    yield* gatherTasks(N, function* () {
      yield* barrier.wait();
      if (rewaitN > 0) {
        rewaitN--;
        yield* barrier.wait(); // wait again, for the rewait tasks only
      } else {
        yield* barrierNoWaiting.wait(); // wait for the end of draining
        yield* barrier.wait(); // then for the others
      }
    });
    assert.equal(barrier.nWaiting, 0);
  });
});

Deno.test("Barrier: a cancelled party no longer counts", async () => {
  // CPython: test_locks.py test_filling_tasks_cancel_one
  await runChecked(function* () {
    const barrier = new asyncio.Barrier(3);
    const results: boolean[] = [];
    const coro = () =>
      asyncio.createTask(function* () {
        yield* barrier.wait();
        results.push(true);
      });
    const t1 = coro();
    yield* asyncio.sleep(0);
    assert.equal(barrier.nWaiting, 1);
    const t2 = coro();
    yield* asyncio.sleep(0);
    assert.equal(barrier.nWaiting, 2);
    t1.cancel();
    yield* asyncio.sleep(0);
    assert.equal(barrier.nWaiting, 1);
    try {
      yield* t1;
      assert.fail("not cancelled");
    } catch (error) {
      assert.ok(error instanceof asyncio.CancelledError);
    }
    const t3 = coro();
    yield* asyncio.sleep(0);
    assert.equal(barrier.nWaiting, 2);
    const t4 = coro();
    yield* asyncio.gather([t2, t3, t4]);
    assert.equal(results.length, 3);
    assert.equal(barrier.nWaiting, 0);
    assert.equal(barrier.broken, false);
  });
});

Deno.test("Barrier: reset() of an empty barrier keeps it filling", async () => {
  // CPython: test_locks.py test_reset_barrier
  await runChecked(function* () {
    const barrier = new asyncio.Barrier(1);
    asyncio.createTask(function* () {
      yield* barrier.reset();
    });
    yield* asyncio.sleep(0);
    assert.equal(barrier.nWaiting, 0);
    assert.equal(barrier.broken, false);
  });
});

Deno.test("Barrier: reset() breaks the current waiters, then the barrier is usable", async () => {
  // CPython: test_locks.py test_reset_barrier_while_tasks_waiting
  await runChecked(function* () {
    const barrier = new asyncio.Barrier(N);
    const results: boolean[] = [];
    const tasks = makeTasks(N - 1, function* () {
      try {
        yield* barrier.wait();
      } catch (error) {
        if (!isBroken(error)) throw error;
        results.push(true);
      }
    });
    yield* asyncio.sleep(0);
    asyncio.createTask(function* () {
      yield* barrier.reset();
    });
    yield* asyncio.gather(tasks);
    assert.equal(results.length, N - 1);
    assert.equal(barrier.nWaiting, 0);
    assert.doesNotMatch(String(barrier), /resetting/);
    assert.equal(barrier.broken, false);
  });
});

Deno.test("Barrier: reset() while half the round is draining", async () => {
  // CPython: test_locks.py test_reset_barrier_when_tasks_half_draining
  await runChecked(function* () {
    const barrier = new asyncio.Barrier(N);
    const results1: boolean[] = [];
    const restOfTasks = Math.floor(N / 2);
    let left = 0;
    yield* gatherTasks(N, function* () {
      try {
        yield* barrier.wait();
      } catch (error) {
        if (!isBroken(error)) throw error;
        results1.push(true); // the waiting tasks
        return;
      }
      // A drained task, outside the barrier. CPython compares barrier._count
      // (the tasks still inside); each task leaves right before it gets here,
      // so that count is N minus the tasks out so far.
      left++;
      if (N - left === restOfTasks) yield* barrier.reset();
    });
    assert.deepEqual(results1, new Array(restOfTasks).fill(true));
    assert.equal(barrier.nWaiting, 0);
    assert.doesNotMatch(String(barrier), /resetting/);
    assert.equal(barrier.broken, false);
  });
});

Deno.test("Barrier: reset() with tasks half draining, half blocked", async () => {
  // CPython: test_locks.py test_reset_barrier_when_tasks_half_draining_half_blocking
  await runChecked(function* () {
    const barrier = new asyncio.Barrier(N);
    const results1: boolean[] = [];
    const results2: boolean[] = [];
    const blockingTasks = Math.floor(N / 2);
    let count = 0;
    yield* gatherTasks(N, function* () {
      try {
        yield* barrier.wait();
      } catch (error) {
        if (!isBroken(error)) throw error;
        results1.push(true); // still waiting tasks
        yield* barrier.wait(); // wait again to reach the parties
        return;
      }
      count++;
      if (count > blockingTasks) {
        yield* barrier.reset(); // waiting tasks get BrokenBarrierError
        yield* barrier.wait();
      } else {
        try {
          yield* barrier.wait();
        } catch (error) {
          if (!isBroken(error)) throw error;
          results2.push(true); // never: blocked tasks go on waiting
        }
      }
    });
    assert.deepEqual(results1, new Array(blockingTasks).fill(true));
    assert.deepEqual(results2, []);
    assert.equal(barrier.nWaiting, 0);
    assert.doesNotMatch(String(barrier), /resetting/);
    assert.equal(barrier.broken, false);
  });
});

Deno.test("Barrier: reset() while tasks wait; they wait again in a finally", async () => {
  // CPython: test_locks.py test_reset_barrier_while_tasks_waiting_and_waiting_again
  await runChecked(function* () {
    const barrier = new asyncio.Barrier(N);
    const results1: boolean[] = [];
    const results2: boolean[] = [];
    const tasks = makeTasks(N - 1, function* () {
      try {
        yield* barrier.wait();
      } catch (error) {
        if (!isBroken(error)) throw error;
        results1.push(true);
      } finally {
        yield* barrier.wait();
        results2.push(true);
      }
    });
    asyncio.createTask(function* () {
      yield* barrier.reset(); // the N-1 waiters fail with BrokenBarrierError
    });
    yield* asyncio.sleep(0);
    asyncio.createTask(function* () {
      yield* barrier.wait(); // completes the waiters' second round
      results2.push(true);
    });
    yield* asyncio.gather(tasks);
    assert.equal(barrier.broken, false);
    assert.equal(results1.length, N - 1);
    assert.equal(results2.length, N);
    assert.equal(barrier.nWaiting, 0);
  });
});

Deno.test("Barrier: reset() by the last task out, then the barrier works again", async () => {
  // CPython: test_locks.py test_reset_barrier_while_tasks_draining
  await runChecked(function* () {
    const barrier = new asyncio.Barrier(N);
    const results1: boolean[] = [];
    const results2: boolean[] = [];
    const results3: boolean[] = [];
    let count = 0;
    yield* gatherTasks(N, function* () {
      yield* barrier.wait();
      count++;
      if (count === N) {
        yield* barrier.reset(); // the last task out
        yield* barrier.wait();
      } else {
        try {
          yield* barrier.wait();
          results1.push(true);
        } catch {
          results2.push(true); // never
        }
      }
      yield* barrier.wait();
      results3.push(true);
    });
    assert.equal(barrier.broken, false);
    assert.equal(results1.length, N - 1);
    assert.equal(results2.length, 0);
    assert.equal(results3.length, N);
    assert.equal(barrier.nWaiting, 0);
  });
});

Deno.test("Barrier: abort() breaks it", async () => {
  // CPython: test_locks.py test_abort_barrier
  await runChecked(function* () {
    const barrier = new asyncio.Barrier(1);
    asyncio.createTask(function* () {
      yield* barrier.abort();
    });
    yield* asyncio.sleep(0);
    assert.equal(barrier.nWaiting, 0);
    assert.ok(barrier.broken);
    try {
      yield* barrier.wait();
      assert.fail("not broken");
    } catch (error) {
      assert.ok(isBroken(error));
      assert.equal((error as Error).name, "BrokenBarrierError");
    }
  });
});

Deno.test("Barrier: abort() with tasks half draining, half blocked", async () => {
  // CPython: test_locks.py test_abort_barrier_when_tasks_half_draining_half_blocking
  await runChecked(function* () {
    const barrier = new asyncio.Barrier(N);
    const results1: boolean[] = [];
    const results2: boolean[] = [];
    const blockingTasks = Math.floor(N / 2);
    let count = 0;
    yield* gatherTasks(N, function* () {
      try {
        yield* barrier.wait();
      } catch (error) {
        if (!isBroken(error)) throw error;
        results1.push(true); // tasks waiting to drain
        return;
      }
      count++;
      if (count > blockingTasks) {
        yield* barrier.abort(); // everyone gets BrokenBarrierError
      } else {
        try {
          yield* barrier.wait();
        } catch (error) {
          if (!isBroken(error)) throw error;
          results2.push(true); // blocked tasks, already drained
        }
      }
    });
    assert.ok(barrier.broken);
    assert.deepEqual(results1, new Array(blockingTasks).fill(true));
    assert.deepEqual(results2, new Array(N - blockingTasks - 1).fill(true));
    assert.equal(barrier.nWaiting, 0);
    assert.doesNotMatch(String(barrier), /resetting/);
  });
});

Deno.test("Barrier: abort() by a failing party releases the others with BrokenBarrierError", async () => {
  // CPython: test_locks.py test_abort_barrier_when_exception
  await runChecked(function* () {
    const barrier = new asyncio.Barrier(N);
    const results1: boolean[] = [];
    const results2: boolean[] = [];
    yield* gatherTasks(N, function* () {
      try {
        const i = yield* barrier.wait();
        if (i === Math.floor(N / 2)) throw new RangeError("party failed");
        yield* barrier.wait();
        results1.push(true);
      } catch (error) {
        if (isBroken(error)) results2.push(true);
        else if (error instanceof RangeError) yield* barrier.abort();
        else throw error;
      }
    });
    assert.ok(barrier.broken);
    assert.equal(results1.length, 0);
    assert.equal(results2.length, N - 1);
    assert.equal(barrier.nWaiting, 0);
  });
});

Deno.test("Barrier: abort, then reset and reuse", async () => {
  // CPython: test_locks.py test_abort_barrier_when_exception_then_resetting
  await runChecked(function* () {
    const barrier1 = new asyncio.Barrier(N);
    const barrier2 = new asyncio.Barrier(N);
    const results1: boolean[] = [];
    const results2: boolean[] = [];
    const results3: boolean[] = [];
    yield* gatherTasks(N, function* () {
      try {
        const i = yield* barrier1.wait();
        if (i === Math.floor(N / 2)) throw new RangeError("party failed");
        yield* barrier1.wait();
        results1.push(true);
      } catch (error) {
        if (isBroken(error)) results2.push(true);
        else if (error instanceof RangeError) yield* barrier1.abort();
        else throw error;
      }
      // Synchronize, reset, synchronize: nobody is inside barrier1 during the reset.
      const i = yield* barrier2.wait();
      if (i === Math.floor(N / 2)) yield* barrier1.reset();
      yield* barrier2.wait();
      yield* barrier1.wait();
      results3.push(true);
    });
    assert.equal(barrier1.broken, false);
    assert.equal(results1.length, 0);
    assert.equal(results2.length, N - 1);
    assert.equal(results3.length, N);
    assert.equal(barrier1.nWaiting, 0);
  });
});

// ------------------------------------------------------------ exact ordering (CPython trace)

Deno.test("Barrier: arrival, draining and reset order match CPython step by step", async () => {
  // The same program under CPython 3.13 logs exactly this sequence (checked
  // with ~/.pyenv/versions/3.13.0/bin/python3).
  const log = await runChecked(function* () {
    const barrier = new asyncio.Barrier(3);
    const loop = asyncio.getRunningLoop();
    const log: string[] = [];
    const party = (name: string, rounds: number) =>
      asyncio.createTask(function* () {
        for (let r = 0; r < rounds; r++) {
          try {
            const i = yield* barrier.wait();
            log.push(`${name}${r}=${i}`);
          } catch (error) {
            log.push(`${name}${r} ${(error as Error).name}`);
          }
        }
      });
    const tick = (i: number) => {
      log.push(`tick${i}`);
      if (i < 12) loop.callSoon(tick, i + 1);
    };
    loop.callSoon(tick, 0);
    const tasks = [party("a", 2), party("b", 2), party("c", 1), party("d", 2)];
    yield* asyncio.sleep(0);
    yield* asyncio.sleep(0);
    log.push(`main resets ${barrier}`);
    yield* barrier.reset();
    log.push(`main reset done ${barrier}`);
    const e = party("e", 1);
    for (let i = 0; i < 8; i++) yield* asyncio.sleep(0);
    log.push(`main aborts ${barrier}`);
    yield* barrier.abort();
    yield* asyncio.gather([...tasks, e], { returnExceptions: true });
    return log.slice();
  });
  assert.deepEqual(log, [
    "tick0",
    "c0=2",
    "tick1",
    "a0=0",
    "b0=1",
    "main resets <Barrier [filling, waiters:1/3]>",
    "main reset done <Barrier [resetting, waiters:0/3]>",
    "tick2",
    "b1 BrokenBarrierError",
    "tick3",
    "a1=2",
    "tick4",
    "e0=0",
    "d0=1",
    "tick5",
    "tick6",
    "tick7",
    "tick8",
    "tick9",
    "main aborts <Barrier [filling, waiters:1/3]>",
    "tick10",
    "d1 BrokenBarrierError",
    "tick11",
    "tick12",
  ]);
});

// ------------------------------------------------------------ future mode

Deno.test("Barrier: async-function parties with signals", async () => {
  const indexes = await runChecked(function* () {
    const barrier = new asyncio.Barrier(3);
    const controller = new AbortController();
    const party = () =>
      asyncio.createTask(async (signal: AbortSignal) => await barrier.wait({ signal }));
    const quitter = asyncio.createTask(async () => {
      try {
        return await barrier.wait({ signal: controller.signal });
      } catch (error) {
        return (error as Error).name;
      }
    });
    const a = party();
    while (barrier.nWaiting < 2) yield* asyncio.sleep(0);
    controller.abort();
    assert.equal(yield* quitter, "CancelledError");
    while (barrier.nWaiting !== 1) yield* asyncio.sleep(0);
    const b = party();
    const c = party();
    return yield* asyncio.gather([a, b, c]);
  });
  // The quitter arrived first (index 0) and left: as in CPython (same program
  // prints [1, 1, 2] under 3.13), indexes count the parties inside, so one repeats.
  assert.deepEqual(indexes, [1, 1, 2]);
});

Deno.test("Barrier: wait(), reset() and abort() reject bad options clearly", () => {
  const barrier = new asyncio.Barrier(2);
  // deno-lint-ignore no-explicit-any
  const bad = barrier as any;
  assert.throws(() => bad.wait(1), {
    name: "TypeError",
    message: "Barrier.wait(): 'options' must be an object, got 1",
  });
  assert.throws(
    () => bad.reset({ signal: 1 }),
    /Barrier.reset\(\): 'signal' must be an AbortSignal/,
  );
  assert.throws(() => bad.abort(null), /Barrier.abort\(\): 'options' must be an object/);
  assert.ok(barrier.wait({ signal: AbortSignal.abort() }).cancelled());
});

Deno.test("BrokenBarrierError: has its class name", () => {
  const error = new asyncio.BrokenBarrierError("x");
  assert.equal(error.name, "BrokenBarrierError");
  assert.ok(error instanceof Error);
});
