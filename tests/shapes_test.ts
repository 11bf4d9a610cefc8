// The package keeps one inert instance of each hot class (src/_shapes.ts) so
// that V8 keeps their maps, and the optimized code that embeds them, across
// runs. These tests hold the makers to "inert": a loop of their own that
// never runs, nothing scheduled, nothing visible to the program.
import assert from "node:assert/strict";
import * as asyncio from "../mod.ts";
import { keepShape } from "../src/_shapes.ts";
import { runVirtual } from "./_helpers.ts";

Deno.test("shapes: a maker registered after the first loop runs at once, on an idle loop of its own", async () => {
  new asyncio.EventLoop().close(); // the first loop has been made by now in any case
  let seen: asyncio.EventLoop | null = null;
  keepShape((loop) => (seen = loop));
  const loop = seen as asyncio.EventLoop | null;
  assert.ok(loop instanceof asyncio.EventLoop);
  assert.equal(loop.isRunning(), false);
  assert.equal(loop.isClosed(), false);
  assert.equal(asyncio.allTasks(loop).size, 0, "the dormant task is not registered");
  await runVirtual(function* () {
    assert.notEqual(asyncio.getRunningLoop(), loop);
    yield* asyncio.sleep(1);
  });
  assert.equal(asyncio.allTasks(loop).size, 0);
});

Deno.test("shapes: the kept instances are invisible to a program (no task, no report)", async () => {
  const reports: asyncio.ExceptionContext[] = [];
  await runVirtual(function* () {
    asyncio.getRunningLoop().setExceptionHandler((_loop, context) => reports.push(context));
    assert.equal(asyncio.allTasks().size, 1, "only main");
    yield* asyncio.sleep(1);
  });
  assert.equal(reports.length, 0);
});
