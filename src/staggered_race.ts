/**
 * staggeredRace(): the Happy Eyeballs race. Attempts start one after the
 * other, each when the previous one fails or after a delay; the first to
 * succeed wins and the others are cancelled.
 *
 * @module
 */

import { type EventLoop, getEventLoop } from "./event_loop.ts";
import { Future } from "./future.ts";
import type { Coroutine, Task } from "./task.ts";
import type { TimerHandle } from "./handle.ts";
import { CancelledError } from "./errors.ts";
import { ExceptionGroup } from "./task_group.ts";
import { toFuture } from "./_to_future.ts";
import { abortError, cancelOnAbort } from "./_signal.ts";
import { checkOptions, checkSignal, checkTime, describe, isGenerator } from "./_validate.ts";

/**
 * One attempt of {@linkcode staggeredRace}: a function called when the
 * attempt starts, with the `AbortSignal` of the task that runs it (only if
 * it declares a parameter), returning a generator coroutine (run inside
 * that task, as Python awaits a coroutine), a Future, a promise, or a value.
 *
 * @typeParam T The attempt's result type.
 */
export type StaggeredRaceAttempt<T> = (
  signal: AbortSignal,
) => Coroutine<T> | Future<T> | PromiseLike<T> | T;

/** Options for {@linkcode staggeredRace}. */
export interface StaggeredRaceOptions {
  /**
   * Cancels the race when aborted, as cancelling its future does: every
   * running attempt is cancelled, and the race raises {@linkcode CancelledError}
   * once they have finished (the signal's reason is its `cause`, or the
   * error itself when the reason is one).
   */
  signal?: AbortSignal;
}

/** What {@linkcode staggeredRace} resolves to. */
export interface StaggeredRaceResult<T> {
  /** The winner's result, or `undefined` when no attempt succeeded. */
  result: T | undefined;
  /**
   * The winner's index in `coroFns`, or `null` when no attempt succeeded
   * (tells a winner whose result is `undefined` from no winner).
   */
  index: number | null;
  /**
   * One entry per attempt started, in the order of `coroFns`: the error it
   * failed with (a {@linkcode CancelledError} for a loser cancelled by the
   * winner), or `undefined` for the winner. Its length is the number of
   * attempts started.
   */
  errors: unknown[];
}

/**
 * Runs attempts with staggered starts and takes the first to succeed.
 *
 * The first attempt starts at once. From then on, the next one starts when
 * the one started last fails, or `delayMs` after it started, whichever
 * comes first; `delayMs = null` starts each only when the previous one has
 * failed (one after the other). The first attempt to succeed wins: the
 * others are cancelled, and the race resolves once all of them have
 * finished. If every attempt fails, the race resolves without a winner;
 * the errors are in `errors` either way. `coroFns` is read lazily, one
 * attempt at a time.
 *
 * Cancelling the returned future (or aborting `signal`) cancels every
 * running attempt, starts no more, and raises {@linkcode CancelledError}
 * once they have finished. An attempt should only return when it
 * succeeded, and let its `CancelledError` escape.
 *
 * Unlike {@linkcode wait} and {@linkcode asCompleted}, which leave the
 * losers running, the race cancels them: it is the race to use for
 * "connect to the first address that answers".
 *
 * Equivalent to Python's `asyncio.staggered.staggered_race()` (3.14), in
 * milliseconds, resolving to `{ result, index, errors }` instead of a
 * tuple, with an `AbortSignal` option.
 *
 * @typeParam T The attempts' result type.
 * @param coroFns The attempts, in order: functions, each called when its attempt starts.
 * @param delayMs How long the last attempt started runs alone before the next starts, or `null`.
 * @param options An abort signal.
 * @returns A future of the winner, its index and the errors.
 * @throws {TypeError} If `coroFns` is not an iterable (an array: of functions), `delayMs` is neither a number nor `null`, or an option is invalid.
 * @throws {RangeError} If `delayMs` is NaN.
 *
 * @example Happy Eyeballs: the first address to answer wins, the slower one is cancelled
 * ```ts
 * import * as asyncio from "@aio/asyncio";
 * import assert from "node:assert/strict";
 *
 * const log: string[] = [];
 * const connect = (address: string, ms: number, ok: boolean) => function* () {
 *   try {
 *     yield* asyncio.sleep(ms);
 *   } finally {
 *     log.push(`${address} done at ${asyncio.getRunningLoop().time()}`);
 *   }
 *   if (!ok) throw new Error(`${address} refused`);
 *   return `connected to ${address}`;
 * };
 * const { result, index, errors } = await asyncio.run(() =>
 *   asyncio.staggeredRace([
 *     connect("2001:db8::1", 1_000, true), // slow: the next one starts at 250
 *     connect("192.0.2.1", 50, false), // refused at 300: the next one starts at once
 *     connect("192.0.2.2", 100, true), // answers at 400
 *   ], 250), { clock: new asyncio.VirtualClock({ autojump: true }) });
 * assert.equal(result, "connected to 192.0.2.2");
 * assert.equal(index, 2);
 * assert.ok(errors[0] instanceof asyncio.CancelledError); // the loser, cancelled
 * assert.equal((errors[1] as Error).message, "192.0.2.1 refused");
 * assert.equal(errors[2], undefined);
 * assert.deepEqual(log, ["192.0.2.1 done at 300", "192.0.2.2 done at 400", "2001:db8::1 done at 400"]);
 * ```
 *
 * @example One after the other, until one succeeds
 * ```ts
 * import * as asyncio from "@aio/asyncio";
 * import assert from "node:assert/strict";
 *
 * const mirrors = ["a", "b", "c"];
 * const race = await asyncio.run(() =>
 *   asyncio.staggeredRace(
 *     mirrors.map((mirror) => async () => {
 *       if (mirror !== "c") throw new Error(`${mirror} is down`);
 *       return `downloaded from ${mirror}`;
 *     }),
 *     null,
 *   )
 * );
 * assert.equal(race.result, "downloaded from c");
 * assert.equal(race.errors.length, 3);
 * ```
 */
export function staggeredRace<T>(
  coroFns: Iterable<StaggeredRaceAttempt<T>>,
  delayMs: number | null,
  options?: StaggeredRaceOptions,
): Future<StaggeredRaceResult<T>> {
  const where = "staggeredRace()";
  if (
    coroFns === null || typeof coroFns !== "object" ||
    typeof (coroFns as Iterable<unknown>)[Symbol.iterator] !== "function"
  ) {
    throw new TypeError(
      `${where}: 'coroFns' must be an iterable of functions, got ${describe(coroFns)}`,
    );
  }
  if (Array.isArray(coroFns)) {
    // An array can be checked at once; another iterable is read lazily, and
    // an item that is not a function fails its attempt (as in Python).
    coroFns.forEach((fn, i) => {
      if (typeof fn !== "function") throw notAFunction(i, fn);
    });
  }
  if (delayMs !== null) checkTime(where, "delayMs", delayMs);
  let signal: AbortSignal | undefined;
  if (options !== undefined) {
    checkOptions(where, options);
    signal = options.signal;
    checkSignal(where, signal);
  }
  const loop = getEventLoop();
  const iterator = coroFns[Symbol.iterator]();
  const race = new Race<T>(loop, iterator, delayMs, signal);
  return loop.createTask(() => race.run());
}

function notAFunction(index: number, value: unknown): TypeError {
  return new TypeError(
    `staggeredRace(): 'coroFns[${index}]' must be a function, got ${describe(value)}`,
  );
}

/**
 * The state of one race. Python runs each attempt in a task that first
 * waits for its turn; here the next attempt is started directly, by the
 * failure of the one started last (in that attempt's own step, as Python's
 * event wakes the next task) or by a timer. The winner cancels the others
 * in its own step, so that an attempt woken in the same iteration loses.
 */
class Race<T> {
  readonly #loop: EventLoop;
  readonly #iterator: Iterator<StaggeredRaceAttempt<T>>;
  /** The stagger in ms, or null (start only when the last one fails). */
  readonly #delay: number | null;
  readonly #signal: AbortSignal | undefined;
  readonly #errors: unknown[] = [];
  /** The attempts not finished, with their index. */
  readonly #running = new Map<Task<void>, number>();
  /** The attempt started last: its failure or its delay starts the next. */
  #latest: Task<void> | null = null;
  #timer: TimerHandle | null = null;
  /** No more attempts start: there is a winner, the race is cancelled, or the attempts ran out. */
  #stopped = false;
  #winner: number | null = null;
  #result: T | undefined = undefined;
  /** What went wrong in the race's own machinery (Python's "unhandled exceptions"). */
  readonly #unhandled: unknown[] = [];
  /** What the race waits on: resolved when the last running attempt has finished. */
  #allDone: Future<void> | null = null;

  constructor(
    loop: EventLoop,
    iterator: Iterator<StaggeredRaceAttempt<T>>,
    delay: number | null,
    signal: AbortSignal | undefined,
  ) {
    this.#loop = loop;
    this.#iterator = iterator;
    this.#delay = delay === null || delay === Infinity ? null : Math.max(delay, 0);
    this.#signal = signal;
  }

  /** The race's task: start the first attempt, then wait until none is running. */
  *run(): Coroutine<StaggeredRaceResult<T>> {
    const signal = this.#signal;
    if (signal?.aborted) throw abortError(signal);
    this.#startNext();
    let cancellation: CancelledError | null = null;
    while (this.#running.size > 0) {
      const allDone = this.#allDone = this.#loop.createFuture<void>();
      // Once aborted, the signal stays aborted: listen only until then.
      if (signal !== undefined && !signal.aborted) cancelOnAbort(allDone, signal);
      try {
        yield* allDone;
      } catch (error) {
        if (!(error instanceof CancelledError)) throw error;
        // Cancelled: pass it on to every attempt, and raise it once they are done.
        cancellation = error;
        this.#stop();
        const message = error.message || undefined;
        for (const attempt of this.#running.keys()) attempt.cancel(message);
      }
    }
    this.#allDone = null;
    if (this.#unhandled.length > 0) {
      throw new ExceptionGroup(this.#unhandled as Error[], "staggeredRace() failed");
    }
    if (cancellation !== null) throw cancellation;
    return { result: this.#result, index: this.#winner, errors: this.#errors };
  }

  /** Starts the next attempt, if there is one and the race goes on. */
  #startNext(): void {
    this.#clearTimer();
    if (this.#stopped) return;
    let next: IteratorResult<StaggeredRaceAttempt<T>>;
    try {
      next = this.#iterator.next();
    } catch (error) {
      this.#unhandled.push(error);
      this.#stop();
      return;
    }
    if (next.done) {
      this.#stop();
      return;
    }
    const fn = next.value;
    const index = this.#errors.length;
    this.#errors.push(undefined);
    const attempt: Task<void> = this.#loop.createTask(() => this.#attempt(index, fn, attempt));
    this.#running.set(attempt, index);
    attempt.addDoneCallback(this.#onDone);
    this.#latest = attempt;
    if (this.#delay !== null) this.#timer = this.#loop.callLater(this.#delay, this.#onDelay);
  }

  #onDelay = (): void => {
    this.#timer = null;
    this.#startNext();
  };

  /** One attempt, inside its task: its outcome is decided in the step where it ends. */
  *#attempt(index: number, fn: StaggeredRaceAttempt<T>, self: Task<void>): Coroutine<void> {
    let result: T;
    try {
      if (typeof fn !== "function") throw notAFunction(index, fn);
      const made = fn.length === 0 ? (fn as () => unknown)() : fn(self.signal);
      if (isGenerator(made)) result = yield* made as Coroutine<T>;
      else if (made instanceof Future) result = yield* made as Future<T>;
      else if (isThenable(made)) {
        result = (yield* toFuture(this.#loop, made, "staggeredRace()", "coroFns")) as T;
      } else result = made as T;
    } catch (error) {
      this.#errors[index] = error;
      if (self === this.#latest) this.#startNext(); // kick-start the next one
      return;
    }
    if (this.#winner !== null) {
      // Python asserts there is no winner yet: a loser returned anyway.
      this.#unhandled.push(
        new Error(
          `staggeredRace(): attempt ${index} returned after attempt ${this.#winner} had won; ` +
            `an attempt must let its CancelledError escape`,
        ),
      );
      return;
    }
    this.#winner = index;
    this.#result = result;
    this.#stop();
    // Not itself: it is finishing now, and a cancel request would turn its
    // success into a cancellation.
    for (const attempt of this.#running.keys()) if (attempt !== self) attempt.cancel();
  }

  #onDone = (future: Future<unknown>): void => {
    const attempt = future as Task<void>;
    const index = this.#running.get(attempt);
    this.#running.delete(attempt);
    if (attempt.cancelled()) {
      // Cancelled before its first step (the winner came first): its slot says so.
      if (index !== undefined) this.#errors[index] = cancelledErrorOf(attempt);
    } else if (attempt.exception() !== undefined) {
      this.#unhandled.push(attempt.exception()); // the race's own machinery failed
    }
    if (this.#running.size === 0 && this.#allDone !== null && !this.#allDone.done()) {
      this.#allDone.setResult();
    }
  };

  #stop(): void {
    this.#stopped = true;
    this.#clearTimer();
  }

  #clearTimer(): void {
    this.#timer?.cancel();
    this.#timer = null;
  }
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return value !== null && (typeof value === "object" || typeof value === "function") &&
    typeof (value as PromiseLike<unknown>).then === "function";
}

function cancelledErrorOf(future: Future<unknown>): unknown {
  try {
    future.result();
  } catch (error) {
    return error;
  }
  return undefined;
}
