// Compile-time checks: `deno test` type-checks this file, so a regression in
// the public types fails the suite even though the runtime asserts are trivial.
import assert from "node:assert/strict";
import * as asyncio from "../mod.ts";
import { runVirtual } from "./_helpers.ts";

type Equals<A, B> = (<X>() => X extends A ? 1 : 2) extends (<X>() => X extends B ? 1 : 2) ? true
  : false;
function expectType<A, B>(_proof: Equals<A, B>): void {}

Deno.test("types: yield* gives the future's type; tasks keep their result type", async () => {
  const result = await runVirtual(function* () {
    const loop = asyncio.getRunningLoop();
    const fut = loop.createFuture<number>();
    loop.callSoon(() => fut.setResult(1));
    const n = yield* fut;
    expectType<typeof n, number>(true);
    const task = asyncio.createTask(function* () {
      yield* asyncio.sleep(1);
      return { ok: true };
    });
    expectType<typeof task, asyncio.Task<{ ok: boolean }>>(true);
    // A Task<T> passed on keeps T (Task overrides setResult; no `| undefined` may leak in).
    const viaWaitFor = yield* asyncio.waitFor(task, 10);
    expectType<typeof viaWaitFor, { ok: boolean }>(true);
    const viaEnsure = asyncio.ensureFuture(task);
    expectType<typeof viaEnsure, asyncio.Future<{ ok: boolean }>>(true);
    const asyncTask = asyncio.createTask(async () => "text");
    expectType<typeof asyncTask, asyncio.Task<string>>(true);
    return n + (viaWaitFor.ok ? 1 : 0);
  });
  expectType<typeof result, number>(true);
  assert.equal(result, 2);
});

Deno.test("types: gather returns a typed tuple; returnExceptions widens each slot with Error", async () => {
  await runVirtual(function* () {
    const g = asyncio.gather([
      asyncio.sleep(1).then(() => 3),
      async () => "s",
      (function* () {
        return true;
      })(),
    ]);
    expectType<typeof g, asyncio.Future<[number, string, boolean]>>(true);
    const settled = asyncio.gather([async () => 1], { returnExceptions: true });
    expectType<typeof settled, asyncio.Future<[number | Error]>>(true);
    const [a, b, c] = yield* g;
    assert.deepEqual([a, b, c], [3, "s", true]);
    yield* settled;
  });
});

Deno.test("types: a Future is usable where a Promise is expected", async () => {
  const fut = new asyncio.Future<string>();
  fut.setResult("x");
  const promise: Promise<string> = fut;
  assert.equal(await Promise.race([promise]), "x");
});

Deno.test("types: gather of a Set gives an array of its results", async () => {
  await runVirtual(function* () {
    const g = asyncio.gather(
      new Set([asyncio.sleep(1).then(() => 1), asyncio.sleep(2).then(() => 2)]),
    );
    expectType<typeof g, asyncio.Future<number[]>>(true);
    assert.deepEqual(yield* g, [1, 2]);
  });
});
