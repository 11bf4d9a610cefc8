/**
 * Benchmarks of the synchronization primitives and queues, each beside the
 * code a TypeScript user would write without us, in the same run:
 *
 * - "queue 1M items": 1,000,000 items through `Queue(100)`, one producer and
 *   one consumer task, beside a hand-written promise-based bounded channel
 *   (FIFO-fair, O(1): the minimal one a user would write).
 * - "lock 1000×100": 1,000 tasks each taking one `Lock` 100 times with a
 *   `sleep(0)` inside, beside `npm:async-mutex@0.5.0`'s
 *   `Mutex#runExclusive` with `await null` inside, and a hand-written FIFO
 *   promise mutex.
 *
 * Every iteration runs in its own `asyncio.run(...)` (a fresh loop) and
 * checks its result. Run with `deno bench bench/sync_bench.ts`.
 *
 * @module
 */

import * as asyncio from "../mod.ts";
// Pinned inline: a benchmark-only peer, not a dependency of the package (deno.json stays lean).
// deno-lint-ignore no-import-prefix
import { Mutex as AsyncMutex } from "npm:async-mutex@0.5.0";

const QUEUE_ITEMS = 1_000_000;
const QUEUE_CAPACITY = 100;
const LOCK_TASKS = 1_000;
const LOCK_ROUNDS = 100;

function check(condition: boolean, what: string): void {
  if (!condition) throw new Error(`benchmark result is wrong: ${what}`);
}

// ------------------------------------------------------------ hand-written peers

/** A FIFO with a head index (no Array.shift), compacted when drained: O(1) amortized. */
class Fifo<T> {
  #items: (T | undefined)[] = [];
  #head = 0;

  get size(): number {
    return this.#items.length - this.#head;
  }

  push(item: T): void {
    this.#items.push(item);
  }

  shift(): T {
    const item = this.#items[this.#head] as T;
    this.#items[this.#head++] = undefined;
    if (this.#head === this.#items.length) {
      this.#items.length = 0;
      this.#head = 0;
    } else if (this.#head >= 1024 && this.#head * 2 >= this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
    return item;
  }
}

/** A bounded promise channel: put waits while full, get while empty; FIFO hand-over. */
class Channel<T> {
  #buffer = new Fifo<T>();
  #getters = new Fifo<(item: T) => void>();
  #putters = new Fifo<() => void>();
  #capacity: number;

  constructor(capacity: number) {
    this.#capacity = capacity;
  }

  put(item: T): Promise<void> {
    if (this.#getters.size > 0) this.#getters.shift()(item);
    else if (this.#buffer.size < this.#capacity) this.#buffer.push(item);
    else {
      return new Promise((resolve) =>
        this.#putters.push(() => {
          this.#buffer.push(item);
          resolve();
        })
      );
    }
    return Promise.resolve();
  }

  get(): Promise<T> {
    if (this.#buffer.size === 0) return new Promise((resolve) => this.#getters.push(resolve));
    const item = this.#buffer.shift();
    if (this.#putters.size > 0) this.#putters.shift()();
    return Promise.resolve(item);
  }
}

/** A FIFO promise mutex: release hands the lock to the oldest waiter. */
class PromiseMutex {
  #locked = false;
  #waiters = new Fifo<() => void>();

  acquire(): Promise<void> {
    if (!this.#locked) {
      this.#locked = true;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  release(): void {
    if (this.#waiters.size > 0) this.#waiters.shift()();
    else this.#locked = false;
  }
}

/** Proves mutual exclusion and counts the critical sections. */
class CriticalSection {
  inside = false;
  count = 0;

  enter(): void {
    if (this.inside) throw new Error("two tasks inside the critical section");
    this.inside = true;
  }

  leave(): void {
    this.inside = false;
    this.count++;
  }
}

// ------------------------------------------------------------ queue

Deno.bench("asyncio.Queue(100), generator tasks", {
  group: "queue 1M items",
  baseline: true,
}, async () => {
  const sum = await asyncio.run(function* () {
    const q = new asyncio.Queue<number>(QUEUE_CAPACITY);
    const producer = asyncio.createTask(function* () {
      for (let i = 0; i < QUEUE_ITEMS; i++) yield* q.put(i);
    });
    const consumer = asyncio.createTask(function* () {
      let total = 0;
      for (let i = 0; i < QUEUE_ITEMS; i++) total += yield* q.get();
      return total;
    });
    yield* producer;
    return yield* consumer;
  });
  check(sum === (QUEUE_ITEMS * (QUEUE_ITEMS - 1)) / 2, "queue sum");
});

Deno.bench("asyncio.Queue(100), async-function tasks", {
  group: "queue 1M items",
}, async () => {
  const sum = await asyncio.run(async () => {
    const q = new asyncio.Queue<number>(QUEUE_CAPACITY);
    const producer = asyncio.createTask(async () => {
      for (let i = 0; i < QUEUE_ITEMS; i++) await q.put(i);
    });
    const consumer = asyncio.createTask(async () => {
      let total = 0;
      for (let i = 0; i < QUEUE_ITEMS; i++) total += await q.get();
      return total;
    });
    await producer;
    return await consumer;
  });
  check(sum === (QUEUE_ITEMS * (QUEUE_ITEMS - 1)) / 2, "queue sum");
});

Deno.bench("hand-written promise channel(100)", { group: "queue 1M items" }, async () => {
  const ch = new Channel<number>(QUEUE_CAPACITY);
  const producer = (async () => {
    for (let i = 0; i < QUEUE_ITEMS; i++) await ch.put(i);
  })();
  const consumer = (async () => {
    let total = 0;
    for (let i = 0; i < QUEUE_ITEMS; i++) total += await ch.get();
    return total;
  })();
  const [, sum] = await Promise.all([producer, consumer]);
  check(sum === (QUEUE_ITEMS * (QUEUE_ITEMS - 1)) / 2, "queue sum");
});

// ------------------------------------------------------------ lock

Deno.bench("asyncio.Lock, generator tasks, sleep(0) inside", {
  group: "lock 1000×100",
  baseline: true,
}, async () => {
  const cs = new CriticalSection();
  await asyncio.run(function* () {
    const lock = new asyncio.Lock();
    const tasks = new Array<asyncio.Task<void>>(LOCK_TASKS);
    for (let i = 0; i < LOCK_TASKS; i++) {
      tasks[i] = asyncio.createTask(function* () {
        for (let j = 0; j < LOCK_ROUNDS; j++) {
          yield* lock.acquire();
          try {
            cs.enter();
            yield* asyncio.sleep(0);
            cs.leave();
          } finally {
            lock.release();
          }
        }
      });
    }
    yield* asyncio.gather(tasks);
  });
  check(cs.count === LOCK_TASKS * LOCK_ROUNDS, "lock count");
});

Deno.bench("asyncio.Lock, generator tasks, `using`", {
  group: "lock 1000×100",
}, async () => {
  const cs = new CriticalSection();
  await asyncio.run(function* () {
    const lock = new asyncio.Lock();
    const tasks = new Array<asyncio.Task<void>>(LOCK_TASKS);
    for (let i = 0; i < LOCK_TASKS; i++) {
      tasks[i] = asyncio.createTask(function* () {
        for (let j = 0; j < LOCK_ROUNDS; j++) {
          using _ = yield* lock.acquire();
          cs.enter();
          yield* asyncio.sleep(0);
          cs.leave();
        }
      });
    }
    yield* asyncio.gather(tasks);
  });
  check(cs.count === LOCK_TASKS * LOCK_ROUNDS, "lock count");
});

Deno.bench("asyncio.Lock, async-function tasks", {
  group: "lock 1000×100",
}, async () => {
  const cs = new CriticalSection();
  await asyncio.run(async () => {
    const lock = new asyncio.Lock();
    const tasks = new Array<asyncio.Task<void>>(LOCK_TASKS);
    for (let i = 0; i < LOCK_TASKS; i++) {
      tasks[i] = asyncio.createTask(async () => {
        for (let j = 0; j < LOCK_ROUNDS; j++) {
          await lock.acquire();
          try {
            cs.enter();
            await asyncio.sleep(0);
            cs.leave();
          } finally {
            lock.release();
          }
        }
      });
    }
    await asyncio.gather(tasks);
  });
  check(cs.count === LOCK_TASKS * LOCK_ROUNDS, "lock count");
});

Deno.bench("npm:async-mutex@0.5.0 runExclusive, await null inside", {
  group: "lock 1000×100",
}, async () => {
  const mutex = new AsyncMutex();
  const cs = new CriticalSection();
  const body = async () => {
    cs.enter();
    await null;
    cs.leave();
  };
  const worker = async () => {
    for (let j = 0; j < LOCK_ROUNDS; j++) await mutex.runExclusive(body);
  };
  const all = new Array<Promise<void>>(LOCK_TASKS);
  for (let i = 0; i < LOCK_TASKS; i++) all[i] = worker();
  await Promise.all(all);
  check(cs.count === LOCK_TASKS * LOCK_ROUNDS, "lock count");
});

Deno.bench("hand-written FIFO promise mutex, await null inside", {
  group: "lock 1000×100",
}, async () => {
  const mutex = new PromiseMutex();
  const cs = new CriticalSection();
  const worker = async () => {
    for (let j = 0; j < LOCK_ROUNDS; j++) {
      await mutex.acquire();
      try {
        cs.enter();
        await null;
        cs.leave();
      } finally {
        mutex.release();
      }
    }
  };
  const all = new Array<Promise<void>>(LOCK_TASKS);
  for (let i = 0; i < LOCK_TASKS; i++) all[i] = worker();
  await Promise.all(all);
  check(cs.count === LOCK_TASKS * LOCK_ROUNDS, "lock count");
});
