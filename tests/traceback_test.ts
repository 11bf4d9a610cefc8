// The report the default exception handler prints: a task named once, then
// a traceback without the package's own frames unless debug mode is on.
import assert from "node:assert/strict";
import * as asyncio from "../mod.ts";
import { formatTraceback } from "../src/_traceback.ts";

/** Runs `use` with console.error captured; returns what it wrote, one string per call. */
async function captureConsole(use: () => Promise<unknown>): Promise<string[]> {
  const written: string[] = [];
  const original = console.error;
  console.error = (...args: unknown[]) => written.push(args.map(String).join(" "));
  try {
    await use();
  } finally {
    console.error = original;
  }
  return written;
}

const SRC = new URL("../src/", import.meta.url).href;

/** An error whose stack is exactly `frames`, under a first line `Error: boom`. */
function errorWithStack(...frames: string[]): Error {
  const error = new Error("boom");
  error.stack = ["Error: boom", ...frames.map((f) => `    at ${f}`)].join("\n");
  return error;
}

Deno.test("a task's unretrieved exception is printed once: the message, future:, the traceback", async () => {
  // CPython: test_tasks.py test_exception_traceback / base_events.default_exception_handler
  const written = await captureConsole(() =>
    asyncio.run(function* () {
      asyncio.createTask(function* userCoroutine() {
        yield* asyncio.sleep(1);
        throw new RangeError("nobody awaits me");
      }, { name: "orphan" });
      yield* asyncio.sleep(10);
    }, { clock: new asyncio.VirtualClock({ autojump: true }) })
  );
  assert.equal(written.length, 1);
  const lines = written[0].split("\n");
  assert.equal(lines[0], "Task exception was never retrieved");
  assert.match(lines[1], /^future: <Task finished name=orphan exception=RangeError/);
  assert.equal(lines.filter((l) => l.startsWith("task:")).length, 0, "not also task:");
  assert.equal(lines[2], "RangeError: nobody awaits me");
  assert.match(lines[3], /at userCoroutine .*traceback_test\.ts/);
  assert.equal(written[0].includes(SRC), false, "no frame of the package");
  assert.match(lines.at(-1)!, /^\s+\(\d+ frames? of @aio\/asyncio and the host hidden; debug mode/);
});

Deno.test("debug mode prints the whole stack, the package's frames included", async () => {
  const written = await captureConsole(() =>
    asyncio.run(function* () {
      asyncio.createTask(function* () {
        yield* asyncio.sleep(1);
        throw new Error("in debug mode");
      });
      yield* asyncio.sleep(10);
    }, { clock: new asyncio.VirtualClock({ autojump: true }), debug: true })
  );
  assert.equal(written.length, 1);
  assert.ok(written[0].includes(`${SRC}task.ts`), "the task step is shown");
  assert.equal(written[0].includes("hidden"), false);
});

Deno.test("formatTraceback() drops package frames and the host frames next to them", async (t) => {
  await t.step("user frames stay, in order, with the host frames between them", () => {
    const error = errorWithStack(
      "inner (file:///app/main.ts:3:9)",
      "Array.map (<anonymous>)",
      "outer (file:///app/main.ts:7:3)",
      "outer.next (<anonymous>)",
      `Task.#step (${SRC}task.ts:444:53)`,
      `EventLoop.#runOnce (${SRC}event_loop.ts:596:21)`,
      "ext:core/01_core.js:588:9",
    );
    assert.equal(
      formatTraceback(error, false),
      [
        "Error: boom",
        "    at inner (file:///app/main.ts:3:9)",
        "    at Array.map (<anonymous>)",
        "    at outer (file:///app/main.ts:7:3)",
        "    (4 frames of @aio/asyncio and the host hidden; debug mode shows them)",
      ].join("\n"),
    );
    assert.equal(formatTraceback(error, true), error.stack);
  });

  await t.step("a user frame called back from the package is kept", () => {
    const error = errorWithStack(
      "callback (file:///app/main.ts:3:9)",
      `runHandle (${SRC}handle.ts:114:32)`,
      "main (file:///app/main.ts:10:1)",
    );
    const text = formatTraceback(error, false);
    assert.match(text, /at callback .*\n.*at main .*\n.*\(1 frame of @aio\/asyncio/);
  });

  await t.step("a stack with nothing to hide is printed as it is", () => {
    const error = errorWithStack("f (file:///app/main.ts:1:1)", "node:internal/x:1:1");
    assert.equal(formatTraceback(error, false), error.stack);
  });

  await t.step("non-errors and errors without a stack are printed with String()", () => {
    assert.equal(formatTraceback("a string", false), "a string");
    const bare = new Error("no stack");
    bare.stack = undefined;
    assert.equal(formatTraceback(bare, false), "Error: no stack");
    assert.equal(formatTraceback(undefined, false), "undefined");
  });

  await t.step("a message of several lines is not taken for frames", () => {
    const error = new Error("line one\nline two");
    error.stack = `Error: line one\nline two\n    at ${SRC}future.ts:1:1`;
    assert.equal(
      formatTraceback(error, false),
      "Error: line one\nline two\n    (1 frame of @aio/asyncio and the host hidden; debug mode shows them)",
    );
  });
});
