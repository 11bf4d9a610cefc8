/**
 * The short soak: 100,000 tasks in waves of 10,000 on a virtual clock
 * (`deno task soak` runs 1,000,000 and checks the heap too).
 *
 * @module
 */

import assert from "node:assert/strict";
import { runSoak } from "./soak/waves.ts";

Deno.test("soak: 100,000 tasks in waves of 10,000 all end as their kind says, and leave nothing behind", async () => {
  const waves: number[] = [];
  const report = await runSoak({
    tasks: 100_000,
    waveSize: 10_000,
    onWave: (wave) => waves.push(wave.wave),
  });
  assert.deepEqual(report.problems, []);
  assert.equal(report.tasks, 100_000);
  assert.equal(report.waves, 10);
  assert.deepEqual(waves, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  assert.ok(report.created > report.tasks, "sub-tasks were started too");
});
