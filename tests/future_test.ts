import assert from "node:assert/strict";
import * as asyncio from "../mod.ts";
import { assertEmpty, assertIdentical, drain, runVirtual, virtualLoop } from "./_helpers.ts";

/** Reads a future's state without retrieving anything. */
function state(fut: asyncio.Future<unknown>): [done: boolean, cancelled: boolean] {
  return [fut.done(), fut.cancelled()];
}

Deno.test("Future: initial state, then cancelled", () => {
  // CPython: test_futures.py test_initial_state
  const { loop } = virtualLoop();
  const f = new asyncio.Future<number>({ loop });
  assert.deepEqual(state(f), [false, false]);
  assert.ok(f.cancel());
  assert.deepEqual(state(f), [true, true]);
  loop.close();
});

Deno.test("Future: the loop is the given one, else the running loop, else the default loop", async () => {
  // CPython: test_futures.py test_constructor_use_running_loop, test_constructor_use_global_loop
  const { loop } = virtualLoop();
  assert.equal(new asyncio.Future({ loop }).getLoop(), loop);
  assert.equal(loop.createFuture().getLoop(), loop);
  const inRun = await runVirtual(function* () {
    return [new asyncio.Future().getLoop(), asyncio.getRunningLoop()];
  });
  assert.equal(inRun[0], inRun[1]);
  assert.equal(new asyncio.Future().getLoop(), asyncio.getEventLoop());
  assert.equal(new asyncio.Future({}).getLoop(), asyncio.getEventLoop());
  loop.close();
});

Deno.test("Future: bad constructor arguments throw TypeError naming the argument", () => {
  // CPython: test_futures.py test_constructor_positional
  assert.throws(() => new asyncio.Future(42 as unknown as asyncio.FutureOptions), {
    name: "TypeError",
    message: /^Cannot create Future: 'options' must be an object, got 42$/,
  });
  assert.throws(() => new asyncio.Future({ loop: {} as asyncio.EventLoop }), {
    name: "TypeError",
    message: /^Cannot create Future: 'loop' must be an EventLoop, got an object$/,
  });
});

Deno.test("Future.cancel(): done, cancelled, result()/exception() throw CancelledError", () => {
  // CPython: test_futures.py test_cancel
  const { loop } = virtualLoop();
  const f = new asyncio.Future<number>({ loop });
  assert.equal(f.cancel(), true);
  assert.deepEqual(state(f), [true, true]);
  assert.throws(() => f.result(), asyncio.CancelledError);
  assert.throws(() => f.exception(), asyncio.CancelledError);
  assert.throws(() => f.setResult(1), asyncio.InvalidStateError);
  assert.throws(() => f.setException(new Error()), asyncio.InvalidStateError);
  assert.equal(f.cancel(), false);
  loop.close();
});

Deno.test("Future.cancel(msg): the CancelledError carries the message, the same error each time", () => {
  // CPython: test_futures.py test_future_cancel_message_getter
  const { loop } = virtualLoop();
  const f = new asyncio.Future<number>({ loop });
  f.cancel("my message");
  let first: unknown;
  try {
    f.result();
  } catch (error) {
    first = error;
  }
  assert.ok(first instanceof asyncio.CancelledError);
  assert.equal(first.message, "my message");
  assert.throws(() => f.exception(), (error) => error === first);
  const plain = new asyncio.Future({ loop });
  plain.cancel();
  assert.throws(() => plain.result(), { name: "CancelledError", message: "" });
  loop.close();
});

Deno.test("Future.cancel(): a message that is not a string throws TypeError", () => {
  const { loop } = virtualLoop();
  const f = new asyncio.Future({ loop });
  assert.throws(() => f.cancel(5 as unknown as string), {
    name: "TypeError",
    message: "Future.cancel(): 'msg' must be a string, got 5",
  });
  assert.equal(f.done(), false, "a rejected call changes nothing");
  f.cancel();
  loop.close();
});

Deno.test("Future.result(): pending throws InvalidStateError; set once", () => {
  // CPython: test_futures.py test_result
  const { loop } = virtualLoop();
  const f = new asyncio.Future<number>({ loop });
  assert.throws(() => f.result(), asyncio.InvalidStateError);
  assert.throws(() => f.exception(), asyncio.InvalidStateError);
  f.setResult(42);
  assert.deepEqual(state(f), [true, false]);
  assert.equal(f.result(), 42);
  assert.equal(f.exception(), undefined);
  assert.throws(() => f.setResult(1), {
    name: "InvalidStateError",
    message: "Future.setResult(): the future is already finished",
  });
  assert.throws(() => f.setException(new Error()), asyncio.InvalidStateError);
  assert.equal(f.cancel(), false);
  loop.close();
});

Deno.test("Future.setException(): result() throws it, exception() returns it", () => {
  // CPython: test_futures.py test_exception
  const { loop } = virtualLoop();
  const exc = new RangeError("boom");
  const f = new asyncio.Future<number>({ loop });
  f.setException(exc);
  assert.deepEqual(state(f), [true, false]);
  assert.throws(() => f.result(), (error) => error === exc);
  assert.equal(f.exception(), exc);
  assert.throws(() => f.setResult(1), asyncio.InvalidStateError);
  assert.throws(() => f.setException(new Error()), {
    name: "InvalidStateError",
    message: "Future.setException(): the future is already finished",
  });
  assert.equal(f.cancel(), false);
  loop.close();
});

Deno.test("Future.setException(): undefined is rejected; any other thrown value is kept", () => {
  const { loop, reports } = virtualLoop();
  const f = new asyncio.Future({ loop });
  assert.throws(() => f.setException(undefined), {
    name: "TypeError",
    message: "Future.setException(): 'exception' must not be undefined",
  });
  assert.equal(f.done(), false);
  f.setException("a string");
  assert.equal(f.exception(), "a string");
  loop.close();
  assertEmpty(reports);
});

Deno.test("Future.setException(CancelledError): done but not cancelled, and it raises the error", () => {
  // As in Python: set_exception(CancelledError()) stores the exception; the future is not cancelled().
  const { loop } = virtualLoop();
  const f = new asyncio.Future({ loop });
  const exc = new asyncio.CancelledError("stored");
  f.setException(exc);
  assert.deepEqual(state(f), [true, false]);
  assert.equal(f.exception(), exc);
  assert.throws(() => f.result(), (error) => error === exc);
  loop.close();
});

Deno.test("Future.setResult() of a Future<void> takes no argument", () => {
  const { loop } = virtualLoop();
  const f = new asyncio.Future<void>({ loop });
  f.setResult();
  assert.equal(f.result(), undefined);
  loop.close();
});

Deno.test("yield* on a future: suspends once while pending, not at all when done", () => {
  // CPython: test_futures.py test_yield_from_twice, test_future_stop_iteration_args
  const { loop } = virtualLoop();
  const f = new asyncio.Future<number>({ loop });
  function* fixture(): Generator<unknown, void, unknown> {
    yield "A";
    const x = yield* f;
    yield ["B", x];
    const y = yield* f;
    yield ["C", y];
  }
  const g = fixture();
  assert.equal(g.next().value, "A");
  assert.equal(g.next().value, f, "the first yield* hands out the future");
  f.setResult(42);
  assert.deepEqual(g.next().value, ["B", 42]);
  assert.deepEqual(g.next().value, ["C", 42], "the second yield* does not suspend");
  const it = f[Symbol.iterator]();
  assert.deepEqual(it.next(), { done: true, value: 42 });
  loop.close();
});

Deno.test("yield* on a future in a generator iterated by hand inside a task step", async () => {
  // CPython: test_futures.py test_yield_from_twice, driven from inside a running task: a future's
  // iterator must not depend on which task is stepping.
  const out = await runVirtual(function* () {
    const f = asyncio.getRunningLoop().createFuture<number>();
    function* fixture(): Generator<unknown, void, unknown> {
      yield "A";
      const x = yield* f;
      yield ["B", x];
      const y = yield* f;
      yield ["C", y];
    }
    const g = fixture();
    const out: unknown[] = [g.next().value, g.next().value === f];
    f.setResult(42);
    out.push(g.next().value, g.next().value);
    yield* asyncio.sleep(0);
    return out;
  });
  assert.deepEqual(out, ["A", true, ["B", 42], ["C", 42]]);
});

Deno.test("yield* on a future: its iterator's throw() rethrows at the yield*", () => {
  // CPython: test_futures.py test_future_iter_throw
  const { loop } = virtualLoop();
  const f = new asyncio.Future<number>({ loop });
  const it = f[Symbol.iterator]();
  const zebra = new Error("zebra");
  assert.throws(() => it.throw!(zebra), (error) => error === zebra);
  function* body(): Generator<unknown, string, unknown> {
    try {
      yield* f;
      return "not reached";
    } catch (error) {
      return `caught ${(error as Error).message}`;
    }
  }
  const g = body();
  g.next();
  assert.deepEqual(g.throw(new Error("elephant")), { done: true, value: "caught elephant" });
  f.cancel();
  loop.close();
});

Deno.test("yield* on a failed or cancelled future throws its error in the generator", () => {
  const { loop } = virtualLoop();
  const failed = new asyncio.Future<number>({ loop });
  const exc = new Error("failed");
  failed.setException(exc);
  const cancelled = new asyncio.Future<number>({ loop });
  cancelled.cancel("stop");
  function* read(f: asyncio.Future<number>): Generator<unknown, unknown, unknown> {
    try {
      return yield* f;
    } catch (error) {
      return error;
    }
  }
  assert.equal(read(failed).next().value, exc);
  const error = read(cancelled).next().value;
  assert.ok(error instanceof asyncio.CancelledError);
  assert.equal(error.message, "stop");
  loop.close();
});

Deno.test("Future.toString(): Python's repr shapes", () => {
  // CPython: test_futures.py test_future_repr (no callbacks or source traceback shown)
  const { loop } = virtualLoop();
  const pending = new asyncio.Future({ loop });
  assert.equal(String(pending), "<Future pending>");
  const cancelled = new asyncio.Future({ loop });
  cancelled.cancel();
  assert.equal(cancelled.toString(), "<Future cancelled>");
  const finished = new asyncio.Future<number>({ loop });
  finished.setResult(4);
  assert.equal(finished.toString(), "<Future finished result=4>");
  const text = new asyncio.Future<string>({ loop });
  text.setResult("abc");
  assert.equal(text.toString(), '<Future finished result="abc">');
  const failed = new asyncio.Future({ loop });
  failed.setException(new RangeError("bad"));
  assert.equal(failed.toString(), '<Future finished exception=RangeError("bad")>');
  failed.exception();
  const long = new asyncio.Future<string>({ loop });
  long.setResult("x".repeat(100));
  assert.match(long.toString(), /^<Future finished result="x{56}\.\.\.>$/, "long results are cut");
  assert.equal(
    (pending as unknown as Record<symbol, () => string>)[Symbol.for("Deno.customInspect")](),
    "<Future pending>",
  );
  assert.equal(Deno.inspect(pending), "<Future pending>");
  assert.equal(Object.prototype.toString.call(pending), "[object Future]");
  pending.cancel();
  loop.close();
});

// ------------------------------------------------------------ done callbacks

Deno.test("done callbacks run in a later iteration, in registration order, with the future", async () => {
  // CPython: test_futures.py test_callbacks_invoked_on_set_result
  const { loop } = virtualLoop();
  const f = new asyncio.Future<string>({ loop });
  const bag: unknown[] = [];
  f.addDoneCallback((fut) => bag.push(42, fut));
  f.addDoneCallback(() => bag.push(17));
  assertEmpty(bag);
  f.setResult("foo");
  assert.deepEqual(bag, [], "never run synchronously from setResult()");
  await drain(loop);
  assertIdentical(bag, [42, f, 17]);
  assert.equal(f.result(), "foo");
  loop.close();
});

Deno.test("a done callback is called with the future as its only argument", async () => {
  // CPython calls fn(fut): a callback with a rest parameter sees exactly one argument.
  const { loop } = virtualLoop();
  const f = new asyncio.Future<number>({ loop });
  const seen: unknown[][] = [];
  f.addDoneCallback((...args: unknown[]) => seen.push(args));
  f.setResult(1);
  f.addDoneCallback((...args: unknown[]) => seen.push(args)); // on a done future
  await drain(loop);
  assertIdentical(seen, [[f], [f]]);
  loop.close();
});

Deno.test("done callbacks run on setException() and cancel() too", async () => {
  // CPython: test_futures.py test_callbacks_invoked_on_set_exception
  const { loop } = virtualLoop();
  const bag: string[] = [];
  const failed = new asyncio.Future({ loop });
  failed.addDoneCallback(() => bag.push("failed"));
  const cancelled = new asyncio.Future({ loop });
  cancelled.addDoneCallback((f) => bag.push(`cancelled=${f.cancelled()}`));
  const exc = new Error();
  failed.setException(exc);
  cancelled.cancel();
  assertEmpty(bag);
  await drain(loop);
  assert.deepEqual(bag, ["failed", "cancelled=true"]);
  assert.equal(failed.exception(), exc);
  loop.close();
});

Deno.test("done callbacks are scheduled like callSoon(): after callbacks already ready", async () => {
  const { loop } = virtualLoop();
  const log: string[] = [];
  const f = new asyncio.Future({ loop });
  f.addDoneCallback(() => log.push("done callback"));
  loop.callSoon(() => {
    log.push("first");
    loop.callSoon(() => log.push("next iteration"));
  });
  f.setResult(1);
  loop.callSoon(() => log.push("after setResult"));
  await drain(loop);
  // The done callback was scheduled by setResult(), between the two callSoon() calls.
  assert.deepEqual(log, ["first", "done callback", "after setResult", "next iteration"]);
  loop.close();
});

Deno.test("addDoneCallback() on a done future schedules the callback, never calls it at once", async () => {
  const { loop } = virtualLoop();
  const f = new asyncio.Future<number>({ loop });
  f.setResult(1);
  const log: string[] = [];
  loop.callSoon(() => log.push("scheduled before"));
  f.addDoneCallback(() => log.push("callback"));
  assertEmpty(log);
  loop.callSoon(() => log.push("scheduled after"));
  await drain(loop);
  assert.deepEqual(log, ["scheduled before", "callback", "scheduled after"]);
  loop.close();
});

Deno.test("removeDoneCallback(): removes every registration and returns how many", async () => {
  // CPython: test_futures.py test_remove_done_callback
  const { loop } = virtualLoop();
  const bag: number[] = [];
  const f = new asyncio.Future<string>({ loop });
  const cb1 = () => bag.push(1);
  const cb2 = () => bag.push(2);
  const cb3 = () => bag.push(3);
  f.addDoneCallback(cb1);
  f.addDoneCallback(cb2);
  assert.equal(f.removeDoneCallback(cb2), 1);
  assert.equal(f.removeDoneCallback(cb3), 0, "never added");
  f.addDoneCallback(cb2);
  for (let i = 0; i < 5; i++) f.addDoneCallback(cb1);
  assert.equal(f.removeDoneCallback(cb1), 6);
  f.setResult("foo");
  await drain(loop);
  assert.deepEqual(bag, [2]);
  assert.equal(f.removeDoneCallback(cb2), 0, "a done future has no callbacks left");
  loop.close();
});

Deno.test("removeDoneCallback(): first, first and second, or third of three", async (t) => {
  // CPython: test_futures.py test_callbacks_remove_first_callback,
  // test_callbacks_remove_first_and_second_callback, test_callbacks_remove_third_callback
  const cases: Array<[string, number[], number[]]> = [
    ["first", [0, 0], [17, 100]],
    ["first and second", [0, 1, 0], [100]],
    ["third", [2, 2], [42, 17]],
  ];
  for (const [name, removals, expected] of cases) {
    await t.step(name, async () => {
      const { loop } = virtualLoop();
      const bag: number[] = [];
      const f = new asyncio.Future<string>({ loop });
      const cbs = [42, 17, 100].map((n) => () => bag.push(n));
      for (const cb of cbs) f.addDoneCallback(cb);
      for (const i of removals) f.removeDoneCallback(cbs[i]);
      assertEmpty(bag);
      f.setResult("foo");
      await drain(loop);
      assert.deepEqual(bag, expected);
      assert.equal(f.result(), "foo");
      loop.close();
    });
  }
});

Deno.test("a callback removing another after completion does not unschedule it", async () => {
  // CPython: test_futures.py test_schedule_callbacks_list_mutation_1
  const { loop } = virtualLoop();
  const f = new asyncio.Future<number>({ loop });
  const log: string[] = [];
  const other = () => log.push("other");
  f.addDoneCallback((fut) => {
    log.push(`mut removed ${fut.removeDoneCallback(other)}`);
  });
  f.addDoneCallback(other);
  f.addDoneCallback(other);
  f.setResult(1);
  await drain(loop);
  assert.deepEqual(log, ["mut removed 0", "other", "other"]);
  loop.close();
});

Deno.test("many done callbacks keep their order", async () => {
  // CPython: test_futures.py test_remove_done_callbacks_list_mutation (64 callbacks)
  const { loop } = virtualLoop();
  const f = new asyncio.Future<number>({ loop });
  const log: number[] = [];
  const cbs = Array.from({ length: 64 }, (_, i) => () => log.push(i));
  for (const cb of cbs) f.addDoneCallback(cb);
  assert.equal(f.removeDoneCallback(cbs[10]), 1);
  f.setResult(0);
  await drain(loop);
  assert.deepEqual(log, [...Array(64).keys()].filter((i) => i !== 10));
  loop.close();
});

Deno.test("a throwing done callback is reported to the loop and the others still run", async () => {
  const { loop, reports } = virtualLoop();
  const f = new asyncio.Future<number>({ loop });
  const log: string[] = [];
  const boom = new Error("boom");
  f.addDoneCallback(() => {
    throw boom;
  });
  f.addDoneCallback(() => log.push("second"));
  f.setResult(1);
  await drain(loop);
  assert.deepEqual(log, ["second"]);
  assert.equal(reports.length, 1);
  assert.equal(reports[0].exception, boom);
  assert.match(reports[0].message, /^Exception in callback/);
  loop.close();
});

Deno.test("a throwing done callback is reported under its own name, with its future", async () => {
  // CPython: "Exception in callback myCallback(<Future finished result=1>)".
  const { loop, reports } = virtualLoop();
  const f = new asyncio.Future<number>({ loop });
  f.addDoneCallback(function myCallback() {
    throw new Error("boom");
  });
  f.setResult(1);
  await drain(loop);
  assert.equal(reports.length, 1);
  assert.equal(reports[0].message, "Exception in callback myCallback(<Future finished result=1>)");
  loop.close();
});

Deno.test("addDoneCallback(): a non-function throws TypeError", () => {
  const { loop } = virtualLoop();
  const f = new asyncio.Future({ loop });
  assert.throws(() => f.addDoneCallback("nope" as unknown as () => void), {
    name: "TypeError",
    message: `Future.addDoneCallback(): 'callback' must be a function, got "nope"`,
  });
  f.cancel();
  loop.close();
});

// ------------------------------------------------------------ promise interop

Deno.test("await / then / catch / finally on a future", async (t) => {
  await t.step("await resolves with the result", async () => {
    const { loop } = virtualLoop();
    const f = new asyncio.Future<number>({ loop });
    loop.callSoon(() => f.setResult(7));
    assert.equal(await f, 7);
    loop.close();
  });
  await t.step("then() of a done future", async () => {
    const { loop } = virtualLoop();
    const f = new asyncio.Future<number>({ loop });
    f.setResult(2);
    assert.equal(await f.then((v) => v * 10), 20);
    loop.close();
  });
  await t.step("a failed future rejects with its exception; catch() receives it", async () => {
    const { loop, reports } = virtualLoop();
    const f = new asyncio.Future<number>({ loop });
    const exc = new Error("nope");
    loop.callSoon(() => f.setException(exc));
    assert.equal(await f.catch((error) => error), exc);
    await assert.rejects(Promise.resolve(f), (error) => error === exc);
    loop.close();
    assertEmpty(reports, "awaiting retrieved the exception");
  });
  await t.step("a cancelled future rejects with CancelledError", async () => {
    const { loop } = virtualLoop();
    const f = new asyncio.Future<number>({ loop });
    loop.callSoon(() => f.cancel("why"));
    await assert.rejects(f, { name: "CancelledError", message: "why" });
    const done = new asyncio.Future<number>({ loop });
    done.cancel();
    await assert.rejects(done.then(), asyncio.CancelledError);
    loop.close();
  });
  await t.step("finally() runs on any outcome and keeps it", async () => {
    const { loop } = virtualLoop();
    const log: string[] = [];
    const ok = new asyncio.Future<number>({ loop });
    ok.setResult(1);
    assert.equal(await ok.finally(() => log.push("ok")), 1);
    const bad = new asyncio.Future<number>({ loop });
    bad.setException(new Error("x"));
    await assert.rejects(bad.finally(() => log.push("bad")), /x/);
    assert.deepEqual(log, ["ok", "bad"]);
    loop.close();
  });
  await t.step("then() hands out one promise: repeated awaits agree", async () => {
    const { loop } = virtualLoop();
    const f = new asyncio.Future<number>({ loop });
    const a = f.then((v) => v);
    const b = f.then((v) => v + 1);
    f.setResult(1);
    assert.deepEqual(await Promise.all([a, b, f]), [1, 2, 1]);
    loop.close();
  });
});

Deno.test("a Future is assignable to a Promise and is adopted by Promise.resolve()", async () => {
  const { loop } = virtualLoop();
  const f = new asyncio.Future<number>({ loop });
  // Compile-time check: a Future<number> type-checks as a Promise<number>.
  const p: Promise<number> = f;
  const like: PromiseLike<number> = f;
  f.setResult(3);
  assert.equal(await Promise.resolve(p), 3);
  assert.equal(await like, 3);
  assert.deepEqual(await Promise.all([f, Promise.resolve(4)]), [3, 4]);
  loop.close();
});

// ------------------------------------------------------------ unretrieved exceptions

Deno.test("an exception nobody retrieved is reported once when the loop closes", () => {
  // CPython: test_futures.py test_tb_logger_exception_unretrieved, test_future_exception_never_retrieved
  const { loop, reports } = virtualLoop();
  const exc = new Error("boom");
  const f = new asyncio.Future({ loop });
  f.setException(exc);
  assertEmpty(reports);
  loop.close();
  assert.equal(reports.length, 1);
  assert.equal(reports[0].message, "Future exception was never retrieved");
  assert.equal(reports[0].exception, exc);
  assert.equal(reports[0].future, f);
  assert.equal(reports[0].task, undefined);
  loop.close();
  assert.equal(reports.length, 1, "reported once");
});

Deno.test("nothing is reported for results, retrieved exceptions, or cancelled failures", async (t) => {
  // CPython: test_futures.py test_tb_logger_abandoned, test_tb_logger_result_unretrieved,
  // test_tb_logger_result_retrieved, test_tb_logger_exception_retrieved,
  // test_tb_logger_exception_result_retrieved, test_tb_logger_not_called_after_cancel
  const cases: Array<[string, (f: asyncio.Future<number>) => unknown]> = [
    ["abandoned pending", () => {}],
    ["result never read", (f) => f.setResult(42)],
    ["result read", (f) => (f.setResult(42), f.result())],
    ["exception()", (f) => (f.setException(new Error()), f.exception())],
    ["result() threw", (f) => (f.setException(new Error()), assert.throws(() => f.result()))],
    ["cancel() after setException()", (f) => (f.setException(new Error()), f.cancel())],
    [
      "yield*",
      (f) => (f.setException(new Error()), assert.throws(() => f[Symbol.iterator]().next())),
    ],
    ["catch()", (f) => (f.setException(new Error()), f.catch(() => {}))],
    ["awaited before it failed", (f) => (f.catch(() => {}), f.setException(new Error()))],
  ];
  for (const [name, act] of cases) {
    await t.step(name, async () => {
      const { loop, reports } = virtualLoop();
      const f = new asyncio.Future<number>({ loop });
      act(f);
      await drain(loop);
      if (!f.done()) f.cancel();
      loop.close();
      assertEmpty(reports);
    });
  }
});

Deno.test("an exception never retrieved inside run() is reported when run() ends", async () => {
  const contexts: asyncio.ExceptionContext[] = [];
  const exc = new Error("lost");
  await runVirtual(function* () {
    asyncio.getRunningLoop().setExceptionHandler((_loop, context) => contexts.push(context));
    const f = new asyncio.Future<void>();
    f.setException(exc);
    yield* asyncio.sleep(10);
    assert.deepEqual(contexts, [], "not before run() ends");
  });
  assert.equal(contexts.length, 1);
  assert.equal(contexts[0].message, "Future exception was never retrieved");
  assert.equal(contexts[0].exception, exc);
});
