import assert from "node:assert/strict";
import FakeTimers from "@sinonjs/fake-timers";
import * as asyncio from "../mod.ts";
import { drain, virtualLoop } from "./_helpers.ts";

/** Exactly what @std/testing's FakeTime replaces (it leaves performance.now alone). */
const FAKE_TIME_SET = [
  "Date",
  "setTimeout",
  "clearTimeout",
  "setInterval",
  "clearInterval",
] as const;

function installFakeTime(now = 1_000_000) {
  return FakeTimers.withGlobal(globalThis).install({
    now,
    toFake: [...FAKE_TIME_SET],
    shouldClearNativeTimers: false,
  });
}

Deno.test("VirtualClock.advance() fires due timers in deadline order, then sets the time", async () => {
  const { loop, clock } = virtualLoop();
  const fired: Array<[string, number]> = [];
  loop.callLater(30, () => fired.push(["c", loop.time()]));
  loop.callLater(10, () => fired.push(["a", loop.time()]));
  loop.callLater(20, () => fired.push(["b", loop.time()]));
  await clock.advance(25);
  assert.deepEqual(fired, [["a", 10], ["b", 20]]);
  assert.equal(clock.now(), 25);
  await clock.advance(5);
  assert.deepEqual(fired.at(-1), ["c", 30]);
  loop.close();
});

Deno.test("VirtualClock.advance() runs timers scheduled by timers within the window", async () => {
  const { loop, clock } = virtualLoop();
  const fired: number[] = [];
  loop.callLater(10, () => {
    fired.push(loop.time());
    loop.callLater(10, () => fired.push(loop.time()));
  });
  await clock.advance(20);
  assert.deepEqual(fired, [10, 20]);
  loop.close();
});

Deno.test("VirtualClock.advance() lets tasks run before time moves", async () => {
  const clock = new asyncio.VirtualClock();
  const loop = new asyncio.EventLoop({ clock });
  const log: number[] = [];
  const task = loop.createTask(function* () {
    yield* asyncio.sleep(50);
    log.push(loop.time());
    yield* asyncio.sleep(50);
    log.push(loop.time());
  });
  const running = loop.runUntilComplete(task);
  await clock.advance(60);
  assert.deepEqual(log, [50], "the task's first sleep started at 0, not at 60");
  await clock.advance(40);
  await running;
  assert.deepEqual(log, [50, 100]);
  loop.close();
});

Deno.test("VirtualClock options and arguments are validated", async () => {
  assert.throws(() => new asyncio.VirtualClock({ start: NaN }), TypeError);
  assert.throws(() => new asyncio.VirtualClock({ autojump: 1 as unknown as boolean }), /autojump/);
  const clock = new asyncio.VirtualClock({ start: 7 });
  assert.equal(clock.now(), 7);
  await assert.rejects(clock.advance(-1), RangeError);
  await assert.rejects(clock.advance("1" as unknown as number), TypeError);
});

Deno.test("autojump runs an hour of sleeps deterministically", async () => {
  const trace: string[] = [];
  const run = () =>
    asyncio.run(function* () {
      const loop = asyncio.getRunningLoop();
      const worker = (name: string, ms: number) =>
        asyncio.createTask(function* () {
          for (let i = 0; i < 3; i++) {
            yield* asyncio.sleep(ms);
            trace.push(`${loop.time()} ${name}`);
          }
        });
      yield* asyncio.gather([worker("a", 20 * 60_000), worker("b", 15 * 60_000)]);
      return loop.time();
    }, { clock: new asyncio.VirtualClock({ autojump: true }) });
  assert.equal(await run(), 60 * 60_000);
  const first = trace.splice(0);
  await run();
  assert.deepEqual(trace, first, "the same program gives the same trace");
  assert.deepEqual(first, [
    "900000 b",
    "1200000 a",
    "1800000 b",
    "2400000 a",
    "2700000 b",
    "3600000 a",
  ]);
});

Deno.test("autojump does not jump to a cancelled deadline", async () => {
  const times = await asyncio.run(function* () {
    const loop = asyncio.getRunningLoop();
    const far = loop.callLater(1_000, () => {});
    far.cancel();
    yield* asyncio.sleep(5_000);
    return loop.time();
  }, { clock: new asyncio.VirtualClock({ autojump: true }) });
  assert.equal(times, 5_000);
});

Deno.test("the real clock drives the default loop under fake timers (FakeTime's set)", async (t) => {
  await t.step("tick() fires every due sleep, in deadline order", async () => {
    const time = installFakeTime();
    try {
      const loop = asyncio.getEventLoop(); // the default loop, on the real clock
      const log: string[] = [];
      const start = loop.time();
      for (const [name, ms] of [["c", 30], ["a", 10], ["b", 20], ["d", 50]] as const) {
        loop.callLater(ms, () => log.push(`${name}@${loop.time() - start}`));
      }
      time.tick(35);
      await drain(loop);
      assert.deepEqual(log, ["a@35", "b@35", "c@35"]);
      time.tick(15);
      await drain(loop);
      assert.deepEqual(log.at(-1), "d@50");
      assert.equal(time.countTimers(), 0, "no host timer left once the heap is empty");
      loop.close();
    } finally {
      time.uninstall();
    }
  });

  await t.step("tickAsync() runs chained sleeps of tasks at their own times", async () => {
    const time = installFakeTime();
    try {
      const log: number[] = [];
      const done = asyncio.run(function* () {
        const loop = asyncio.getRunningLoop();
        const start = loop.time();
        for (let i = 0; i < 3; i++) {
          yield* asyncio.sleep(100);
          log.push(loop.time() - start);
        }
        yield* asyncio.waitFor(asyncio.sleep(10), 1_000);
        log.push(loop.time() - start);
      });
      await time.tickAsync(310);
      await done;
      assert.deepEqual(log, [100, 200, 300, 310]);
      assert.equal(time.countTimers(), 0);
    } finally {
      time.uninstall();
    }
  });

  await t.step("loop time never goes back when Date jumps backwards", () => {
    const time = installFakeTime(5_000_000);
    try {
      const loop = new asyncio.EventLoop();
      const a = loop.time();
      time.setSystemTime(1_000_000);
      const b = loop.time();
      assert.ok(b >= a, `time went back from ${a} to ${b}`);
      time.tick(10);
      assert.equal(loop.time(), b + 10, "and then moves on with the wall clock");
      loop.close();
    } finally {
      time.uninstall();
    }
  });
});

Deno.test("a delay beyond the host's 2^31-1 ms limit does not fire early", async () => {
  const time = installFakeTime();
  try {
    const loop = new asyncio.EventLoop();
    let fired = false;
    loop.callLater(2 ** 31 + 1_000, () => (fired = true));
    time.tick(2 ** 31 - 1);
    await drain(loop);
    assert.equal(fired, false);
    time.tick(1_001);
    await drain(loop);
    assert.equal(fired, true);
    loop.close();
  } finally {
    time.uninstall();
  }
});
