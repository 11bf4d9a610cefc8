/**
 * What every implementation of the eight benchmark workloads shares: their
 * constants, the result checks, and the heap probe of the memory workload.
 *
 * The workloads and their constants are those of the cross-runtime peer
 * harness (`../shared/peers/`, its README describes each one), so the ratios
 * of `deno task bench` can be read next to that harness's table. Only the
 * sizes differ: `peers_bench.ts` chooses its own N per workload.
 *
 * @module
 */

/** The eight workloads, in the order the tables list them. */
export const WORKLOADS = [
  "spawn",
  "timeouts",
  "timers",
  "queue",
  "lock",
  "cancel",
  "recursion",
  "memory",
] as const;

/** The name of one workload. */
export type WorkloadName = typeof WORKLOADS[number];

/** A sleep that never ends on its own: cancel and memory cancel it. */
export const HOUR_MS = 3_600_000;
/** The deadline of every wait in the timeouts workload; the work always wins. */
export const DEADLINE_MS = 10_000;
/** The bound of the queue in the queue workload. */
export const QUEUE_CAPACITY = 100;
/** How many times each task takes the lock in the lock workload. */
export const LOCK_ROUNDS = 100;
/** How deep one repeat of the recursion workload goes (depth 100 down to 0). */
export const RECURSION_DEPTH = 100;

/**
 * The delay, in ms, of timer `i` of `n` in the timers workload. The delays
 * are evenly spread over [1, 100) but handed out in a scrambled order
 * (multiplying by the prime 7919 modulo n permutes the indices whenever n is
 * not a multiple of it), so the timer structure sees insertions everywhere
 * in its range instead of always at the end. The same formula as the peer
 * harness, so both measure the same schedule.
 */
export function timerDelay(i: number, n: number): number {
  return 1 + (99 * ((i * 7919) % n)) / n;
}

/** How many unit operations one run of `workload` at size `n` performs. */
export function itemsOf(workload: WorkloadName, n: number): number {
  if (workload === "lock") return n * LOCK_ROUNDS;
  if (workload === "recursion") return n * (RECURSION_DEPTH + 1);
  return n;
}

/** Fails the benchmark (loudly) when a workload did not do what it claims. */
export function check(condition: boolean, what: string): void {
  if (!condition) throw new Error(`Benchmark result is wrong: ${what}`);
}

/** The sum 0 + 1 + ... + (n - 1) that the queue consumer must arrive at. */
export function queueSum(n: number): number {
  return (n * (n - 1)) / 2;
}

/**
 * Witness of the lock workload: `enter()` throws when another task is
 * already inside the critical section; `leave()` counts completed rounds.
 */
export class CriticalSection {
  #busy = false;
  #rounds = 0;

  /** How many critical sections completed. */
  get rounds(): number {
    return this.#rounds;
  }

  /** Marks the section taken; throws if it already was. */
  enter(): void {
    if (this.#busy) throw new Error("Benchmark result is wrong: two tasks hold the lock");
    this.#busy = true;
  }

  /** Marks the section free and counts the round. */
  leave(): void {
    this.#busy = false;
    this.#rounds++;
  }
}

/**
 * The memory workload calls `before()` right before it creates its tasks and
 * `after()` once all of them are pending; both force a full collection first.
 */
export interface HeapProbe {
  /** Called before the first task is created. */
  before(): void;
  /** Called when every task is pending. */
  after(): void;
}

/** One workload at size n; the memory workload reports through `probe`. */
export type Workload = (n: number, probe: HeapProbe) => Promise<void>;

/** The workloads one peer implements (a peer without an idiom leaves one out). */
export type Workloads = Partial<Record<WorkloadName, Workload>>;

const gc = (globalThis as { gc?: () => void }).gc;

/** Whether the process runs with `--v8-flags=--expose-gc`. */
export const canCollect: boolean = typeof gc === "function";

/**
 * Forces a full garbage collection when the process exposes `gc`. Twice:
 * the first pass may only schedule finalizers and weak-reference clearing
 * whose garbage the second pass frees.
 */
export function collect(): void {
  if (gc !== undefined) {
    gc();
    gc();
  }
}

/** A probe that does nothing: every workload but memory gets this one. */
export const NO_PROBE: HeapProbe = { before() {}, after() {} };

/**
 * The heap probe that measures: V8's `heapUsed` after a forced collection,
 * before and after the tasks exist. Needs `--v8-flags=--expose-gc`.
 */
export class HeapMeter implements HeapProbe {
  #before = 0;
  #after = -1;

  /** Collects, then records the heap in use before the tasks exist. */
  before(): void {
    collect();
    this.#before = Deno.memoryUsage().heapUsed;
  }

  /** Collects, then records the heap in use while every task is pending. */
  after(): void {
    collect();
    this.#after = Deno.memoryUsage().heapUsed;
  }

  /** Heap bytes per pending task, for `n` tasks. */
  bytesPer(n: number): number {
    check(this.#after >= 0, "the memory workload never called probe.after()");
    return (this.#after - this.#before) / n;
  }
}
