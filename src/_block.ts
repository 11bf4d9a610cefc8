/**
 * Blocks: what `timeout()`, `timeoutAt()`, `taskGroup()` and `waitFor()`
 * return. Private to the package.
 *
 * Python runs the block of `async with asyncio.timeout(...)` or
 * `async with asyncio.TaskGroup()`, and the coroutine of
 * `await asyncio.wait_for(...)`, inside the task that awaits it, and a
 * coroutine does nothing until it is awaited. A Block is that: a Task made
 * dormant, whose coroutine starts on the first wait, in one of three ways.
 *
 * 1. `yield*` from a generator task: the coroutine runs right there, inside
 *    that task's steps. The task is the block's owner: `currentTask()`, the
 *    task a deadline cancels, a task group's parent.
 * 2. `await`/`then()` inside an async-function task, where the host has an
 *    async context: the coroutine runs inside that task too, driven by an
 *    async function in its context, so every future it waits on is a wait
 *    of that task.
 * 3. Anything else (`ensureFuture`, `gather`, `wait`, `asCompleted`,
 *    `createTask`, `TaskGroup.createTask`, `shield`, `addDoneCallback`,
 *    `then()` outside a task, `cancel()`): the block starts as a task of its
 *    own, scheduled like any new task (so `gather` starts its children in
 *    order, as Python's gather wraps coroutines in tasks).
 *
 * In the first two the block's own future is completed with the outcome
 * when the coroutine ends, for whoever else watches it.
 *
 * @module
 */

import type { EventLoop } from "./event_loop.ts";
import { Future } from "./future.ts";
import { type Coroutine, currentTask, Task, type TaskOptions } from "./task.ts";
import { CancelledError } from "./errors.ts";
import {
  awaitingTask,
  cancelFutureWith,
  DORMANT,
  driveCoroutine,
  failFuture,
  hooks,
  installActivate,
  installBodyPromise,
  markNotAWait,
  resolveFuture,
  silence,
  spawnTask,
  startTask,
  taskSignal,
} from "./_internal.ts";
import { asyncSlot } from "./_host.ts";
import { cancelledError } from "./_cancelled.ts";
import { keepShape, keepShapeOf } from "./_shapes.ts";

/**
 * Where a block's coroutine runs: in a generator task's steps, or driven by
 * an async function inside an async-function task's context (there an async
 * body can be called in place; in a generator task it needs a task).
 */
export type BlockMode = "generator" | "async";

/**
 * Makes a block's coroutine for the task that runs it (its owner), from the
 * two arguments the block keeps (fields, not a closure per call).
 */
export type BlockCoroutine<T, A = unknown, B = unknown> = (
  owner: Task<unknown>,
  mode: BlockMode,
  a: A,
  b: B,
) => Coroutine<T>;

// Assigned in Block's static block, where its #private state is reachable.
let activateBlock: (block: Block<unknown>, eager: boolean) => boolean;
let isDormant: (block: Block<unknown>) => boolean;

const WAITING = 0; // dormant: nobody has waited on it yet
const INLINE = 1; // running (or ran) inside its owner
const STARTED = 2; // started as a task of its own

// The first instance the program makes keeps the class's map alive (see _shapes.ts).
let blockShaped = false;

/** The dormant task a block call returns (see the module doc). */
class Block<T> extends Task<T> {
  #coroutine: BlockCoroutine<T>;
  #a: unknown;
  #b: unknown;
  /** Started as a task, it prefers the async driver (its body is an async function). */
  #asyncBody: boolean;
  #state = WAITING;
  #owner: Task<unknown> | null = null;
  /** What made it ("timeout()", "taskGroup()", ...): the coroutine's name in the call graph. */
  #label: string;

  constructor(
    loop: EventLoop,
    coroutine: BlockCoroutine<T>,
    a: unknown,
    b: unknown,
    asyncBody: boolean,
    label: string,
  ) {
    DORMANT.loop = loop;
    super(null as never, DORMANT as TaskOptions);
    DORMANT.loop = undefined;
    this.#coroutine = coroutine;
    this.#a = a;
    this.#b = b;
    this.#asyncBody = asyncBody;
    this.#label = label;
    if (loop.getDebug()) watchNeverAwaited(this, loop, label);
    if (!blockShaped) {
      blockShaped = true;
      keepShapeOf((shapeLoop) =>
        new Block(shapeLoop, null as never, undefined, undefined, false, "shape")
      );
    }
  }

  /** `yield*` from a task: the block runs inside it. */
  override [Symbol.iterator](): Iterator<Future<unknown>, T, unknown> {
    if (this.#state === WAITING) {
      const owner = currentTask();
      if (owner !== null && owner.getLoop() === this.getLoop()) {
        this.#state = INLINE;
        this.#owner = owner;
        forget(this);
        // In a generator task's step, or inside an async driver (a nested block).
        const mode: BlockMode = owner.getCoro() !== null || asyncSlot === null
          ? "generator"
          : "async";
        return new InlineRun(this, this.#coroutine(owner, mode, this.#a, this.#b));
      }
      Block.#start(this, false);
    }
    return super[Symbol.iterator]();
  }

  override then<R1 = T, R2 = never>(
    onfulfilled?: ((value: T) => R1 | PromiseLike<R1>) | null,
    // deno-lint-ignore no-explicit-any
    onrejected?: ((reason: any) => R2 | PromiseLike<R2>) | null,
  ): Promise<R1 | R2> {
    if (this.#state === WAITING) {
      const owner = awaitingTask();
      if (owner !== null && owner.getLoop() === this.getLoop()) {
        // Awaited by an async-function task: run inside it, in its context.
        this.#state = INLINE;
        this.#owner = owner;
        forget(this);
        return drive(this, this.#coroutine(owner, "async", this.#a, this.#b)).then(
          onfulfilled,
          onrejected,
        );
      }
      Block.#start(this, false);
    }
    return super.then(onfulfilled, onrejected);
  }

  override catch<R = never>(
    // deno-lint-ignore no-explicit-any
    onrejected?: ((reason: any) => R | PromiseLike<R>) | null,
  ): Promise<T | R> {
    return this.then(undefined, onrejected);
  }

  override finally(onfinally?: (() => void) | null): Promise<T> {
    return this.then().finally(onfinally);
  }

  override addDoneCallback(callback: (future: this) => unknown): void {
    if (this.#state === WAITING) Block.#start(this, false);
    super.addDoneCallback(callback);
  }

  /**
   * Dormant: it starts as a task and is cancelled before its first step,
   * so nothing runs. Running inside its owner: the owner is asked to cancel
   * (the block has no task of its own to stop).
   */
  override cancel(msg?: string): boolean {
    if (this.#state === INLINE && !this.done()) return (this.#owner as Task<unknown>).cancel(msg);
    if (this.#state === WAITING) Block.#start(this, false);
    return super.cancel(msg);
  }

  /** Starts the block as a task of its own (ensureFuture, gather, createTask, ...). */
  // Static: a private instance method would put a brand in every block.
  static #start<T>(self: Block<T>, eager: boolean): void {
    self.#state = STARTED;
    forget(self);
    const coroutine = self.#coroutine;
    const a = self.#a, b = self.#b;
    const run = self.#asyncBody && asyncSlot !== null
      // An async body then runs in this task's context, as in an async caller.
      ? () => plainDrive(coroutine(self as Task<unknown>, "async", a, b))
      : coroutine(self as Task<unknown>, "generator", a, b);
    startTask(self as Task<unknown>, run, eager, self.#label);
  }

  static {
    activateBlock = (block, eager) => {
      if (block.#state !== WAITING) return false;
      Block.#start(block, eager);
      return true;
    };
    isDormant = (block) => block.#state === WAITING;
  }
}

installActivate((future) => {
  if (future instanceof Block) activateBlock(future, false);
  return future;
}, blockAsTask);

/**
 * `createTask(block)` and `TaskGroup.createTask(block)`: the block becomes
 * that task. Returns null for anything that is not a block.
 */
export function blockAsTask(
  value: unknown,
  where: string,
  options: { readonly name?: string; readonly eagerStart?: boolean } | undefined,
): Task<unknown> {
  if (!(value instanceof Block)) {
    throw new TypeError(
      `${where}: 'coro' must be a coroutine, or a block of timeout(), taskGroup() or waitFor() not waited on yet, got ${value}; it is already a future: wait on it`,
    );
  }
  if (!isDormant(value)) {
    // Python: "cannot reuse already awaited coroutine".
    throw new Error(`${where}: this ${value} was already waited on; a block runs once`);
  }
  const loop = value.getLoop();
  if (loop.getTaskFactory() !== null) {
    // As Python's create_task(wait_for(...)): the factory's task runs the block.
    return spawnTask(where, loop, awaitBlock(value), options);
  }
  if (options?.name !== undefined) value.setName(options.name);
  activateBlock(value, options?.eagerStart === true);
  return value;
}

/** A coroutine that runs a block inside its task, for a loop's task factory. */
function* awaitBlock<T>(block: Future<T>): Generator<unknown, T, unknown> {
  return yield* block;
}

/** Makes a block: `coroutine` runs when something first waits on it. */
export function makeBlock<T, A, B>(
  loop: EventLoop,
  coroutine: BlockCoroutine<T, A, B>,
  a: A,
  b: B,
  asyncBody: boolean,
  label: string,
): Future<T> {
  return new Block(loop, coroutine as BlockCoroutine<T>, a, b, asyncBody, label);
}

// ------------------------------------------------------------ running inline

/** Ends the block's own future with what its inline coroutine ended with (already delivered). */
function settle(block: Future<unknown>, failed: boolean, outcome: unknown): void {
  if (block.done()) return;
  if (!failed) resolveFuture(block, outcome);
  else if (outcome instanceof CancelledError) cancelFutureWith(block, outcome);
  else {
    failFuture(block, outcome);
    silence(block); // its owner received it
  }
}

/**
 * The iterator a generator task's `yield*` gets: the block's coroutine,
 * passed through unchanged (so its waits are the task's), with the end
 * noted on the block.
 */
class InlineRun<T> implements Iterator<Future<unknown>, T, unknown> {
  #block: Future<T>;
  #coro: Coroutine<T>;

  constructor(block: Future<T>, coro: Coroutine<T>) {
    this.#block = block;
    this.#coro = coro;
  }

  next(value?: unknown): IteratorResult<Future<unknown>, T> {
    let result: IteratorResult<unknown, T>;
    try {
      result = this.#coro.next(value);
    } catch (error) {
      settle(this.#block, true, error);
      throw error;
    }
    if (result.done) settle(this.#block, false, result.value);
    return result as IteratorResult<Future<unknown>, T>;
  }

  throw(error: unknown): IteratorResult<Future<unknown>, T> {
    let result: IteratorResult<unknown, T>;
    try {
      result = this.#coro.throw(error);
    } catch (thrown) {
      settle(this.#block, true, thrown);
      throw thrown;
    }
    if (result.done) settle(this.#block, false, result.value);
    return result as IteratorResult<Future<unknown>, T>;
  }

  return(value: T): IteratorResult<Future<unknown>, T> {
    const result = this.#coro.return(value);
    if (result.done) settle(this.#block, false, result.value);
    return result as IteratorResult<Future<unknown>, T>;
  }
}

/** Runs a block's coroutine from an async function, ending the block's future with it. */
function drive<T>(block: Future<T>, coro: Coroutine<T>): Promise<T> {
  return driveCoroutine(coro).then(
    (value) => {
      settle(block, false, value);
      return value;
    },
    (error) => {
      settle(block, true, error);
      throw error;
    },
  );
}

function plainDrive<T>(coro: Coroutine<T>): Promise<T> {
  return driveCoroutine(coro);
}

/**
 * What an async body returned, as something the block's coroutine can
 * `yield*` when it runs in an async driver (mode "async"): a future as it
 * is (one of the owner's waits), a promise as a follower (which the
 * driver awaits directly: the body's own awaits are the owner's waits, so a
 * cancellation reaches the body there, and the block still waits for the
 * body to settle, as Python does), or a value.
 */
export function followBody<T>(loop: EventLoop, value: unknown): Future<T> {
  if (value instanceof Future) return value as Future<T>;
  if (
    value !== null && (typeof value === "object" || typeof value === "function") &&
    typeof (value as PromiseLike<T>).then === "function"
  ) {
    const follower = new Future<T>({ loop });
    bodyPromises.set(follower, value as PromiseLike<T>);
    markNotAWait(follower);
    return follower;
  }
  const future = new Future<T>({ loop });
  resolveFuture(future, value as T);
  return future;
}

/**
 * The promise of an async body, by the plain future that follows it, for the
 * driver (see followBody). A map, not a subclass: every Future subclass is one
 * more hidden class for Future's methods to meet (see as_completed.ts).
 */
const bodyPromises = new WeakMap<Future<unknown>, PromiseLike<unknown>>();

installBodyPromise((future) => bodyPromises.get(future) ?? null);

// ------------------------------------------------------------ the body's signal

/**
 * The `AbortSignal` a block gives a body that declares one, in place of
 * its owner's own: it aborts when the block stops the body (the deadline
 * passes, a child of the group fails) and when the owner is cancelled.
 * The owner's signal would stay aborted for good after a deadline the
 * owner lives on past (Python's `uncancel()` has no such thing to undo).
 */
export class BodySignal {
  #controller = new AbortController();
  #owner: AbortSignal;

  constructor(owner: Task<unknown>) {
    this.#owner = taskSignal(owner);
    if (this.#owner.aborted) this.#controller.abort(this.#owner.reason);
    else this.#owner.addEventListener("abort", this, { once: true });
  }

  /** The signal for the body. */
  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  /** The owner was cancelled. */
  handleEvent(): void {
    this.abort(this.#owner.reason);
  }

  /** Aborts the body's signal (once). */
  abort(reason?: unknown): void {
    if (this.#controller.signal.aborted) return;
    this.#controller.abort(reason ?? cancelledError(undefined));
  }

  /** The block is over: stop following the owner. */
  close(): void {
    this.#owner.removeEventListener("abort", this);
  }
}

// ------------------------------------------------------------ never awaited

/**
 * Debug mode: a block nobody ever waited on never ran; report it, as Python
 * warns "coroutine ... was never awaited" (when it is collected, and at the
 * latest when its loop closes).
 */
interface NeverAwaited {
  loop: EventLoop;
  message: string;
}

// As for unretrieved futures (future.ts): the unregister token is the ref, so
// a block collected before its finalizer ran is still reported at loop close.
const neverAwaited = new Map<WeakRef<Block<unknown>>, NeverAwaited>();
const refs = new WeakMap<Block<unknown>, WeakRef<Block<unknown>>>();
const collected = typeof FinalizationRegistry === "function"
  ? new FinalizationRegistry<WeakRef<Block<unknown>>>((ref) => {
    const held = neverAwaited.get(ref);
    if (held === undefined) return;
    neverAwaited.delete(ref);
    report(held.loop, held.message);
  })
  : null;

function watchNeverAwaited(block: Block<unknown>, loop: EventLoop, label: string): void {
  if (typeof WeakRef !== "function") return;
  const stack = (new Error().stack ?? "").split("\n").slice(3).join("\n");
  const message = `${label} was never awaited, so its block never ran` +
    (stack ? `; it was made at\n${stack}` : "");
  const ref = new WeakRef(block);
  neverAwaited.set(ref, { loop, message });
  refs.set(block, ref);
  collected?.register(block, ref, ref);
}

function forget(block: Block<unknown>): void {
  const ref = refs.get(block);
  if (ref === undefined) return;
  neverAwaited.delete(ref);
  refs.delete(block);
  collected?.unregister(ref);
}

function report(loop: EventLoop, message: string): void {
  loop.callExceptionHandler({ message });
}

const previousClosing = hooks.loopClosing;
hooks.loopClosing = (loop) => {
  for (const [ref, held] of [...neverAwaited]) {
    if (held.loop !== loop) continue;
    const block = ref.deref();
    if (block !== undefined) forget(block);
    else {
      neverAwaited.delete(ref);
      collected?.unregister(ref);
    }
    report(loop, held.message);
  }
  previousClosing(loop);
};

// Inert instances keep these classes' maps alive between runs (see _shapes.ts).
keepShape(new InlineRun(null as never, null as never));
