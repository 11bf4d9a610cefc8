import assert from "node:assert/strict";
import * as asyncio from "../mod.ts";
import { assertEmpty, assertIdentical, runVirtual } from "./_helpers.ts";

type Gen<T> = Generator<unknown, T, unknown>;

Deno.test("staggeredRace(): no attempts, no winner", async () => {
  // CPython: test_staggered.py test_empty
  const { result, index, errors } = await runVirtual(() => asyncio.staggeredRace([], null));
  assert.equal(result, undefined);
  assert.equal(index, null);
  assert.deepEqual(errors, []);
});

Deno.test("staggeredRace(): the first success wins; later attempts never start", async () => {
  // CPython: test_staggered.py test_one_successful
  const started: number[] = [];
  function* coro(i: number): Gen<string> {
    started.push(i);
    return `Res: ${i}`;
  }
  const race = await runVirtual(() => asyncio.staggeredRace([() => coro(0), () => coro(1)], null));
  assert.deepEqual(race, { result: "Res: 0", index: 0, errors: [undefined] });
  assert.deepEqual(started, [0]);
});

Deno.test("staggeredRace(): a failure starts the next attempt at once", async (t) => {
  // CPython: test_staggered.py test_first_error_second_successful
  for (const delay of [null, 10_000]) {
    await t.step(`delayMs ${delay}`, async () => {
      const boom = new RangeError("0");
      let startedAt = -1;
      const race = await runVirtual(() =>
        asyncio.staggeredRace([
          function* () {
            yield* asyncio.sleep(5);
            throw boom;
          },
          function* () {
            startedAt = asyncio.getRunningLoop().time();
            return "Res: 1";
          },
        ], delay)
      );
      assert.deepEqual(race, { result: "Res: 1", index: 1, errors: [boom, undefined] });
      assert.equal(startedAt, 5);
    });
  }
});

Deno.test("staggeredRace(): after delayMs the next attempt starts; the loser is cancelled", async () => {
  // CPython: test_staggered.py test_first_timeout_second_successful
  const log: string[] = [];
  const race = await runVirtual(function* () {
    const loop = asyncio.getRunningLoop();
    return yield* asyncio.staggeredRace([
      function* () {
        try {
          yield* asyncio.sleep(10_000); // much longer than the delay
          return "Res: 0";
        } finally {
          log.push(`0 cleaned up at ${loop.time()}`);
        }
      },
      function* () {
        log.push(`1 started at ${loop.time()}`);
        return "Res: 1";
      },
    ], 100);
  });
  assert.equal(race.result, "Res: 1");
  assert.equal(race.index, 1);
  assert.equal(race.errors.length, 2);
  assert.ok(race.errors[0] instanceof asyncio.CancelledError);
  assert.equal(race.errors[1], undefined);
  assert.deepEqual(log, ["1 started at 100", "0 cleaned up at 100"]);
});

Deno.test("staggeredRace(): every attempt fails: no winner, every error", async () => {
  // CPython: test_staggered.py test_none_successful
  const race = await runVirtual(() =>
    asyncio.staggeredRace(
      [0, 1].map((i) => async () => {
        throw new RangeError(String(i));
      }),
      null,
    )
  );
  assert.equal(race.result, undefined);
  assert.equal(race.index, null);
  assert.deepEqual(race.errors.map((e) => (e as Error).message), ["0", "1"]);
});

Deno.test("staggeredRace(): two attempts woken in the same iteration: the first wins, the other is cancelled", async () => {
  // CPython: test_staggered.py test_multiple_winners
  const event = new asyncio.Event();
  function* coro(i: number): Gen<number> {
    yield* event.wait();
    return i;
  }
  function* doSet(): Gen<void> {
    event.set();
    yield* new asyncio.Event().wait();
  }
  const race = await runVirtual(() =>
    asyncio.staggeredRace<number | void>([() => coro(0), () => coro(1), doSet], 100)
  );
  assert.equal(race.result, 0);
  assert.equal(race.index, 0);
  assert.equal(race.errors.length, 3);
  assert.equal(race.errors[0], undefined);
  assert.ok(race.errors[1] instanceof asyncio.CancelledError);
  assert.ok(race.errors[2] instanceof asyncio.CancelledError);
});

Deno.test("staggeredRace(): cancelled from outside, it cancels the attempts and raises once they are done", async () => {
  // CPython: test_staggered.py test_cancelled (3.14; Python 3.13.0 has the old
  // staggered.py, which does not pass the cancellation on). The timeouts
  // cancel the task waiting on the race; the attempt catches each
  // cancellation, and the race raises CancelledError when it returns.
  const log: string[] = [];
  await assert.rejects(
    runVirtual(function* () {
      yield* asyncio.timeout(null, function* (_signal, outer) {
        yield* asyncio.timeout(null, function* (_signal, inner) {
          function* coroFn(): Gen<void> {
            inner.reschedule(-1);
            yield* asyncio.sleep(0);
            try {
              yield* asyncio.sleep(0);
            } catch (error) {
              if (!(error instanceof asyncio.CancelledError)) throw error;
              log.push("cancelled 1");
            }
            outer.reschedule(-1);
            yield* asyncio.sleep(0);
            try {
              yield* asyncio.sleep(0);
            } catch (error) {
              if (!(error instanceof asyncio.CancelledError)) throw error;
              log.push("cancelled 2");
            }
          }
          try {
            yield* asyncio.staggeredRace([coroFn], null);
          } catch (error) {
            if (error instanceof asyncio.CancelledError) log.push("cancelled 3");
            throw error;
          }
        });
      });
    }),
    asyncio.TimeoutError,
  );
  assert.deepEqual(log, ["cancelled 1", "cancelled 2", "cancelled 3"]);
});

Deno.test("staggeredRace(): cancelling the race cancels every running attempt and starts no more", async () => {
  const log: string[] = [];
  const started: number[] = [];
  await runVirtual(function* () {
    const attempt = (i: number) =>
      function* (): Gen<void> {
        started.push(i);
        try {
          yield* asyncio.sleep(60_000);
        } finally {
          log.push(`${i} cleaned up at ${asyncio.getRunningLoop().time()}`);
        }
      };
    const race = asyncio.staggeredRace([attempt(0), attempt(1), attempt(2)], 100);
    yield* asyncio.sleep(150);
    race.cancel("enough");
    try {
      yield* race;
      assert.fail("the race should be cancelled");
    } catch (error) {
      assert.ok(error instanceof asyncio.CancelledError);
      assert.equal(error.message, "enough");
    }
    assert.ok(race.cancelled());
    yield* asyncio.sleep(1_000); // no third attempt starts later
  });
  assert.deepEqual(started, [0, 1]);
  assert.deepEqual(log, ["0 cleaned up at 150", "1 cleaned up at 150"]);
});

Deno.test("staggeredRace(): the signal option cancels the race, with the reason as cause", async (t) => {
  await t.step("aborted during the race", async () => {
    const controller = new AbortController();
    const reason = new Error("user gave up");
    let seen: unknown;
    await runVirtual(function* () {
      asyncio.getRunningLoop().callLater(50, () => controller.abort(reason));
      try {
        yield* asyncio.staggeredRace([() => asyncio.sleep(60_000)], null, {
          signal: controller.signal,
        });
      } catch (error) {
        seen = error;
      }
    });
    assert.ok(seen instanceof asyncio.CancelledError);
    assert.equal(seen.cause, reason);
  });
  await t.step("aborted before: no attempt starts", async () => {
    const started: number[] = [];
    await assert.rejects(
      runVirtual(() =>
        asyncio.staggeredRace([() => started.push(0)], null, {
          signal: AbortSignal.abort(new Error("before")),
        })
      ),
      asyncio.CancelledError,
    );
    assertEmpty(started);
  });
});

Deno.test("staggeredRace(): async attempts get their task's signal, aborted when they lose", async () => {
  const signals: AbortSignal[] = [];
  const race = await runVirtual(() =>
    asyncio.staggeredRace([
      async (signal: AbortSignal) => {
        signals.push(signal);
        await asyncio.sleep(60_000, { signal }); // stands for fetch(url, { signal })
        return "slow";
      },
      async () => {
        await asyncio.sleep(10);
        return "fast";
      },
    ], 100)
  );
  assert.equal(race.result, "fast");
  assert.equal(race.index, 1);
  assert.ok(race.errors[0] instanceof asyncio.CancelledError);
  assert.equal(signals.length, 1);
  assert.ok(signals[0].aborted);
});

Deno.test("staggeredRace(): the attempts run in tasks; currentTask() is the attempt's", async () => {
  const tasks = new Set<asyncio.Task<unknown> | null>();
  await runVirtual(function* () {
    const outer = asyncio.currentTask();
    yield* asyncio.staggeredRace([
      function* () {
        tasks.add(asyncio.currentTask());
        throw new Error("no");
      },
      () => {
        tasks.add(asyncio.currentTask());
        return 1;
      },
    ], null);
    assert.ok(!tasks.has(outer));
  });
  assert.equal(tasks.size, 2);
});

Deno.test("staggeredRace(): coroFns is read lazily, one attempt at a time", async () => {
  const log: string[] = [];
  function* attempts(): Generator<() => Gen<string>> {
    for (let i = 0; i < 5; i++) {
      log.push(`next ${i}`);
      yield function* () {
        log.push(`attempt ${i}`);
        if (i < 2) throw new Error(String(i));
        return `won ${i}`;
      };
    }
  }
  const race = await runVirtual(() => asyncio.staggeredRace(attempts(), null));
  assert.equal(race.result, "won 2");
  assert.deepEqual(log, ["next 0", "attempt 0", "next 1", "attempt 1", "next 2", "attempt 2"]);
});

Deno.test("staggeredRace(): a failing iterator or a non-function item", async (t) => {
  await t.step(
    "the iterator throws: the race rejects with an ExceptionGroup once the attempts end",
    async () => {
      const broken = new Error("iterator broke");
      function* attempts(): Generator<() => Promise<number>> {
        yield () => Promise.reject(new Error("first"));
        throw broken;
      }
      await assert.rejects(
        runVirtual(() => asyncio.staggeredRace(attempts(), null)),
        (error) =>
          error instanceof asyncio.ExceptionGroup && error.errors.length === 1 &&
          error.errors[0] === broken,
      );
    },
  );
  await t.step("an item that is not a function fails its attempt (read lazily)", async () => {
    const items = new Set<unknown>([5, () => "ok"]);
    const race = await runVirtual(() => asyncio.staggeredRace(items as never, null));
    assert.equal(race.result, "ok");
    assert.ok(race.errors[0] instanceof TypeError);
    assert.equal(
      (race.errors[0] as Error).message,
      "staggeredRace(): 'coroFns[0]' must be a function, got 5",
    );
  });
});

Deno.test("staggeredRace(): a loser that swallows its cancellation and returns is reported", async () => {
  // Python asserts `winner_index is None`: the AssertionError reaches the
  // race's ExceptionGroup of unhandled exceptions.
  await assert.rejects(
    runVirtual(() =>
      asyncio.staggeredRace([
        function* () {
          try {
            yield* asyncio.sleep(1_000);
          } catch {
            // swallowed
          }
          return "late";
        },
        () => "first",
      ], 10)
    ),
    (error) =>
      error instanceof asyncio.ExceptionGroup &&
      /attempt 0 returned after attempt 1 had won/.test((error.errors[0] as Error).message),
  );
});

Deno.test("staggeredRace(): negative and zero delays start the next attempt in the next iterations", async () => {
  const starts: number[] = [];
  const race = await runVirtual(() =>
    asyncio.staggeredRace(
      [0, 1, 2].map((i) =>
        function* () {
          starts.push(i);
          yield* asyncio.sleep(i === 2 ? 5 : 1_000);
          return i;
        }
      ),
      -5,
    )
  );
  assert.equal(race.index, 2);
  assert.deepEqual(starts, [0, 1, 2]);
  assert.ok(race.errors.slice(0, 2).every((e) => e instanceof asyncio.CancelledError));
});

Deno.test("staggeredRace(): leaves no timer and no task behind", async () => {
  await runVirtual(function* () {
    const loop = asyncio.getRunningLoop();
    const race = yield* asyncio.staggeredRace([() => "at once", () => "never"], 60_000);
    assert.equal(race.result, "at once");
    yield* asyncio.sleep(0);
    assertIdentical([...asyncio.allTasks(loop)], [asyncio.currentTask()]);
  });
});
