/**
 * Queue, PriorityQueue and LifoQueue: producer/consumer queues for tasks,
 * and their errors.
 *
 * @module
 */

import type { EventLoop } from "./event_loop.ts";
import { Future } from "./future.ts";
import { resolveFuture } from "./_internal.ts";
import { checkFunction, checkOptions, describe } from "./_validate.ts";
import { Heap } from "./_heap.ts";
import { Deque } from "./_deque.ts";
import { Event } from "./event.ts";
import { aborted, checkLoop, failed, resolved, signalOf, startOp } from "./_wait_op.ts";
import { getEventLoop } from "./event_loop.ts";
import { keepShape } from "./_shapes.ts";

// ------------------------------------------------------------ errors

/**
 * Thrown by {@linkcode Queue.getNowait} when the queue is empty.
 *
 * Equivalent to Python's `asyncio.QueueEmpty`.
 *
 * @example
 * ```ts
 * import * as asyncio from "@aio/asyncio";
 * import assert from "node:assert/strict";
 *
 * const q = new asyncio.Queue<number>();
 * assert.throws(() => q.getNowait(), asyncio.QueueEmpty);
 * ```
 */
export class QueueEmpty extends Error {
  /**
   * Creates the error.
   *
   * @param message What was attempted.
   * @param options Standard error options (`cause`).
   */
  constructor(message?: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "QueueEmpty";
  }
}

/**
 * Thrown by {@linkcode Queue.putNowait} when the queue is full.
 *
 * Equivalent to Python's `asyncio.QueueFull`.
 *
 * @example
 * ```ts
 * import * as asyncio from "@aio/asyncio";
 * import assert from "node:assert/strict";
 *
 * const q = new asyncio.Queue<number>(1);
 * q.putNowait(1);
 * assert.throws(() => q.putNowait(2), asyncio.QueueFull);
 * ```
 */
export class QueueFull extends Error {
  /**
   * Creates the error.
   *
   * @param message What was attempted.
   * @param options Standard error options (`cause`).
   */
  constructor(message?: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "QueueFull";
  }
}

/**
 * Raised by puts on a queue that was shut down, and by gets once it is
 * also empty (at once after `shutdown(true)`).
 *
 * Equivalent to Python's `asyncio.QueueShutDown` (3.13).
 *
 * @example
 * ```ts
 * import * as asyncio from "@aio/asyncio";
 * import assert from "node:assert/strict";
 *
 * const q = new asyncio.Queue<number>();
 * q.shutdown();
 * assert.throws(() => q.putNowait(1), asyncio.QueueShutDown);
 * await assert.rejects(q.get(), asyncio.QueueShutDown);
 * ```
 */
export class QueueShutDown extends Error {
  /**
   * Creates the error.
   *
   * @param message What was attempted.
   * @param options Standard error options (`cause`).
   */
  constructor(message?: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "QueueShutDown";
  }
}

// ------------------------------------------------------------ storage

/** Where a queue keeps its items: CPython's `_init`/`_put`/`_get` trio. */
interface Store<T> {
  readonly length: number;
  push(item: T): void;
  take(): T;
  toArray(): T[];
}

/** FIFO: a ring buffer, O(1) at both ends. */
class FifoStore<T> extends Deque<T> implements Store<T> {
  take(): T {
    return this.shift() as T;
  }
}

/** LIFO: a plain array used as a stack. */
class LifoStore<T> implements Store<T> {
  #items: T[] = [];

  get length(): number {
    return this.#items.length;
  }

  push(item: T): void {
    this.#items.push(item);
  }

  take(): T {
    return this.#items.pop() as T;
  }

  toArray(): T[] {
    return this.#items.slice();
  }
}

interface HeapEntry<T> {
  item: T;
  /** Insertion order: equal items come out first in, first out. */
  seq: number;
}

const NO_ERROR: unique symbol = Symbol("no error");

/**
 * A binary heap of entries ordered by `compare`, then by insertion.
 *
 * The comparison may throw (default ordering on items it cannot order, or
 * a user `compare`). The shared heap must never see a throwing `less`, or
 * a sift would stop half-way and lose an item; so `less` records the first
 * error and answers by insertion order, the heap finishes in a consistent
 * shape, and the operation is then undone and the error rethrown.
 */
class HeapStore<T> implements Store<T> {
  #heap: Heap<HeapEntry<T>>;
  #compare: (a: T, b: T) => number;
  #error: unknown = NO_ERROR;
  #seq = 0;

  constructor(compare: (a: T, b: T) => number) {
    this.#compare = compare;
    this.#heap = new Heap((a, b) => this.#less(a, b));
  }

  get length(): number {
    return this.#heap.size;
  }

  push(item: T): void {
    const entry = { item, seq: this.#seq++ };
    this.#heap.push(entry);
    if (this.#error !== NO_ERROR) {
      const error = this.#takeError();
      this.#heap.retain((e) => e !== entry);
      this.#takeError();
      throw error;
    }
  }

  take(): T {
    const entry = this.#heap.pop() as HeapEntry<T>;
    if (this.#error !== NO_ERROR) {
      // The popped entry is kept: put it back and report the error.
      const error = this.#takeError();
      this.#heap.push(entry);
      this.#takeError();
      throw error;
    }
    return entry.item;
  }

  toArray(): T[] {
    return this.#heap.toArray().sort((a, b) => (this.#less(a, b) ? -1 : 1)).map((e) => e.item);
  }

  #less(a: HeapEntry<T>, b: HeapEntry<T>): boolean {
    if (this.#error === NO_ERROR) {
      let c: number;
      try {
        c = this.#compare(a.item, b.item);
      } catch (error) {
        this.#error = error;
        c = 0;
      }
      if (c < 0) return true;
      if (c > 0) return false;
    }
    return a.seq < b.seq;
  }

  #takeError(): unknown {
    const error = this.#error;
    this.#error = NO_ERROR;
    return error;
  }
}

/**
 * PriorityQueue's default order, Python's `<` on the types it shares with
 * JavaScript: numbers and bigints (mixed freely), strings (by UTF-16 code
 * units), and arrays compared element by element like tuples. Anything
 * else cannot be ordered: TypeError.
 */
function defaultCompare(a: unknown, b: unknown): number {
  const ta = typeof a;
  const tb = typeof b;
  if ((ta === "number" || ta === "bigint") && (tb === "number" || tb === "bigint")) {
    return (a as number) < (b as number) ? -1 : (b as number) < (a as number) ? 1 : 0;
  }
  if (ta === "string" && tb === "string") {
    return (a as string) < (b as string) ? -1 : (b as string) < (a as string) ? 1 : 0;
  }
  if (Array.isArray(a) && Array.isArray(b)) {
    const n = Math.min(a.length, b.length);
    for (let i = 0; i < n; i++) {
      // As a tuple: the first elements that are not the same decide.
      if (a[i] !== b[i]) return defaultCompare(a[i], b[i]);
    }
    return a.length - b.length;
  }
  throw new TypeError(
    `PriorityQueue: cannot order ${describe(a)} against ${describe(b)}; the default order ` +
      "compares numbers, bigints, strings and arrays of them (like Python tuples). " +
      "Pass a 'compare' option, or put [priority, sequence, item] arrays",
  );
}

function unorderable(method: string, item: unknown): TypeError {
  return new TypeError(
    `PriorityQueue.${method}(): 'item' must be a number, bigint, string or array to be ordered, got ${
      describe(item)
    }; pass a 'compare' option to order other values`,
  );
}

function isOrderable(item: unknown): boolean {
  const t = typeof item;
  return t === "number" || t === "bigint" || t === "string" || Array.isArray(item);
}

// Replaces a queue's store from a subclass constructor; assigned in Queue's static block.
let setStore: <T>(queue: Queue<T>, store: Store<T>) => void;

// ------------------------------------------------------------ Queue

/** Options for the waits of a {@linkcode Queue}: `put`, `get` and `join`. */
export interface QueueWaitOptions {
  /**
   * Cancels the wait when aborted: the returned future is cancelled with a
   * {@linkcode CancelledError}. A cancelled `get()` never takes an item and
   * a cancelled `put()` never adds one.
   *
   * @default {undefined}
   */
  signal?: AbortSignal;
}

/**
 * A first-in, first-out queue for producer and consumer tasks. With a
 * `maxsize`, `put()` waits while the queue is full; `get()` waits while it
 * is empty. Waiters are served in arrival order, and a cancelled `get()`
 * never loses an item.
 *
 * `taskDone()` and `join()` track the processing of items;
 * `shutdown()` ends the queue (Python 3.13): puts fail at once, gets fail
 * once the queue is empty, and `for await (const item of queue)` ends.
 *
 * Equivalent to Python's `asyncio.Queue`, with camelCase names
 * (`put_nowait` is `putNowait`, `task_done` is `taskDone`). Unlike Python,
 * `maxsize` must be an integer >= 0 (or `Infinity`); 0 and `Infinity` mean
 * unbounded.
 *
 * @typeParam T The item type.
 *
 * @example One producer, one consumer
 * ```ts
 * import * as asyncio from "@aio/asyncio";
 * import assert from "node:assert/strict";
 *
 * const q = new asyncio.Queue<number>(2);
 * const total = await asyncio.run(function* () {
 *   const producer = asyncio.createTask(function* () {
 *     for (let i = 1; i <= 5; i++) yield* q.put(i);
 *     q.shutdown();
 *   });
 *   const consumer = asyncio.createTask(function* () {
 *     let sum = 0;
 *     for (;;) {
 *       try {
 *         sum += yield* q.get();
 *       } catch (error) {
 *         if (error instanceof asyncio.QueueShutDown) return sum;
 *         throw error;
 *       }
 *     }
 *   });
 *   yield* producer;
 *   return yield* consumer;
 * });
 * assert.equal(total, 15);
 * ```
 *
 * @example Workers, taskDone() and join()
 * ```ts
 * import * as asyncio from "@aio/asyncio";
 * import assert from "node:assert/strict";
 *
 * const q = new asyncio.Queue<string>();
 * const done: string[] = [];
 * await asyncio.run(async () => {
 *   for (const url of ["a", "b", "c"]) q.putNowait(url);
 *   const worker = async () => {
 *     for await (const url of q) {
 *       await asyncio.sleep(0);
 *       done.push(url);
 *       q.taskDone();
 *     }
 *   };
 *   const workers = [asyncio.createTask(worker), asyncio.createTask(worker)];
 *   await q.join();
 *   q.shutdown();
 *   await asyncio.gather(workers);
 * });
 * assert.deepEqual(done.sort(), ["a", "b", "c"]);
 * ```
 */
export class Queue<T> {
  #maxsize: number;
  #store: Store<T> = new FifoStore<T>();
  #getters = new Deque<Future<void>>();
  #putters = new Deque<Future<void>>();
  #unfinished = 0;
  #finished = new Event();
  #shutdown = false;
  #loop: EventLoop | null = null;

  /**
   * Creates a queue holding at most `maxsize` items.
   *
   * @param maxsize The capacity; 0 (the default) or `Infinity` means unbounded.
   * @throws {TypeError} If `maxsize` is not a number.
   * @throws {RangeError} If `maxsize` is negative, NaN or not an integer.
   */
  constructor(maxsize: number = 0) {
    const name = new.target.name;
    if (typeof maxsize !== "number") {
      throw new TypeError(
        `Cannot create ${name}: 'maxsize' must be a number, got ${describe(maxsize)}`,
      );
    }
    if (!(maxsize >= 0) || (!Number.isSafeInteger(maxsize) && maxsize !== Infinity)) {
      throw new RangeError(
        `Cannot create ${name}: 'maxsize' must be an integer >= 0 (0 means unbounded), got ${maxsize}`,
      );
    }
    this.#maxsize = maxsize;
    this.#finished.set();
  }

  /** The capacity given to the constructor (0 or `Infinity`: unbounded). */
  get maxsize(): number {
    return this.#maxsize;
  }

  /**
   * Number of items in the queue.
   *
   * @returns The count.
   */
  qsize(): number {
    return this.#store.length;
  }

  /**
   * Whether the queue holds no item.
   *
   * @returns `true` when empty.
   */
  empty(): boolean {
    return this.#store.length === 0;
  }

  /**
   * Whether the queue holds `maxsize` items (never, when unbounded).
   *
   * @returns `true` when full.
   */
  full(): boolean {
    const maxsize = this.#maxsize;
    return maxsize > 0 && this.#store.length >= maxsize;
  }

  /**
   * Puts an item, waiting (FIFO) while the queue is full. Already resolved
   * when there is room.
   *
   * @param item The item.
   * @param options An abort signal.
   * @returns A future that resolves once the item is in the queue. It fails
   *   with {@linkcode QueueShutDown} if the queue is (or gets) shut down
   *   first, and (PriorityQueue) with `TypeError` if the item cannot be ordered.
   * @throws {TypeError} If `options` or `signal` has the wrong type.
   * @throws {Error} If the queue is bound to another event loop.
   */
  put(item: T, options?: QueueWaitOptions): Future<void> {
    const signal = options === undefined ? undefined : signalOf(`${this.#name()}.put()`, options);
    if (signal !== undefined && signal.aborted) return aborted(signal);
    if (!this.full()) {
      try {
        this.putNowait(item);
      } catch (error) {
        return failed(error);
      }
      // A fresh plain Future per call: callers may collect them (asyncio.wait,
      // asCompleted) and expect one per put. Not a subclass: constructing
      // two Future shapes on the hot path makes V8's constructor polymorphic
      // (measured: 2-3x slower queue throughput).
      return resolved<void>(undefined);
    }
    if (this.#shutdown) {
      return failed(new QueueShutDown(`${this.#name()}.put(): the queue is shut down`));
    }
    const loop = this.#loop = checkLoop(this.#loop, `${this.#name()}.put()`, this.#name());
    return startOp(this.#putBody(item, loop), loop, signal, "Queue.put()", this);
  }

  /**
   * Puts an item if there is room, without waiting.
   *
   * @param item The item.
   * @throws {QueueFull} If the queue is full.
   * @throws {QueueShutDown} If the queue is shut down.
   * @throws {TypeError} (PriorityQueue) If the item cannot be ordered.
   */
  putNowait(item: T): void {
    if (this.#shutdown) {
      throw new QueueShutDown(`${this.#name()}.putNowait(): the queue is shut down`);
    }
    if (this.full()) {
      throw new QueueFull(
        `${this.#name()}.putNowait(): the queue is full (maxsize ${this.#maxsize})`,
      );
    }
    this.#store.push(item);
    this.#unfinished++;
    this.#finished.clear();
    this.#wakeUpNext(this.#getters);
  }

  /**
   * Takes the next item, waiting (FIFO) while the queue is empty. Already
   * resolved when an item is there.
   *
   * @param options An abort signal.
   * @returns A future of the item. It fails with {@linkcode QueueShutDown}
   *   once the queue is shut down and empty.
   * @throws {TypeError} If `options` or `signal` has the wrong type.
   * @throws {Error} If the queue is bound to another event loop.
   */
  get(options?: QueueWaitOptions): Future<T> {
    const signal = options === undefined ? undefined : signalOf(`${this.#name()}.get()`, options);
    if (signal !== undefined && signal.aborted) return aborted(signal);
    if (this.#store.length > 0) {
      let item: T;
      try {
        item = this.getNowait();
      } catch (error) {
        return failed(error);
      }
      return resolved(item);
    }
    if (this.#shutdown) {
      return failed(new QueueShutDown(`${this.#name()}.get(): the queue is shut down and empty`));
    }
    const loop = this.#loop = checkLoop(this.#loop, `${this.#name()}.get()`, this.#name());
    return startOp(this.#getBody(loop), loop, signal, "Queue.get()", this);
  }

  /**
   * Takes the next item if there is one, without waiting.
   *
   * @returns The item.
   * @throws {QueueEmpty} If the queue is empty.
   * @throws {QueueShutDown} If the queue is shut down and empty.
   */
  getNowait(): T {
    if (this.#store.length === 0) {
      if (this.#shutdown) {
        throw new QueueShutDown(`${this.#name()}.getNowait(): the queue is shut down and empty`);
      }
      throw new QueueEmpty(`${this.#name()}.getNowait(): the queue is empty`);
    }
    const item = this.#store.take();
    this.#wakeUpNext(this.#putters);
    return item;
  }

  /**
   * Marks one item taken with `get()` as processed. When every item put
   * has been marked, {@linkcode Queue.join} resolves.
   *
   * @throws {Error} If called more times than items were put.
   */
  taskDone(): void {
    if (this.#unfinished <= 0) {
      throw new Error(
        `${this.#name()}.taskDone(): called more times than there were items; call it once per item taken with get()`,
      );
    }
    this.#unfinished--;
    if (this.#unfinished === 0) this.#finished.set();
  }

  /**
   * Waits until every item put so far has been taken and marked with
   * {@linkcode Queue.taskDone}. Already resolved when nothing is pending.
   *
   * @param options An abort signal.
   * @returns A future that resolves when all items are processed.
   * @throws {TypeError} If `options` or `signal` has the wrong type.
   */
  join(options?: QueueWaitOptions): Future<void> {
    const signal = signalOf(`${this.#name()}.join()`, options);
    if (signal !== undefined && signal.aborted) return aborted(signal);
    if (this.#unfinished === 0) return resolved<void>(undefined);
    return startOp(this.#joinBody(), getEventLoop(), signal, "Queue.join()", this);
  }

  /**
   * Shuts the queue down: `put()`s fail with {@linkcode QueueShutDown} from
   * now on, and `get()`s fail once the queue is empty. Every waiting putter
   * and getter is woken to see it. With `immediate`, the items left are
   * dropped (each counts as done for {@linkcode Queue.join}) so gets fail at
   * once.
   *
   * @param immediate Drop the remaining items.
   * @throws {TypeError} If `immediate` is not a boolean.
   */
  shutdown(immediate: boolean = false): void {
    if (typeof immediate !== "boolean") {
      throw new TypeError(
        `${this.#name()}.shutdown(): 'immediate' must be a boolean, got ${describe(immediate)}`,
      );
    }
    this.#shutdown = true;
    if (immediate) {
      const store = this.#store;
      while (store.length > 0) {
        store.take();
        if (this.#unfinished > 0) this.#unfinished--;
      }
      if (this.#unfinished === 0) this.#finished.set();
    }
    // Every waiter re-checks and sees the shutdown.
    wakeAll(this.#getters);
    wakeAll(this.#putters);
  }

  /**
   * Iterates the items as they come, until the queue is shut down and
   * empty: `for await (const item of queue)`. Each step is a `get()`; call
   * {@linkcode Queue.taskDone} yourself if you use `join()`. Breaking out of
   * the loop takes nothing more from the queue.
   *
   * @returns An async iterator of the items.
   */
  async *[Symbol.asyncIterator](): AsyncGenerator<T, void, undefined> {
    for (;;) {
      let item: T;
      try {
        item = await this.get();
      } catch (error) {
        if (error instanceof QueueShutDown) return;
        throw error;
      }
      yield item;
    }
  }

  /** A description like Python's str: `<Queue maxsize=2 items=[1, 2] getters=0 tasks=2>`. */
  toString(): string {
    let text = `maxsize=${this.#maxsize}`;
    if (this.#store.length > 0) text += ` items=[${this.#store.toArray().map(String).join(", ")}]`;
    if (this.#getters.length > 0) text += ` getters=${this.#getters.length}`;
    if (this.#putters.length > 0) text += ` putters=${this.#putters.length}`;
    if (this.#unfinished > 0) text += ` tasks=${this.#unfinished}`;
    if (this.#shutdown) text += " shutdown";
    return `<${this.#name()} ${text}>`;
  }

  /** Shows the queue like Python's str in Deno's inspector. */
  [Symbol.for("Deno.customInspect")](): string {
    return this.toString();
  }

  // ------------------------------------------------------------ internals

  #name(): string {
    // By identity first: bundlers rename classes (`class _Queue`).
    const kind = this.constructor;
    if (kind === Queue) return "Queue";
    if (kind === PriorityQueue) return "PriorityQueue";
    if (kind === LifoQueue) return "LifoQueue";
    return kind.name;
  }

  /** Wakes the first waiter not already done, dropping it from the list. */
  #wakeUpNext(waiters: Deque<Future<void>>): void {
    while (waiters.length > 0) {
      const waiter = waiters.shift() as Future<void>;
      if (!waiter.done()) {
        resolveFuture(waiter, undefined);
        return;
      }
    }
  }

  /** CPython's `put()` after the fast path, line by line. */
  *#putBody(item: T, loop: EventLoop): Generator<unknown, void, unknown> {
    while (this.full()) {
      if (this.#shutdown) throw new QueueShutDown(`${this.#name()}.put(): the queue is shut down`);
      const putter = new Future<void>({ loop });
      this.#putters.push(putter);
      try {
        yield* putter;
      } catch (error) {
        putter.cancel(); // in case it is not done yet
        // It may be gone already: a get or a shutdown removes the putter it wakes.
        this.#putters.remove(putter);
        // Woken by a get but cannot take the slot: pass the wake-up on.
        if (!this.full() && !putter.cancelled()) this.#wakeUpNext(this.#putters);
        throw error;
      }
    }
    this.putNowait(item);
  }

  /** CPython's `get()` after the fast path, line by line. */
  *#getBody(loop: EventLoop): Generator<unknown, T, unknown> {
    while (this.#store.length === 0) {
      if (this.#shutdown) {
        throw new QueueShutDown(`${this.#name()}.get(): the queue is shut down and empty`);
      }
      const getter = new Future<void>({ loop });
      this.#getters.push(getter);
      try {
        yield* getter;
      } catch (error) {
        getter.cancel(); // in case it is not done yet
        this.#getters.remove(getter);
        // Woken by a put but cannot take the item: pass the wake-up on.
        if (this.#store.length > 0 && !getter.cancelled()) this.#wakeUpNext(this.#getters);
        throw error;
      }
    }
    return this.getNowait();
  }

  *#joinBody(): Generator<unknown, void, unknown> {
    yield* this.#finished.wait();
  }

  static {
    setStore = (queue, store) => {
      queue.#store = store;
    };
  }
}

function wakeAll(waiters: Deque<Future<void>>): void {
  while (waiters.length > 0) {
    const waiter = waiters.shift() as Future<void>;
    if (!waiter.done()) resolveFuture(waiter, undefined);
  }
}

// ------------------------------------------------------------ PriorityQueue

/** Options for {@linkcode PriorityQueue}. */
export interface PriorityQueueOptions<T> {
  /**
   * Orders two items like `Array.prototype.sort`'s comparator: negative
   * when `a` comes out first. Equal items come out in insertion order.
   *
   * @default {Python's `<` on numbers, bigints, strings and arrays (element by element, like tuples)}
   */
  compare?: (a: T, b: T) => number;
}

/**
 * A queue that hands out the smallest item first (a binary heap: O(log n)
 * put and get). Without `compare`, items are ordered like Python values:
 * numbers and bigints, strings, and arrays element by element, so
 * `[priority, item]` pairs behave like Python's tuples. Equal items come
 * out in insertion order.
 *
 * Equivalent to Python's `asyncio.PriorityQueue`, plus the `compare`
 * option and the insertion-order guarantee for equal items. An item the
 * default order cannot handle (an object, `undefined`, ...) is rejected
 * with `TypeError` when it is put; arrays whose first elements tie and
 * whose next elements cannot be compared fail the same way when they meet
 * (as Python's tuples do), so add a sequence number or pass `compare`.
 *
 * @typeParam T The item type.
 *
 * @example Priorities as [priority, item] pairs
 * ```ts
 * import * as asyncio from "@aio/asyncio";
 * import assert from "node:assert/strict";
 *
 * const q = new asyncio.PriorityQueue<[number, string]>();
 * q.putNowait([2, "write docs"]);
 * q.putNowait([1, "fix bug"]);
 * q.putNowait([2, "review"]);
 * assert.deepEqual(q.getNowait(), [1, "fix bug"]);
 * assert.deepEqual(q.getNowait(), [2, "review"]);
 * assert.deepEqual(q.getNowait(), [2, "write docs"]);
 * ```
 *
 * @example A compare function, stable for ties
 * ```ts
 * import * as asyncio from "@aio/asyncio";
 * import assert from "node:assert/strict";
 *
 * interface Job { name: string; priority: number }
 * const q = new asyncio.PriorityQueue<Job>(0, { compare: (a, b) => a.priority - b.priority });
 * for (const [name, priority] of [["x", 5], ["y", 1], ["z", 5]] as const) {
 *   q.putNowait({ name, priority });
 * }
 * const order = [q.getNowait(), q.getNowait(), q.getNowait()].map((job) => job.name);
 * assert.deepEqual(order, ["y", "x", "z"]);
 * ```
 */
export class PriorityQueue<T> extends Queue<T> {
  #checkItems: boolean;

  /**
   * Creates a priority queue holding at most `maxsize` items.
   *
   * @param maxsize The capacity; 0 (the default) or `Infinity` means unbounded.
   * @param options A `compare` function.
   * @throws {TypeError} If `maxsize` is not a number or `compare` is not a function.
   * @throws {RangeError} If `maxsize` is negative, NaN or not an integer.
   */
  constructor(maxsize: number = 0, options?: PriorityQueueOptions<T>) {
    super(maxsize);
    checkOptions("Cannot create PriorityQueue", options);
    const compare = options?.compare;
    if (compare !== undefined) checkFunction("Cannot create PriorityQueue", "compare", compare);
    this.#checkItems = compare === undefined;
    setStore(this, new HeapStore<T>(compare ?? defaultCompare));
  }

  /**
   * Puts an item, waiting while the queue is full; see {@linkcode Queue.put}.
   *
   * @param item The item.
   * @param options An abort signal.
   * @returns A future that resolves once the item is in the queue. It fails
   *   with {@linkcode QueueShutDown} if the queue is (or gets) shut down
   *   first, and with `TypeError` if the item cannot be ordered against the
   *   queued items.
   * @throws {TypeError} Without `compare`, if the item is not a number,
   *   bigint, string or array; or if `options` or `signal` has the wrong type.
   */
  override put(item: T, options?: QueueWaitOptions): Future<void> {
    if (this.#checkItems && !isOrderable(item)) throw unorderable("put", item);
    return super.put(item, options);
  }

  /**
   * Puts an item; see {@linkcode Queue.putNowait}.
   *
   * @param item The item.
   * @throws {TypeError} Without `compare`, if the item is not a number,
   *   bigint, string or array, or cannot be ordered against the queued items.
   * @throws {QueueFull} If the queue is full.
   * @throws {QueueShutDown} If the queue is shut down.
   */
  override putNowait(item: T): void {
    if (this.#checkItems && !isOrderable(item)) throw unorderable("putNowait", item);
    super.putNowait(item);
  }
}

// ------------------------------------------------------------ LifoQueue

/**
 * A queue that hands out the most recently added item first (a stack).
 *
 * Equivalent to Python's `asyncio.LifoQueue`.
 *
 * @typeParam T The item type.
 *
 * @example Last in, first out
 * ```ts
 * import * as asyncio from "@aio/asyncio";
 * import assert from "node:assert/strict";
 *
 * const q = new asyncio.LifoQueue<number>();
 * for (const n of [1, 3, 2]) q.putNowait(n);
 * assert.deepEqual([q.getNowait(), q.getNowait(), q.getNowait()], [2, 3, 1]);
 * ```
 */
export class LifoQueue<T> extends Queue<T> {
  /**
   * Creates a LIFO queue holding at most `maxsize` items.
   *
   * @param maxsize The capacity; 0 (the default) or `Infinity` means unbounded.
   * @throws {TypeError} If `maxsize` is not a number.
   * @throws {RangeError} If `maxsize` is negative, NaN or not an integer.
   */
  constructor(maxsize: number = 0) {
    super(maxsize);
    setStore(this, new LifoStore<T>());
  }
}

// Inert instances keep these classes' maps alive between runs (see _shapes.ts).
keepShape([new Queue(1), new LifoQueue(1), new PriorityQueue(1)]);
