/**
 * `deno task soak`: 1,000,000 tasks in waves of 10,000 (see waves.ts),
 * with a progress bar. Passes when every wave is complete and correct, and
 * the heap after GC at the end is within 10% of the heap after GC once the
 * first wave is done (after a ten-wave warm-up on a loop of its own, see
 * below). "At the end" is once run() has returned (its loop,
 * with the ready ring and timer heap sized for the busiest wave, is gone):
 * what the library still holds then is what it leaked. A second check
 * watches the heap while the loop runs: after GC at the last wave it must
 * be within 10% of the heap at the middle wave (it plateaus once the
 * loop's buffers and the JIT have warmed up; a leak keeps growing).
 *
 * ```sh
 * deno task soak                       # 1,000,000 tasks, virtual time
 * deno task soak --tasks 200000 --real # real timers (sleeps of 1-20 ms)
 * ```
 *
 * @module
 */

import * as asyncio from "../../mod.ts";
import { runSoak } from "./waves.ts";

const args = Deno.args;
const option = (name: string, fallback: number): number => {
  const at = args.indexOf(name);
  return at === -1 ? fallback : Number(args[at + 1]);
};
const total = option("--tasks", 1_000_000);
const waveSize = option("--wave", 10_000);
const real = args.includes("--real");

const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) {
  console.error("soak: run with --v8-flags=--expose-gc (deno task soak does)");
  Deno.exit(2);
}

function heapAfterGc(): number {
  for (let i = 0; i < 3; i++) (gc as () => void)();
  return Deno.memoryUsage().heapUsed;
}

const mb = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MB`;
const tty = Deno.stdout.isTerminal();
const encoder = new TextEncoder();
let firstHeap = 0;
let middleHeap = 0;
let lastWaveHeap = 0;
const started = performance.now();

// Warm-up: ten waves on a loop of their own, so that the first measured
// heap already holds what the engine keeps for this workload: the JIT's code
// and feedback, and V8's list of objects using %GeneratorPrototype% (every
// `function* () {}` closure passed to timeout() or taskGroup() gets its own
// prototype object, registered there; the list is weak and compacted only
// when it grows, so it plateaus at about 0.5 MB after ~100,000 closures).
await runSoak({ tasks: 10 * waveSize, waveSize });

const report = await runSoak({
  tasks: total,
  waveSize,
  clock: real ? undefined : new asyncio.VirtualClock({ autojump: true }),
  onWave(wave) {
    const middle = Math.ceil(wave.waves / 2);
    if (wave.wave === 1) firstHeap = heapAfterGc();
    if (wave.wave === middle) middleHeap = heapAfterGc();
    if (wave.wave === wave.waves) lastWaveHeap = heapAfterGc();
    const done = wave.wave / wave.waves;
    const width = 30;
    const filled = Math.round(done * width);
    const bar = `[${"#".repeat(filled)}${".".repeat(width - filled)}]`;
    const line = `${bar} ${(done * 100).toFixed(0).padStart(3)}%  ${
      wave.tasksSoFar.toLocaleString("en-US")
    } tasks  wave ${wave.wave}/${wave.waves}  heap ${mb(Deno.memoryUsage().heapUsed)}`;
    if (tty) Deno.stdout.writeSync(encoder.encode(`\r\x1b[K${line}`));
    else if (wave.wave % 10 === 0 || wave.wave === wave.waves) console.log(line);
    for (const problem of wave.problems) {
      if (tty) Deno.stdout.writeSync(encoder.encode("\n"));
      console.log(`  ${problem}`);
    }
  },
});
if (tty) Deno.stdout.writeSync(encoder.encode("\n"));
// A macrotask turn first: WeakRef targets (the library keeps one per failed
// future) stay alive until the current job ends (ECMAScript KeepDuringJob).
await new Promise((resolve) => setTimeout(resolve, 0));
const endHeap = heapAfterGc();

const seconds = (performance.now() - started) / 1000;
const percent = (from: number, to: number) => `${((to - from) / from * 100).toFixed(1)}%`;
console.log(
  `soak: ${report.tasks.toLocaleString("en-US")} tasks (${
    report.created.toLocaleString("en-US")
  } with sub-tasks) in ${report.waves} waves, ${seconds.toFixed(1)} s, ${
    real ? "real timers" : "virtual time"
  }`,
);
console.log(
  `soak: heap after GC: ${mb(firstHeap)} after the first wave, ${mb(endHeap)} at the end (${
    percent(firstHeap, endHeap)
  }, limit +10%)`,
);
console.log(
  `soak: heap after GC while running: ${mb(middleHeap)} at the middle wave, ${
    mb(lastWaveHeap)
  } at the last (${percent(middleHeap, lastWaveHeap)}, limit +10%)`,
);
const complete = report.tasks === total && report.problems.length === 0;
const bounded = endHeap <= firstHeap * 1.1 && lastWaveHeap <= middleHeap * 1.1;
if (!complete) console.log(`soak: FAILED: ${report.problems.length} problem(s) (see above)`);
if (!bounded) console.log("soak: FAILED: the heap grew by more than 10%");
if (complete && bounded) console.log("soak: passed");
Deno.exit(complete && bounded ? 0 : 1);
