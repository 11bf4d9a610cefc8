import assert from "node:assert/strict";
import * as asyncio from "../mod.ts";
import { assertIdentical, runVirtual, virtualLoop } from "./_helpers.ts";

Deno.test("the errors are exported Error subclasses named after their class", () => {
  const classes = [
    asyncio.CancelledError,
    asyncio.TimeoutError,
    asyncio.InvalidStateError,
    asyncio.KeyboardInterrupt,
  ];
  for (const ErrorClass of classes) {
    const error = new ErrorClass("message", { cause: "why" });
    assert.ok(error instanceof Error);
    assert.ok(error instanceof ErrorClass);
    assert.equal(error.name, ErrorClass.name);
    assert.equal(error.message, "message");
    assert.equal(error.cause, "why");
    assert.equal(String(error), `${ErrorClass.name}: message`);
    assert.equal(typeof error.stack, "string");
    assert.equal(new ErrorClass().message, "");
    for (const Other of classes) {
      if (Other !== ErrorClass) assert.equal(error instanceof Other, false);
    }
  }
  assert.notEqual(
    asyncio.TimeoutError,
    globalThis.DOMException,
    "our own class, not a DOMException",
  );
});

Deno.test("InvalidStateError: a result read too early, a result set twice", () => {
  const { loop } = virtualLoop();
  const fut = loop.createFuture<number>();
  assert.throws(() => fut.result(), {
    name: "InvalidStateError",
    message: "Future.result(): the result is not set yet",
  });
  assert.throws(() => fut.exception(), {
    name: "InvalidStateError",
    message: "Future.exception(): the exception is not set yet",
  });
  fut.cancel();
  assert.throws(() => fut.setResult(1), {
    name: "InvalidStateError",
    message: "Future.setResult(): the future is already cancelled",
  });
  loop.close();
});

Deno.test("CancelledError: raised by a cancelled future, a cancelled task, a cancelled sleep", async () => {
  await runVirtual(function* () {
    const task = asyncio.createTask(function* () {
      yield* asyncio.sleep(1_000);
    });
    yield* asyncio.sleep(0);
    task.cancel("reason");
    const nap = asyncio.sleep(1_000);
    nap.cancel("nap");
    const fut = asyncio.getRunningLoop().createFuture<void>();
    fut.cancel("fut");
    for (const [cancelled, message] of [[task, "reason"], [nap, "nap"], [fut, "fut"]] as const) {
      try {
        yield* cancelled;
        assert.fail("not reached");
      } catch (error) {
        assert.ok(error instanceof asyncio.CancelledError);
        assert.equal(error.name, "CancelledError");
        assert.equal(error.message, message);
      }
    }
  });
});

Deno.test("TimeoutError: raised by waitFor() on expiry, with the CancelledError as cause", async () => {
  await runVirtual(function* () {
    try {
      yield* asyncio.waitFor(asyncio.sleep(1_000), 10);
      assert.fail("not reached");
    } catch (error) {
      assert.ok(error instanceof asyncio.TimeoutError);
      assert.equal(error.name, "TimeoutError");
      assert.ok(error.cause instanceof asyncio.CancelledError);
    }
  });
});

Deno.test("bad arguments: TypeError or RangeError whose message names the function and the argument", async () => {
  // deno-lint-ignore no-explicit-any
  const bad = (value: unknown): any => value;
  const { loop } = virtualLoop();
  const fut = loop.createFuture<number>();
  const cases: Array<[string, () => unknown, ErrorConstructor, RegExp]> = [
    [
      "new Future(options)",
      () => new asyncio.Future(bad(1)),
      TypeError,
      /^Cannot create Future: 'options' /,
    ],
    [
      "new Future({ loop })",
      () => new asyncio.Future({ loop: bad({}) }),
      TypeError,
      /^Cannot create Future: 'loop' /,
    ],
    ["Future.cancel(msg)", () => fut.cancel(bad(1)), TypeError, /^Future\.cancel\(\): 'msg' /],
    [
      "Future.addDoneCallback(cb)",
      () => fut.addDoneCallback(bad(1)),
      TypeError,
      /^Future\.addDoneCallback\(\): 'callback' /,
    ],
    [
      "Future.setException(undefined)",
      () => fut.setException(undefined),
      TypeError,
      /^Future\.setException\(\): 'exception' /,
    ],
    ["createTask(coro)", () => asyncio.createTask(bad(1)), TypeError, /^createTask\(\): 'coro' /],
    [
      "new Task(coro)",
      () => new asyncio.Task(bad(null)),
      TypeError,
      /^Cannot create Task: 'coro' /,
    ],
    [
      "createTask(..., { name })",
      () => loop.createTask(function* () {}, { name: bad(1) }),
      TypeError,
      /^EventLoop\.createTask\(\): 'name' /,
    ],
    [
      "createTask(..., { eagerStart })",
      () => loop.createTask(function* () {}, { eagerStart: bad(1) }),
      TypeError,
      /^EventLoop\.createTask\(\): 'eagerStart' /,
    ],
    ["sleep(ms)", () => asyncio.sleep(bad("1")), TypeError, /^sleep\(\): 'ms' /],
    ["sleep(NaN)", () => asyncio.sleep(NaN), RangeError, /^sleep\(\): 'ms' /],
    [
      "sleep(ms, { signal })",
      () => asyncio.sleep(1, { signal: bad(1) }),
      TypeError,
      /^sleep\(\): 'signal' /,
    ],
    ["waitFor(aw)", () => asyncio.waitFor(bad(1), 1), TypeError, /^waitFor\(\): 'aw' /],
    [
      "waitFor(aw, timeoutMs)",
      () => asyncio.waitFor(fut, bad("1")),
      TypeError,
      /^waitFor\(\): 'timeoutMs' /,
    ],
    ["waitFor(aw, NaN)", () => asyncio.waitFor(fut, NaN), RangeError, /^waitFor\(\): 'timeoutMs' /],
    ["gather(aws)", () => asyncio.gather(bad(1)), TypeError, /^gather\(\): 'aws' /],
    [
      "gather([..., bad])",
      () => asyncio.gather([fut, bad(1)]),
      TypeError,
      /^gather\(\): 'aws\[1\]' /,
    ],
    [
      "gather(aws, { returnExceptions })",
      () => asyncio.gather([fut], { returnExceptions: bad(1) }),
      TypeError,
      /^gather\(\): 'returnExceptions' /,
    ],
    ["ensureFuture(aw)", () => asyncio.ensureFuture(bad(1)), TypeError, /^ensureFuture\(\): 'aw' /],
    ["run(main)", () => asyncio.run(bad(1)), TypeError, /^run\(\): 'main' /],
    [
      "run(main, { debug })",
      () => asyncio.run(function* () {}, { debug: bad(1) }),
      TypeError,
      /^run\(\): 'debug' /,
    ],
  ];
  for (const [what, call, ErrorClass, message] of cases) {
    assert.throws(call, (error: unknown) => {
      assert.ok(error instanceof ErrorClass, `${what}: ${error}`);
      assert.match((error as Error).message, message, what);
      assert.match((error as Error).message, /, got |must not be NaN|must not be undefined/, what);
      return true;
    });
  }
  fut.cancel();
  await runVirtual(function* () {
    const t = asyncio.createTask(function* () {});
    assert.throws(() => t.cancel(bad(1)), {
      name: "TypeError",
      message: /^Task\.cancel\(\): 'msg' /,
    });
    yield* t;
  });
  loop.close();
});

Deno.test("cancellation errors made by the loop skip the stack trace, except in debug mode", async () => {
  // Capturing the stack (only the loop's own frames) was the main cost of cancelling a task.
  for (const debug of [false, true]) {
    const error = await runVirtual(function* () {
      const task = asyncio.createTask(function* () {
        yield* asyncio.sleep(1_000);
      });
      yield* asyncio.sleep(0);
      task.cancel("stop");
      try {
        yield* task;
      } catch (error) {
        return error as Error;
      }
    }, { debug });
    assert.ok(error instanceof asyncio.CancelledError);
    assert.equal(error.message, "stop");
    assert.equal(/\n\s+at /.test(error.stack ?? ""), debug, `debug=${debug}: ${error.stack}`);
  }
  // A user's own CancelledError keeps its stack.
  assert.match(new asyncio.CancelledError("mine").stack ?? "", /\n\s+at /);
});

Deno.test("assertions: a deep comparison of tasks is refused; assertIdentical compares them by identity", async () => {
  // Two different tasks are deeply equal (no enumerable own properties), so
  // `deepEqual([a], [b])` could never fail: tests/_assert_identity.ts (preloaded
  // by `deno task test`) refuses it, and assertIdentical tells them apart.
  await runVirtual(function* () {
    const a = asyncio.createTask(function* () {});
    const b = asyncio.createTask(function* () {});
    assert.throws(() => assert.deepEqual([a], [b]), /compares <Task .*> deeply/);
    assert.throws(() => assert.notDeepEqual({ t: a }, { t: b }), /compares <Task .*> deeply/);
    assert.throws(() => assertIdentical([a], [b]), assert.AssertionError);
    assertIdentical([a, 1], [a, 1]);
    yield* asyncio.gather([a, b]);
  });
});
