/**
 * The scenario language of the differential fuzzer: a small JSON
 * description of a concurrent program (a tree of tasks and their steps),
 * the fast-check arbitrary that generates it, and the pass that turns a
 * raw generated tree into a valid scenario.
 *
 * Both interpreters (`interp.ts` on this library, `interp.py` on CPython's
 * asyncio) read the same JSON and print one trace line per event.
 *
 * Validity is enforced by {@linkcode finalize}, not by the arbitrary:
 * fast-check shrinks the raw tree freely and every shrunk tree still
 * finalizes into a runnable scenario. The rules it enforces:
 *
 * - Timer deadlines are distinct. Every step that arms a timer (a `sleep`
 *   with a delay, `waitFor` and `timeout` with a delay, `reschedule`) gets
 *   its own power of two as its delay, and each step runs at most once. The
 *   loop's time is always 0 or the deadline of a timer that fired, so it is
 *   a sum of distinct powers of two over a causal chain of timers, and two
 *   timers can never share a deadline (CPython's timer heap does not order
 *   equal deadlines; ours orders them by scheduling order).
 * - References point at tasks that exist: `await`, `waitFor`, `gather` and
 *   `shield` may name a task spawned earlier by the same task or by an
 *   ancestor before this task was spawned (never an ancestor: that could
 *   wait on itself); with `selfCancel`, `cancel` may also name an ancestor
 *   or the task itself.
 * - `reschedule` appears only inside a `timeout` body and `tgSpawn` only
 *   inside a `taskGroup` body of the same coroutine; a `lock` block never
 *   re-acquires a lock its coroutine already holds, nor a `condition` block
 *   its condition; inside a `condition` block no step waits until other
 *   tasks end (`await`, `waitFor`, `gather`, `taskGroup`, `handOver` via
 *   gather): a task cancelled in `Condition.wait()` re-acquires the lock
 *   before it ends, so it and the holder would wait on each other for good.
 * - A handler that catches `CancelledError` ends the task (returns or
 *   re-raises); only handlers for other errors may `continue`. So one round
 *   of cancellation always ends every task and `run()` terminates.
 *
 * @module
 */

import fc from "fast-check";

// ------------------------------------------------------------ the language

/** A task: its id (unique in the scenario), its steps, and the value it returns. */
export interface TaskSpec {
  id: number;
  steps: Step[];
  result: number;
}

/** What `waitFor`, `gather` and `shield` wait on: a task spawned earlier, or a new coroutine. */
export type Operand = { id: number } | { task: TaskSpec };

/** What a handler catches: `CancelledError`, anything else, or everything. */
export type CatchKind = "cancelled" | "error" | "any";
/** What a handler does: return `value` from the task, re-raise, or go on after the block. */
export type CatchAction = "return" | "reraise" | "continue";

/** One step of a task. Delays are milliseconds; `null` means "no deadline". */
export type Step =
  | { op: "sleep"; ms: number }
  | { op: "spawn"; task: TaskSpec; eager?: true }
  | { op: "await"; id: number }
  | { op: "cancel"; id: number | "self"; msg: string | null }
  | { op: "throw"; err: number }
  | {
    op: "try";
    catch: CatchKind;
    then: CatchAction;
    value: number;
    body: Step[];
    /** Steps run in the handler before its action (only `cancelState`, `uncancel`). */
    handler?: Step[];
  }
  | { op: "waitFor"; aw: Operand; ms: number | null }
  | { op: "gather"; aws: Operand[]; returnExceptions: boolean }
  | { op: "shield"; aw: Operand }
  | { op: "timeout"; ms: number | null; body: Step[] }
  | { op: "reschedule"; ms: number | null }
  | { op: "taskGroup"; body: Step[] }
  | { op: "tgSpawn"; task: TaskSpec; eager?: true }
  | { op: "lock"; lock: number; body: Step[] }
  | { op: "semaphore"; sem: number; body: Step[] }
  | { op: "release"; sem: number }
  | { op: "cancelState" }
  | { op: "uncancel" }
  | { op: "set"; event: number }
  | { op: "clear"; event: number }
  | { op: "wait"; event: number }
  | { op: "put"; queue: number; item: number }
  | { op: "get"; queue: number }
  | { op: "shutdown"; queue: number; immediate: boolean }
  | { op: "handOver"; id: number; via: "gather" | "spawn"; block: BlockStep }
  | { op: "taskDone"; queue: number }
  | { op: "join"; queue: number }
  | {
    op: "condition";
    cond: number;
    /** A sleep before acquiring (`null`: none), so that waiters may be waiting by then (only with wait `none`). */
    ms: number | null;
    /** Before changing the counter: no wait, `wait()`, or `waitFor(counter >= n)`. */
    wait: "none" | "wait" | number;
    add: number;
    /** `notify(n)`, or `notifyAll()`. */
    notify: number | "all";
    body: Step[];
  }
  | { op: "barrier"; barrier: number; action: "wait" | "reset" | "abort" }
  | { op: "asyncioWait"; aws: Operand[]; returnWhen: ReturnWhenName; ms: number | null }
  | { op: "asCompleted"; aws: Operand[]; ms: number | null; form: "iter" | "forAwait" };

/** The `returnWhen` of an `asyncioWait` step, as both libraries spell it. */
export type ReturnWhenName = "FIRST_COMPLETED" | "FIRST_EXCEPTION" | "ALL_COMPLETED";

/** What a shared queue is: `Queue`, `LifoQueue` or `PriorityQueue`. */
export type QueueKind = "fifo" | "lifo" | "priority";

/**
 * A block that a `handOver` hands to `gather` or `createTask` instead of
 * waiting on it: it runs as a task of its own (id `handOver.id`), as
 * Python's gather/create_task wrap the coroutine.
 */
export type BlockStep =
  | { op: "waitFor"; aw: Operand; ms: number | null }
  | { op: "timeout"; ms: number | null; body: Step[] }
  | { op: "taskGroup"; body: Step[] };

/** Every kind of step, for `--exclude`. */
export const STEP_KINDS = [
  "sleep",
  "spawn",
  "await",
  "cancel",
  "throw",
  "try",
  "waitFor",
  "gather",
  "shield",
  "timeout",
  "reschedule",
  "taskGroup",
  "tgSpawn",
  "lock",
  "semaphore",
  "release",
  "cancelState",
  "uncancel",
  "set",
  "clear",
  "wait",
  "put",
  "get",
  "shutdown",
  "handOver",
  "taskDone",
  "join",
  "condition",
  "barrier",
  "asyncioWait",
  "asCompleted",
] as const;

/** The name of a step kind. */
export type StepKind = typeof STEP_KINDS[number];

/**
 * A whole program. `root` (id 0) is the first task; `watchdog` is a loop
 * time later than any deadline the steps can reach, at which the root is
 * cancelled if it is still running (the program deadlocked).
 */
export interface Scenario {
  locks: number;
  /** The shared semaphores: initial value, and whether bounded (absent: none). */
  semaphores?: SemaphoreSpec[];
  events: number;
  /** The `maxsize` of each queue. */
  queues: number[];
  /** The kind of each queue (all `fifo` when absent). */
  queueKinds?: QueueKind[];
  /** How many conditions (each with its own lock and counter, starting at 0). */
  conditions?: number;
  /** The `parties` of each barrier. */
  barriers?: number[];
  watchdog: number;
  root: TaskSpec;
}

/** A semaphore of a scenario. */
export interface SemaphoreSpec {
  value: number;
  bounded: boolean;
}

// ------------------------------------------------------------ raw trees

/**
 * What fast-check generates: the same shapes with loose fields. `r` is a
 * rank (delays are given out by rank), `ref` picks among the visible tasks
 * modulo their number, `pick` selects a variant.
 */
export interface RawTask {
  steps: RawStep[];
  result: number;
}

/** A raw step; see {@linkcode RawTask}. */
export type RawStep =
  | { k: "sleep"; pick: number; r: number }
  | { k: "spawn"; task: RawTask; pick: number }
  | { k: "await"; ref: number }
  | { k: "cancel"; ref: number; pick: number; n?: number }
  | { k: "throw" }
  | { k: "try"; pick: number; value: number; body: RawStep[]; handler?: RawStep[] }
  | { k: "waitFor"; aw: RawOperand; pick: number; r: number }
  | { k: "gather"; aws: RawOperand[]; returnExceptions: boolean }
  | { k: "shield"; aw: RawOperand }
  | { k: "timeout"; pick: number; r: number; body: RawStep[] }
  | { k: "reschedule"; pick: number; r: number }
  | { k: "taskGroup"; body: RawStep[] }
  | { k: "tgSpawn"; task: RawTask; pick?: number }
  | { k: "lock"; lock: number; body: RawStep[] }
  | { k: "semaphore"; sem: number; body: RawStep[]; hold?: boolean }
  | { k: "release"; sem: number }
  | { k: "cancelState" }
  | { k: "uncancel" }
  | { k: "set"; event: number; pick?: number }
  | { k: "clear"; event: number }
  | { k: "wait"; event: number }
  | { k: "put"; queue: number; prio: number }
  | { k: "get"; queue: number }
  | { k: "shutdown"; queue: number; immediate: boolean }
  | { k: "taskDone"; queue: number }
  | { k: "join"; queue: number }
  | {
    k: "condition";
    cond: number;
    pick: number;
    r: number;
    wait: number;
    n: number;
    add: number;
    notify: number;
    body: RawStep[];
  }
  | { k: "barrier"; barrier: number; action: number }
  | { k: "asyncioWait"; aws: RawOperand[]; returnWhen: number; pick: number; r: number }
  | { k: "asCompleted"; aws: RawOperand[]; forAwait: boolean; pick: number; r: number }
  | {
    k: "handOver";
    gather: boolean;
    kind: number;
    pick: number;
    r: number;
    body: RawStep[];
    aw: RawOperand;
  };

/** A raw operand: a reference (resolved modulo the visible tasks) or a new coroutine. */
export type RawOperand = { ref: number } | { task: RawTask };

/** A raw scenario. */
export interface RawScenario {
  queues: number[];
  /** Queue kinds by index into `fifo`, `lifo`, `priority` (all `fifo` when absent). */
  queueKinds?: number[];
  /** Barrier parties (no barriers when absent). */
  barriers?: number[];
  /** Absent in raw trees written before semaphores: none. */
  semaphores?: SemaphoreSpec[];
  root: RawTask;
}

/** Options of {@linkcode scenarioArbitrary} and {@linkcode finalize}. */
export interface LanguageOptions {
  /** Step kinds never to generate. */
  exclude?: readonly StepKind[];
  /** At most this many timer deadlines (powers of two) per scenario. */
  maxTimers?: number;
  /**
   * Let a task cancel itself or its ancestors (which may be waiting on it,
   * so the request comes back to the running task).
   *
   * @default {true}
   */
  selfCancel?: boolean;
  /**
   * Let one spawn in five start eagerly. Off for the async style: an eager
   * async function and the task that made it both run on microtasks, and
   * each `await` of a finished future lets the other go on, where Python
   * runs the eager task up to its first real wait before its creator
   * continues (no JavaScript can avoid the turn an `await` takes).
   *
   * @default {true}
   */
  eager?: boolean;
}

const LOCKS = 2;
const EVENTS = 2;
const QUEUES = 2;
const CONDITIONS = 2;
const BARRIERS = 2;
/** Steps that wait until other tasks end (a cancellation of the waiter waits for them too). */
const WAITS_ON_TASKS = new Set<string>(["await", "waitFor", "gather", "taskGroup", "handOver"]);
const QUEUE_KINDS: QueueKind[] = ["fifo", "lifo", "priority"];
const RETURN_WHEN: ReturnWhenName[] = ["FIRST_COMPLETED", "FIRST_EXCEPTION", "ALL_COMPLETED"];
const SEMAPHORES = 2;

/**
 * The fast-check arbitrary of raw scenarios. Steps nest (spawned tasks,
 * blocks) up to a small depth; the first alternative (a sleep) is what
 * fast-check falls back to at the depth limit.
 */
export function rawScenarioArbitrary(
  boost: readonly RawStep["k"][] = [],
  factor = 6,
): fc.Arbitrary<RawScenario> {
  // A boosted kind is `factor` times as likely: a scenario about one primitive
  // has several tasks meeting on it (a barrier that fills, a queue that holds two items).
  const w = (k: RawStep["k"], weight: number) => boost.includes(k) ? weight * factor : weight;
  /** One kind of step: raw steps `{ k, ...fields }`, drawn with weight `weight` (boosted). */
  const kind = (
    k: RawStep["k"],
    weight: number,
    fields: Record<string, fc.Arbitrary<unknown>> = {},
  ) => ({
    weight: w(k, weight),
    arbitrary: fc.record({ k: fc.constant(k), ...fields }) as fc.Arbitrary<RawStep>,
  });
  const rank = fc.nat({ max: 999 });
  const small = fc.nat({ max: 9 });
  const leaf: fc.Arbitrary<RawStep> = fc.oneof(
    kind("sleep", 10, { pick: small, r: rank }),
    kind("await", 5, { ref: small }),
    kind("cancel", 5, { ref: small, pick: small, n: small }),
    kind("throw", 2),
    kind("reschedule", 4, { pick: small, r: rank }),
    // pick 0-3: a clear races the waiters' wake-up (see finalize).
    kind("set", 2, { event: fc.nat({ max: EVENTS - 1 }), pick: small }),
    kind("release", 1, { sem: fc.nat({ max: SEMAPHORES - 1 }) }),
    kind("cancelState", 1),
    kind("clear", 1, { event: fc.nat({ max: EVENTS - 1 }) }),
    kind("wait", 4, { event: fc.nat({ max: EVENTS - 1 }) }),
    kind("put", 3, { queue: fc.nat({ max: QUEUES - 1 }), prio: fc.nat({ max: 9 }) }),
    kind("get", 3, { queue: fc.nat({ max: QUEUES - 1 }) }),
    kind("shutdown", 1, { queue: fc.nat({ max: QUEUES - 1 }), immediate: fc.boolean() }),
    kind("taskDone", 2, { queue: fc.nat({ max: QUEUES - 1 }) }),
    kind("join", 1, { queue: fc.nat({ max: QUEUES - 1 }) }),
    kind("barrier", 3, { barrier: fc.nat({ max: BARRIERS - 1 }), action: fc.nat({ max: 9 }) }),
  ) as fc.Arbitrary<RawStep>;
  // What a handler may do besides its action: read and withdraw cancellation requests.
  const handler = fc.array(
    fc.oneof(
      { weight: 1, arbitrary: fc.record({ k: fc.constant("uncancel") }) },
      { weight: 1, arbitrary: fc.record({ k: fc.constant("cancelState") }) },
    ),
    { maxLength: 3 },
  ) as fc.Arbitrary<RawStep[]>;
  const tree = fc.letrec<{ task: RawTask; step: RawStep; steps: RawStep[]; operand: RawOperand }>(
    (tie) => ({
      task: fc.record({ steps: tie("steps"), result: fc.nat({ max: 99 }) }),
      steps: fc.array(tie("step"), { maxLength: 6 }),
      operand: fc.oneof(
        { depthIdentifier: "tree", depthSize: "small" },
        fc.record({ ref: small }),
        fc.record({ task: tie("task") }),
      ),
      // The first alternative (plain steps) is what fast-check falls back to
      // as the tree gets deeper, and all it generates at the depth limit.
      step: fc.oneof(
        { maxDepth: 4, depthIdentifier: "tree", depthSize: "small", withCrossShrink: true },
        { weight: 12, arbitrary: leaf },
        kind("spawn", 3, { task: tie("task"), pick: small }),
        kind("try", 2, { pick: small, value: fc.nat({ max: 99 }), body: tie("steps"), handler }),
        kind("waitFor", 2, { aw: tie("operand"), pick: small, r: rank }),
        kind("gather", 2, {
          aws: fc.array(tie("operand"), { minLength: 1, maxLength: 3 }),
          returnExceptions: fc.boolean(),
        }),
        kind("shield", 1, { aw: tie("operand") }),
        kind("timeout", 2, { pick: small, r: rank, body: tie("steps") }),
        kind("taskGroup", 2, { body: tie("steps") }),
        kind("tgSpawn", 9, { task: tie("task"), pick: small }),
        kind("handOver", 2, {
          gather: fc.boolean(),
          kind: fc.nat({ max: 2 }),
          pick: small,
          r: rank,
          body: tie("steps"),
          aw: tie("operand"),
        }),
        kind("condition", 3, {
          cond: fc.nat({ max: CONDITIONS - 1 }),
          pick: small,
          r: rank,
          wait: fc.nat({ max: 4 }),
          n: fc.nat({ max: 2 }),
          add: fc.nat({ max: 2 }),
          notify: fc.nat({ max: 3 }),
          body: tie("steps"),
        }),
        kind("asyncioWait", 2, {
          aws: fc.array(tie("operand"), { minLength: 1, maxLength: 4 }),
          returnWhen: fc.nat({ max: 2 }),
          pick: small,
          r: rank,
        }),
        kind("asCompleted", 2, {
          aws: fc.array(tie("operand"), { minLength: 1, maxLength: 4 }),
          forAwait: fc.boolean(),
          pick: small,
          r: rank,
        }),
        kind("lock", 2, { lock: fc.nat({ max: LOCKS - 1 }), body: tie("steps") }),
        // Mostly the first, so that tasks meet there.
        kind("semaphore", 4, { // Mostly the first, so that tasks meet there.
          sem: fc.oneof(
            { weight: 3, arbitrary: fc.constant(0) },
            { weight: 1, arbitrary: fc.nat({ max: SEMAPHORES - 1 }) },
          ),
          body: tie("steps"),
          hold: fc.boolean(),
        }),
      ),
    }),
  );
  return fc.record({
    queues: fc.array(fc.nat({ max: 2 }), { minLength: QUEUES, maxLength: QUEUES }),
    queueKinds: fc.array(fc.nat({ max: 2 }), { minLength: QUEUES, maxLength: QUEUES }),
    barriers: fc.array(fc.integer({ min: 2, max: 3 }), {
      minLength: BARRIERS,
      maxLength: BARRIERS,
    }),
    semaphores: fc.array(
      fc.record({
        // Mostly small, so that tasks queue for permits.
        value: fc.oneof(
          { weight: 3, arbitrary: fc.constant(1) },
          { weight: 2, arbitrary: fc.constant(2) },
          { weight: 1, arbitrary: fc.constant(3) },
        ),
        bounded: fc.boolean(),
      }),
      { minLength: SEMAPHORES, maxLength: SEMAPHORES },
    ),
    root: fc.record({
      steps: fc.array(tree.step, { minLength: 1, maxLength: 8 }),
      result: fc.nat({ max: 99 }),
    }),
  }) as fc.Arbitrary<RawScenario>;
}

/**
 * Scenarios about one primitive: these kinds (and spawns, so that several
 * tasks meet on it) six times as likely, or `factor` times. Eight scenarios
 * in twelve are themed.
 */
const THEMES: { kinds: RawStep["k"][]; factor?: number }[] = [
  { kinds: ["condition", "spawn", "sleep"], factor: 20 },
  { kinds: ["barrier", "spawn"] },
  // Waiters queued on an event, and a set() followed at once by a clear().
  { kinds: ["wait", "set", "spawn"], factor: 10 },
  { kinds: ["put", "get", "taskDone", "join", "spawn", "sleep"] },
  // Almost only these, with no get: items are left for join() and
  // shutdown(immediate), and taskDone() counts them down.
  { kinds: ["put", "taskDone", "join", "shutdown", "spawn"], factor: 30 },
  { kinds: ["asyncioWait", "asCompleted", "throw", "spawn"] },
  { kinds: ["semaphore", "release", "cancel", "spawn"], factor: 15 },
  { kinds: ["taskGroup", "tgSpawn", "timeout", "reschedule", "shield"], factor: 10 },
];

/** The arbitrary of valid scenarios (raw trees passed through {@linkcode finalize}). */
export function scenarioArbitrary(options: LanguageOptions = {}): fc.Arbitrary<Scenario> {
  return fc.oneof(
    { weight: 4, arbitrary: rawScenarioArbitrary() },
    ...THEMES.map(({ kinds, factor }) => ({
      weight: 1,
      arbitrary: rawScenarioArbitrary(kinds, factor),
    })),
  ).map((raw) => finalize(raw, options));
}

// ------------------------------------------------------------ finalize

interface Pending {
  /** Sets the step's delay once every rank is known. */
  assign(ms: number): void;
  rank: number;
  order: number;
}

interface Coroutine {
  /** Tasks this coroutine may await (spawned earlier, not ancestors). */
  awaitable: number[];
  /** Tasks this coroutine may cancel (awaitable ones plus ancestors). */
  cancellable: number[];
  inTimeout: boolean;
  inGroup: boolean;
  heldLocks: number[];
  heldConds: number[];
  /** Inside the handler of a `try` that caught `CancelledError`. */
  inCancelHandler: boolean;
}

const CATCH_KINDS: CatchKind[] = ["cancelled", "error", "any"];
const CATCH_ACTIONS: CatchAction[] = ["return", "reraise", "continue"];

/**
 * Turns a raw tree into a valid scenario: assigns task ids in depth-first
 * order, resolves references among the tasks visible at each step, drops
 * steps that have nothing to refer to or are out of place, gives every
 * timer a distinct power-of-two delay, and numbers errors and queue items.
 */
export function finalize(raw: RawScenario, options: LanguageOptions = {}): Scenario {
  const excluded = new Set<string>(options.exclude ?? []);
  const maxTimers = options.maxTimers ?? 36;
  const semaphores = Math.min((raw.semaphores ?? []).length, SEMAPHORES);
  let nextId = 0;
  let nextErr = 1;
  let nextItem = 100;
  let order = 0;
  const pending: Pending[] = [];

  const delay = (pick: number, r: number, assign: (ms: number | null) => void): void => {
    // pick 0-1: no deadline (null) where allowed, 2: zero, else a timer.
    if (pick <= 1) assign(null);
    else if (pick === 2) assign(0);
    else pending.push({ assign, rank: r, order: order++ });
  };

  const task = (
    rawTask: RawTask,
    visible: Coroutine,
    ancestors: number[],
  ): TaskSpec => {
    const id = nextId++;
    const co: Coroutine = {
      awaitable: [...visible.awaitable],
      cancellable: [...visible.cancellable, ...ancestors, id],
      inTimeout: false,
      inGroup: false,
      heldLocks: [],
      heldConds: [],
      inCancelHandler: false,
    };
    const spec: TaskSpec = { id, steps: [], result: rawTask.result };
    spec.steps = steps(rawTask.steps, co, [...ancestors, id]);
    return spec;
  };

  const operand = (
    raw: RawOperand,
    co: Coroutine,
    ancestors: number[],
  ): Operand | null => {
    if ("ref" in raw) {
      if (co.awaitable.length === 0) return null;
      return { id: co.awaitable[raw.ref % co.awaitable.length] };
    }
    // A new coroutine sees what its creator sees, but is not itself awaitable by name.
    return { task: task(raw.task, co, ancestors) };
  };

  const steps = (raws: RawStep[], co: Coroutine, ancestors: number[]): Step[] => {
    const out: Step[] = [];
    for (const raw of raws) {
      const step = one(raw, co, ancestors);
      if (step === null) continue;
      if (Array.isArray(step)) out.push(...step);
      else out.push(step);
    }
    return out;
  };

  const block = (
    raws: RawStep[],
    co: Coroutine,
    ancestors: number[],
    flags: Partial<Pick<Coroutine, "inTimeout" | "inGroup">>,
    lock?: number,
    cond?: number,
  ): Step[] => {
    const saved = {
      inTimeout: co.inTimeout,
      inGroup: co.inGroup,
      held: co.heldLocks,
      conds: co.heldConds,
    };
    if (flags.inTimeout !== undefined) co.inTimeout = flags.inTimeout;
    if (flags.inGroup !== undefined) co.inGroup = flags.inGroup;
    if (lock !== undefined) co.heldLocks = [...co.heldLocks, lock];
    if (cond !== undefined) co.heldConds = [...co.heldConds, cond];
    const body = steps(raws, co, ancestors);
    co.inTimeout = saved.inTimeout;
    co.inGroup = saved.inGroup;
    co.heldLocks = saved.held;
    co.heldConds = saved.conds;
    return body;
  };

  const one = (raw: RawStep, co: Coroutine, ancestors: number[]): Step | Step[] | null => {
    if (excluded.has(raw.k)) return null;
    // A task that holds a condition waits on no task: a task cancelled in
    // that condition's wait() re-acquires the lock before it ends, whatever
    // cancels it, so the two would wait on each other for good.
    if (co.heldConds.length > 0 && WAITS_ON_TASKS.has(raw.k)) {
      if (raw.k !== "handOver" || raw.gather) return null;
    }
    // A handler runs only steps that do not wait (cancelState, uncancel).
    if (co.inCancelHandler && raw.k !== "cancelState" && raw.k !== "uncancel") return null;
    switch (raw.k) {
      case "sleep": {
        const step: Step = { op: "sleep", ms: 0 };
        if (raw.pick >= 3) {
          pending.push({ assign: (ms) => (step.ms = ms), rank: raw.r, order: order++ });
        }
        return step;
      }
      case "spawn": {
        const spec = task(raw.task, co, ancestors);
        co.awaitable.push(spec.id);
        co.cancellable.push(spec.id);
        // One spawn in five starts eagerly (Python's eager_task_factory).
        return raw.pick < 2 && options.eager !== false
          ? { op: "spawn", task: spec, eager: true }
          : { op: "spawn", task: spec };
      }
      case "await": {
        if (co.awaitable.length === 0) return null;
        return { op: "await", id: co.awaitable[raw.ref % co.awaitable.length] };
      }
      case "cancel": {
        const msg = raw.pick % 2 === 0 ? null : `m${raw.pick}`;
        let targets = co.cancellable;
        if (options.selfCancel === false) {
          targets = targets.filter((id) => !ancestors.includes(id));
        } else if (raw.pick >= 8) {
          const step: Step = { op: "cancel", id: "self", msg };
          // A task may withdraw its own request before it is delivered (the
          // only uncancel() outside a handler: it cannot drop anyone else's).
          if ((raw.n ?? 9) <= 3 && !excluded.has("uncancel")) {
            return [step, { op: "cancelState" }, { op: "uncancel" }];
          }
          return step;
        }
        if (targets.length === 0) return null;
        const step: Step = { op: "cancel", id: targets[raw.ref % targets.length], msg };
        // Twice: two requests to count (cancelling() is 2, one uncancel() leaves 1).
        return (raw.n ?? 9) <= 1 ? [step, { ...step }] : step;
      }
      case "throw":
        return { op: "throw", err: nextErr++ };
      case "try": {
        const kind = CATCH_KINDS[raw.pick % 3];
        let then = CATCH_ACTIONS[Math.floor(raw.pick / 3) % 3];
        // Swallowing a cancellation and going on could outlive run()'s cleanup.
        if (then === "continue" && kind !== "error") then = "return";
        const body = block(raw.body, co, ancestors, {});
        const step: Step = { op: "try", catch: kind, then, value: raw.value, body };
        // uncancel() only where a CancelledError was caught, and the task then
        // ends (returns or re-raises): a withdrawn request cannot leave a task
        // running after the cleanup's cancel.
        if (kind === "cancelled" && (raw.handler ?? []).length > 0) {
          co.inCancelHandler = true;
          const handler = steps(raw.handler ?? [], co, ancestors);
          co.inCancelHandler = false;
          if (handler.length > 0) step.handler = handler;
        }
        return step;
      }
      case "waitFor": {
        const aw = operand(raw.aw, co, ancestors);
        if (aw === null) return null;
        const step: Step = { op: "waitFor", aw, ms: null };
        delay(raw.pick, raw.r, (ms) => (step.ms = ms));
        return step;
      }
      case "gather": {
        const aws: Operand[] = [];
        for (const a of raw.aws) {
          const o = operand(a, co, ancestors);
          if (o !== null) aws.push(o);
        }
        if (aws.length === 0) return null;
        return { op: "gather", aws, returnExceptions: raw.returnExceptions };
      }
      case "shield": {
        const aw = operand(raw.aw, co, ancestors);
        return aw === null ? null : { op: "shield", aw };
      }
      case "timeout": {
        const step: Step = { op: "timeout", ms: null, body: [] };
        delay(raw.pick, raw.r, (ms) => (step.ms = ms));
        step.body = block(raw.body, co, ancestors, { inTimeout: true });
        return step;
      }
      case "reschedule": {
        if (!co.inTimeout) return null;
        const step: Step = { op: "reschedule", ms: null };
        delay(raw.pick, raw.r, (ms) => (step.ms = ms));
        return step;
      }
      case "taskGroup": {
        const body = block(raw.body, co, ancestors, { inGroup: true });
        return { op: "taskGroup", body };
      }
      case "tgSpawn": {
        if (!co.inGroup) return null;
        const spec = task(raw.task, co, ancestors);
        co.awaitable.push(spec.id);
        co.cancellable.push(spec.id);
        // Eight in ten start eagerly (few survive to run: a group needs a body that lasts).
        return (raw.pick ?? 9) < 8 && options.eager !== false
          ? { op: "tgSpawn", task: spec, eager: true }
          : { op: "tgSpawn", task: spec };
      }
      case "lock": {
        if (co.heldLocks.includes(raw.lock)) return null;
        const body = block(raw.body, co, ancestors, {}, raw.lock);
        return { op: "lock", lock: raw.lock, body };
      }
      case "semaphore": {
        if (raw.sem >= semaphores) return null;
        const body = block(raw.body, co, ancestors, {});
        // Half of the blocks hold their permit across a loop iteration at
        // least, so that others queue behind them.
        if (raw.hold && !excluded.has("sleep")) body.unshift({ op: "sleep", ms: 0 });
        return { op: "semaphore", sem: raw.sem, body };
      }
      case "release":
        if (raw.sem >= semaphores) return null;
        return { op: "release", sem: raw.sem };
      case "cancelState":
        return { op: "cancelState" };
      case "uncancel":
        return co.inCancelHandler ? { op: "uncancel" } : null;
      case "set": {
        const set: Step = { op: "set", event: raw.event };
        const clear: Step = { op: "clear", event: raw.event };
        // A clear right after the set (before the waiters wake up), or one
        // loop iteration later (racing them): waiters woken by the set must
        // still return true. Both after a sleep(0), so that waiters spawned
        // just before are waiting.
        const pick = raw.pick ?? 9;
        if (pick <= 5 && !excluded.has("clear") && !excluded.has("sleep")) {
          const yieldOnce = (): Step => ({ op: "sleep", ms: 0 });
          return pick <= 2 ? [yieldOnce(), set, clear] : [yieldOnce(), set, yieldOnce(), clear];
        }
        return set;
      }
      case "clear":
      case "wait":
        return { op: raw.k, event: raw.event };
      case "put":
        // Distinct items whose order is not their order in the text (for PriorityQueue).
        return { op: "put", queue: raw.queue, item: (raw.prio ?? 0) * 1000 + nextItem++ };
      case "taskDone":
      case "join":
        return { op: raw.k, queue: raw.queue };
      case "condition": {
        if (co.heldConds.includes(raw.cond)) return null;
        // Plain waits are the most telling (a wake-up is seen, not re-checked).
        const wait = raw.wait <= 1 ? "none" : raw.wait <= 3 ? "wait" : (raw.n % 2) + 1;
        const notify = raw.notify === 3 ? "all" : raw.notify;
        const step: Step = {
          op: "condition",
          cond: raw.cond,
          ms: null,
          wait,
          add: raw.add,
          notify,
          body: [],
        };
        // Only a block that does not wait sleeps first: a notifier that comes
        // after the waiters.
        if (wait === "none") delay(raw.pick, raw.r, (ms) => (step.ms = ms));
        step.body = block(raw.body, co, ancestors, {}, undefined, raw.cond);
        return step;
      }
      case "barrier": {
        // Mostly waits; now and then a reset or an abort (which break waits).
        const action = raw.action < 7 ? "wait" : raw.action < 9 ? "reset" : "abort";
        return { op: "barrier", barrier: raw.barrier, action };
      }
      case "asyncioWait":
      case "asCompleted": {
        const aws: Operand[] = [];
        for (const a of raw.aws) {
          const o = operand(a, co, ancestors);
          if (o !== null) aws.push(o);
        }
        if (aws.length === 0) return null;
        const step: Step = raw.k === "asyncioWait"
          ? { op: "asyncioWait", aws, returnWhen: RETURN_WHEN[raw.returnWhen % 3], ms: null }
          : { op: "asCompleted", aws, ms: null, form: raw.forAwait ? "forAwait" : "iter" };
        delay(raw.pick, raw.r, (ms) => (step.ms = ms));
        return step;
      }
      case "get":
        return { op: "get", queue: raw.queue };
      case "shutdown":
        return { op: "shutdown", queue: raw.queue, immediate: raw.immediate };
      case "handOver": {
        // The block runs as a task of its own: a new coroutine with its own id.
        const id = nextId++;
        const inner: Coroutine = {
          awaitable: [...co.awaitable],
          cancellable: [...co.cancellable, ...ancestors, id],
          inTimeout: false,
          inGroup: false,
          heldLocks: [],
          heldConds: [],
          inCancelHandler: false,
        };
        const within = [...ancestors, id];
        let made: BlockStep;
        if (raw.kind === 0) {
          const step: BlockStep = { op: "timeout", ms: null, body: [] };
          delay(raw.pick, raw.r, (ms) => (step.ms = ms));
          step.body = block(raw.body, inner, within, { inTimeout: true });
          made = step;
        } else if (raw.kind === 1) {
          made = { op: "taskGroup", body: block(raw.body, inner, within, { inGroup: true }) };
        } else {
          const aw = operand(raw.aw, inner, within);
          if (aw === null) return null;
          const step: BlockStep = { op: "waitFor", aw, ms: null };
          delay(raw.pick, raw.r, (ms) => (step.ms = ms));
          made = step;
        }
        if (!raw.gather) {
          co.awaitable.push(id);
          co.cancellable.push(id);
        }
        return { op: "handOver", id, via: raw.gather ? "gather" : "spawn", block: made };
      }
    }
  };

  const root = task(raw.root, {
    awaitable: [],
    cancellable: [],
    inTimeout: false,
    inGroup: false,
    heldLocks: [],
    heldConds: [],
    inCancelHandler: false,
  }, []);
  // Distinct powers of two, handed out in rank order (ties by position).
  pending.sort((a, b) => a.rank - b.rank || a.order - b.order);
  let exponent = 0;
  for (const p of pending) {
    if (exponent < maxTimers) p.assign(2 ** exponent++);
    else p.assign(0); // out of distinct deadlines: no timer
  }
  return {
    locks: LOCKS,
    events: EVENTS,
    queues: raw.queues.slice(0, QUEUES),
    queueKinds: (raw.queueKinds ?? []).slice(0, QUEUES).map((k) => QUEUE_KINDS[k % 3]),
    conditions: CONDITIONS,
    barriers: (raw.barriers ?? []).slice(0, BARRIERS),
    semaphores: (raw.semaphores ?? []).slice(0, SEMAPHORES).map((s) => ({ ...s })),
    watchdog: 2 ** exponent,
    root,
  };
}

// ------------------------------------------------------------ helpers

/**
 * Calls `visit` on every step of the scenario, depth first (and `visitList`
 * on every list of steps, before its steps).
 */
export function walkSteps(
  scenario: Scenario,
  visit: (step: Step) => void,
  visitList?: (steps: Step[]) => void,
): void {
  const task = (spec: TaskSpec) => list(spec.steps);
  const list = (steps: Step[]) => {
    visitList?.(steps);
    for (const step of steps) {
      visit(step);
      switch (step.op) {
        case "spawn":
        case "tgSpawn":
          task(step.task);
          break;
        case "try":
          list(step.body);
          if (step.handler !== undefined) list(step.handler);
          break;
        case "timeout":
        case "taskGroup":
        case "lock":
        case "condition":
        case "semaphore":
          list(step.body);
          break;
        case "waitFor":
        case "shield":
          if ("task" in step.aw) task(step.aw.task);
          break;
        case "gather":
        case "asyncioWait":
        case "asCompleted":
          for (const aw of step.aws) if ("task" in aw) task(aw.task);
          break;
        case "handOver":
          visit(step.block);
          if (step.block.op === "waitFor") {
            if ("task" in step.block.aw) task(step.block.aw.task);
          } else list(step.block.body);
          break;
      }
    }
  };
  task(scenario.root);
}

/** How many steps a scenario has (its size, for summaries). */
export function countSteps(scenario: Scenario): number {
  let n = 0;
  walkSteps(scenario, () => n++);
  return n;
}

/** The step kinds a scenario uses. */
export function kindsOf(scenario: Scenario): Set<StepKind> {
  const kinds = new Set<StepKind>();
  walkSteps(scenario, (step) => kinds.add(step.op));
  return kinds;
}

/**
 * Adds the scenario's steps to `counts`, by kind, plus variants worth
 * watching: eager starts (`spawn+eager`, `tgSpawn+eager`) and an event
 * cleared right after a set, or one iteration later (`set+clear`).
 */
export function countKinds(scenario: Scenario, counts: Map<string, number>): void {
  const add = (kind: string) => counts.set(kind, (counts.get(kind) ?? 0) + 1);
  walkSteps(scenario, (step) => {
    add(step.op);
    if ((step.op === "spawn" || step.op === "tgSpawn") && step.eager) add(`${step.op}+eager`);
  }, (steps) => {
    steps.forEach((step, i) => {
      if (step.op !== "set") return;
      const next = steps[i + 1];
      const after = next?.op === "sleep" && next.ms === 0 ? steps[i + 2] : next;
      if (after?.op === "clear" && after.event === step.event) add("set+clear");
    });
  });
}
