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
