/**
 * DeadlockError and the task tree. The deadlock check waits a real-time
 * window (the clock's `deadlockAfterMs`) by design; what each test asserts
 * does not depend on how long anything takes: work the host still does is
 * recognised by what it is (a promise followed by a future, an async task
 * awaiting something foreign), not by timing. The real-I/O case (a fetch
 * to a local server) needs network permission and runs in
 * tests/host/inspect_host.ts.
 */

import assert from "node:assert/strict";
import * as asyncio from "../mod.ts";
import type { Gen } from "./_helpers.ts";

/** The acceptance program: two tasks each waiting for the other's event, under taskGroup inside gather. */
function* deadlocked(): Gen<void> {
  const ping = new asyncio.Event();
  const pong = new asyncio.Event();
  yield* asyncio.gather([
    asyncio.createTask(function* group() {
      yield* asyncio.taskGroup(function* (tg) {
        tg.createTask(function* alice() {
          yield* pong.wait();
          ping.set();
        }, { name: "alice" });
        tg.createTask(function* bob() {
          yield* ping.wait();
          pong.set();
        }, { name: "bob" });
      });
    }, { name: "group" }),
  ]);
}

function clock(deadlockAfterMs?: number): asyncio.VirtualClock {
  return new asyncio.VirtualClock({ autojump: true, deadlockAfterMs });
}

Deno.test("run() rejects with DeadlockError naming both tasks and the chain to main", async () => {
  const error = await asyncio.run(deadlocked, { clock: clock() }).then(
    () => assert.fail("no deadlock found"),
    (error) => error,
  );
  assert.ok(error instanceof asyncio.DeadlockError);
  assert.ok(error.cause instanceof asyncio.CancelledError);
  const lines = (error.message as string).split("\n");
  assert.match(lines[0], /^no task can ever run again: nothing is ready, no timer is armed/);
  assert.match(lines[1], /^Tasks of <EventLoop .*>, loop time 0 ms: 4$/);
  assert.deepEqual(lines.slice(2).map((line) => line.replace(/ on <TaskGroup[^>]*>/, "")), [
    "└── (T) Task-" + /Task-(\d+)/.exec(lines[2])![1] +
    ": generator deadlocked(), waiting on gather() of 1 pending, age 0 ms",
    "    └── (T) group: generator group(), waiting on taskGroup() exit, age 0 ms",
    "        ├── (T) alice: generator alice(), waiting on Event.wait() on <Event [unset, waiters:1]>, age 0 ms",
    "        └── (T) bob: generator bob(), waiting on Event.wait() on <Event [unset, waiters:1]>, age 0 ms",
  ]);
});

Deno.test("DeadlockError: async-function tasks in the host's async context", async () => {
  const error = await asyncio.run(async function main() {
    const ping = new asyncio.Event();
    const pong = new asyncio.Event();
    await asyncio.taskGroup((tg) => {
      tg.createTask(async function alice() {
        await pong.wait();
        ping.set();
      }, { name: "alice" });
      tg.createTask(async function bob() {
        await ping.wait();
        pong.set();
      }, { name: "bob" });
    });
  }, { clock: clock() }).catch((error) => error);
  assert.ok(error instanceof asyncio.DeadlockError);
  assert.match(error.message, /alice: async alice\(\), waiting on Event\.wait\(\)/);
  assert.match(error.message, /bob: async bob\(\), waiting on Event\.wait\(\)/);
});

Deno.test("DeadlockError: the program unwinds first (finally blocks run)", async () => {
  const log: string[] = [];
  const error = await asyncio.run(function* main() {
    try {
      yield* new asyncio.Future<void>();
    } finally {
      log.push("cleaned up");
    }
  }, { clock: clock() }).catch((error) => error);
  assert.ok(error instanceof asyncio.DeadlockError);
  assert.deepEqual(log, ["cleaned up"]);
});

Deno.test("DeadlockError: a cleanup that is stuck too does not hang the run", async () => {
  const error = await asyncio.run(function* main() {
    try {
      yield* new asyncio.Future<void>();
    } finally {
      yield* new asyncio.Future<void>(); // stuck in cleanup as well
    }
  }, { clock: clock(5) }).catch((error) => error);
  assert.ok(error instanceof asyncio.DeadlockError);
});

Deno.test("no DeadlockError while a followed promise is pending (ensureFuture of host work)", async () => {
  const result = await asyncio.run(function* main() {
    // Host work the loop cannot see but knows about: longer than the window.
    const host = new Promise<string>((resolve) => setTimeout(() => resolve("host"), 60));
    const value = yield* asyncio.ensureFuture(host);
    yield* asyncio.sleep(1_000); // and virtual time still jumps
    return value;
  }, { clock: clock(5) });
  assert.equal(result, "host");
});

Deno.test("no DeadlockError while an async-function task awaits something foreign", async () => {
  const result = await asyncio.run(async function main() {
    await new Promise((resolve) => setTimeout(resolve, 60));
    await asyncio.sleep(1_000);
    const event = new asyncio.Event();
    asyncio.createTask(async () => {
      await new Promise((resolve) => setTimeout(resolve, 30));
      event.set();
    });
    await event.wait();
    return "done";
  }, { clock: clock(5) });
  assert.equal(result, "done");
});

Deno.test("deadlockAfterMs: Infinity turns the check off; a real clock never checks", async () => {
  // Host timers the loop cannot see set the future: with the check off, that is fine.
  const fut = new Promise<void>((resolve) => setTimeout(resolve, 20));
  const result = await asyncio.run(function* main() {
    const future = new asyncio.Future<string>();
    setTimeout(() => future.setResult("woken"), 20);
    return yield* future;
  }, { clock: clock(Infinity) });
  assert.equal(result, "woken");
  await fut;
});

Deno.test("formatTaskTree(): states, waits and ages", async () => {
  const clock = new asyncio.VirtualClock({ autojump: true });
  await asyncio.run(function* main() {
    yield* asyncio.sleep(5);
    const queue = new asyncio.Queue<number>(1);
    queue.putNowait(1);
    const sleeper = asyncio.createTask(function* sleeper() {
      yield* asyncio.sleep(100);
    }, { name: "sleeper" });
    const putter = asyncio.createTask(function* putter() {
      yield* queue.put(2);
    }, { name: "putter" });
    const ready = asyncio.createTask(function* ready() {}, { name: "ready" });
    yield* asyncio.sleep(0);
    yield* asyncio.sleep(10);
    const fresh = asyncio.createTask(function* fresh() {}, { name: "fresh" });
    sleeper.cancel();
    const tree = asyncio.formatTaskTree();
    assert.match(tree, /^Tasks of <EventLoop .*>, loop time 15 ms: 4$/m);
    assert.match(tree, /\(T\) Task-\d+: generator main\(\), running, age 15 ms/);
    assert.match(
      tree,
      /\(T\) sleeper: generator sleeper\(\), ready to run, cancelling \(1\), age 10 ms/,
    );
    assert.match(
      tree,
      /\(T\) putter: generator putter\(\), waiting on Queue\.put\(\) on <Queue .*>, age 10 ms/,
    );
    assert.match(tree, /\(T\) fresh: generator fresh\(\), ready to run, age 0 ms/);
    assert.equal(ready.done(), true);
    const sleeping = asyncio.createTask(function* () {
      yield* asyncio.sleep(20);
    }, { name: "sleeping" });
    yield* asyncio.sleep(0);
    assert.match(
      asyncio.formatTaskTree(),
      /sleeping: generator <anonymous>\(\), waiting on sleep until 35 ms \(in 20 ms\), age 0 ms/,
    );
    sleeping.cancel();
    yield* queue.get();
    yield* asyncio.gather([putter, fresh, sleeper, sleeping], { returnExceptions: true });
  }, { clock });
});

Deno.test("formatTaskTree(): debug mode shows where each task suspended and was created", async () => {
  await asyncio.run(function* main() {
    const event = new asyncio.Event();
    const waiter = asyncio.createTask(function* waiter() {
      yield* event.wait();
    }, { name: "waiter" });
    yield* asyncio.sleep(0);
    const tree = asyncio.formatTaskTree();
    assert.match(tree, /waiter: generator waiter\(\), waiting on Event\.wait\(\)/);
    assert.match(tree, /\n {8}at waiter \(file:.*deadlock_test\.ts:\d+:\d+\)\n/);
    assert.match(tree, /\n {8}created at main \(file:.*deadlock_test\.ts:\d+:\d+\)/);
    event.set();
    yield* waiter;
  }, { clock: new asyncio.VirtualClock({ autojump: true }), debug: true });
});

Deno.test("formatTaskTree(): no age on the real clock outside debug mode, an age in debug mode", async () => {
  // The birth is recorded only where it is cheap or asked for (see birthTime):
  // a task on the real clock shows no age unless the loop is in debug mode,
  // whatever its coroutine style.
  for (const debug of [false, true]) {
    const tree = await asyncio.run(function* main() {
      const idle = asyncio.createTask(function* idle() {}, { name: "idle" });
      const idleAsync = asyncio.createTask(async function idleAsync() {}, { name: "idleAsync" });
      const text = asyncio.formatTaskTree();
      yield* asyncio.gather([idle, idleAsync]);
      return text;
    }, { debug });
    for (const [name, style] of [["idle", "generator"], ["idleAsync", "async"]]) {
      const line = tree.split("\n").find((l) => l.includes(`(T) ${name}:`)) ?? "";
      assert.match(line, new RegExp(`${style} ${name}\\(\\), ready to run`));
      if (debug) assert.match(line, /, age \d+(\.\d+)? ms$/);
      else assert.doesNotMatch(line, /age/);
    }
  }
});
