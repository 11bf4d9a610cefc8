/**
 * The soak workload: waves of tasks mixing sleeps, cancellations,
 * `waitFor` and `timeout` deadlines, `gather`, `taskGroup`, `shield`, a
 * `Lock` and a bounded `Queue`. Every wave checks that each of its tasks
 * ended the way its kind says it must, that the lock was never held twice,
 * that every item put was taken exactly once, and that the wave left no
 * task behind. Used by `deno task soak` (1,000,000 tasks) and by
 * `tests/soak_test.ts` (100,000).
 *
 * @module
 */

import * as asyncio from "../../mod.ts";

/** Options of {@linkcode runSoak}. */
export interface SoakOptions {
  /** Top-level tasks in all (each may start a few more). */
  tasks: number;
  /** Top-level tasks per wave. */
  waveSize: number;
  /** The loop's clock. @default {an autojumping VirtualClock} */
  clock?: asyncio.Clock;
  /** Called after each wave (outside the loop's callbacks). */
  onWave?: (wave: WaveReport) => void;
}

/** What one wave did. */
export interface WaveReport {
  /** 1-based. */
  wave: number;
  waves: number;
  /** Top-level tasks started so far. */
  tasksSoFar: number;
  /** Every task the wave created, sub-tasks included. */
  created: number;
  /** Problems found (empty when the wave is complete and correct). */
  problems: string[];
}

/** What the whole soak did. */
export interface SoakReport {
  waves: number;
  tasks: number;
  created: number;
  problems: string[];
}

/** A small deterministic PRNG (mulberry32), so every soak run is the same. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The kinds of task in a wave, one in ten of each. */
const KINDS = [
  "sleep",
  "cancelled",
  "waitFor",
  "timeout",
  "gather",
  "group",
  "lock",
  "put",
  "get",
  "shield",
] as const;

type Kind = typeof KINDS[number];

interface WaveState {
  rand: () => number;
  lock: asyncio.Lock;
  holders: number;
  lockRuns: number;
  queue: asyncio.Queue<number>;
  put: number;
  got: number;
  created: number;
}

function* sleeper(ms: number, value: number): Generator<unknown, number, unknown> {
  yield* asyncio.sleep(ms);
  return value;
}

/** One top-level task of the given kind; returns the value its kind must end with. */
function* worker(kind: Kind, i: number, state: WaveState): Generator<unknown, number, unknown> {
  const ms = 1 + Math.floor(state.rand() * 20);
  switch (kind) {
    case "sleep":
      yield* asyncio.sleep(ms);
      return i;
    case "cancelled":
      // Cancelled by the wave (see runWave) long before this ends.
      yield* asyncio.sleep(1_000_000);
      return -1;
    case "waitFor": {
      state.created++;
      try {
        yield* asyncio.waitFor(asyncio.createTask(sleeper(1_000 + ms, i)), ms);
        return -1;
      } catch (error) {
        if (error instanceof asyncio.TimeoutError) return i;
        throw error;
      }
    }
    case "timeout":
      try {
        yield* asyncio.timeout(ms, function* () {
          yield* asyncio.sleep(1_000 + ms);
        });
        return -1;
      } catch (error) {
        if (error instanceof asyncio.TimeoutError) return i;
        throw error;
      }
    case "gather": {
      state.created += 3;
      const parts = yield* asyncio.gather([
        asyncio.createTask(sleeper(ms, 1)),
        asyncio.createTask(sleeper(ms + 1, 2)),
        asyncio.createTask(sleeper(0, i - 3)),
      ]);
      return parts[0] + parts[1] + parts[2];
    }
    case "group": {
      let total = 0;
      yield* asyncio.taskGroup(function* (tg) {
        state.created += 2;
        const a = tg.createTask(sleeper(ms, i));
        const b = tg.createTask(sleeper(ms + 2, 0));
        yield* asyncio.sleep(0);
        total = (yield* a) + (yield* b);
      });
      return total;
    }
    case "lock": {
      using _ = yield* state.lock.acquire();
      state.holders++;
      if (state.holders !== 1) throw new Error(`lock held by ${state.holders} tasks`);
      yield* asyncio.sleep(0);
      state.holders--;
      state.lockRuns++;
      return i;
    }
    case "put":
      yield* asyncio.sleep(ms);
      yield* state.queue.put(i);
      state.put += i;
      return i;
    case "get": {
      const item = yield* state.queue.get();
      state.got += item;
      return i;
    }
    case "shield": {
      state.created++;
      const inner = asyncio.createTask(sleeper(ms, i));
      try {
        // The outer wait gives up (timeout), the shielded task goes on.
        yield* asyncio.waitFor(asyncio.shield(inner), ms / 2);
        return -1;
      } catch (error) {
        if (!(error instanceof asyncio.TimeoutError)) throw error;
      }
      return yield* inner;
    }
  }
}

/** Runs one wave inside the running loop and returns what went wrong, if anything. */
function* runWave(
  wave: number,
  size: number,
  rand: () => number,
): Generator<unknown, { created: number; problems: string[] }, unknown> {
  const state: WaveState = {
    rand,
    lock: new asyncio.Lock(),
    holders: 0,
    lockRuns: 0,
    queue: new asyncio.Queue<number>(16),
    put: 0,
    got: 0,
    created: 0,
  };
  const kinds: Kind[] = [];
  const tasks: asyncio.Task<number>[] = [];
  for (let i = 0; i < size; i++) {
    const kind = KINDS[i % KINDS.length];
    kinds.push(kind);
    tasks.push(asyncio.createTask(worker(kind, i, state)));
  }
  state.created += size;
  yield* asyncio.sleep(0);
  for (let i = 0; i < size; i++) if (kinds[i] === "cancelled") tasks[i].cancel("soak");
  const outcomes = yield* asyncio.gather(tasks, { returnExceptions: true });
  const problems: string[] = [];
  const note = (text: string) => {
    if (problems.length < 10) problems.push(`wave ${wave}: ${text}`);
  };
  for (let i = 0; i < size; i++) {
    const outcome = outcomes[i];
    if (kinds[i] === "cancelled") {
      if (!(outcome instanceof asyncio.CancelledError)) note(`task ${i} was not cancelled`);
    } else if (outcome !== i) {
      note(`task ${i} (${kinds[i]}) ended with ${String(outcome)}, expected ${i}`);
    }
  }
  const lockTasks = kinds.filter((k) => k === "lock").length;
  if (state.lockRuns !== lockTasks) note(`lock ran ${state.lockRuns} of ${lockTasks} times`);
  if (state.lock.locked()) note("lock still held");
  if (state.put !== state.got || !state.queue.empty()) {
    note(`queue: put ${state.put}, got ${state.got}, ${state.queue.qsize()} left`);
  }
  const left = asyncio.allTasks().size - 1; // main itself
  if (left !== 0) note(`${left} task(s) still pending after the wave`);
  return { created: state.created, problems };
}

/**
 * Runs `tasks` top-level tasks in waves of `waveSize` on one loop and
 * reports each wave through `onWave`.
 */
export async function runSoak(options: SoakOptions): Promise<SoakReport> {
  const waves = Math.ceil(options.tasks / options.waveSize);
  const clock = options.clock ?? new asyncio.VirtualClock({ autojump: true });
  const report: SoakReport = { waves: 0, tasks: 0, created: 0, problems: [] };
  const rand = random(20_261_125);
  await asyncio.run(function* () {
    for (let wave = 1; wave <= waves; wave++) {
      const size = Math.min(options.waveSize, options.tasks - report.tasks);
      const result = yield* runWave(wave, size, rand);
      report.waves = wave;
      report.tasks += size;
      report.created += result.created;
      report.problems.push(...result.problems);
      if (options.onWave !== undefined) {
        // Outside the wave's callbacks: a macrotask lets the host breathe
        // (and run GC) between waves.
        yield* asyncio.ensureFuture(new Promise<void>((resolve) => setTimeout(resolve, 0)));
        options.onWave({
          wave,
          waves,
          tasksSoFar: report.tasks,
          created: result.created,
          problems: result.problems,
        });
      }
    }
  }, { clock });
  return report;
}
