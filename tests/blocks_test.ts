/**
 * Blocks run in the caller's task and start when awaited (timeout,
 * timeoutAt, taskGroup, waitFor): the issue "No known difference from
 * CPython". Every expected outcome here is what CPython 3.13 prints for the
 * same program (checked by running it), in both coroutine styles.
 */

import assert from "node:assert/strict";
import * as asyncio from "../mod.ts";
import { captureReports, type Gen, iterationCounter, runVirtual } from "./_helpers.ts";

Deno.test("currentTask().cancel() inside a block cancels the caller", async (t) => {
  // Python: the block saw CancelledError with cancelling() == 1; the task ends cancelled.
  await t.step("generator", async () => {
    await runVirtual(function* () {
      let seen = -1;
      const task = asyncio.createTask(function* () {
        yield* asyncio.timeout(10, function* () {
          asyncio.currentTask()!.cancel();
          try {
            yield* asyncio.sleep(0);
          } catch (error) {
            seen = asyncio.currentTask()!.cancelling();
            throw error;
          }
        });
      });
      yield* asyncio.gather([task], { returnExceptions: true });
      assert.equal(seen, 1);
      assert.ok(task.cancelled());
    });
  });
  await t.step("async", async () => {
    await runVirtual(async () => {
      let seen = -1;
      const task = asyncio.createTask(async () => {
        await asyncio.timeout(10, async () => {
          asyncio.currentTask()!.cancel();
          try {
            await asyncio.sleep(0);
          } catch (error) {
            seen = asyncio.currentTask()!.cancelling();
            throw error;
          }
        });
      });
      await asyncio.gather([task], { returnExceptions: true });
      assert.equal(seen, 1);
      assert.ok(task.cancelled());
    });
  });
});

Deno.test("a cancellation requested before timeout() counts in its uncancel() check", async (t) => {
  // CPython timeouts.py: __aenter__ takes task.cancelling() (1); on expiry
  // it cancels (2); uncancel() gives 1 <= 1, so it raises TimeoutError, and
  // the earlier request stays: cancelling() is 1 after the block.
  await t.step("generator", async () => {
    await runVirtual(function* () {
      const task = asyncio.createTask(function* () {
        asyncio.currentTask()!.cancel();
        try {
          yield* asyncio.timeout(0, function* () {
            yield* asyncio.sleep(1_000);
          });
        } catch (error) {
          return [(error as Error).name, asyncio.currentTask()!.cancelling()];
        }
      });
      assert.deepEqual(yield* task, ["TimeoutError", 1]);
    });
  });
  await t.step("async", async () => {
    await runVirtual(async () => {
      const task = asyncio.createTask(async () => {
        asyncio.currentTask()!.cancel();
        try {
          await asyncio.timeout(0, () => asyncio.sleep(1_000));
        } catch (error) {
          return [(error as Error).name, asyncio.currentTask()!.cancelling()];
        }
      });
      assert.deepEqual(await task, ["TimeoutError", 1]);
    });
  });
});

Deno.test("a task group's parent is the caller: its request is taken back on exit", async (t) => {
  // Python: after `except* ValueError`, cancelling() is 0 and the task carries on.
  const boom = function* (): Gen<void> {
    yield* asyncio.sleep(0);
    throw new RangeError("x");
  };
  await t.step("generator", async () => {
    await runVirtual(function* () {
      const me = asyncio.currentTask()!;
      let during = -1;
      try {
        yield* asyncio.taskGroup(function* (tg) {
          tg.createTask(boom);
          try {
            yield* asyncio.sleep(1_000);
          } finally {
            during = me.cancelling(); // the group cancelled us, its parent
          }
        });
      } catch (error) {
        assert.ok(error instanceof asyncio.ExceptionGroup);
      }
      assert.equal(during, 1);
      assert.equal(me.cancelling(), 0);
      yield* asyncio.sleep(0); // carried on
    });
  });
  await t.step("async", async () => {
    await runVirtual(async () => {
      const me = asyncio.currentTask()!;
      let during = -1;
      await assert.rejects(
        asyncio.taskGroup(async (tg) => {
          tg.createTask(boom);
          try {
            await asyncio.sleep(1_000);
          } finally {
            during = me.cancelling();
          }
        }),
        asyncio.ExceptionGroup,
      );
      assert.equal(during, 1);
      assert.equal(me.cancelling(), 0);
      await asyncio.sleep(0);
    });
  });
});

Deno.test("a task group cancelled from outside while it fails re-cancels its parent", async (t) => {
  // CPython taskgroups.py: uncancel() + cancel() keeps the count; the
  // ExceptionGroup comes out first and the next wait raises CancelledError.
  // Python 3.13 prints: "cancelling 1", "recancelled at next await 1".
  const program = (style: "generator" | "async") =>
    runVirtual(function* () {
      const loop = asyncio.getRunningLoop();
      const log: string[] = [];
      const fail = () => {
        throw new RangeError("x");
      };
      const task = style === "generator"
        ? asyncio.createTask(function* () {
          const me = asyncio.currentTask()!;
          try {
            yield* asyncio.taskGroup(function* (tg) {
              tg.createTask(function* () {
                fail();
              });
              yield* asyncio.sleep(1_000);
            });
          } catch (error) {
            if (!(error instanceof asyncio.ExceptionGroup)) throw error;
            log.push(`cancelling ${me.cancelling()}`);
          }
          try {
            yield* asyncio.sleep(0);
            log.push("not cancelled");
          } catch (error) {
            log.push(`recancelled ${me.cancelling()}`);
            throw error;
          }
        })
        : asyncio.createTask(async () => {
          const me = asyncio.currentTask()!;
          try {
            await asyncio.taskGroup(async (tg) => {
              tg.createTask(async () => fail());
              await asyncio.sleep(1_000);
            });
          } catch (error) {
            if (!(error instanceof asyncio.ExceptionGroup)) throw error;
            log.push(`cancelling ${me.cancelling()}`);
          }
          try {
            await asyncio.sleep(0);
            log.push("not cancelled");
          } catch (error) {
            log.push(`recancelled ${me.cancelling()}`);
            throw error;
          }
        });
      yield* asyncio.sleep(0);
      loop.callSoon(() => task.cancel()); // the iteration after the child failed
      yield* asyncio.gather([task], { returnExceptions: true });
      assert.ok(task.cancelled());
      return log;
    });
  await t.step("generator", async () => {
    assert.deepEqual(await program("generator"), ["cancelling 1", "recancelled 1"]);
  });
  await t.step("async", async () => {
    assert.deepEqual(await program("async"), ["cancelling 1", "recancelled 1"]);
  });
});

Deno.test("gather() starts a waitFor() child in order, and its deadline counts from then", async () => {
  // Python: gather(w("a"), w("b"), wait_for(w("c"), 0.06), w("d")) starts
  // a, b, c, d in that order, all at the same loop time.
  await runVirtual(function* () {
    const loop = asyncio.getRunningLoop();
    const log: string[] = [];
    const w = (name: string) =>
      function* () {
        log.push(`${name} start ${loop.time()}`);
        yield* asyncio.sleep(1);
        return name;
      };
    yield* asyncio.sleep(25);
    const waiting = asyncio.waitFor(w("c")(), 60);
    yield* asyncio.sleep(25); // the deadline has not started: nothing ran
    const results = yield* asyncio.gather([w("a"), w("b"), waiting, w("d")]);
    assert.deepEqual(results, ["a", "b", "c", "d"]);
    assert.deepEqual(log, ["a start 50", "b start 50", "c start 50", "d start 50"]);
  });
});

Deno.test("money moved between locked accounts ends with the balances Python prints", async () => {
  // The program of the issue: transfers under per-account locks, one of them
  // through gather([... waitFor(transfer, 60) ...]). Python 3.13 prints
  // {'a': 70, 'b': 130, 'c': 100} and the same order of transfers.
  await runVirtual(function* () {
    const balance: Record<string, number> = { a: 100, b: 100, c: 100 };
    const locks: Record<string, asyncio.Lock> = {
      a: new asyncio.Lock(),
      b: new asyncio.Lock(),
      c: new asyncio.Lock(),
    };
    const order: string[] = [];
    const transfer = (from: string, to: string, amount: number) =>
      function* (): Gen<void> {
        const first = from < to ? from : to;
        const second = from < to ? to : from;
        yield* locks[first].acquire();
        try {
          yield* locks[second].acquire();
          try {
            const seen = balance[from];
            yield* asyncio.sleep(0);
            if (seen < amount) return;
            balance[from] = seen - amount;
            balance[to] += amount;
            order.push(`${from}->${to} ${amount}`);
          } finally {
            locks[second].release();
          }
        } finally {
          locks[first].release();
        }
      };
    yield* asyncio.gather([
      transfer("a", "b", 50),
      transfer("b", "c", 20),
      asyncio.waitFor(transfer("c", "a", 20)(), 60),
      transfer("b", "a", 0),
    ]);
    assert.deepEqual(balance, { a: 70, b: 130, c: 100 });
    assert.deepEqual(order, ["a->b 50", "b->c 20", "c->a 20", "b->a 0"]);
  });
});

Deno.test("blocks handed to combinators start as tasks, scheduled like other children", async (t) => {
  // The iteration each child resumes in, counted by a call_soon chain, is
  // the same as for the same Python program (gather/create_task of
  // coroutines using wait_for, timeout and TaskGroup).
  await t.step("gather, createTask, TaskGroup.createTask, wait, asCompleted, shield", async () => {
    await runVirtual(function* () {
      const ticks = iterationCounter();
      const log: string[] = [];
      const block = (name: string) =>
        asyncio.timeout(1_000, function* () {
          log.push(`${name} ${ticks()}`);
          yield* asyncio.sleep(0);
          log.push(`${name} done ${ticks()}`);
          return name;
        });
      const t0 = ticks();
      const results = yield* asyncio.gather([block("g1"), block("g2")]);
      assert.deepEqual(results, ["g1", "g2"]);
      const task = asyncio.createTask(block("task"));
      assert.equal(yield* task, "task");
      yield* asyncio.taskGroup(function* (tg) {
        tg.createTask(block("tg"));
      });
      const { done } = yield* asyncio.wait([block("wait")]);
      assert.equal(done.size, 1);
      for (const next of asyncio.asCompleted([block("ac")])) assert.equal(yield* next, "ac");
      assert.equal(yield* asyncio.shield(block("shield")), "shield");
      // Python 3.13 prints the same list for the same program (relative to t0).
      assert.deepEqual(log.map((l) => l.replace(/\d+$/, (n) => String(Number(n) - t0))), [
        "g1 1",
        "g2 1",
        "g1 done 2",
        "g2 done 2",
        "task 5",
        "task done 6",
        "tg 8",
        "tg done 9",
        "wait 12",
        "wait done 13",
        "ac 16",
        "ac done 17",
        "shield 20",
        "shield done 21",
      ]);
    });
  });
  await t.step("createTask(block) twice, or after it was waited on, is refused", async () => {
    await runVirtual(function* () {
      const block = asyncio.waitFor(asyncio.sleep(1), 10);
      const task = asyncio.createTask(block, { name: "blk" });
      assert.equal(task, block);
      assert.equal(task.getName(), "blk");
      assert.throws(() => asyncio.createTask(block), /already waited on; a block runs once/);
      yield* task;
    });
  });
});

Deno.test("a block nobody waits on never runs; in debug mode that is reported", async (t) => {
  for (const make of ["waitFor", "taskGroup", "timeoutAt"] as const) {
    await t.step(make, async () => {
      let reports: asyncio.ExceptionContext[] = [];
      let ran = false;
      await runVirtual(function* () {
        reports = captureReports(asyncio.getRunningLoop());
        const body = function* () {
          ran = true;
        };
        if (make === "waitFor") asyncio.waitFor(body(), 10);
        else if (make === "taskGroup") asyncio.taskGroup(body);
        else asyncio.timeoutAt(10, body);
        yield* asyncio.sleep(5);
      }, { debug: true });
      assert.equal(ran, false);
      assert.equal(reports.length, 1);
      assert.match(reports[0].message, new RegExp(`^${make}\\(\\) was never awaited`));
    });
  }
  await t.step("without debug mode, nothing is reported", async () => {
    let reports: asyncio.ExceptionContext[] = [];
    await runVirtual(function* () {
      reports = captureReports(asyncio.getRunningLoop());
      asyncio.timeout(10, function* () {});
      yield* asyncio.sleep(5);
    });
    assert.deepEqual(reports, []);
  });
});

// As for unretrieved futures (ensure_future_test.ts): a block collected before
// its finalizer ran is reported when its loop closes, once.
const forceGc = (globalThis as { gc?: () => void }).gc;
Deno.test({
  name:
    "debug mode: a block collected before its finalizer ran is still reported when its loop closes",
  ignore: forceGc === undefined,
  fn: async () => {
    const loop = new asyncio.EventLoop({ clock: new asyncio.VirtualClock(), debug: true });
    const reports = captureReports(loop);
    await loop.runUntilComplete(function* () {
      asyncio.timeout(10, function* () {});
    });
    await new Promise((resolve) => setTimeout(resolve, 0));
    forceGc!();
    loop.close();
    assert.equal(reports.length, 1);
    assert.match(reports[0].message, /^timeout\(\) was never awaited/);
    await new Promise((resolve) => setTimeout(resolve, 0));
    assert.equal(reports.length, 1, "reported once");
  },
});
