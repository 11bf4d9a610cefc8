/**
 * `deno task bench:scale`: does the cost per item stay flat as work grows?
 *
 * For spawn, timers and cancel it times ours at 10⁴, 10⁵ and 10⁶ tasks and
 * prints µs per item at each size and the ratio of the largest size to the
 * smallest (the target is at most 1.5×); for memory it prints the heap bytes
 * per pending task at each size (the target: it does not grow). The
 * workloads are those of `deno task bench` (see `_workloads/`), timers with
 * the same delays spread over 1..100 ms.
 *
 * Method, as the peer harness's: every measurement is a fresh process
 * (`deno run --v8-flags=--expose-gc` of this file with `--child`), which
 * runs the workload once at n/10 to warm up, collects garbage, then times
 * one run at n. Repetitions are interleaved round-robin, each round starting
 * one size later, so noise hits every size alike; cells show the median.
 * Besides wall-clock time, it reports the process's CPU time per item
 * (`process.cpuUsage()`, all threads, so V8's background compilation and
 * GC threads count too). For timers the wall-clock time includes the wait
 * for the longest delay (≈100 ms whatever n), so its µs per item falls as
 * n grows; the CPU column is the cost per timer.
 *
 * ```sh
 * deno task bench:scale                                  # ours, repeat 3
 * deno task bench:scale --repeat 5 --only spawn,cancel
 * deno task bench:scale --peers ours,ours-async,native   # the others, for reference
 * deno task bench:scale --sizes 1000,10000               # a quick look
 * ```
 *
 * @module
 */

import process from "node:process";
import { native } from "./_workloads/native.ts";
import { ours } from "./_workloads/ours.ts";
import { oursAsync } from "./_workloads/ours_async.ts";
import {
  canCollect,
  collect,
  HeapMeter,
  NO_PROBE,
  type WorkloadName,
  type Workloads,
} from "./_workloads/shared.ts";

const PEERS: Record<string, Workloads> = {
  "ours": ours,
  "ours-async": oursAsync,
  "native": native,
};

/** The workloads issue 8 asks to scale: three timed, one weighed. */
const SCALED: WorkloadName[] = ["spawn", "timers", "cancel", "memory"];
const DEFAULT_SIZES = [10_000, 100_000, 1_000_000];
/** The limit of the largest size's µs per item over the smallest's. */
const FLAT_ENOUGH = 1.5;
/** A single measurement that takes longer than this has failed. */
const CHILD_TIMEOUT_MS = 300_000;

/** What one child process reports. */
interface Sample {
  ms: number;
  cpuMs: number;
  heapPerTask?: number;
}

// ------------------------------------------------------------ child: one measurement

async function measure(peer: string, workload: WorkloadName, n: number): Promise<Sample> {
  const run = PEERS[peer]?.[workload];
  if (run === undefined) throw new Error(`${peer} has no ${workload} workload`);
  if (!canCollect) throw new Error("bench/scale.ts needs --v8-flags=--expose-gc");
  await run(Math.max(1, Math.floor(n / 10)), NO_PROBE); // warm-up: JIT, lazy init
  collect();
  const meter = workload === "memory" ? new HeapMeter() : NO_PROBE;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await run(n, meter);
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const sample: Sample = { ms, cpuMs: (cpu.user + cpu.system) / 1000 };
  if (meter instanceof HeapMeter) sample.heapPerTask = meter.bytesPer(n);
  return sample;
}

// ------------------------------------------------------------ parent: the table

interface Options {
  peers: string[];
  workloads: WorkloadName[];
  sizes: number[];
  repeat: number;
}

function usage(problem: string): never {
  console.error(`${problem}
usage: deno task bench:scale [--repeat R] [--only ${SCALED.join(",")}]
                             [--peers ${
    Object.keys(PEERS).join(",")
  }] [--sizes 10000,100000,1000000]`);
  Deno.exit(2);
}

function parseOptions(args: string[]): Options {
  const options: Options = { peers: ["ours"], workloads: SCALED, sizes: DEFAULT_SIZES, repeat: 3 };
  for (let i = 0; i < args.length; i++) {
    const value = args[i + 1];
    if (value === undefined) usage(`${args[i]} needs a value`);
    const list = value.split(",").filter((s) => s !== "");
    switch (args[i++]) {
      case "--repeat":
        options.repeat = Number(value);
        if (!Number.isInteger(options.repeat) || options.repeat < 1) {
          usage(`--repeat must be a positive integer, got ${value}`);
        }
        break;
      case "--only":
        for (const w of list) {
          if (!SCALED.includes(w as WorkloadName)) usage(`unknown workload ${w}`);
        }
        options.workloads = list as WorkloadName[];
        break;
      case "--peers":
        for (const p of list) if (!(p in PEERS)) usage(`unknown peer ${p}`);
        options.peers = list;
        break;
      case "--sizes":
        options.sizes = list.map(Number);
        if (options.sizes.some((n) => !Number.isInteger(n) || n < 1)) {
          usage(`--sizes must be positive integers, got ${value}`);
        }
        options.sizes.sort((a, b) => a - b);
        break;
      default:
        usage(`unknown option ${args[i - 1]}`);
    }
  }
  return options;
}

/** Runs one measurement in a fresh process. */
async function spawnChild(peer: string, workload: WorkloadName, n: number): Promise<Sample> {
  const command = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--quiet",
      "--v8-flags=--expose-gc",
      import.meta.url,
      "--child",
      peer,
      workload,
      String(n),
    ],
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(CHILD_TIMEOUT_MS),
  });
  const { code, stdout, stderr } = await command.output();
  const out = new TextDecoder().decode(stdout).trim();
  if (code !== 0) {
    const why = new TextDecoder().decode(stderr).trim().split("\n").slice(-3).join(" | ");
    throw new Error(`exit code ${code}: ${why}`);
  }
  return JSON.parse(out.split("\n").at(-1)!) as Sample;
}

function median(values: number[]): number {
  const sorted = values.toSorted((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

function fixed(value: number): string {
  if (!Number.isFinite(value)) return "–";
  if (value >= 100) return value.toFixed(0);
  if (value >= 10) return value.toFixed(1);
  if (value >= 1) return value.toFixed(2);
  return value.toFixed(3);
}

function power(n: number): string {
  const exponent = Math.log10(n);
  if (!Number.isInteger(exponent)) return n.toLocaleString("en-US");
  const digits = "⁰¹²³⁴⁵⁶⁷⁸⁹";
  return `10${[...String(exponent)].map((d) => digits[Number(d)]).join("")}`;
}

async function main(options: Options): Promise<void> {
  const { peers, workloads, sizes, repeat } = options;
  const samples = new Map<string, Sample[]>();
  const failures = new Map<string, string>();
  const key = (w: string, p: string, n: number) => `${w}/${p}/${n}`;
  const started = performance.now();
  const total = repeat * workloads.length * sizes.length * peers.length;
  let done = 0;
  for (let round = 0; round < repeat; round++) {
    for (const workload of workloads) {
      for (let s = 0; s < sizes.length; s++) {
        const n = sizes[(s + round) % sizes.length];
        for (let p = 0; p < peers.length; p++) {
          const peer = peers[(p + round) % peers.length];
          const k = key(workload, peer, n);
          done++;
          if (failures.has(k) || PEERS[peer][workload] === undefined) continue;
          try {
            const sample = await spawnChild(peer, workload, n);
            samples.set(k, [...(samples.get(k) ?? []), sample]);
            const elapsed = ((performance.now() - started) / 1000).toFixed(0);
            console.error(
              `[${done}/${total}] ${workload} ${peer} n=${n}: ${sample.ms.toFixed(1)} ms` +
                (sample.heapPerTask === undefined
                  ? ""
                  : `, ${sample.heapPerTask.toFixed(0)} B/task`) +
                ` (${elapsed} s)`,
            );
          } catch (error) {
            failures.set(k, error instanceof Error ? error.message : String(error));
            console.error(
              `[${done}/${total}] ${workload} ${peer} n=${n}: FAILED ${failures.get(k)}`,
            );
          }
        }
      }
    }
  }

  const smallest = sizes[0], largest = sizes[sizes.length - 1];
  const lines: string[] = [
    `Scale: median of ${repeat} fresh process${repeat === 1 ? "" : "es"} per cell; ` +
    `${
      new Date().toISOString().slice(0, 19)
    }Z; deno ${Deno.version.deno} (v8 ${Deno.version.v8}); ` +
    `${((performance.now() - started) / 1000).toFixed(0)} s.`,
    "",
  ];
  const verdicts: string[] = [];
  const timed = workloads.filter((w) => w !== "memory");
  if (timed.length > 0) {
    lines.push(
      `| workload | peer | n | median ms | µs per item | CPU µs per item | µs per item ÷ at ${
        power(smallest)
      } |`,
      "|---|---|---:|---:|---:|---:|---:|",
    );
    for (const workload of timed) {
      for (const peer of peers) {
        if (PEERS[peer][workload] === undefined) continue;
        const perItem = (n: number) => {
          const cell = samples.get(key(workload, peer, n));
          if (cell === undefined) return { ms: NaN, wall: NaN, cpu: NaN };
          const ms = median(cell.map((c) => c.ms));
          return { ms, wall: (ms * 1000) / n, cpu: (median(cell.map((c) => c.cpuMs)) * 1000) / n };
        };
        const base = perItem(smallest);
        for (const n of sizes) {
          const { ms, wall, cpu } = perItem(n);
          const failed = failures.get(key(workload, peer, n));
          lines.push(
            failed !== undefined
              ? `| ${workload} | ${peer} | ${power(n)} | failed: ${failed} | | | |`
              : `| ${workload} | ${peer} | ${power(n)} | ${fixed(ms)} | ${fixed(wall)} | ${
                fixed(cpu)
              } | ${fixed(wall / base.wall)}× |`,
          );
        }
        const top = perItem(largest);
        const ratio = top.wall / base.wall, cpuRatio = top.cpu / base.cpu;
        verdicts.push(
          `- ${workload} (${peer}): µs per item at ${power(largest)} ÷ at ${power(smallest)} = ` +
            `${fixed(ratio)}× (CPU: ${fixed(cpuRatio)}×); target ≤ ${FLAT_ENOUGH}×: ` +
            `${Number.isFinite(ratio) ? (ratio <= FLAT_ENOUGH ? "met" : "MISSED") : "no data"}` +
            (workload === "timers"
              ? " (wall time includes the ≈100 ms wait for the last timer)"
              : ""),
        );
      }
    }
    lines.push("");
  }
  if (workloads.includes("memory")) {
    lines.push(
      `| workload | peer | n | heap B per pending task | ÷ at ${power(smallest)} |`,
      "|---|---|---:|---:|---:|",
    );
    for (const peer of peers) {
      if (PEERS[peer].memory === undefined) continue;
      const bytes = (n: number) => {
        const cell = samples.get(key("memory", peer, n));
        return cell === undefined ? NaN : median(cell.map((c) => c.heapPerTask ?? NaN));
      };
      for (const n of sizes) {
        const failed = failures.get(key("memory", peer, n));
        lines.push(
          failed !== undefined
            ? `| memory | ${peer} | ${power(n)} | failed: ${failed} | |`
            : `| memory | ${peer} | ${power(n)} | ${bytes(n).toFixed(0)} | ${
              fixed(bytes(n) / bytes(smallest))
            }× |`,
        );
      }
      const growth = bytes(largest) / bytes(smallest);
      verdicts.push(
        `- memory (${peer}): heap per pending task at ${power(largest)} ÷ at ${
          power(smallest)
        } = ` +
          `${fixed(growth)}×; target: does not grow (≤ 1.05×): ` +
          `${Number.isFinite(growth) ? (growth <= 1.05 ? "met" : "MISSED") : "no data"}`,
      );
    }
    lines.push("");
  }
  lines.push(...verdicts);
  console.log(lines.join("\n"));
  if (failures.size > 0) Deno.exitCode = 1;
}

if (import.meta.main) {
  if (Deno.args[0] === "--child") {
    const [, peer, workload, size] = Deno.args;
    const sample = await measure(peer, workload as WorkloadName, Number(size));
    console.log(JSON.stringify(sample));
    // At once: a workload that leaked a timer must not keep the process alive.
    Deno.exit(0);
  } else {
    await main(parseOptions(Deno.args));
  }
}
