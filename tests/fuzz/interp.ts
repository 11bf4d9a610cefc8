/**
 * The TypeScript interpreter of the scenario language: runs a scenario on
 * this library (generator tasks, `run()` on an autojumping
 * {@linkcode asyncio.VirtualClock}) and returns its trace, one line per
 * event (`<loop time> <task id> <event>`), plus the invariant checks of the
 * run. `interp.py` is the same program on CPython's asyncio; the two must
 * print the same trace, line for line.
 *
 * Mapping of the steps (Python as `interp.py` writes it):
 *
 * - `sleep`: `yield* sleep(ms)` / `await asyncio.sleep(ms)`
 * - `spawn`, `await`, `cancel`: `createTask(gen)` (`{ eagerStart: true }`), `yield* task`,
 *   `task.cancel(msg)` / `asyncio.create_task(coro)` (`eager_task_factory(loop, coro)`),
 *   `await task`, `task.cancel(msg)`
 * - `waitFor`, `gather`, `shield`: `yield* waitFor(aw, ms)`, `yield* gather(aws, {
 *   returnExceptions })`, `yield* shield(aw)` / `await wait_for(aw, ms)`,
 *   `await gather(*aws, return_exceptions=...)`, `await shield(aw)`
 * - `timeout`, `taskGroup`: `yield* timeout(ms, function* (_, scope) {...})`,
 *   `yield* taskGroup(function* (tg) {...})` / `async with timeout(ms) as scope:`,
 *   `async with TaskGroup() as tg:`, run inside the waiting task on both sides.
 * - `handOver`: the same blocks (or `waitFor`) handed to `gather([block])` or
 *   `createTask(block)` / `gather(coro)`, `create_task(coro)`: a task of its own.
 * - `lock`: `yield* lock.acquire()`, body, `lock.release()` / the same with `await`
 * - `semaphore`: the same with a `Semaphore` or `BoundedSemaphore`; its release, and a
 *   bare `release`, log an over-release of a bounded one (our `Error`, Python's
 *   `ValueError`) as `!> ValueError` and go on
 * - `cancelState`, `uncancel` (the latter only in a handler that caught
 *   `CancelledError`): `currentTask().cancelling()`, `.uncancel()` / the same in snake case
 * - `set`/`clear`/`wait`, `put`/`get`/`shutdown`: the methods of the same names.
 *
 * A `return` inside blocks travels out as a value until the task returns it.
 * Trace lines of a waiting step read `<label> => <value>` or `<label> !> <error>`.
 *
 * ## Two styles
 *
 * With `style: "async"` every task of the scenario is an async function
 * that passes no signal anywhere: each wait is an `await` of the same
 * library future (the steps are still written once, as generators that
 * yield an {@linkcode Awaiting} marker where the generator style has
 * `yield*`, and {@linkcode drive} turns each marker into an `await` inside
 * the task's async function). Timeout and task-group bodies and new
 * coroutines handed to `waitFor`/`gather`/`shield` are async functions too.
 * An `await` of a finished future takes microtask turns that `yield*` does
 * not, so events of one loop time may interleave differently: compare
 * such traces with main.ts's `projection()`.
 *
 * @module
 */

import * as asyncio from "../../mod.ts";
import type { BlockStep, Operand, QueueKind, Scenario, Step, TaskSpec } from "./scenario.ts";

/** The error a `throw` step raises. */
export class Err extends Error {
  /** Its number in the scenario. */
  readonly n: number;

  /** @param n The error's number. */
  constructor(n: number) {
    super(`E${n}`);
    this.name = "Err";
    this.n = n;
  }
}

/** How many times the watchdog may fire (see main). */
const WATCHDOG_ROUNDS = 10;

/** A `return` travelling out of the blocks that contain it. */
interface Ret {
  ret: number;
}

type Flow = Ret | undefined;
type Gen<T> = Generator<unknown, T, unknown>;

/** The state of one coroutine: its id, and the scopes and groups its blocks opened. */
interface Frame {
  id: number;
  scopes: asyncio.Timeout[];
  groups: asyncio.TaskGroup[];
}

/** Which coroutine style the scenario's tasks are written in (see the module doc). */
export type Style = "generator" | "async";

/** What an async-style step generator yields: the future its task's async function awaits. */
class Awaiting {
  readonly future: PromiseLike<unknown>;

  constructor(future: PromiseLike<unknown>) {
    this.future = future;
  }
}

/**
 * Runs a step generator as the body of an async function: every
 * {@linkcode Awaiting} it yields becomes an `await` of its future here,
 * and the outcome goes back in (a rejection is thrown at the yield).
 */
async function drive<T>(gen: Gen<T>): Promise<T> {
  let step = gen.next();
  while (!step.done) {
    if (!(step.value instanceof Awaiting)) throw new TypeError("drive(): not an Awaiting");
    let value: unknown;
    let failed = false;
    try {
      value = await step.value.future;
    } catch (error) {
      value = error;
      failed = true;
    }
    step = failed ? gen.throw(value) : gen.next(value);
  }
  return step.value;
}

/** What a run produced. */
export interface RunResult {
  /** The trace, one line per event. */
  trace: string[];
  /** Invariant violations seen during or after the run (empty when all is well). */
  violations: string[];
  /** What reached the loop's exception handler. */
  reports: asyncio.ExceptionContext[];
  /** How many tasks the scenario started. */
  tasks: number;
  /** The task tree at the event `treeWhen` chose (see RunOptions), or null. */
  tree: string | null;
}

/** Options of {@linkcode runScenario}. */
export interface RunOptions {
  /**
   * Real milliseconds after which a run that has not finished counts as
   * hung (a violation: `run()` must always finish).
   *
   * @default {10000}
   */
  hangMs?: number;
  /**
   * The coroutine style of the scenario's tasks.
   *
   * @default {"generator"}
   */
  style?: Style;
  /**
   * Called with the trace after each event; the first time it returns
   * true, the task tree (asyncio.formatTaskTree) is kept in the result:
   * the mismatch report's picture of the program at its last common event.
   */
  treeWhen?: (trace: readonly string[]) => boolean;
}

/** Describes an error the same way interp.py does. */
export function formatError(error: unknown): string {
  if (error instanceof asyncio.CancelledError) {
    return error.message ? `Cancelled(${error.message})` : "Cancelled";
  }
  if (error instanceof asyncio.TimeoutError) return "Timeout";
  if (error instanceof asyncio.ExceptionGroup) {
    return `EG[${(error.errors as unknown[]).map(formatError).join(",")}]`;
  }
  if (error instanceof Err) return `E${error.n}`;
  if (error instanceof asyncio.QueueShutDown) return "QueueShutDown";
  if (error instanceof asyncio.QueueEmpty) return "QueueEmpty";
  if (error instanceof asyncio.QueueFull) return "QueueFull";
  if (error instanceof asyncio.InvalidStateError) return "InvalidState";
  if (error instanceof asyncio.BrokenBarrierError) return "BrokenBarrier";
  // Misuse (a refused TaskGroup.createTask, a late reschedule) is a plain
  // Error here and a RuntimeError in Python.
  if (error instanceof Error && error.constructor === Error) return "RuntimeError";
  if (error instanceof Error) return `Other(${error.name}: ${error.message})`;
  return `Other(${String(error)})`;
}

/** Describes a value the same way interp.py does. */
export function formatValue(value: unknown): string {
  if (value === undefined || value === null) return "None";
  if (typeof value === "boolean") return String(value);
  if (typeof value === "number") return String(value);
  if (Array.isArray(value)) return `[${value.map(formatValue).join(",")}]`;
  if (value instanceof Error) return formatError(value);
  if (typeof value === "object" && "ret" in value) return `ret(${(value as Ret).ret})`;
  return "obj";
}

function catches(kind: "cancelled" | "error" | "any", error: unknown): boolean {
  if (kind === "any") return true;
  const cancelled = error instanceof asyncio.CancelledError;
  return kind === "cancelled" ? cancelled : !cancelled;
}

/** The errors inside `error` (itself, the members of groups), for accounting. */
function leaves(error: unknown, out: unknown[] = []): unknown[] {
  out.push(error);
  if (error instanceof AggregateError) { for (const e of error.errors) leaves(e, out); }
  return out;
}

class Interpreter {
  readonly trace: string[] = [];
  readonly violations: string[] = [];
  readonly reports: asyncio.ExceptionContext[] = [];
  readonly tasks = new Map<number, asyncio.Task<unknown>>();

  #scenario: Scenario;
  #style: Style;
  #loop: asyncio.EventLoop | null = null;
  #locks: asyncio.Lock[] = [];
  #holders: (number | null)[] = [];
  #semaphores: asyncio.Semaphore[] = [];
  /** Each semaphore's value, as far as completed acquires and releases tell. */
  #permits: number[] = [];
  /** Tasks inside each semaphore's acquire() (a permit may be on its way to one). */
  #acquiring: number[] = [];
  #events: asyncio.Event[] = [];
  #queues: asyncio.Queue<number>[] = [];
  #queueKinds: QueueKind[] = [];
  #conds: asyncio.Condition[] = [];
  #condHolders: (number | null)[] = [];
  /** The counter each condition guards. */
  #counters: number[] = [];
  #barriers: asyncio.Barrier[] = [];
  /** What each queue holds, in order, as far as completed puts and gets tell. */
  #shadow: number[][] = [];
  /** Each queue's unfinished count as the model keeps it, and how often it reached 0. */
  #unfinished: number[] = [];
  #zeroes: number[] = [];
  #thrown: Err[] = [];
  #seen = new Set<unknown>();
  #retrieved = new Set<asyncio.Future<unknown>>();
  /** Tasks handed to a combinator or a group, which then owns their exceptions. */
  #handedOver = new Set<asyncio.Task<unknown>>();

  constructor(scenario: Scenario, style: Style) {
    this.#scenario = scenario;
    this.#style = style;
  }

  /** Waits on `future`: `yield*` in the generator style, an `await` (through drive) in the async one. */
  *await<T>(future: asyncio.Future<T> | asyncio.AsCompletedAwaitable<T>): Gen<T> {
    if (this.#style === "generator") return yield* future;
    return (yield new Awaiting(future)) as T;
  }

  /**
   * The coroutine of a task of the scenario: its generator, or an async
   * function running it.
   */
  coroutine(spec: TaskSpec): Gen<number> | (() => Promise<number>) {
    if (this.#style === "generator") return this.task(spec);
    return () => drive(this.task(spec));
  }

  log(id: number | string, text: string): void {
    this.trace.push(`${(this.#loop as asyncio.EventLoop).time()} ${id} ${text}`);
    if (this.treeWhen !== null && this.tree === null && this.treeWhen(this.trace)) {
      this.tree = asyncio.formatTaskTree(this.#loop as asyncio.EventLoop);
    }
  }

  /** When this says so after an event, the task tree is kept in {@linkcode Interpreter.tree}. */
  treeWhen: ((trace: readonly string[]) => boolean) | null = null;
  /** The task tree at the event treeWhen chose, or null. */
  tree: string | null = null;

  violation(text: string): void {
    this.violations.push(text);
  }

  #see(error: unknown): void {
    for (const e of leaves(error)) this.#seen.add(e);
  }

  // ------------------------------------------------------------ the program

  *main(): Gen<void> {
    const loop = this.#loop = asyncio.getRunningLoop();
    loop.setExceptionHandler((_loop, context) => {
      this.reports.push(context);
    });
    const sc = this.#scenario;
    for (let i = 0; i < sc.locks; i++) {
      this.#locks.push(new asyncio.Lock());
      this.#holders.push(null);
    }
    for (const { value, bounded } of sc.semaphores ?? []) {
      this.#semaphores.push(
        bounded ? new asyncio.BoundedSemaphore(value) : new asyncio.Semaphore(value),
      );
      this.#permits.push(value);
      this.#acquiring.push(0);
    }
    for (let i = 0; i < sc.events; i++) this.#events.push(new asyncio.Event());
    sc.queues.forEach((maxsize, i) => {
      const kind = sc.queueKinds?.[i] ?? "fifo";
      this.#queueKinds.push(kind);
      this.#queues.push(
        kind === "lifo"
          ? new asyncio.LifoQueue<number>(maxsize)
          : kind === "priority"
          ? new asyncio.PriorityQueue<number>(maxsize)
          : new asyncio.Queue<number>(maxsize),
      );
      this.#shadow.push([]);
      this.#unfinished.push(0);
      this.#zeroes.push(0);
    });
    for (let i = 0; i < (sc.conditions ?? 0); i++) {
      this.#conds.push(new asyncio.Condition());
      this.#condHolders.push(null);
      this.#counters.push(0);
    }
    for (const parties of sc.barriers ?? []) this.#barriers.push(new asyncio.Barrier(parties));
    const root = asyncio.createTask(this.coroutine(sc.root));
    this.tasks.set(sc.root.id, root);
    // If something still runs at the watchdog time, the program is stuck:
    // cancel every task, in id order. A task may swallow that and leave
    // another waiting (a waitFor whose inner task returned a value instead),
    // so the watchdog fires again at 2x, 3x, ... its time (deadlines no step
    // can reach), until main is done.
    let rounds = 0;
    const onWatchdog = () => {
      rounds++;
      this.log("main", "watchdog");
      for (const task of this.#byId()) if (!task.done()) task.cancel("watchdog");
      if (rounds < WATCHDOG_ROUNDS) {
        watchdog = loop.callAt(sc.watchdog * (rounds + 1), onWatchdog);
      }
    };
    let watchdog = loop.callAt(sc.watchdog, onWatchdog);
    try {
      yield* root;
    } catch (error) {
      this.#see(error);
    }
    this.log("main", "cleanup");
    // Cancel what is left in id order, then wait for all of it (deterministic
    // on both sides; asyncio.run() would cancel in set order).
    const left = this.#byId().filter((task) => !task.done());
    for (const task of left) task.cancel("cleanup");
    for (const task of left) {
      try {
        yield* task;
      } catch (error) {
        this.#see(error);
      }
    }
    watchdog.cancel();
    this.log("main", "done");
    this.#checkPrimitives();
  }

  /** The scenario's tasks in id order. */
  #byId(): asyncio.Task<unknown>[] {
    return [...this.tasks.entries()].sort((a, b) => a[0] - b[0]).map(([, task]) => task);
  }

  *task(spec: TaskSpec): Gen<number> {
    const frame: Frame = { id: spec.id, scopes: [], groups: [] };
    this.log(spec.id, "start");
    let flow: Flow;
    try {
      flow = yield* this.steps(frame, spec.steps);
    } catch (error) {
      this.log(spec.id, `end !> ${formatError(error)}`);
      throw error;
    }
    const value = flow === undefined ? spec.result : flow.ret;
    this.log(spec.id, `end => ${value}`);
    return value;
  }

  *steps(frame: Frame, steps: Step[]): Gen<Flow> {
    for (const step of steps) {
      const flow = yield* this.step(frame, step);
      if (flow !== undefined) return flow;
    }
    return undefined;
  }

  /** Waits on `future`, logging the outcome as `<label> => value` or `<label> !> error`. */
  *wait<T>(frame: Frame, label: string, future: asyncio.Future<T>): Gen<T> {
    let value: T;
    try {
      value = yield* this.await(future);
    } catch (error) {
      this.#see(error);
      this.log(frame.id, `${label} !> ${formatError(error)}`);
      throw error;
    }
    if (Array.isArray(value)) { for (const v of value) if (v instanceof Error) this.#see(v); }
    this.log(frame.id, `${label} => ${formatValue(value)}`);
    return value;
  }

  #operand(
    operand: Operand,
    register = false,
  ): asyncio.Task<unknown> | Gen<number> | (() => Promise<number>) | null {
    if ("id" in operand) {
      const task = this.tasks.get(operand.id);
      if (task === undefined) return null;
      this.#handedOver.add(task);
      return task;
    }
    if (register && this.#style === "async") {
      // The task gather() or shield() would make of the function, made here
      // (in the same order) so that it is known to the cleanup at once, as
      // register() finds it for a generator.
      const task = asyncio.createTask(this.coroutine(operand.task));
      this.tasks.set(operand.task.id, task);
      this.#handedOver.add(task);
      return task;
    }
    return this.coroutine(operand.task);
  }

  /** Registers the tasks gather() and shield() made for new coroutines, for the cleanup. */
  #register(operands: Operand[], made: unknown[]): void {
    if (this.#style === "async") return; // made and registered by #operand
    const live = asyncio.allTasks(this.#loop as asyncio.EventLoop);
    operands.forEach((operand, i) => {
      if (!("task" in operand)) return;
      for (const task of live) {
        if (task.getCoro() !== made[i]) continue;
        this.tasks.set(operand.task.id, task);
        this.#handedOver.add(task);
      }
    });
  }

  *step(frame: Frame, step: Step): Gen<Flow> {
    const id = frame.id;
    const loop = this.#loop as asyncio.EventLoop;
    switch (step.op) {
      case "sleep":
        yield* this.wait(frame, `sleep ${step.ms}`, asyncio.sleep(step.ms));
        return;
      case "spawn": {
        const task = asyncio.createTask(
          this.coroutine(step.task),
          step.eager ? { eagerStart: true } : undefined,
        );
        this.tasks.set(step.task.id, task);
        this.log(id, `spawn ${step.task.id}`);
        return;
      }
      case "await": {
        const task = this.tasks.get(step.id);
        if (task === undefined) {
          this.log(id, `await ${step.id} missing`);
          return;
        }
        try {
          yield* this.wait(frame, `await ${step.id}`, task);
        } catch (error) {
          // The waiter got the task's outcome, unless a cancellation of the
          // waiter came instead of a failure (then the failure is reported).
          if (!(error instanceof asyncio.CancelledError) || !task.done() || task.cancelled()) {
            this.#retrieved.add(task);
          }
          throw error;
        }
        return;
      }
      case "cancel": {
        const task = step.id === "self" ? asyncio.currentTask() : this.tasks.get(step.id);
        if (task === undefined || task === null) {
          this.log(id, `cancel ${step.id} missing`);
          return;
        }
        const sent = task.cancel(step.msg ?? undefined);
        // cancel() on a failed task marks its exception retrieved (CPython's
        // Future.cancel clears __log_traceback first): the caller saw it go.
        if (!sent && !task.cancelled()) this.#see(task.exception());
        this.log(id, `cancel ${step.id} ${step.msg ?? "-"} => ${sent}`);
        return;
      }
      case "throw": {
        const error = new Err(step.err);
        this.#thrown.push(error);
        this.log(id, `throw E${step.err}`);
        throw error;
      }
      case "try": {
        try {
          const flow = yield* this.steps(frame, step.body);
          if (flow !== undefined) return flow;
        } catch (error) {
          if (!catches(step.catch, error)) throw error;
          this.#see(error);
          this.log(id, `caught ${formatError(error)} (${step.then})`);
          if (step.handler !== undefined) yield* this.steps(frame, step.handler);
          if (step.then === "return") return { ret: step.value };
          if (step.then === "reraise") throw error;
        }
        return;
      }
      case "waitFor": {
        const label = `waitFor ${describeOperand(step.aw)} ${step.ms ?? "None"}`;
        const block = this.#block(frame, step);
        if (block === null) {
          this.log(id, `${label} missing`);
          return;
        }
        yield* this.wait(frame, label, block);
        return;
      }
      case "gather": {
        const aws = step.aws.map((o) => this.#operand(o, true));
        const present = aws.filter((aw) => aw !== null);
        const label = `gather [${
          step.aws.map(describeOperand).join(",")
        }] ${step.returnExceptions}`;
        if (present.length === 0) {
          this.log(id, `${label} missing`);
          return;
        }
        const future = asyncio.gather(present, { returnExceptions: step.returnExceptions });
        this.#register(step.aws, aws);
        yield* this.wait(frame, label, future);
        return;
      }
      case "shield": {
        const aw = this.#operand(step.aw, true);
        const label = `shield ${describeOperand(step.aw)}`;
        if (aw === null) {
          this.log(id, `${label} missing`);
          return;
        }
        const future = asyncio.shield(aw);
        this.#register([step.aw], [aw]);
        yield* this.wait(frame, label, future);
        return;
      }
      case "timeout":
        return yield* this.wait(
          frame,
          `timeout ${step.ms ?? "None"}`,
          this.#block(frame, step) as asyncio.Future<Flow>,
        );
      case "reschedule": {
        const scope = frame.scopes[frame.scopes.length - 1];
        const when = step.ms === null ? null : loop.time() + step.ms;
        try {
          scope.reschedule(when);
        } catch (error) {
          this.log(id, `reschedule ${step.ms ?? "None"} !> ${formatError(error)}`);
          throw error;
        }
        this.log(id, `reschedule ${step.ms ?? "None"}`);
        return;
      }
      case "taskGroup":
        return yield* this.wait(
          frame,
          "taskGroup",
          this.#block(frame, step) as asyncio.Future<Flow>,
        );
      case "handOver": {
        // The block runs as a task of its own, with its own frame.
        const inner: Frame = { id: step.id, scopes: [], groups: [] };
        const block = this.#block(inner, step.block);
        if (block === null) {
          this.log(id, `handOver ${step.id} missing`);
          return;
        }
        if (step.via === "spawn") {
          const task = asyncio.createTask(block);
          this.tasks.set(step.id, task);
          this.log(id, `handOver ${step.id} spawn`);
          return;
        }
        const future = asyncio.gather([block]);
        this.tasks.set(step.id, block as asyncio.Task<unknown>);
        this.#handedOver.add(block as asyncio.Task<unknown>);
        yield* this.wait(frame, `handOver ${step.id} gather`, future);
        return;
      }
      case "tgSpawn": {
        const group = frame.groups[frame.groups.length - 1];
        let task: asyncio.Task<unknown>;
        try {
          task = group.createTask(
            this.coroutine(step.task),
            step.eager ? { eagerStart: true } : undefined,
          );
        } catch (error) {
          this.log(id, `tgSpawn ${step.task.id} !> ${formatError(error)}`);
          throw error;
        }
        this.tasks.set(step.task.id, task);
        this.#handedOver.add(task);
        this.log(id, `tgSpawn ${step.task.id}`);
        return;
      }
      case "lock": {
        const lock = this.#locks[step.lock];
        yield* this.#acquire(id, `L${step.lock}`, lock.acquire());
        const holder = this.#holders[step.lock];
        if (holder !== null) {
          this.violation(`lock L${step.lock} acquired by ${id} while ${holder} holds it`);
        }
        this.#holders[step.lock] = id;
        this.log(id, `acquired L${step.lock}`);
        try {
          return yield* this.steps(frame, step.body);
        } finally {
          this.#holders[step.lock] = null;
          lock.release();
          this.log(id, `release L${step.lock}`);
        }
      }
      case "semaphore": {
        const sem = this.#semaphores[step.sem];
        this.#acquiring[step.sem]++;
        try {
          yield* this.#acquire(id, `S${step.sem}`, sem.acquire());
        } finally {
          this.#acquiring[step.sem]--;
        }
        if (--this.#permits[step.sem] < 0) {
          this.violation(`semaphore S${step.sem} acquired by ${id} with no permit left`);
        }
        this.log(id, `acquired S${step.sem}`);
        try {
          return yield* this.steps(frame, step.body);
        } finally {
          this.#release(id, step.sem, "release");
        }
      }
      case "release":
        this.#release(id, step.sem, "bare release");
        return;
      case "cancelState":
        this.log(id, `cancelling=${(asyncio.currentTask() as asyncio.Task<unknown>).cancelling()}`);
        return;
      case "uncancel":
        this.log(id, `uncancel => ${(asyncio.currentTask() as asyncio.Task<unknown>).uncancel()}`);
        return;
      case "set":
        this.#events[step.event].set();
        this.log(id, `set E${step.event}`);
        return;
      case "clear":
        this.#events[step.event].clear();
        this.log(id, `clear E${step.event}`);
        return;
      case "wait":
        yield* this.wait(frame, `wait E${step.event}`, this.#events[step.event].wait());
        return;
      case "put": {
        yield* this.wait(
          frame,
          `put Q${step.queue} ${step.item}`,
          this.#queues[step.queue].put(step.item),
        );
        this.#shadow[step.queue].push(step.item);
        this.#unfinished[step.queue]++;
        return;
      }
      case "get": {
        const item = yield* this.wait(frame, `get Q${step.queue}`, this.#queues[step.queue].get());
        const kind = this.#queueKinds[step.queue];
        const expected = takeShadow(this.#shadow[step.queue], kind);
        if (item !== expected) {
          this.violation(
            `Q${step.queue}: got ${item}, expected ${expected ?? "nothing"} (${kind})`,
          );
        }
        return;
      }
      case "taskDone": {
        const q = step.queue;
        try {
          this.#queues[q].taskDone();
        } catch (error) {
          // Python raises ValueError; here a plain Error.
          if (!(error instanceof Error) || error.constructor !== Error) throw error;
          if (this.#unfinished[q] > 0) {
            this.violation(`Q${q}: taskDone() refused with ${this.#unfinished[q]} unfinished`);
          }
          this.log(id, `taskDone Q${q} !> TooMany`);
          return;
        }
        if (this.#unfinished[q] === 0) {
          this.violation(`Q${q}: taskDone() accepted with 0 unfinished`);
        } else if (--this.#unfinished[q] === 0) this.#zeroes[q]++;
        this.log(id, `taskDone Q${q}`);
        return;
      }
      case "join": {
        // join() may return only once the count has been 0 since it was called.
        const q = step.queue;
        const zeroes = this.#unfinished[q] === 0 ? -1 : this.#zeroes[q];
        yield* this.wait(frame, `join Q${q}`, this.#queues[q].join());
        if (zeroes === this.#zeroes[q]) {
          this.violation(`Q${q}: join() returned with ${this.#unfinished[q]} unfinished all along`);
        }
        return;
      }
      case "condition":
        return yield* this.condition(frame, step);
      case "barrier": {
        const barrier = this.#barriers[step.barrier];
        const label = `barrier ${step.action} B${step.barrier}`;
        const future = step.action === "wait"
          ? barrier.wait()
          : step.action === "reset"
          ? barrier.reset()
          : barrier.abort();
        try {
          yield* this.wait(frame, label, future as asyncio.Future<unknown>);
        } catch (error) {
          // A broken barrier is part of the program: logged (by wait), and on.
          if (!(error instanceof asyncio.BrokenBarrierError)) throw error;
        }
        return;
      }
      case "asyncioWait":
        yield* this.asyncioWait(frame, step);
        return;
      case "asCompleted":
        yield* this.asCompleted(frame, step);
        return;
      case "shutdown":
        this.#queues[step.queue].shutdown(step.immediate);
        if (step.immediate) {
          // The dropped items count as done.
          const q = step.queue;
          const left = this.#unfinished[q];
          this.#unfinished[q] = Math.max(0, left - this.#shadow[q].length);
          if (left > 0 && this.#unfinished[q] === 0) this.#zeroes[q]++;
          this.#shadow[q].length = 0;
        }
        this.log(id, `shutdown Q${step.queue} ${step.immediate}`);
        return;
    }
  }

  /** Waits for a lock, semaphore or condition; a failure is traced (`acquire L0 !> ...`) and rethrown. */
  *#acquire(id: number, name: string, acquiring: asyncio.Future<unknown>): Gen<void> {
    try {
      yield* this.await(acquiring);
    } catch (error) {
      this.#see(error);
      this.log(id, `acquire ${name} !> ${formatError(error)}`);
      throw error;
    }
  }

  /** A condition block: acquire, wait, change the counter, notify, the body, release. */
  *condition(frame: Frame, step: Extract<Step, { op: "condition" }>): Gen<Flow> {
    const id = frame.id;
    const c = step.cond;
    const cond = this.#conds[c];
    if (step.ms !== null) yield* this.wait(frame, `sleep ${step.ms}`, asyncio.sleep(step.ms));
    yield* this.#acquire(id, `C${c}`, cond.acquire());
    this.#holdCondition(c, id);
    this.log(id, `acquired C${c}`);
    try {
      if (step.wait === "wait") {
        this.#condHolders[c] = null;
        try {
          yield* this.wait(frame, `cwait C${c}`, cond.wait());
        } finally {
          this.#holdCondition(c, id);
        }
      } else if (step.wait !== "none") {
        const n = step.wait;
        const counters = this.#counters;
        this.#condHolders[c] = null;
        try {
          yield* this.wait(
            frame,
            `cwaitFor C${c} >=${n}`,
            cond.waitFor(() => counters[c] >= n && counters[c]),
          );
        } finally {
          this.#holdCondition(c, id);
        }
      }
      this.#counters[c] += step.add;
      if (step.notify === "all") cond.notifyAll();
      else cond.notify(step.notify);
      this.log(id, `C${c} +${step.add} = ${this.#counters[c]}, notify ${step.notify}`);
      return yield* this.steps(frame, step.body);
    } finally {
      this.#condHolders[c] = null;
      cond.release();
      this.log(id, `release C${c}`);
    }
  }

  #holdCondition(c: number, id: number): void {
    const holder = this.#condHolders[c];
    if (holder !== null) {
      this.violation(`condition C${c} acquired by ${id} while ${holder} holds it`);
    }
    if (!this.#conds[c].locked()) this.violation(`condition C${c}: ${id} holds it unlocked`);
    this.#condHolders[c] = id;
  }

  /** The tasks of an asyncioWait or asCompleted step: referenced ones, and new ones made in order. */
  #tasksOf(operands: Operand[]): [string, asyncio.Task<unknown>][] | null {
    const out: [string, asyncio.Task<unknown>][] = [];
    for (const operand of operands) {
      if ("id" in operand) {
        const task = this.tasks.get(operand.id);
        if (task === undefined) return null;
        out.push([`${operand.id}`, task]);
      } else {
        const task = asyncio.createTask(this.coroutine(operand.task));
        this.tasks.set(operand.task.id, task);
        out.push([`${operand.task.id}`, task]);
      }
    }
    return out;
  }

  /** `id=value` or `id!error` of a done task (reading it retrieves its exception). */
  #outcome(name: string, task: asyncio.Future<unknown>): string {
    try {
      const value = task.result();
      return `${name}=${formatValue(value)}`;
    } catch (error) {
      this.#see(error);
      return `${name}!${formatError(error)}`;
    }
  }

  *asyncioWait(frame: Frame, step: Extract<Step, { op: "asyncioWait" }>): Gen<void> {
    const label = `asyncioWait [${step.aws.map(describeOperand).join(",")}] ${step.returnWhen} ${
      step.ms ?? "None"
    }`;
    const tasks = this.#tasksOf(step.aws);
    if (tasks === null) {
      this.log(frame.id, `${label} missing`);
      return;
    }
    // With FIRST_EXCEPTION, wait() reads the exception of each task that fails
    // while it waits (CPython's _on_completion calls f.exception()), so it is
    // retrieved and never reported, even if the wait is then cancelled.
    if (step.returnWhen === "FIRST_EXCEPTION") {
      for (const [, task] of tasks) this.#handedOver.add(task);
    }
    const names = new Map<asyncio.Future<unknown>, string>();
    for (const [name, task] of tasks) if (!names.has(task)) names.set(task, name);
    let result: asyncio.WaitResult<asyncio.Task<unknown>>;
    try {
      result = yield* this.await(
        asyncio.wait(tasks.map(([, t]) => t), { timeout: step.ms, returnWhen: step.returnWhen }),
      );
    } catch (error) {
      this.#see(error);
      this.log(frame.id, `${label} !> ${formatError(error)}`);
      throw error;
    }
    const byId = (set: Set<asyncio.Task<unknown>>) =>
      [...set].map((t) => names.get(t) as string).sort((a, b) => Number(a) - Number(b));
    const done = byId(result.done).map((name) => {
      const task = [...names].find(([, n]) => n === name)?.[0] as asyncio.Future<unknown>;
      return this.#outcome(name, task);
    });
    this.log(frame.id, `${label} => done [${done}] pending [${byId(result.pending)}]`);
  }

  *asCompleted(frame: Frame, step: Extract<Step, { op: "asCompleted" }>): Gen<void> {
    const id = frame.id;
    const label = `asCompleted [${step.aws.map(describeOperand).join(",")}] ${
      step.ms ?? "None"
    } ${step.form}`;
    const tasks = this.#tasksOf(step.aws);
    if (tasks === null) {
      this.log(id, `${label} missing`);
      return;
    }
    const names = new Map<unknown, string>();
    for (const [name, task] of tasks) if (!names.has(task)) names.set(task, name);
    const it = asyncio.asCompleted(tasks.map(([, t]) => t), { timeout: step.ms });
    this.log(id, label);
    if (step.form === "iter") {
      for (const next of it) {
        let value: unknown;
        try {
          value = yield* this.await(next);
        } catch (error) {
          this.#see(error);
          this.log(id, `next !> ${formatError(error)}`);
          if (error instanceof asyncio.CancelledError) throw error;
          continue;
        }
        this.log(id, `next => ${formatValue(value)}`);
      }
    } else {
      const ait = it[Symbol.asyncIterator]();
      for (;;) {
        let r: IteratorResult<asyncio.CompletedFuture<unknown>, undefined>;
        try {
          r = yield* this.await(ait.next() as asyncio.Future<typeof r>);
        } catch (error) {
          this.#see(error);
          this.log(id, `anext !> ${formatError(error)}`);
          if (error instanceof asyncio.CancelledError) throw error;
          break;
        }
        if (r.done) break;
        const future = r.value as asyncio.Future<unknown>;
        this.log(id, `anext => ${this.#outcome(names.get(future) ?? "?", future)}`);
      }
    }
    this.log(id, "asCompleted end");
  }

  /** Releases semaphore `n`; an over-release of a bounded one is logged, not thrown. */
  #release(id: number, n: number, label: string): void {
    const sem = this.#semaphores[n];
    const spec = (this.#scenario.semaphores ?? [])[n];
    // The model counts a permit taken when acquire() returns; CPython takes it
    // when release() wakes a waiter, which runs later. So a release must be
    // refused past the bound, and may be accepted while a woken waiter
    // (one of those inside acquire()) has not taken its permit yet.
    const must = spec.bounded && this.#permits[n] - this.#acquiring[n] >= spec.value;
    const may = spec.bounded && this.#permits[n] >= spec.value;
    try {
      sem.release();
    } catch (error) {
      if (!(error instanceof Error) || !error.message.includes("released too many times")) {
        throw error;
      }
      if (!may) this.violation(`S${n}: release refused with ${this.#permits[n]} permit(s)`);
      this.log(id, `${label} S${n} !> ValueError`);
      return;
    }
    if (must) this.violation(`S${n}: bounded, released past its bound ${spec.value}`);
    this.#permits[n]++;
    this.log(id, `${label} S${n}`);
  }

  /** The future of a waitFor, timeout or taskGroup step, not waited on yet (null: a missing operand). */
  #block(frame: Frame, step: BlockStep): asyncio.Future<unknown> | null {
    switch (step.op) {
      case "waitFor": {
        const aw = this.#operand(step.aw);
        return aw === null ? null : asyncio.waitFor(aw, step.ms);
      }
      case "timeout": {
        // Bound, it is still a generator function that declares (signal, scope).
        const body = this.#style === "generator"
          ? this.timeoutBody.bind(this, frame, step.body)
          : (signal: AbortSignal, scope: asyncio.Timeout) =>
            drive(this.timeoutBody(frame, step.body, signal, scope));
        return asyncio.timeout(step.ms, body);
      }
      case "taskGroup": {
        const body = this.#style === "generator"
          ? this.groupBody.bind(this, frame, step.body)
          : (group: asyncio.TaskGroup) => drive(this.groupBody(frame, step.body, group));
        return asyncio.taskGroup(body);
      }
    }
  }

  /** A timeout's body: the block's steps, with the scope open for `reschedule`. */
  *timeoutBody(
    frame: Frame,
    steps: Step[],
    _signal: AbortSignal,
    scope: asyncio.Timeout,
  ): Gen<Flow> {
    frame.scopes.push(scope);
    try {
      return yield* this.steps(frame, steps);
    } finally {
      frame.scopes.pop();
    }
  }

  /** A task group's body: the block's steps, with the group open for `tgSpawn`. */
  *groupBody(frame: Frame, steps: Step[], group: asyncio.TaskGroup): Gen<Flow> {
    frame.groups.push(group);
    try {
      return yield* this.steps(frame, steps);
    } finally {
      frame.groups.pop();
    }
  }

  // ------------------------------------------------------------ invariants

  /** At the end of main: no lock held, every queue holds exactly what the puts and gets left. */
  #checkPrimitives(): void {
    this.#locks.forEach((lock, i) => {
      if (lock.locked()) this.violation(`lock L${i} still locked at the end`);
    });
    this.#queues.forEach((queue, i) => {
      const left: number[] = [];
      while (!queue.empty()) left.push(queue.getNowait());
      const shadow = [...this.#shadow[i]];
      const expected: number[] = [];
      while (shadow.length > 0) expected.push(takeShadow(shadow, this.#queueKinds[i]) as number);
      if (left.join(",") !== expected.join(",")) {
        this.violation(`Q${i} holds [${left}] at the end, expected [${expected}]`);
      }
    });
  }

  /** After run(): nothing pending, every exception delivered or reported exactly once. */
  checkAfterRun(): void {
    const loop = this.#loop;
    if (loop === null) return;
    for (const [id, task] of this.tasks) {
      if (!task.done()) this.violation(`task ${id} still pending after run()`);
    }
    const live = asyncio.allTasks(loop).size;
    if (live > 0) this.violation(`${live} task(s) of the loop still pending after run()`);
    // A combinator or a group that was handed a task retrieved its exception
    // (and may drop it, as gather() does once it is cancelled: CPython too).
    for (const task of this.#handedOver) {
      if (task.done() && !task.cancelled()) this.#see(task.exception());
    }
    const reported = new Set<unknown>();
    const reportedFutures = new Set<unknown>();
    for (const report of this.reports) {
      const where = report.future ?? report.task;
      if (where !== undefined) {
        if (reportedFutures.has(where)) this.violation(`${where} reported twice`);
        reportedFutures.add(where);
        if (this.#retrieved.has(where as asyncio.Future<unknown>)) {
          this.violation(`${where} reported although its exception was delivered`);
        }
      }
      if (!("exception" in report)) {
        this.violation(`report without an exception: ${report.message}`);
        continue;
      }
      for (const e of leaves(report.exception)) {
        reported.add(e);
        if (!isScenarioError(e)) {
          this.violation(`unexpected report: ${report.message}: ${formatError(e)}`);
        }
      }
    }
    for (const error of this.#thrown) {
      if (!this.#seen.has(error) && !reported.has(error)) {
        this.violation(`E${error.n} was neither delivered nor reported`);
      }
    }
    for (const line of this.trace) {
      if (line.includes("Other(")) this.violation(`unexpected error in the trace: ${line}`);
    }
  }
}

/** Takes from a queue's shadow what a get from a queue of that kind takes. */
function takeShadow(shadow: number[], kind: QueueKind): number | undefined {
  if (kind === "fifo") return shadow.shift();
  if (kind === "lifo") return shadow.pop();
  if (shadow.length === 0) return undefined;
  let min = 0;
  for (let i = 1; i < shadow.length; i++) if (shadow[i] < shadow[min]) min = i;
  return shadow.splice(min, 1)[0];
}

/** Errors a scenario can end a task with (anything else in a report is the library's). */
function isScenarioError(e: unknown): boolean {
  return e instanceof Err || e instanceof asyncio.ExceptionGroup ||
    e instanceof asyncio.TimeoutError || e instanceof asyncio.QueueShutDown ||
    (e instanceof Error && e.constructor === Error);
}

function describeOperand(operand: Operand): string {
  return "id" in operand ? `${operand.id}` : `new ${operand.task.id}`;
}

/**
 * Runs a scenario on this library and returns its trace and the
 * violations of the invariants checked along the way.
 */
export async function runScenario(
  scenario: Scenario,
  options: RunOptions = {},
): Promise<RunResult> {
  const interpreter = new Interpreter(scenario, options.style ?? "generator");
  interpreter.treeWhen = options.treeWhen ?? null;
  const clock = new asyncio.VirtualClock({ autojump: true });
  let timer: ReturnType<typeof setTimeout> | undefined;
  const hung = new Promise<"hung">((resolve) => {
    timer = setTimeout(() => resolve("hung"), options.hangMs ?? 10_000);
  });
  try {
    const outcome = await Promise.race([asyncio.run(interpreter.main(), { clock }), hung]);
    if (outcome === "hung") interpreter.violation("run() did not finish");
  } catch (error) {
    interpreter.violation(`run() rejected: ${formatError(error)}`);
  } finally {
    clearTimeout(timer);
  }
  interpreter.checkAfterRun();
  return {
    trace: interpreter.trace,
    violations: interpreter.violations,
    reports: interpreter.reports,
    tasks: interpreter.tasks.size,
    tree: interpreter.tree,
  };
}
