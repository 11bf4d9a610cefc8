// The package keeps one inert instance of each hot class (src/_shapes.ts) so
// that V8 keeps their maps, and the optimized code that embeds them, across
// runs. These tests hold the kept instances to "inert": a loop of their own
// that never runs, nothing scheduled, nothing a program can see.
import assert from "node:assert/strict";
import * as asyncio from "../mod.ts";
import { keepShapeOf, shapeLoop } from "../src/_shapes.ts";
import { runVirtual } from "./_helpers.ts";

Deno.test("shapes: they live on an idle loop of their own, with no task", async () => {
  await runVirtual(function* () {
    yield* asyncio.createTask(function* () {}); // a task, a future: their shapes are kept by now
    const loop = shapeLoop();
    assert.notEqual(loop, asyncio.getRunningLoop());
    assert.equal(loop.isRunning(), false);
    assert.equal(loop.isClosed(), false);
    assert.equal(asyncio.allTasks(loop).size, 0, "the kept task is dormant, not registered");
    let given: asyncio.EventLoop | null = null;
    assert.equal(keepShapeOf((l) => (given = l)), true);
    assert.equal(given, loop);
  });
});

Deno.test("shapes: a program does not see them (its tasks, its reports)", async () => {
  const reports: asyncio.ExceptionContext[] = [];
  await runVirtual(function* () {
    asyncio.getRunningLoop().setExceptionHandler((_loop, context) => reports.push(context));
    const lock = new asyncio.Lock();
    yield* lock.acquire();
    const waiter = asyncio.createTask(function* () {
      yield* lock.acquire(); // a WaitOp and a task: the first of their kind in a fresh process
      lock.release();
    });
    yield* asyncio.sleep(0);
    assert.equal(asyncio.allTasks().size, 2, "main and the waiter");
    lock.release();
    yield* waiter;
    yield* asyncio.gather([asyncio.sleep(1), asyncio.waitFor(asyncio.sleep(1), 5)]);
  });
  assert.equal(reports.length, 0);
});

// Future's methods meet one hidden class per Future subclass; past four, V8's
// inline caches go megamorphic for the whole program (the lock workload ran
// 2.2 times slower in a process that had once used wait(), shield() and
// timeout()). So the combinators' and the primitives' futures are plain
// Futures with a kind, and only tasks (Task, and blocks) are subclasses.
Deno.test("hidden classes: gather, wait, shield, asCompleted and a waiting acquire() are plain Futures", async () => {
  await runVirtual(function* () {
    const lock = new asyncio.Lock();
    yield* lock.acquire();
    const acquiring = lock.acquire(); // must wait: an operation future
    assert.equal(Object.getPrototypeOf(acquiring), asyncio.Future.prototype);
    lock.release();
    (yield* acquiring)[Symbol.dispose]();
    const sleeper = asyncio.createTask(function* () {
      yield* asyncio.sleep(5);
      return 1;
    });
    const made: asyncio.Future<unknown>[] = [
      asyncio.gather([sleeper]),
      asyncio.wait([sleeper]),
      asyncio.shield(sleeper),
    ];
    const later = asyncio.asCompleted([sleeper])[Symbol.asyncIterator]().next();
    for (const future of made) {
      assert.equal(Object.getPrototypeOf(future), asyncio.Future.prototype, String(future));
    }
    assert.equal(Object.getPrototypeOf(later), asyncio.Future.prototype);
    yield* asyncio.gather(made);
    yield* (later as unknown as asyncio.Future<unknown>);
  });
});
