import assert from "node:assert/strict";
import * as asyncio from "../mod.ts";
import { drain, virtualLoop } from "./_helpers.ts";

Deno.test("callSoon() runs callbacks FIFO with their arguments", async () => {
  const { loop } = virtualLoop();
  const log: string[] = [];
  for (const x of ["a", "b", "c"]) loop.callSoon((v: string) => log.push(v), x);
  assert.deepEqual(log, [], "never synchronously");
  await drain(loop);
  assert.deepEqual(log, ["a", "b", "c"]);
  loop.close();
});

Deno.test("the ring keeps FIFO order when it grows during an iteration", async () => {
  const { loop } = virtualLoop();
  const log: number[] = [];
  // 100 entries ready at once, each scheduling three more: the ring must grow mid-iteration.
  for (let i = 0; i < 100; i++) {
    loop.callSoon(() => {
      log.push(i);
      for (let k = 1; k <= 3; k++) loop.callSoon(() => log.push(k * 1000 + i));
    });
  }
  await drain(loop);
  const expected = [...Array(100).keys()];
  for (let i = 0; i < 100; i++) expected.push(1000 + i, 2000 + i, 3000 + i);
  assert.deepEqual(log, expected);
  loop.close();
});

Deno.test("one iteration runs only what was ready when it began; host microtasks run in between", async () => {
  // CPython: test_base_events.py test__run_once_schedule_handle (callbacks
  // scheduled by a callback wait for the next iteration).
  const { loop } = virtualLoop();
  const log: string[] = [];
  loop.callSoon(() => {
    log.push("a");
    loop.callSoon(() => log.push("c (next iteration)"));
    queueMicrotask(() => log.push("host microtask"));
  });
  loop.callSoon(() => log.push("b"));
  await drain(loop);
  assert.deepEqual(log, ["a", "b", "host microtask", "c (next iteration)"]);
  loop.close();
});

Deno.test("timers run by deadline, then in scheduling order; due timers queue after ready callbacks", async () => {
  const { loop, clock } = virtualLoop();
  const log: string[] = [];
  loop.callLater(20, () => log.push("t20-first"));
  loop.callLater(10, () => log.push("t10"));
  loop.callAt(loop.time() + 20, () => log.push("t20-second"));
  loop.callLater(20, () => log.push("t20-third"));
  await clock.advance(10);
  assert.deepEqual(log, ["t10"]);
  // At 20: a callback already ready runs before the timers that became due.
  loop.callLater(10, () => loop.callSoon(() => log.push("soon from a timer")));
  await clock.advance(10);
  assert.deepEqual(log, ["t10", "t20-first", "t20-second", "t20-third", "soon from a timer"]);
  loop.close();
});

Deno.test("callLater: negative delays run at once, Infinity never, cancel prevents the call", async () => {
  const { loop, clock } = virtualLoop();
  const log: string[] = [];
  loop.callLater(-5, () => log.push("negative"));
  const never = loop.callLater(Infinity, () => log.push("never"));
  const cancelled = loop.callLater(1, () => log.push("cancelled"));
  cancelled.cancel();
  assert.ok(cancelled.cancelled());
  await clock.advance(1_000_000);
  assert.deepEqual(log, ["negative"]);
  assert.equal(never.when(), Infinity);
  never.cancel();
  loop.close();
});

Deno.test("a handle cancelled by an earlier callback of the same iteration does not run", async () => {
  const { loop } = virtualLoop();
  const log: string[] = [];
  const handles: asyncio.Handle[] = [];
  loop.callSoon(() => handles[0].cancel());
  handles.push(loop.callSoon(() => log.push("second")));
  loop.callSoon(() => log.push("third"));
  await drain(loop);
  assert.deepEqual(log, ["third"]);
  loop.close();
});

Deno.test("timers stay in order after mass cancellation (lazy deletion and compaction)", async () => {
  const { loop, clock } = virtualLoop();
  const fired: number[] = [];
  const handles = [];
  for (let i = 0; i < 1_000; i++) {
    handles.push(loop.callLater(1 + (i * 7919) % 1_000, (n: number) => fired.push(n), i));
  }
  for (let i = 0; i < 1_000; i++) if (i % 10 !== 0) handles[i].cancel();
  await clock.advance(1_000);
  const expected = [...Array(100).keys()].map((k) => k * 10).sort((a, b) =>
    (1 + (a * 7919) % 1_000) - (1 + (b * 7919) % 1_000)
  );
  assert.deepEqual(fired, expected);
  loop.close();
});

Deno.test("the host timer is disarmed when every timer is cancelled", async () => {
  // With the real clock, a leftover host timer would fail this test's sanitizer.
  const loop = new asyncio.EventLoop();
  const timers = [loop.callLater(50_000, () => {}), loop.callLater(60_000, () => {})];
  for (const t of timers) t.cancel();
  await drain(loop);
  const later = loop.callLater(70_000, () => {});
  queueMicrotask(() => later.cancel()); // cancelled outside any iteration
  await drain(loop);
  loop.close();
});

Deno.test("a callback that throws is reported to the exception handler and the loop goes on", async () => {
  const { loop, reports } = virtualLoop();
  const log: string[] = [];
  const error = new Error("boom");
  function failing() {
    throw error;
  }
  const handle = loop.callSoon(failing);
  loop.callSoon(() => log.push("still running"));
  await drain(loop);
  assert.deepEqual(log, ["still running"]);
  assert.equal(reports.length, 1);
  assert.equal(reports[0].exception, error);
  assert.equal(reports[0].handle, handle);
  assert.match(reports[0].message, /Exception in callback Handle failing\(\)/);
  loop.close();
});

Deno.test("exception handlers: called as handler(loop, context); a throwing handler is logged, never rethrown", async () => {
  const loop = new asyncio.EventLoop({ clock: new asyncio.VirtualClock() });
  const seen: unknown[] = [];
  loop.setExceptionHandler((l, context) => {
    seen.push(l, context.message);
    throw new Error("handler broke");
  });
  const logged: unknown[][] = [];
  const original = console.error;
  console.error = (...args: unknown[]) => logged.push(args);
  try {
    loop.callSoon(() => {
      throw new Error("callback broke");
    });
    await drain(loop);
  } finally {
    console.error = original;
  }
  assert.equal(seen[0], loop);
  assert.match(String(seen[1]), /Exception in callback/);
  assert.equal(logged.length, 1);
  assert.match(String(logged[0][0]), /Unhandled error in exception handler/);
  assert.match(String(logged[0][0]), /handler broke/);
  loop.setExceptionHandler(null);
  assert.equal(loop.getExceptionHandler(), null);
  loop.close();
});

Deno.test("defaultExceptionHandler writes the message, the context and the stack with console.error", () => {
  const loop = new asyncio.EventLoop({ clock: new asyncio.VirtualClock() });
  const logged: unknown[][] = [];
  const original = console.error;
  console.error = (...args: unknown[]) => logged.push(args);
  try {
    loop.callExceptionHandler({ message: "something odd", exception: new Error("why"), extra: 42 });
  } finally {
    console.error = original;
  }
  const text = String(logged[0][0]);
  assert.match(text, /^something odd\n/);
  assert.match(text, /extra: 42/);
  assert.match(text, /Error: why/);
  loop.close();
});

Deno.test("debug mode reports slow callbacks", async () => {
  const { loop, reports } = virtualLoop({ debug: true, slowCallbackMs: 2 });
  assert.equal(loop.getDebug(), true);
  function slowCallback() {
    const end = performance.now() + 5;
    while (performance.now() < end) { /* busy on purpose */ }
  }
  loop.callSoon(slowCallback);
  loop.callSoon(() => {});
  await drain(loop);
  assert.equal(reports.length, 1);
  assert.match(reports[0].message, /^Executing Handle slowCallback\(\) took \d+\.\d{3} ms$/);
  loop.setDebug(false);
  loop.callSoon(slowCallback);
  await drain(loop);
  assert.equal(reports.length, 1, "not reported outside debug mode");
  loop.close();
});

Deno.test("close() drops pending work and refuses new work; it cannot close a running loop", async () => {
  const { loop } = virtualLoop();
  const log: string[] = [];
  loop.callSoon(() => log.push("dropped"));
  loop.callLater(10, () => log.push("dropped timer"));
  loop.close();
  loop.close(); // idempotent
  assert.ok(loop.isClosed());
  await drain(loop);
  assert.deepEqual(log, []);
  assert.throws(() => loop.callSoon(() => {}), /Event loop is closed/);
  assert.throws(() => loop.callLater(1, () => {}), /Event loop is closed/);

  const running = new asyncio.EventLoop({ clock: new asyncio.VirtualClock({ autojump: true }) });
  await running.runUntilComplete(function* () {
    assert.throws(() => running.close(), /cannot close a running event loop/);
  });
  running.close();
});

Deno.test("runUntilComplete(): result, error, stop(), and one running loop at a time", async () => {
  const clock = new asyncio.VirtualClock({ autojump: true });
  const loop = new asyncio.EventLoop({ clock });
  assert.equal(loop.isRunning(), false);
  assert.equal(
    await loop.runUntilComplete(function* () {
      assert.equal(asyncio.getRunningLoop(), loop);
      assert.equal(loop.isRunning(), true);
      assert.throws(() => loop.runUntilComplete(asyncio.sleep(0)), /already running/);
      return 7;
    }),
    7,
  );
  assert.equal(loop.isRunning(), false);
  await assert.rejects(
    loop.runUntilComplete(async () => {
      throw new RangeError("inner");
    }),
    RangeError,
  );
  // CPython: test_base_events.py test_run_until_complete_stopped
  const pending = loop.createFuture<void>();
  loop.callSoon(() => loop.stop());
  await assert.rejects(loop.runUntilComplete(pending), /stopped before Future completed/);
  assert.equal(loop.isRunning(), false);
  pending.cancel();
  loop.close();
});

Deno.test("which loop: getRunningLoop() throws outside run(); getEventLoop() falls back to the default loop", async () => {
  assert.throws(() => asyncio.getRunningLoop(), /no running event loop/);
  const fallback = asyncio.getEventLoop();
  assert.equal(asyncio.getEventLoop(), fallback);
  await asyncio.run(function* () {
    const running = asyncio.getRunningLoop();
    assert.notEqual(running, fallback);
    assert.equal(asyncio.getEventLoop(), running);
    assert.throws(() => asyncio.run(function* () {}), /another run\(\) is in progress/);
    yield* asyncio.sleep(0);
  }, { clock: new asyncio.VirtualClock({ autojump: true }) });
  assert.equal(asyncio.getEventLoop(), fallback);
});

Deno.test("bad arguments are rejected with errors that name the function and the argument", () => {
  const { loop } = virtualLoop();
  const bad = (fn: () => unknown, type: ErrorConstructor, pattern: RegExp) =>
    assert.throws(fn, (e) => e instanceof type && pattern.test((e as Error).message));
  bad(
    () => loop.callSoon(5 as never),
    TypeError,
    /EventLoop\.callSoon\(\): 'callback' must be a function, got 5/,
  );
  bad(
    () => loop.callLater(NaN, () => {}),
    RangeError,
    /EventLoop\.callLater\(\): 'delayMs' must not be NaN/,
  );
  bad(
    () => loop.callLater("5" as never, () => {}),
    TypeError,
    /'delayMs' must be a number, got "5"/,
  );
  bad(
    () => loop.callAt(undefined as never, () => {}),
    TypeError,
    /EventLoop\.callAt\(\): 'whenMs'/,
  );
  bad(
    () => loop.setExceptionHandler("x" as never),
    TypeError,
    /setExceptionHandler\(\): 'handler'/,
  );
  bad(() => loop.setDebug(1 as never), TypeError, /setDebug\(\): 'enabled' must be a boolean/);
  bad(
    () => new asyncio.EventLoop({ clock: {} as never }),
    TypeError,
    /'clock' must implement Clock/,
  );
  bad(
    () => new asyncio.EventLoop({ slowCallbackMs: -1 }),
    RangeError,
    /'slowCallbackMs' must be >= 0/,
  );
  bad(() => new asyncio.EventLoop(null as never), TypeError, /'options' must be an object/);
  loop.close();
});

Deno.test("toString() describes loops and handles like Python's repr", () => {
  const { loop } = virtualLoop();
  function tick() {}
  const handle = loop.callSoon(tick);
  assert.equal(String(handle), "<Handle tick()>");
  handle.cancel();
  assert.equal(String(handle), "<Handle cancelled>");
  const timer = loop.callAt(42, tick);
  assert.equal(String(timer), "<TimerHandle tick() when=42>");
  timer.cancel();
  assert.equal(String(loop), "<EventLoop running=false closed=false debug=false>");
  loop.close();
});

Deno.test("the ring shrinks after a burst and keeps FIFO order through grow and shrink", async () => {
  const { loop } = virtualLoop();
  const log: number[] = [];
  for (let round = 0; round < 3; round++) {
    for (let i = 0; i < 10_000; i++) loop.callSoon((n: number) => log.push(n), round * 10_000 + i);
    await drain(loop);
    // A small queue after the burst: the ring shrinks while entries are live.
    for (let i = 0; i < 5; i++) loop.callSoon((n: number) => log.push(n), -1 - i);
    loop.callSoon(() => {
      for (let i = 0; i < 3; i++) loop.callSoon((n: number) => log.push(n), -10 - i);
    });
    await drain(loop);
  }
  const expected: number[] = [];
  for (let round = 0; round < 3; round++) {
    for (let i = 0; i < 10_000; i++) expected.push(round * 10_000 + i);
    expected.push(-1, -2, -3, -4, -5, -10, -11, -12);
  }
  assert.deepEqual(log, expected);
  loop.close();
});

Deno.test("loop.time() is read from the clock once per iteration (as libuv's loop time)", async () => {
  let reads = 0;
  const virtual = new asyncio.VirtualClock();
  const clock: asyncio.Clock = {
    now: () => (reads++, virtual.now()),
    setTimer: (when, cb) => virtual.setTimer(when, cb),
    clearTimer: () => virtual.clearTimer(),
  };
  const loop = new asyncio.EventLoop({ clock });
  const seen: number[] = [];
  loop.callSoon(() => {
    reads = 0;
    for (let i = 0; i < 5; i++) seen.push(loop.time());
    loop.callLater(10, () => {});
    seen.push(reads);
  });
  await drain(loop);
  assert.deepEqual(seen, [0, 0, 0, 0, 0, 1]);
  reads = 0;
  loop.time();
  loop.time();
  assert.equal(reads, 2, "outside an iteration every call reads the clock");
  loop.close();
});

Deno.test("a loop that is never idle still lets the host run (no starvation)", async () => {
  // Python's loop polls I/O on every iteration; ours is driven by microtasks,
  // so after a burst of back-to-back iterations it yields one macrotask.
  const loop = new asyncio.EventLoop({ clock: new asyncio.VirtualClock({ autojump: true }) });
  const later = loop.callLater(1_000, () => {}); // autojump must not reach it while work is ready
  let hostRan = false;
  let spins = 0;
  // A host task, behind the loop's microtasks. A timer, not a MessageChannel
  // message: once Deno's Node layer is loaded (src/_host.ts asks it for
  // AsyncLocalStorage), messages arrive a few microtasks after posting.
  const hostTask = setTimeout(() => (hostRan = true), 0);
  const spinner = loop.createTask(function* () {
    while (!hostRan) {
      spins++;
      yield* asyncio.sleep(0);
    }
  });
  await loop.runUntilComplete(spinner);
  clearTimeout(hostTask);
  assert.ok(hostRan);
  assert.ok(spins > 64, `the loop kept running at first (${spins} spins)`);
  assert.equal(loop.time(), 0, "virtual time did not jump while work was ready");
  later.cancel();
  loop.close();
});
