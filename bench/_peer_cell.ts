/**
 * One cell of `deno task bench:peers`: one peer, one workload, one size, in
 * a process of its own (started by bench/peers.ts).
 *
 *     deno run --v8-flags=--expose-gc bench/_peer_cell.ts <peer> <workload> <n>
 *
 * Runs the workload once at n/10 to warm up, collects garbage, times one
 * run at n, checks its result (every workload checks its own), and prints
 * one JSON line: `{"peer","workload","n","items","ms"}`, plus
 * `"heap_bytes_per_item"` for memory (heap after a forced collection, before
 * and after the tasks exist; its `ms` includes those collections). A peer
 * with no idiom for the workload prints `{"skipped":true}`.
 *
 * @module
 */

import { native } from "./_workloads/native.ts";
import { ours } from "./_workloads/ours.ts";
import { oursAsync } from "./_workloads/ours_async.ts";
import { effect } from "./_workloads/effect.ts";
import { effection } from "./_workloads/effection.ts";
import { asyncMutexWorkloads, pTimeoutWorkloads } from "./_workloads/plibs.ts";
import {
  collect,
  HeapMeter,
  itemsOf,
  NO_PROBE,
  type WorkloadName,
  WORKLOADS,
  type Workloads,
} from "./_workloads/shared.ts";

/** The JavaScript peers, by the name bench/peers.ts uses. */
export const JS_PEERS: Record<string, Workloads> = {
  native,
  ours,
  "ours-async": oursAsync,
  effect,
  effection,
  "p-timeout": pTimeoutWorkloads,
  "async-mutex": asyncMutexWorkloads,
};

if (import.meta.main) {
  const [peer, workload, size] = Deno.args;
  const workloads = JS_PEERS[peer];
  const n = Number(size);
  if (
    workloads === undefined || !(WORKLOADS as readonly string[]).includes(workload) ||
    !Number.isInteger(n) || n < 1
  ) {
    console.error(
      `usage: _peer_cell.ts <${Object.keys(JS_PEERS).join("|")}> <${WORKLOADS.join("|")}> <n>`,
    );
    Deno.exit(2);
  }
  const run = workloads[workload as WorkloadName];
  if (run === undefined) {
    console.log(JSON.stringify({ skipped: true }));
  } else {
    await run(Math.max(1, Math.floor(n / 10)), NO_PROBE); // warm-up
    collect();
    const meter = workload === "memory" ? new HeapMeter() : NO_PROBE;
    const t0 = performance.now();
    await run(n, meter);
    const ms = performance.now() - t0;
    const line: Record<string, unknown> = {
      peer,
      workload,
      n,
      items: itemsOf(workload as WorkloadName, n),
      ms,
    };
    if (meter instanceof HeapMeter) line.heap_bytes_per_item = meter.bytesPer(n);
    console.log(JSON.stringify(line));
  }
}
