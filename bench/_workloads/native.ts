/**
 * The baseline: each workload written with the platform alone (async
 * functions, `Promise.all`, `setTimeout`/`clearTimeout`, `AbortController`).
 * Where a workload needs a structure the platform lacks (a bounded channel, a
 * mutex), this is the small, FIFO-fair, O(1) one a user would write by hand.
 *
 * @module
 */

import {
  check,
  CriticalSection,
  DEADLINE_MS,
  type HeapProbe,
  HOUR_MS,
  LOCK_ROUNDS,
  QUEUE_CAPACITY,
  queueSum,
  RECURSION_DEPTH,
  timerDelay,
  type Workloads,
} from "./shared.ts";

/** A growable ring buffer: O(1) push and take, never `Array.prototype.shift`. */
class Ring<T> {
  #slots: (T | undefined)[] = new Array(16);
  #head = 0;
  #length = 0;

  get length(): number {
    return this.#length;
  }

  push(item: T): void {
    if (this.#length === this.#slots.length) this.#grow();
    this.#slots[(this.#head + this.#length) & (this.#slots.length - 1)] = item;
    this.#length++;
  }

  take(): T {
    const item = this.#slots[this.#head] as T;
    this.#slots[this.#head] = undefined; // let the item go
    this.#head = (this.#head + 1) & (this.#slots.length - 1);
    this.#length--;
    return item;
  }

  #grow(): void {
    const bigger = new Array<T | undefined>(this.#slots.length * 2);
    for (let i = 0; i < this.#length; i++) {
      bigger[i] = this.#slots[(this.#head + i) & (this.#slots.length - 1)];
    }
    this.#slots = bigger;
    this.#head = 0;
  }
}

/**
 * A bounded channel: `put` waits while the buffer is full, `get` while it is
 * empty. A waiting getter receives the item directly; a waiting putter's item
 * enters the buffer as soon as a slot frees, so order is kept.
 */
class Channel<T> {
  #buffer = new Ring<T>();
  #getters = new Ring<(item: T) => void>();
  #putters = new Ring<{ item: T; resume: () => void }>();
  #capacity: number;

  constructor(capacity: number) {
    this.#capacity = capacity;
  }

  put(item: T): Promise<void> {
    if (this.#getters.length > 0) {
      this.#getters.take()(item);
    } else if (this.#buffer.length < this.#capacity) {
      this.#buffer.push(item);
    } else {
      return new Promise((resume) => this.#putters.push({ item, resume }));
    }
    return Promise.resolve();
  }

  get(): Promise<T> {
    if (this.#buffer.length === 0) return new Promise((deliver) => this.#getters.push(deliver));
    const item = this.#buffer.take();
    if (this.#putters.length > 0) {
      const putter = this.#putters.take();
      this.#buffer.push(putter.item);
      putter.resume();
    }
    return Promise.resolve(item);
  }
}

/** A FIFO mutex: `release` hands the lock straight to the oldest waiter. */
class Mutex {
  #held = false;
  #waiters = new Ring<() => void>();

  acquire(): Promise<void> {
    if (this.#held) return new Promise((wake) => this.#waiters.push(wake));
    this.#held = true;
    return Promise.resolve();
  }

  release(): void {
    if (this.#waiters.length > 0) this.#waiters.take()();
    else this.#held = false;
  }
}

/** Resolves after `ms`; on abort, clears the timer and rejects with the reason. */
function sleepUnlessAborted(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const abort = (): void => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", abort);
      resolve();
    }, ms);
    signal.addEventListener("abort", abort, { once: true });
  });
}

/** Settles like `work`, or rejects after `ms` first; the timer is cleared either way. */
function deadline<T>(work: Promise<T>, ms: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("timed out")), ms);
    work.then((value) => {
      clearTimeout(timer);
      resolve(value);
    }, (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}

/** A native "task" that yields to the scheduler once. */
async function yieldOnce(): Promise<void> {
  await null;
}

/** A native cancellable "task": an hour's sleep that its signal can abort. */
async function sleepAnHour(signal: AbortSignal): Promise<void> {
  await sleepUnlessAborted(HOUR_MS, signal);
}

/** Starts n hour-long sleepers, each with its own controller. */
function startSleepers(n: number, controllers: AbortController[]): Promise<void>[] {
  const sleepers = new Array<Promise<void>>(n);
  for (let i = 0; i < n; i++) {
    const controller = new AbortController();
    controllers[i] = controller;
    sleepers[i] = sleepAnHour(controller.signal);
  }
  return sleepers;
}

async function descend(depth: number): Promise<void> {
  if (depth > 0) await descend(depth - 1);
}

/** The native workloads. */
export const native: Workloads = {
  async spawn(n) {
    // N async functions that each `await null` once, then Promise.all.
    const all = new Array<Promise<void>>(n);
    for (let i = 0; i < n; i++) all[i] = yieldOnce();
    await Promise.all(all);
  },

  async timeouts(n) {
    // Per operation a 10 s setTimeout, cleared when the work (`await null`) settles.
    const all = new Array<Promise<void>>(n);
    for (let i = 0; i < n; i++) all[i] = deadline(yieldOnce(), DEADLINE_MS);
    await Promise.all(all);
  },

  async timers(n) {
    // N promises, each resolved by its own setTimeout; Promise.all.
    const all = new Array<Promise<void>>(n);
    for (let i = 0; i < n; i++) {
      all[i] = new Promise((resolve) => setTimeout(resolve, timerDelay(i, n)));
    }
    await Promise.all(all);
  },

  async queue(n) {
    // The Channel above; one producer and one consumer async function.
    const channel = new Channel<number>(QUEUE_CAPACITY);
    const produce = async (): Promise<void> => {
      for (let i = 0; i < n; i++) await channel.put(i);
    };
    const consume = async (): Promise<number> => {
      let sum = 0;
      for (let i = 0; i < n; i++) sum += await channel.get();
      return sum;
    };
    const [, sum] = await Promise.all([produce(), consume()]);
    check(sum === queueSum(n), "the consumer did not receive every item once");
  },

  async lock(n) {
    // The Mutex above: acquire, `await null` inside, release in finally.
    const mutex = new Mutex();
    const section = new CriticalSection();
    const worker = async (): Promise<void> => {
      for (let round = 0; round < LOCK_ROUNDS; round++) {
        await mutex.acquire();
        try {
          section.enter();
          await null;
          section.leave();
        } finally {
          mutex.release();
        }
      }
    };
    const all = new Array<Promise<void>>(n);
    for (let i = 0; i < n; i++) all[i] = worker();
    await Promise.all(all);
    check(section.rounds === n * LOCK_ROUNDS, "some lock rounds did not run");
  },

  async cancel(n) {
    // An AbortController per sleeper; after one `await null`, abort all;
    // Promise.allSettled.
    const controllers = new Array<AbortController>(n);
    const sleepers = startSleepers(n, controllers);
    await null;
    for (let i = 0; i < n; i++) controllers[i].abort();
    const outcomes = await Promise.allSettled(sleepers);
    check(outcomes.every((o) => o.status === "rejected"), "a sleeper was not cancelled");
  },

  async recursion(n) {
    // Plain async recursion: each level calls (starts) the next and awaits it.
    for (let repeat = 0; repeat < n; repeat++) await descend(RECURSION_DEPTH);
  },

  async memory(n: number, probe: HeapProbe) {
    // As cancel, measured while every sleeper is pending. Deno keeps part of
    // each setTimeout outside the V8 heap, so this undercounts native.
    probe.before();
    const controllers = new Array<AbortController>(n);
    const sleepers = startSleepers(n, controllers);
    await null;
    probe.after();
    for (let i = 0; i < n; i++) controllers[i].abort();
    const outcomes = await Promise.allSettled(sleepers);
    check(outcomes.every((o) => o.status === "rejected"), "a sleeper was not cancelled");
  },
};
