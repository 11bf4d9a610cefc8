// Types a user does not have to write: every example below is the code a user
// would type, with no annotation and no cast, and `expectType` pins what
// TypeScript infers for it. `deno test` (and `deno check tests/`) type-checks
// this file, so an inference regression fails the suite; the runtime asserts
// only confirm that the examples do what they say.
import assert from "node:assert/strict";
import * as asyncio from "../mod.ts";
import { assertIdentical } from "./_helpers.ts";

type Equals<A, B> = (<X>() => X extends A ? 1 : 2) extends (<X>() => X extends B ? 1 : 2) ? true
  : false;
function expectType<A, B>(_proof: Equals<A, B>): void {}

const autojump = () => ({ clock: new asyncio.VirtualClock({ autojump: true }) });

Deno.test("inference: run() resolves to main's result, in both coroutine styles", async () => {
  const fromGenerator = await asyncio.run(function* () {
    yield* asyncio.sleep(1);
    return 42;
  }, autojump());
  expectType<typeof fromGenerator, number>(true);
  const fromAsync = await asyncio.run(async () => "text", autojump());
  expectType<typeof fromAsync, string>(true);
  const fromTask = await asyncio.run(() => asyncio.sleep(1).then(() => true), autojump());
  expectType<typeof fromTask, boolean>(true);
  // A plain function's value (the task resolves to what it returns).
  const fromPlain = await asyncio.run(() => ({ id: 7 }), autojump());
  expectType<typeof fromPlain, { id: number }>(true);
  assert.deepEqual([fromGenerator, fromAsync, fromTask, fromPlain], [42, "text", true, { id: 7 }]);
});

Deno.test("inference: gather gives a tuple of each input's result", async () => {
  await asyncio.run(function* () {
    const task = asyncio.createTask(function* () {
      yield* asyncio.sleep(1);
      return { id: 7 };
    });
    const [n, s, b, obj] = yield* asyncio.gather([
      asyncio.sleep(5).then(() => 3),
      async () => "s",
      (function* () {
        return true;
      })(),
      task,
    ]);
    expectType<typeof n, number>(true);
    expectType<typeof s, string>(true);
    expectType<typeof b, boolean>(true);
    expectType<typeof obj, { id: number }>(true);
    const settled = yield* asyncio.gather([async () => 1, task], { returnExceptions: true });
    expectType<typeof settled, [number | Error, { id: number } | Error]>(true);
    assert.deepEqual([n, s, b, obj.id, settled[0]], [3, "s", true, 7, 1]);
  }, autojump());
});

Deno.test("inference: waitFor and timeout keep the work's result type", async () => {
  await asyncio.run(function* () {
    const fetched = yield* asyncio.waitFor(async (signal: AbortSignal) => {
      await asyncio.sleep(1, { signal });
      return { status: 200, body: "ok" };
    }, 100);
    expectType<typeof fetched, { status: number; body: string }>(true);
    const viaTask = yield* asyncio.waitFor(
      asyncio.createTask(function* () {
        return "done";
      }),
      null,
    );
    expectType<typeof viaTask, string>(true);
    const inTime = yield* asyncio.timeout(100, function* (_signal, scope) {
      scope.reschedule(scope.when()! + 10);
      yield* asyncio.sleep(1);
      return [1, 2];
    });
    expectType<typeof inTime, number[]>(true);
    const asyncBody = yield* asyncio.timeoutAt(null, async () => 5n);
    expectType<typeof asyncBody, bigint>(true);
    assert.deepEqual([fetched.status, viaTask, inTime, asyncBody], [200, "done", [1, 2], 5n]);
  }, autojump());
});

Deno.test("inference: a caught ExceptionGroup's errors are Errors, no cast", async () => {
  const messages = await asyncio.run(function* () {
    try {
      yield* asyncio.taskGroup(function* (tg) {
        tg.createTask(function* () {
          yield* asyncio.sleep(1);
          throw new RangeError("first");
        });
        yield* asyncio.sleep(10);
      });
      return [];
    } catch (e) {
      if (e instanceof asyncio.ExceptionGroup) {
        expectType<typeof e.errors, Error[]>(true);
        return e.errors.map((x) => x.message);
      }
      throw e;
    }
  }, autojump());
  expectType<typeof messages, string[]>(true);
  assert.deepEqual(messages, ["first"]);
  class HttpError extends Error {
    constructor(readonly status: number) {
      super(`HTTP ${status}`);
    }
  }
  const typed = new asyncio.ExceptionGroup([new HttpError(404), new HttpError(500)]);
  expectType<typeof typed.errors, HttpError[]>(true);
  assert.deepEqual(typed.errors.map((x) => x.status), [404, 500]);
});

Deno.test("inference: taskGroup's result and its children's tasks", async () => {
  await asyncio.run(function* () {
    const [total, tasks] = yield* asyncio.taskGroup(function* (tg) {
      const parts = [1, 2, 3].map((n) =>
        tg.createTask(function* () {
          yield* asyncio.sleep(n);
          return n * 10;
        })
      );
      const label = tg.createTask(async () => "sum");
      yield* asyncio.sleep(0);
      return [parts.length, { parts, label }] as const;
    });
    expectType<typeof total, number>(true);
    expectType<typeof tasks.parts, asyncio.Task<number>[]>(true);
    expectType<typeof tasks.label, asyncio.Task<string>>(true);
    assert.equal(tasks.parts.reduce((sum, t) => sum + t.result(), 0), 60);
    assert.equal(tasks.label.result(), "sum");
  }, autojump());
});

Deno.test("inference: wait() and asCompleted() keep the futures' types", async () => {
  await asyncio.run(async () => {
    const fast = asyncio.createTask(() => asyncio.sleep(10).then(() => 10));
    const slow = asyncio.createTask(async () => {
      await asyncio.sleep(20);
      return "slow";
    });
    const { done, pending } = await asyncio.wait([fast, slow], {
      returnWhen: asyncio.FIRST_COMPLETED,
    });
    expectType<typeof done, Set<asyncio.Task<number> | asyncio.Task<string>>>(true);
    expectType<typeof pending, Set<asyncio.Task<number> | asyncio.Task<string>>>(true);
    assertIdentical([...done], [fast]);

    const results = [];
    for (const next of asyncio.asCompleted([fast, slow])) results.push(await next);
    expectType<typeof results, (string | number)[]>(true);
    assert.deepEqual(results, [10, "slow"]);

    for await (const finished of asyncio.asCompleted([fast])) {
      const value = finished.result();
      expectType<typeof value, number>(true);
      assert.equal(value, 10);
    }
  }, autojump());
});

Deno.test("inference: queues give back the item type; locks give a Disposable", async () => {
  await asyncio.run(function* () {
    const queue = new asyncio.Queue<{ url: string }>(2);
    yield* queue.put({ url: "/a" });
    const item = yield* queue.get();
    expectType<typeof item, { url: string }>(true);
    const jobs = new asyncio.PriorityQueue<[number, string]>();
    jobs.putNowait([1, "fix"]);
    const [priority, job] = jobs.getNowait();
    expectType<typeof priority, number>(true);
    expectType<typeof job, string>(true);
    const lock = new asyncio.Lock();
    using held = yield* lock.acquire();
    expectType<typeof held, Disposable>(true);
    const index = yield* new asyncio.Barrier(1).wait();
    expectType<typeof index, number>(true);
    const isSet = yield* (() => {
      const event = new asyncio.Event();
      event.set();
      return event.wait();
    })();
    expectType<typeof isSet, true>(true);
    assert.deepEqual([item.url, priority, job, index, isSet], ["/a", 1, "fix", 0, true]);
  }, autojump());
});
