/**
 * `deno task bench:peers`: the eight workloads side by side, each peer in a
 * fresh process per measurement: ours (generator tasks), ours-async
 * (async-function tasks), hand-written native Promise code (the baseline),
 * the npm libraries a TypeScript user would pick instead (Effect,
 * Effection, p-timeout, async-mutex; pinned in deno.json, benchmarks only),
 * and CPython's asyncio when a CPython 3.12+ is found.
 *
 * Method: every cell (peer × workload) warms up at N/10 and times one run
 * at N in its own process (bench/_peer_cell.ts, bench/cpython_workloads.py);
 * the cells run interleaved, round-robin (repeat 1 of every cell, then
 * repeat 2, ...), so a machine that slows down slows every peer alike; the
 * table gives each cell's median and minimum, µs per item, the ratio of the
 * medians to native, and for memory the heap bytes per pending task.
 *
 *     deno task bench:peers [--quick] [--only spawn,lock] [--peers native,ours]
 *                           [--repeat 5] [--json results.json]
 *
 * `--quick` divides every N by 10 and repeats 3 times. The workloads are
 * described in bench/_workloads/ (the constants in shared.ts).
 *
 * @module
 */

import { JS_PEERS } from "./_peer_cell.ts";
import { itemsOf, type WorkloadName, WORKLOADS } from "./_workloads/shared.ts";

/** Full sizes (`--quick` divides them by 10). */
const SIZES: Record<WorkloadName, number> = {
  spawn: 100_000,
  timeouts: 100_000,
  timers: 100_000,
  queue: 1_000_000,
  lock: 1_000,
  cancel: 100_000,
  recursion: 1_000,
  memory: 100_000,
};

const ALL_PEERS = [...Object.keys(JS_PEERS), "cpython"];
const HERE = new URL(".", import.meta.url);

interface Options {
  quick: boolean;
  only: WorkloadName[];
  peers: string[];
  repeat: number;
  json: string | null;
}

function parseArgs(args: string[]): Options {
  const options: Options = {
    quick: false,
    only: [...WORKLOADS],
    peers: ALL_PEERS,
    repeat: 0,
    json: null,
  };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    const value = () => {
      const v = args[++i];
      if (v === undefined) throw new Error(`bench:peers: ${arg} needs a value`);
      return v;
    };
    if (arg === "--quick") options.quick = true;
    else if (arg === "--only") {
      const names = value().split(",");
      const unknown = names.filter((w) => !(WORKLOADS as readonly string[]).includes(w));
      if (unknown.length > 0) throw new Error(`bench:peers: unknown workload ${unknown}`);
      options.only = names as WorkloadName[];
    } else if (arg === "--peers") {
      const names = value().split(",");
      const unknown = names.filter((p) => !ALL_PEERS.includes(p));
      if (unknown.length > 0) throw new Error(`bench:peers: unknown peer ${unknown}`);
      options.peers = names.includes("native") ? names : ["native", ...names];
    } else if (arg === "--repeat") options.repeat = Number(value());
    else if (arg === "--json") options.json = value();
    else throw new Error(`bench:peers: unknown argument ${arg}`);
  }
  if (options.repeat === 0) options.repeat = options.quick ? 3 : 5;
  if (!Number.isInteger(options.repeat) || options.repeat < 1) {
    throw new Error("bench:peers: --repeat must be a positive integer");
  }
  return options;
}

/** A CPython 3.12 or newer: on PATH, or one of pyenv's. */
async function findPython(): Promise<{ path: string; version: string } | null> {
  const candidates = ["python3.14", "python3.13", "python3.12", "python3"];
  const home = Deno.env.get("HOME");
  if (home !== undefined) {
    try {
      for await (const entry of Deno.readDir(`${home}/.pyenv/versions`)) {
        candidates.push(`${home}/.pyenv/versions/${entry.name}/bin/python3`);
      }
    } catch {
      // no pyenv
    }
  }
  for (const candidate of candidates) {
    try {
      const out = await new Deno.Command(candidate, {
        args: ["-c", "import sys; print('%d.%d.%d' % sys.version_info[:3])"],
        stdout: "piped",
        stderr: "null",
      }).output();
      if (!out.success) continue;
      const version = new TextDecoder().decode(out.stdout).trim();
      const [major, minor] = version.split(".").map(Number);
      if (major === 3 && minor >= 12) return { path: candidate, version };
    } catch {
      // not there
    }
  }
  return null;
}

interface Cell {
  peer: string;
  workload: WorkloadName;
  ms: number[];
  heap: number[];
  skipped: boolean;
  failure: string | null;
}

async function measure(
  peer: string,
  workload: WorkloadName,
  n: number,
  python: string | null,
): Promise<{ ms: number; heap?: number } | "skipped" | string> {
  const command = peer === "cpython"
    ? new Deno.Command(python as string, {
      args: [new URL("cpython_workloads.py", HERE).pathname, workload, String(n)],
      stdout: "piped",
      stderr: "piped",
    })
    : new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--quiet",
        "--v8-flags=--expose-gc",
        new URL("_peer_cell.ts", HERE).pathname,
        peer,
        workload,
        String(n),
      ],
      stdout: "piped",
      stderr: "piped",
    });
  const out = await command.output();
  const text = new TextDecoder().decode(out.stdout).trim().split("\n").at(-1) ?? "";
  if (!out.success) {
    const error = new TextDecoder().decode(out.stderr).trim().split("\n").slice(-3).join(" | ");
    return `exit ${out.code}: ${error}`;
  }
  const line = JSON.parse(text);
  if (line.skipped) return "skipped";
  return { ms: line.ms, heap: line.heap_bytes_per_item };
}

function median(values: number[]): number {
  const sorted = values.toSorted((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

function fixed(value: number): string {
  if (value >= 100) return value.toFixed(0);
  if (value >= 10) return value.toFixed(1);
  if (value >= 1) return value.toFixed(2);
  return value.toFixed(3);
}

async function main(): Promise<void> {
  const options = parseArgs(Deno.args);
  const python = options.peers.includes("cpython") ? await findPython() : null;
  const peers = options.peers.filter((p) => p !== "cpython" || python !== null);
  const size = (w: WorkloadName) => options.quick ? SIZES[w] / 10 : SIZES[w];
  const cells: Cell[] = [];
  for (const workload of options.only) {
    for (const peer of peers) {
      cells.push({ peer, workload, ms: [], heap: [], skipped: false, failure: null });
    }
  }
  const started = performance.now();
  for (let r = 1; r <= options.repeat; r++) {
    for (const cell of cells) {
      if (cell.skipped || cell.failure !== null) continue;
      console.error(`[bench:peers] repeat ${r}/${options.repeat}: ${cell.workload} ${cell.peer}`);
      const result = await measure(
        cell.peer,
        cell.workload,
        size(cell.workload),
        python?.path ?? null,
      );
      if (result === "skipped") cell.skipped = true;
      else if (typeof result === "string") cell.failure = result;
      else {
        cell.ms.push(result.ms);
        if (result.heap !== undefined) cell.heap.push(result.heap);
      }
    }
  }
  const seconds = (performance.now() - started) / 1000;

  const lines: string[] = [];
  lines.push(
    `Median of ${options.repeat} fresh processes per cell, interleaved; ${
      new Date().toISOString().slice(0, 16)
    }Z; deno ${Deno.version.deno} (V8 ${Deno.version.v8}) on ${Deno.build.os}/${Deno.build.arch}, ${navigator.hardwareConcurrency} cores; ${
      python === null ? "no CPython 3.12+ found" : `CPython ${python.version}`
    }; ${seconds.toFixed(0)} s${options.quick ? "; --quick (every N/10)" : ""}.`,
    "",
    "| workload | N | peer | median ms | min ms | µs per item | ratio to native | heap B/item (× native) |",
    "|---|---:|---|---:|---:|---:|---:|---:|",
  );
  for (const workload of options.only) {
    const n = size(workload);
    const items = itemsOf(workload, n);
    const base = cells.find((c) => c.workload === workload && c.peer === "native");
    const baseMs = base && base.ms.length > 0 ? median(base.ms) : NaN;
    const baseHeap = base && base.heap.length > 0 ? median(base.heap) : NaN;
    for (const cell of cells.filter((c) => c.workload === workload && !c.skipped)) {
      if (cell.failure !== null) {
        lines.push(`| ${workload} | ${n} | ${cell.peer} | failed: ${cell.failure} | | | | |`);
        continue;
      }
      const ms = median(cell.ms);
      const heap = cell.heap.length > 0 ? median(cell.heap) : NaN;
      const heapText = heap === heap
        ? `${heap.toFixed(0)} (${baseHeap === baseHeap ? (heap / baseHeap).toFixed(2) : "?"}×)`
        : "";
      lines.push(
        `| ${workload} | ${n} | ${cell.peer} | ${fixed(ms)} | ${fixed(Math.min(...cell.ms))} | ${
          fixed(ms * 1000 / items)
        } | ${(ms / baseMs).toFixed(2)}× | ${heapText} |`,
      );
    }
  }
  const config = JSON.parse(await Deno.readTextFile(new URL("../deno.json", HERE)));
  const pins = Object.entries(config.imports as Record<string, string>)
    .filter(([name]) => ["effect", "effection", "p-timeout", "async-mutex"].includes(name))
    .map(([, spec]) => spec.replace(/^npm:/, ""));
  lines.push("", `Peers: ${pins.join(", ")}; rerun with \`deno task bench:peers\`.`);
  console.log(lines.join("\n"));
  if (options.json !== null) {
    await Deno.writeTextFile(
      options.json,
      JSON.stringify({ date: new Date().toISOString(), python: python?.version, cells }, null, 1),
    );
  }
  if (cells.some((c) => c.failure !== null)) Deno.exitCode = 1;
}

if (import.meta.main) await main();
