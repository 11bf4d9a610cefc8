import assert from "node:assert/strict";
import * as asyncio from "../mod.ts";
import { captureReports, type Gen, runChecked, runVirtual } from "./_helpers.ts";

/** CPython's `create_task(q.get())`. */
function getTask<T>(q: asyncio.Queue<T>): asyncio.Task<T> {
  return asyncio.createTask(function* () {
    return yield* q.get();
  });
}

/** CPython's `create_task(q.put(item))`. */
function putTask<T>(q: asyncio.Queue<T>, item: T): asyncio.Task<void> {
  return asyncio.createTask(function* () {
    yield* q.put(item);
  });
}

function count(q: asyncio.Queue<unknown>, what: "getters" | "putters" | "tasks"): number {
  const match = new RegExp(`${what}=(\\d+)`).exec(String(q));
  return match === null ? 0 : Number(match[1]);
}

/** Runs `fn` and returns the name of the error it throws, or "ok". */
function* nameOf(fn: () => asyncio.Future<unknown>): Gen<string> {
  try {
    yield* fn();
    return "ok";
  } catch (error) {
    return (error as Error).name;
  }
}

type QueueClass = new <T>(maxsize?: number) => asyncio.Queue<T>;
const QUEUE_CLASSES: [string, QueueClass][] = [
  ["Queue", asyncio.Queue],
  ["LifoQueue", asyncio.LifoQueue],
  ["PriorityQueue", asyncio.PriorityQueue],
];

// ------------------------------------------------------------ QueueBasicTests

Deno.test("Queue: toString() shows size, getters, putters and state", async () => {
  // CPython: test_queues.py QueueBasicTests.test_repr, test_str, _QueueJoinTestMixin.test_format
  await runChecked(function* () {
    let q = new asyncio.Queue<number>();
    assert.equal(String(q), "<Queue maxsize=0>");
    const getter = getTask(q);
    yield* asyncio.sleep(0);
    assert.equal(String(q), "<Queue maxsize=0 getters=1>");
    q.putNowait(0);
    assert.equal(yield* getter, 0);
    assert.equal(String(q), "<Queue maxsize=0 tasks=1>");

    q = new asyncio.Queue<number>(1);
    q.putNowait(1);
    const putter = putTask(q, 2);
    yield* asyncio.sleep(0);
    assert.equal(String(q), "<Queue maxsize=1 items=[1] putters=1 tasks=1>");
    q.getNowait();
    yield* putter;

    q = new asyncio.Queue<number>();
    q.shutdown();
    assert.equal(String(q), "<Queue maxsize=0 shutdown>");
    assert.equal(String(new asyncio.PriorityQueue()), "<PriorityQueue maxsize=0>");
  });
});

Deno.test("Queue: empty(), full(), qsize() and maxsize", async () => {
  // CPython: test_queues.py test_empty, test_full
  await runChecked(function* () {
    const q = new asyncio.Queue<number>();
    assert.ok(q.empty());
    assert.equal(q.full(), false);
    yield* q.put(1);
    assert.equal(q.empty(), false);
    assert.equal(q.qsize(), 1);
    assert.equal(yield* q.get(), 1);
    assert.ok(q.empty());
    const bounded = new asyncio.Queue<number>(1);
    assert.equal(bounded.maxsize, 1);
    yield* bounded.put(1);
    assert.ok(bounded.full());
    const infinite = new asyncio.Queue<number>(Infinity);
    for (let i = 0; i < 1000; i++) infinite.putNowait(i);
    assert.equal(infinite.full(), false);
  });
});

Deno.test("Queue: FIFO order", async () => {
  // CPython: test_queues.py QueueBasicTests.test_order
  await runChecked(function* () {
    const q = new asyncio.Queue<number>();
    for (const i of [1, 3, 2]) yield* q.put(i);
    const items = [yield* q.get(), yield* q.get(), yield* q.get()];
    assert.deepEqual(items, [1, 3, 2]);
  });
});

Deno.test("Queue: put() blocks at maxsize until a get()", async () => {
  // CPython: test_queues.py QueueBasicTests.test_maxsize
  await runChecked(function* () {
    const q = new asyncio.Queue<number>(2);
    assert.equal(q.maxsize, 2);
    const haveBeenPut: number[] = [];
    const t = asyncio.createTask(function* () {
      for (let i = 0; i < 3; i++) {
        yield* q.put(i);
        haveBeenPut.push(i);
      }
      return true;
    });
    for (let i = 0; i < 2; i++) yield* asyncio.sleep(0);
    assert.deepEqual(haveBeenPut, [0, 1], "blocked after two items");
    assert.equal(yield* q.get(), 0);
    yield* asyncio.sleep(0);
    assert.deepEqual(haveBeenPut, [0, 1, 2]);
    assert.equal(yield* q.get(), 1);
    assert.equal(yield* q.get(), 2);
    assert.equal(t.result(), true);
  });
});

Deno.test("Queue: maxsize must be an integer >= 0 (or Infinity)", () => {
  // CPython accepts floats (test_float_maxsize) and treats <= 0 as unbounded; we reject
  // what is almost certainly a bug.
  assert.throws(() => new asyncio.Queue(NaN), {
    name: "RangeError",
    message: "Cannot create Queue: 'maxsize' must be an integer >= 0 (0 means unbounded), got NaN",
  });
  assert.throws(() => new asyncio.Queue(-1), RangeError);
  assert.throws(() => new asyncio.Queue(1.3), RangeError);
  assert.throws(() => new asyncio.LifoQueue(-Infinity), {
    name: "RangeError",
    message: /^Cannot create LifoQueue: 'maxsize'/,
  });
  // deno-lint-ignore no-explicit-any
  assert.throws(() => new asyncio.PriorityQueue("5" as any), {
    name: "TypeError",
    message: `Cannot create PriorityQueue: 'maxsize' must be a number, got "5"`,
  });
  assert.equal(new asyncio.Queue(Infinity).maxsize, Infinity);
  assert.equal(new asyncio.Queue().maxsize, 0);
});

// ------------------------------------------------------------ QueueGetTests

Deno.test("Queue: get() of an available item resolves at once", async () => {
  // CPython: test_queues.py test_blocking_get, test_nonblocking_get
  await runChecked(function* () {
    const q = new asyncio.Queue<number>();
    q.putNowait(1);
    const fut = q.get();
    assert.ok(fut.done());
    assert.equal(yield* fut, 1);
    q.putNowait(2);
    assert.equal(q.getNowait(), 2);
  });
});

Deno.test("Queue: get() wakes the first waiting putter", async () => {
  // CPython: test_queues.py test_get_with_putters
  await runChecked(function* () {
    const q = new asyncio.Queue<number>(1);
    yield* q.put(1);
    const putter = q.put(2);
    assert.equal(yield* q.get(), 1);
    yield* putter;
    assert.equal(q.getNowait(), 2);
  });
});

Deno.test("Queue: a blocked get() resumes when an item arrives later", async () => {
  // CPython: test_queues.py test_blocking_get_wait
  await runChecked(function* () {
    const q = new asyncio.Queue<number>();
    const started = new asyncio.Event();
    let finished = false;
    const t = asyncio.createTask(function* () {
      started.set();
      const res = yield* q.get();
      finished = true;
      return res;
    });
    yield* started.wait();
    assert.equal(finished, false);
    asyncio.getRunningLoop().callLater(10, () => q.putNowait(1));
    assert.equal(yield* t, 1);
    assert.ok(finished);
  });
});

Deno.test("Queue: getNowait() on an empty queue throws QueueEmpty", () => {
  // CPython: test_queues.py test_nonblocking_get_exception
  const q = new asyncio.Queue<number>();
  assert.throws(() => q.getNowait(), {
    name: "QueueEmpty",
    message: "Queue.getNowait(): the queue is empty",
  });
});

Deno.test("Queue: a cancelled getter does not take the next item", async () => {
  // CPython: test_queues.py test_get_cancelled_race
  await runChecked(function* () {
    const q = new asyncio.Queue<string>();
    const t1 = getTask(q);
    const t2 = getTask(q);
    yield* asyncio.sleep(0);
    t1.cancel();
    yield* asyncio.sleep(0);
    assert.ok(t1.done());
    yield* q.put("a");
    yield* asyncio.sleep(0);
    assert.equal(yield* t2, "a");
  });
});

Deno.test("Queue: gets see the items of waiting putters in order", async () => {
  // CPython: test_queues.py test_get_with_waiting_putters
  await runChecked(function* () {
    const q = new asyncio.Queue<string>(1);
    putTask(q, "a");
    putTask(q, "b");
    assert.equal(yield* q.get(), "a");
    assert.equal(yield* q.get(), "b");
  });
});

Deno.test("Queue: a producer and a consumer on a queue of 1 never stall", async () => {
  // CPython: test_queues.py test_why_are_getters_waiting, test_why_are_putters_waiting
  await runChecked(function* () {
    const q = new asyncio.Queue<number>(1);
    const consumer = asyncio.createTask(function* () {
      for (let i = 0; i < 5; i++) yield* q.get();
    });
    const producer = asyncio.createTask(function* () {
      for (let i = 0; i < 5; i++) yield* q.put(i);
    });
    yield* asyncio.gather([producer, consumer]);

    const q2 = new asyncio.Queue<number>(2);
    const getter = asyncio.createTask(function* () {
      yield* asyncio.sleep(0);
      const n = q2.qsize();
      for (let i = 0; i < n; i++) q2.getNowait();
    });
    yield* asyncio.gather([getter, ...[0, 1, 2, 3].map((i) => putTask(q2, i))]);
  });
});

Deno.test("Queue: a timed-out get() leaves no getter behind", async () => {
  // CPython: test_queues.py test_cancelled_getters_not_being_held_in_self_getters
  await runChecked(function* () {
    const q = new asyncio.Queue<number>(5);
    assert.equal(yield* nameOf(() => asyncio.waitFor(q.get(), 100)), "TimeoutError");
    assert.equal(count(q, "getters"), 0);
  });
});

// ------------------------------------------------------------ QueuePutTests

Deno.test("Queue: put() on an unbounded queue never blocks", async () => {
  // CPython: test_queues.py test_blocking_put, test_nonblocking_put
  await runChecked(function* () {
    const q = new asyncio.Queue<number>();
    const fut = q.put(1);
    assert.ok(fut.done());
    yield* fut;
    assert.equal(yield* q.get(), 1);
    q.putNowait(2);
    assert.equal(q.getNowait(), 2);
  });
});

Deno.test("Queue: each put() returns its own future, so asyncio.wait() counts them all", async () => {
  await runChecked(function* () {
    const q = new asyncio.Queue<number>();
    const puts = [q.put(1), q.put(2), q.put(3)];
    assert.equal(new Set(puts).size, 3);
    const { done, pending } = yield* asyncio.wait(puts);
    assert.equal(done.size, 3);
    assert.equal(pending.size, 0);
  });
});

Deno.test("Queue: a blocked put() resumes when room is made", async () => {
  // CPython: test_queues.py test_blocking_put_wait
  await runChecked(function* () {
    const q = new asyncio.Queue<number>(1);
    const started = new asyncio.Event();
    let finished = false;
    asyncio.getRunningLoop().callLater(10, () => q.getNowait());
    const t = asyncio.createTask(function* () {
      started.set();
      yield* q.put(1);
      yield* q.put(2);
      finished = true;
    });
    yield* started.wait();
    assert.equal(finished, false);
    yield* t;
    assert.ok(finished);
  });
});

Deno.test("Queue: a reader cancelled as items arrive drops none of them", async () => {
  // CPython: test_queues.py test_get_cancel_drop_one_pending_reader
  await runChecked(function* () {
    const q = new asyncio.Queue<number>();
    let reader = getTask(q);
    yield* asyncio.sleep(0);
    q.putNowait(1);
    q.putNowait(2);
    reader.cancel();
    try {
      yield* reader;
    } catch (error) {
      if (!(error instanceof asyncio.CancelledError)) throw error;
      reader = getTask(q); // try again
      yield* reader;
    }
    assert.equal(reader.result(), 1, "if we get 2, 1 was dropped");
  });
});

Deno.test("Queue: many readers, one cancelled as items arrive: both items are delivered", async () => {
  // CPython: test_queues.py test_get_cancel_drop_many_pending_readers
  await runChecked(function* () {
    const q = new asyncio.Queue<number>();
    const [reader1, reader2, reader3] = [0, 1, 2].map(() => getTask(q));
    yield* asyncio.sleep(0);
    q.putNowait(1);
    q.putNowait(2);
    reader1.cancel();
    assert.equal(yield* nameOf(() => reader1), "CancelledError");
    yield* reader3;
    yield* reader2;
    assert.deepEqual(new Set([reader2.result(), reader3.result()]), new Set([1, 2]));
  });
});

Deno.test("Queue: a writer cancelled after room was made adds nothing", async () => {
  // CPython: test_queues.py test_put_cancel_drop
  await runChecked(function* () {
    const q = new asyncio.Queue<number>(1);
    q.putNowait(1);
    let writer = putTask(q, 2); // has to block
    yield* asyncio.sleep(0);
    assert.equal(q.getNowait(), 1);
    writer.cancel();
    try {
      yield* writer;
    } catch (error) {
      if (!(error instanceof asyncio.CancelledError)) throw error;
      writer = putTask(q, 2); // try again
      yield* writer;
    }
    assert.equal(q.getNowait(), 2);
    assert.equal(q.qsize(), 0);
  });
});

Deno.test("Queue: putNowait() on a full queue throws QueueFull", () => {
  // CPython: test_queues.py test_nonblocking_put_exception
  const q = new asyncio.Queue<number>(1);
  q.putNowait(1);
  assert.throws(() => q.putNowait(2), {
    name: "QueueFull",
    message: "Queue.putNowait(): the queue is full (maxsize 1)",
  });
});

Deno.test("Queue: a task putting into an unbounded queue completes", async () => {
  // CPython: test_queues.py test_put_cancelled
  await runChecked(function* () {
    const q = new asyncio.Queue<number>();
    const t = asyncio.createTask(function* () {
      yield* q.put(1);
      return true;
    });
    assert.equal(yield* q.get(), 1);
    assert.ok(t.done());
    assert.equal(t.result(), true);
  });
});

Deno.test("Queue: a cancelled putter does not take the freed slot", async () => {
  // CPython: test_queues.py test_put_cancelled_race
  await runChecked(function* () {
    const q = new asyncio.Queue<string>(1);
    const putA = putTask(q, "a");
    const putB = putTask(q, "b");
    const putC = putTask(q, "X");
    yield* asyncio.sleep(0);
    assert.ok(putA.done());
    assert.equal(putB.done(), false);
    putC.cancel();
    yield* asyncio.sleep(0);
    assert.ok(putC.done());
    assert.equal(q.getNowait(), "a");
    yield* asyncio.sleep(0);
    assert.equal(q.getNowait(), "b");
    yield* putB;
  });
});

Deno.test("Queue: put() hands the item to a waiting getter", async () => {
  // CPython: test_queues.py test_put_with_waiting_getters
  await runChecked(function* () {
    const q = new asyncio.Queue<string>();
    const t = getTask(q);
    yield* asyncio.sleep(0);
    yield* q.put("a");
    assert.equal(yield* t, "a");
  });
});

Deno.test("Queue: a cancelled put leaves no putter behind", async () => {
  // CPython: test_queues.py test_cancelled_puts_not_being_held_in_self_putters
  await runChecked(function* () {
    const q = new asyncio.Queue<number>(1);
    q.putNowait(1);
    const putTaskA = putTask(q, 1);
    yield* asyncio.sleep(0);
    assert.equal(count(q, "putters"), 1);
    putTaskA.cancel();
    assert.equal(yield* nameOf(() => putTaskA), "CancelledError");
    assert.equal(count(q, "putters"), 0);
  });
});

Deno.test("Queue: a putter removed by get() and then cancelled ends cancelled", async () => {
  // CPython: test_queues.py test_cancelled_put_silence_value_error_exception
  await runChecked(function* () {
    const q = new asyncio.Queue<number>(1);
    q.putNowait(1);
    const t = putTask(q, 1);
    yield* asyncio.sleep(0);
    q.getNowait(); // removes t's putter from the list and wakes it
    t.cancel();
    assert.equal(yield* nameOf(() => t), "CancelledError");
    assert.equal(q.qsize(), 0, "the cancelled put added nothing");
  });
});

// ------------------------------------------------------------ LIFO and priority

Deno.test("LifoQueue: last in, first out", async () => {
  // CPython: test_queues.py LifoQueueTests.test_order
  await runChecked(function* () {
    const q = new asyncio.LifoQueue<number>();
    for (const i of [1, 3, 2]) yield* q.put(i);
    assert.deepEqual([yield* q.get(), yield* q.get(), yield* q.get()], [2, 3, 1]);
  });
});

Deno.test("PriorityQueue: smallest first", async () => {
  // CPython: test_queues.py PriorityQueueTests.test_order
  await runChecked(function* () {
    const q = new asyncio.PriorityQueue<number>();
    for (const i of [1, 3, 2]) yield* q.put(i);
    assert.deepEqual([yield* q.get(), yield* q.get(), yield* q.get()], [1, 2, 3]);
  });
});

Deno.test("PriorityQueue: the default order is Python's on numbers, bigints, strings and arrays", () => {
  const q = new asyncio.PriorityQueue<unknown>();
  const items = [3, 2n, -1, 2.5, 10n, 0];
  for (const x of items) q.putNowait(x);
  assert.deepEqual(items.map(() => q.getNowait()), [-1, 0, 2n, 2.5, 3, 10n]);

  const words = new asyncio.PriorityQueue<string>();
  for (const w of ["pear", "apple", "Zoo", "app"]) words.putNowait(w);
  assert.deepEqual([0, 1, 2, 3].map(() => words.getNowait()), ["Zoo", "app", "apple", "pear"]);

  // Arrays compare like tuples: element by element, a shorter prefix first.
  const tuples = new asyncio.PriorityQueue<unknown[]>();
  const input = [[2, "b"], [1, "z"], [2, "a"], [1], [2, "a", 0], [1, "z", -1]];
  for (const t of input) tuples.putNowait(t);
  assert.deepEqual(input.map(() => tuples.getNowait()), [
    [1],
    [1, "z"],
    [1, "z", -1],
    [2, "a"],
    [2, "a", 0],
    [2, "b"],
  ]);
});

Deno.test("PriorityQueue: equal items come out in insertion order", () => {
  const q = new asyncio.PriorityQueue<[number, string]>();
  const job = { toString: () => "job" };
  // Equal first elements and the same object second: equal like Python tuples.
  const input: [number, string][] = [];
  for (let i = 0; i < 50; i++) input.push([i % 3, job as unknown as string]);
  for (const x of input) q.putNowait(x);
  const out: [number, string][] = [];
  while (!q.empty()) out.push(q.getNowait());
  const expected = [0, 1, 2].flatMap((p) => input.filter((x) => x[0] === p));
  assert.equal(out.length, 50);
  for (let i = 0; i < 50; i++) assert.equal(out[i], expected[i], `position ${i}`);
});

Deno.test("PriorityQueue: a compare option orders anything, stable for ties", () => {
  interface Job {
    name: string;
    priority: number;
  }
  const q = new asyncio.PriorityQueue<Job>(0, { compare: (a, b) => b.priority - a.priority });
  const jobs = [["a", 1], ["b", 5], ["c", 1], ["d", 5], ["e", 3]].map(([name, priority]) => ({
    name: name as string,
    priority: priority as number,
  }));
  for (const j of jobs) q.putNowait(j);
  assert.deepEqual(jobs.map(() => q.getNowait().name), ["b", "d", "e", "a", "c"]);
});

Deno.test("PriorityQueue: items the default order cannot handle are rejected at put", async () => {
  await runChecked(function* () {
    const q = new asyncio.PriorityQueue<unknown>();
    for (const bad of [{}, undefined, null, true, Symbol("s")]) {
      assert.throws(() => q.putNowait(bad), {
        name: "TypeError",
        message: /^PriorityQueue.putNowait\(\): 'item' must be a number, bigint, string or array/,
      });
      assert.throws(() => q.put(bad), {
        name: "TypeError",
        message: /^PriorityQueue.put\(\): 'item' must be a number, bigint, string or array/,
      });
    }
    assert.equal(q.qsize(), 0);
    assert.equal(count(q, "tasks"), 0, "nothing was counted for join()");
    yield* asyncio.sleep(0);
  });
});

Deno.test("PriorityQueue: incomparable ties throw TypeError and leave the queue intact", async () => {
  // Python raises TypeError comparing (1, {}) with (1, {}); the queue must not
  // lose or corrupt items when the comparison throws in the middle of a sift.
  await runChecked(function* () {
    const q = new asyncio.PriorityQueue<[number, object]>();
    for (let i = 0; i < 20; i++) q.putNowait([i, {}]);
    assert.throws(() => q.putNowait([0, {}]), {
      name: "TypeError",
      message: /^PriorityQueue: cannot order an object against an object/,
    });
    assert.equal(q.qsize(), 20);
    assert.equal(count(q, "tasks"), 20);
    // Failing half-way up: [1, {}] moves above [9] and [4], then ties with [1, {}].
    assert.throws(() => q.putNowait([1, {}]), TypeError);
    assert.equal(q.qsize(), 20);
    const putFailure = q.put([0, {}]); // ties with the root
    assert.ok(putFailure.done());
    assert.equal((putFailure.exception() as Error).name, "TypeError");
    const out: number[] = [];
    while (!q.empty()) out.push(q.getNowait()[0]);
    assert.deepEqual(out, Array.from({ length: 20 }, (_, i) => i));
    yield* asyncio.sleep(0);
  });
});

Deno.test("PriorityQueue: a get() that meets incomparable items throws and loses nothing", () => {
  // Siblings are never compared at put time; Python's heappop raises (and
  // drops an item); ours raises and keeps every item.
  const q = new asyncio.PriorityQueue<[number, object?]>();
  const a: [number, object] = [1, { name: "a" }];
  const b: [number, object] = [1, { name: "b" }];
  q.putNowait([0]);
  q.putNowait(a);
  q.putNowait(b);
  assert.throws(() => q.getNowait(), TypeError);
  assert.equal(q.qsize(), 3);
  assert.throws(() => q.getNowait(), TypeError, "still there, still incomparable");
  assert.equal(q.qsize(), 3);
});

Deno.test("PriorityQueue: a throwing compare keeps the item out and the heap whole", () => {
  let armed = false;
  const boom = new Error("compare failed");
  const q = new asyncio.PriorityQueue<number>(0, {
    compare: (a, b) => {
      if (armed && (a === 99 || b === 99)) throw boom;
      return a - b;
    },
  });
  for (const x of [5, 3, 8, 1, 9, 2]) q.putNowait(x);
  armed = true;
  assert.throws(() => q.putNowait(99), (error) => error === boom);
  armed = false;
  assert.equal(q.qsize(), 6);
  assert.deepEqual([0, 1, 2, 3, 4, 5].map(() => q.getNowait()), [1, 2, 3, 5, 8, 9]);
});

Deno.test("PriorityQueue: bad options are rejected clearly", () => {
  // deno-lint-ignore no-explicit-any
  const any = (x: unknown) => x as any;
  assert.throws(() => new asyncio.PriorityQueue(0, any({ compare: 1 })), {
    name: "TypeError",
    message: "Cannot create PriorityQueue: 'compare' must be a function, got 1",
  });
  assert.throws(() => new asyncio.PriorityQueue(0, any(3)), {
    name: "TypeError",
    message: "Cannot create PriorityQueue: 'options' must be an object, got 3",
  });
});

// ------------------------------------------------------------ taskDone / join (all three classes)

for (const [name, Q] of QUEUE_CLASSES) {
  Deno.test(`${name}: taskDone() more times than items throws`, () => {
    // CPython: test_queues.py _QueueJoinTestMixin.test_task_done_underflow
    const q = new Q<number>();
    assert.throws(() => q.taskDone(), {
      name: "Error",
      message: new RegExp(`^${name}.taskDone\\(\\): called more times than there were items`),
    });
  });

  Deno.test(`${name}: join() waits until every item is marked done`, async () => {
    // CPython: test_queues.py _QueueJoinTestMixin.test_task_done
    await runChecked(function* () {
      const q = new Q<number>();
      for (let i = 0; i < 100; i++) q.putNowait(i);
      let accumulator = 0;
      let running = true;
      const worker = () =>
        asyncio.createTask(function* () {
          while (running) {
            const item = yield* q.get();
            accumulator += item;
            q.taskDone();
          }
        });
      const tasks = [worker(), worker()];
      yield* q.join();
      assert.equal(accumulator, (99 * 100) / 2);
      running = false; // stop the workers
      for (let i = 0; i < tasks.length; i++) q.putNowait(0);
      yield* asyncio.gather(tasks);
    });
  });

  Deno.test(`${name}: join() on an empty queue resolves at once`, async () => {
    // CPython: test_queues.py _QueueJoinTestMixin.test_join_empty_queue
    await runChecked(function* () {
      const q = new Q<number>();
      const first = q.join();
      assert.ok(first.done());
      yield* first;
      yield* q.join();
    });
  });

  // ---------------------------------------------------------- shutdown (3.13)

  Deno.test(`${name}: shutdown() of an empty queue fails the getters and later calls`, async () => {
    // CPython: test_queues.py _QueueShutdownTestMixin.test_shutdown_empty
    await runChecked(function* () {
      const q = new Q<string>();
      const getTaskA = getTask(q);
      yield* asyncio.sleep(0); // get pending before the shutdown
      q.shutdown(false);
      assert.equal(q.qsize(), 0);
      yield* q.join();
      yield* asyncio.sleep(0);
      assert.ok(getTaskA.done());
      assert.equal(yield* nameOf(() => getTaskA), "QueueShutDown");
      assert.equal(yield* nameOf(() => q.put("data")), "QueueShutDown");
      assert.throws(() => q.putNowait("data"), asyncio.QueueShutDown);
      assert.equal(yield* nameOf(() => q.get()), "QueueShutDown");
      assert.throws(() => q.getNowait(), asyncio.QueueShutDown);
    });
  });

  Deno.test(`${name}: shutdown() of a non-empty queue fails putters; gets drain it first`, async () => {
    // CPython: test_queues.py _QueueShutdownTestMixin.test_shutdown_nonempty
    await runChecked(function* () {
      const q = new Q<string>(1);
      q.putNowait("data");
      const joinTask = asyncio.createTask(function* () {
        yield* q.join();
      });
      const putTaskA = putTask(q, "data2");
      yield* asyncio.sleep(0);
      assert.equal(putTaskA.done(), false);
      q.shutdown(false);
      assert.equal(q.qsize(), 1);
      yield* asyncio.sleep(0);
      assert.ok(putTaskA.done());
      assert.equal(yield* nameOf(() => putTaskA), "QueueShutDown");
      assert.equal(yield* q.get(), "data");
      yield* asyncio.sleep(0);
      assert.equal(joinTask.done(), false);
      assert.equal(yield* nameOf(() => q.put("data")), "QueueShutDown");
      assert.throws(() => q.putNowait("data"), asyncio.QueueShutDown);
      assert.equal(yield* nameOf(() => q.get()), "QueueShutDown");
      assert.throws(() => q.getNowait(), asyncio.QueueShutDown);
      q.taskDone(); // one unfinished task
      yield* asyncio.sleep(0);
      assert.ok(joinTask.done());
      yield* joinTask;
      assert.throws(() => q.taskDone(), /called more times than there were items/);
    });
  });

  Deno.test(`${name}: shutdown(true) drops the items and releases join()`, async () => {
    // CPython: test_queues.py _QueueShutdownTestMixin.test_shutdown_immediate
    await runChecked(function* () {
      const q = new Q<string>();
      q.putNowait("data");
      const joinTask = asyncio.createTask(function* () {
        yield* q.join();
      });
      q.shutdown(true);
      assert.equal(q.qsize(), 0);
      yield* asyncio.sleep(0);
      assert.ok(joinTask.done());
      yield* joinTask;
      assert.equal(yield* nameOf(() => q.put("data")), "QueueShutDown");
      assert.throws(() => q.putNowait("data"), asyncio.QueueShutDown);
      assert.equal(yield* nameOf(() => q.get()), "QueueShutDown");
      assert.throws(() => q.getNowait(), asyncio.QueueShutDown);
      assert.throws(() => q.taskDone(), /called more times than there were items/);
    });
  });

  Deno.test(`${name}: shutdown(true) with an item taken but not done keeps join() waiting`, async () => {
    // CPython: test_queues.py _QueueShutdownTestMixin.test_shutdown_immediate_with_unfinished
    await runChecked(function* () {
      const q = new Q<string>();
      q.putNowait("data");
      q.putNowait("data");
      const joinTask = asyncio.createTask(function* () {
        yield* q.join();
      });
      assert.equal(yield* q.get(), "data");
      q.shutdown(true); // unfinished tasks: 2 -> 1
      assert.equal(q.qsize(), 0);
      yield* asyncio.sleep(0);
      assert.equal(joinTask.done(), false);
      assert.equal(yield* nameOf(() => q.put("data")), "QueueShutDown");
      assert.throws(() => q.putNowait("data"), asyncio.QueueShutDown);
      assert.equal(yield* nameOf(() => q.get()), "QueueShutDown");
      assert.throws(() => q.getNowait(), asyncio.QueueShutDown);
      q.taskDone();
      assert.throws(() => q.taskDone(), /called more times than there were items/);
      yield* asyncio.sleep(0);
      assert.ok(joinTask.done());
      yield* joinTask;
    });
  });
}

Deno.test("Queue: shutdown() wakes every waiting getter and putter", async () => {
  await runChecked(function* () {
    const empty = new asyncio.Queue<number>();
    const getters = [0, 1, 2].map(() => getTask(empty));
    const full = new asyncio.Queue<number>(1);
    full.putNowait(0);
    const putters = [1, 2, 3].map((i) => putTask(full, i));
    yield* asyncio.sleep(0);
    empty.shutdown();
    full.shutdown();
    const results = yield* asyncio.gather([...getters, ...putters], { returnExceptions: true });
    assert.deepEqual(results.map((r) => (r as Error).name), new Array(6).fill("QueueShutDown"));
    assert.equal(full.qsize(), 1, "shutdown without immediate keeps the items");
    assert.equal(full.getNowait(), 0);
  });
});

Deno.test("Queue: shutdown() rejects a non-boolean argument", () => {
  const q = new asyncio.Queue<number>();
  // deno-lint-ignore no-explicit-any
  assert.throws(() => q.shutdown(1 as any), {
    name: "TypeError",
    message: "Queue.shutdown(): 'immediate' must be a boolean, got 1",
  });
  assert.doesNotThrow(() => q.putNowait(1), "the bad call did not shut it down");
});

// ------------------------------------------------------------ async iteration

Deno.test("Queue: for await yields the items until shutdown and empty", async () => {
  const seen: number[] = [];
  await runVirtual(async () => {
    const q = new asyncio.Queue<number>(2);
    const producer = asyncio.createTask(function* () {
      for (let i = 0; i < 5; i++) yield* q.put(i);
      q.shutdown(); // items still queued are delivered before the loop ends
    });
    for await (const item of q) seen.push(item);
    await producer;
  });
  assert.deepEqual(seen, [0, 1, 2, 3, 4]);
});

Deno.test("Queue: for await ends at once after shutdown(true); break takes nothing more", async () => {
  await runVirtual(async () => {
    const q = new asyncio.Queue<number>();
    for (let i = 0; i < 5; i++) q.putNowait(i);
    for await (const item of q) {
      if (item === 1) break;
    }
    assert.equal(q.qsize(), 3, "break took nothing after item 1");
    q.shutdown(true);
    const rest: number[] = [];
    for await (const item of q) rest.push(item);
    assert.deepEqual(rest, []);
  });
});

Deno.test("Queue: workers with for await, taskDone() and join()", async () => {
  const processed: string[] = [];
  await runVirtual(async () => {
    const q = new asyncio.Queue<string>();
    const worker = asyncio.createTask(async () => {
      for await (const job of q) {
        await asyncio.sleep(10);
        processed.push(job);
        q.taskDone();
      }
    });
    for (const job of ["a", "b", "c"]) await q.put(job);
    await q.join();
    assert.deepEqual(processed, ["a", "b", "c"]);
    q.shutdown();
    await worker;
  });
});

// ------------------------------------------------------------ exact ordering (CPython trace)

Deno.test("Queue: producers, consumers, cancellation and shutdown match CPython step by step", async () => {
  // The same program under CPython 3.13 logs exactly this sequence (checked
  // with ~/.pyenv/versions/3.13.0/bin/python3).
  const log = await runChecked(function* () {
    const q = new asyncio.Queue<number>(2);
    const loop = asyncio.getRunningLoop();
    const log: string[] = [];
    const producer = (name: string, items: number[]) =>
      asyncio.createTask(function* () {
        for (const x of items) {
          try {
            yield* q.put(x);
            log.push(`${name} put ${x}`);
          } catch (error) {
            if (error instanceof asyncio.QueueShutDown) {
              log.push(`${name} shutdown at ${x}`);
              return;
            }
            log.push(`${name} cancelled at ${x}`);
            throw error;
          }
        }
      });
    const consumer = (name: string, n: number) =>
      asyncio.createTask(function* () {
        for (let i = 0; i < n; i++) {
          try {
            log.push(`${name} got ${yield* q.get()}`);
          } catch (error) {
            if (error instanceof asyncio.QueueShutDown) {
              log.push(`${name} shutdown`);
              return;
            }
            log.push(`${name} cancelled`);
            throw error;
          }
        }
      });
    const tick = (i: number) => {
      log.push(`tick${i}`);
      if (i < 14) loop.callSoon(tick, i + 1);
    };
    loop.callSoon(tick, 0);
    const c1 = consumer("c1", 3);
    const c2 = consumer("c2", 3);
    const p1 = producer("p1", [1, 2, 3, 4, 5]);
    const p2 = producer("p2", [10, 20, 30]);
    yield* asyncio.sleep(0);
    yield* asyncio.sleep(0);
    c1.cancel();
    yield* asyncio.sleep(0);
    p2.cancel();
    yield* asyncio.sleep(0);
    yield* asyncio.sleep(0);
    log.push(`main shutdown qsize=${q.qsize()}`);
    q.shutdown();
    yield* asyncio.gather([c1, c2, p1, p2], { returnExceptions: true });
    log.push(`left ${q.qsize()}`);
    return log.slice();
  });
  assert.deepEqual(log, [
    "tick0",
    "p1 put 1",
    "p1 put 2",
    "tick1",
    "c1 got 1",
    "c1 got 2",
    "tick2",
    "p1 put 3",
    "p1 put 4",
    "c1 cancelled", // woken by a put, cancelled: passes the wake-up to c2
    "tick3",
    "c2 got 3",
    "c2 got 4",
    "p2 cancelled at 10",
    "tick4",
    "p1 put 5",
    "main shutdown qsize=1",
    "tick5",
    "c2 got 5",
    "tick6",
    "tick7",
    "left 0",
  ]);
});

// ------------------------------------------------------------ future mode

Deno.test("Queue: an aborted get() never takes an item (async function)", async () => {
  const log: string[] = [];
  await runChecked(function* () {
    const q = new asyncio.Queue<number>();
    const controller = new AbortController();
    const a = asyncio.createTask(async () => {
      try {
        log.push(`a got ${await q.get({ signal: controller.signal })}`);
      } catch (error) {
        log.push(`a ${(error as Error).name}`);
      }
    });
    const b = asyncio.createTask(async (signal: AbortSignal) => {
      log.push(`b got ${await q.get({ signal })}`);
    });
    while (count(q, "getters") < 2) yield* asyncio.sleep(0);
    q.putNowait(1); // wakes a...
    controller.abort(); // ...which gives up before it runs: b gets the item
    yield* asyncio.gather([a, b]);
    assert.equal(q.qsize(), 0);
  });
  assert.deepEqual(log, ["a CancelledError", "b got 1"]);
});

Deno.test("Queue: an aborted put() never adds its item (async function)", async () => {
  await runChecked(function* () {
    const q = new asyncio.Queue<number>(1);
    q.putNowait(0);
    const controller = new AbortController();
    const op = q.put(1, { signal: controller.signal });
    const other = q.put(2);
    q.getNowait(); // room for one: wakes op's putter
    controller.abort();
    assert.ok(op.cancelled());
    yield* other; // the wake-up was passed on
    assert.deepEqual([q.getNowait()], [2]);
    assert.equal(q.qsize(), 0);
  });
});

Deno.test("Queue: get() and put() futures are queued at once and cancel synchronously", async () => {
  await runChecked(function* () {
    const q = new asyncio.Queue<number>();
    const g1 = q.get();
    const g2 = q.get();
    assert.equal(count(q, "getters"), 2);
    assert.ok(g1.cancel());
    assert.ok(g1.cancelled());
    assert.equal(count(q, "getters"), 1);
    q.putNowait(7);
    assert.equal(yield* g2, 7);
  });
});

Deno.test("Queue: cancelling an async task aborts its get()", async () => {
  await runChecked(function* () {
    const q = new asyncio.Queue<number>();
    const t = asyncio.createTask(async (signal: AbortSignal) => await q.get({ signal }));
    while (count(q, "getters") < 1) yield* asyncio.sleep(0);
    t.cancel();
    assert.equal(yield* nameOf(() => t), "CancelledError");
    assert.equal(count(q, "getters"), 0);
    q.putNowait(1);
    assert.equal(q.qsize(), 1, "the item is still there");
  });
});

Deno.test("Queue: a get() future that waits sees QueueShutDown", async () => {
  await runChecked(function* () {
    const q = new asyncio.Queue<number>();
    const op = q.get();
    q.shutdown();
    assert.equal(yield* nameOf(() => op), "QueueShutDown");
  });
});

Deno.test("Queue: an unawaited failed get() is reported, as an unawaited coroutine would be", async () => {
  let reports: asyncio.ExceptionContext[] = [];
  await runVirtual(function* () {
    reports = captureReports(asyncio.getRunningLoop());
    const q = new asyncio.Queue<number>();
    q.shutdown();
    q.get(); // dropped on the floor
    yield* asyncio.sleep(0);
  });
  assert.equal(reports.length, 1);
  assert.ok(reports[0].exception instanceof asyncio.QueueShutDown);
});

Deno.test("Queue: put(), get() and join() reject bad options clearly", () => {
  const q = new asyncio.Queue<number>();
  // deno-lint-ignore no-explicit-any
  const bad = q as any;
  assert.throws(() => bad.put(1, null), {
    name: "TypeError",
    message: "Queue.put(): 'options' must be an object, got null",
  });
  assert.throws(() => bad.get({ signal: 1 }), {
    name: "TypeError",
    message: "Queue.get(): 'signal' must be an AbortSignal, got 1",
  });
  assert.throws(() => bad.join("x"), /Queue.join\(\): 'options' must be an object/);
  assert.equal(q.qsize(), 0, "the bad put added nothing");
});

Deno.test("Queue errors: each has its class name", () => {
  for (const E of [asyncio.QueueEmpty, asyncio.QueueFull, asyncio.QueueShutDown]) {
    const error = new E("x");
    assert.equal(error.name, E.name);
    assert.ok(error instanceof Error);
  }
});

Deno.test("Queue: a million items through a bounded queue (O(1) operations)", async () => {
  const n = 1_000_000;
  const sum = await runChecked(function* () {
    const q = new asyncio.Queue<number>(100);
    const producer = asyncio.createTask(function* () {
      for (let i = 0; i < n; i++) yield* q.put(i);
    });
    let total = 0;
    for (let i = 0; i < n; i++) total += yield* q.get();
    yield* producer;
    return total;
  });
  assert.equal(sum, (n * (n - 1)) / 2);
});
