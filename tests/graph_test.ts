/**
 * The call graph: CPython 3.14's test_graph.py cases, ported (in both
 * coroutine styles where the program makes sense in both), and what is
 * ours: the frames of a suspended task in debug mode, `limit`, cycles,
 * futureAddToAwaitedBy, and the text layout.
 *
 * A walk of the graph reads as in CPython's `capture_test_stack`: the
 * future (`T<name>`, `T<anon>` for a default name, `F` for a plain future),
 * its frames (`s` a plain function, `a` an async one, `g` a generator; CPython has no
 * generator coroutines, so its `a c4` is our `g c4` in the generator style),
 * and the walks of what awaits it, sorted.
 */

import assert from "node:assert/strict";
import * as asyncio from "../mod.ts";
import { assertIdentical, type Gen, runVirtual } from "./_helpers.ts";

type Walk = [string, string[], Walk[]];

function walk(graph: asyncio.FutureCallGraph): Walk {
  const future = graph.future;
  const head = future instanceof asyncio.Task
    ? (/^Task-\d+$/.test(future.getName()) ? "T<anon>" : `T<${future.getName()}>`)
    : "F";
  const frames = graph.callStack.map((frame) =>
    `${frame.kind === "function" ? "s" : frame.kind === "async" ? "a" : "g"} ${frame.name}`
  );
  const parents = graph.awaitedBy.map(walk).sort((a, b) => a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0);
  return [head, frames, parents];
}

/** CPython's capture_test_stack: the walk, and the printed text, of the running task (or `future`). */
function captureTestStack(future?: asyncio.Future<unknown>, depth = 1): [Walk, string] {
  let text = "";
  asyncio.printCallGraph(future, { depth: depth + 1, write: (t) => text += t });
  const graph = asyncio.captureCallGraph(future, { depth });
  return [walk(graph!), text];
}

Deno.test("captureCallGraph(): a task group's child, awaited by the group's parent and by two tasks", async (t) => {
  // CPython: test_graph.py test_stack_tgroup
  await t.step("generator", async () => {
    let stack: [Walk, string] | null = null;
    function c5() {
      stack = captureTestStack(undefined, 2);
    }
    function* c4(): Gen<void> {
      yield* asyncio.sleep(0);
      c5();
    }
    function* c3(): Gen<void> {
      yield* c4();
    }
    function* c2(): Gen<void> {
      yield* c3();
    }
    function* c1(task: asyncio.Task<unknown>): Gen<void> {
      yield* task;
    }
    await runVirtual(function* main() {
      yield* asyncio.taskGroup(function* (tg) {
        const task = tg.createTask(c2, { name: "c2_root" });
        tg.createTask(c1(task), { name: "sub_main_1" });
        tg.createTask(c1(task), { name: "sub_main_2" });
      });
    });
    const parent: Walk = ["T<anon>", ["g main"], []];
    assert.deepEqual(stack![0], [
      "T<c2_root>",
      ["s c5", "g c4", "g c3", "g c2"],
      [parent, ["T<sub_main_1>", ["g <generator>"], [parent]], [
        "T<sub_main_2>",
        ["g <generator>"],
        [parent],
      ]],
    ]);
    assert.match(stack![1], /in generator c2\(\)/);
  });

  await t.step("generator, debug mode: the frames where each task suspended", async () => {
    let stack: [Walk, string] | null = null;
    function c5() {
      stack = captureTestStack(undefined, 2);
    }
    function* c4(): Gen<void> {
      yield* asyncio.sleep(0);
      c5();
    }
    function* c3(): Gen<void> {
      yield* c4();
    }
    function* c2(): Gen<void> {
      yield* c3();
    }
    function* c1(task: asyncio.Task<unknown>): Gen<void> {
      yield* task;
    }
    await runVirtual(function* main() {
      yield* asyncio.taskGroup(function* (tg) {
        const task = tg.createTask(c2, { name: "c2_root" });
        tg.createTask(c1(task), { name: "sub_main_1" });
        tg.createTask(c1(task), { name: "sub_main_2" });
      });
    }, { debug: true });
    // As CPython's ['a _aexit', 'a __aexit__', 'a main']: the group's exit, then main.
    const parent: Walk = ["T<anon>", ["g exitGroup", "g runGroup", "g main"], []];
    assert.deepEqual(stack![0], [
      "T<c2_root>",
      ["s c5", "g c4", "g c3", "g c2"],
      [parent, ["T<sub_main_1>", ["g c1"], [parent]], ["T<sub_main_2>", ["g c1"], [parent]]],
    ]);
    assert.match(stack![1], /File '.*graph_test\.ts', line \d+, in generator c2\(\)/);
  });

  await t.step("async functions", async () => {
    let stack: [Walk, string] | null = null;
    function c5() {
      stack = captureTestStack(undefined, 2);
    }
    async function c4() {
      await asyncio.sleep(0);
      c5();
    }
    async function c3() {
      await c4();
    }
    async function c2() {
      await c3();
    }
    async function c1(task: asyncio.Task<unknown>) {
      await task;
    }
    await runVirtual(async function main() {
      await asyncio.taskGroup((tg) => {
        const task = tg.createTask(c2, { name: "c2_root" });
        tg.createTask(() => c1(task), { name: "sub_main_1" });
        tg.createTask(() => c1(task), { name: "sub_main_2" });
      });
    });
    // The running async function shows as a plain frame (V8 marks only the suspended ones `async`).
    const parent: Walk = ["T<anon>", ["a main"], []];
    assert.deepEqual(stack![0], [
      "T<c2_root>",
      ["s c5", "s c4", "a c3", "a c2"],
      [parent, ["T<sub_main_1>", ["a <anonymous>"], [parent]], [
        "T<sub_main_2>",
        ["a <anonymous>"],
        [parent],
      ]],
    ]);
  });
});

Deno.test("captureCallGraph(): gather's children are awaited by the task that called it", async (t) => {
  // CPython: test_graph.py test_stack_gather
  await t.step("generator", async () => {
    let stack: [Walk, string] | null = null;
    function* deep(): Gen<void> {
      yield* asyncio.sleep(0);
      stack = captureTestStack();
    }
    function* c1(): Gen<void> {
      yield* asyncio.sleep(0);
      yield* deep();
    }
    function* c2(): Gen<void> {
      yield* asyncio.sleep(0);
    }
    await runVirtual(function* main() {
      yield* asyncio.gather([c1, c2]);
    });
    assert.deepEqual(stack![0], [
      "T<anon>",
      ["s captureTestStack", "g deep", "g c1"],
      [["T<anon>", ["g main"], []]],
    ]);
  });

  await t.step("async functions", async () => {
    let stack: [Walk, string] | null = null;
    async function deep() {
      await asyncio.sleep(0);
      stack = captureTestStack();
    }
    async function c1() {
      await asyncio.sleep(0);
      await deep();
    }
    async function c2() {
      await asyncio.sleep(0);
    }
    await runVirtual(async function main() {
      await asyncio.gather([c1, c2]);
    });
    assert.deepEqual(stack![0], [
      "T<anon>",
      ["s captureTestStack", "s deep", "a c1"],
      [["T<anon>", ["a main"], []]],
    ]);
  });
});

Deno.test("captureCallGraph(): shield's inner task is awaited by the caller", async () => {
  // CPython: test_graph.py test_stack_shield
  let stack: [Walk, string] | null = null;
  function* deep(): Gen<void> {
    yield* asyncio.sleep(0);
    stack = captureTestStack();
  }
  function* c1(): Gen<void> {
    yield* asyncio.sleep(0);
    yield* deep();
  }
  await runVirtual(function* main() {
    yield* asyncio.shield(c1);
  });
  assert.deepEqual(stack![0], [
    "T<anon>",
    ["s captureTestStack", "g deep", "g c1"],
    [["T<anon>", ["g main"], []]],
  ]);
});

Deno.test("captureCallGraph(): a timeout block runs inside its task", async () => {
  // CPython: test_graph.py test_stack_timeout
  let stack: [Walk, string] | null = null;
  function* inner(): Gen<void> {
    yield* asyncio.sleep(0);
    stack = captureTestStack();
  }
  function* c1(): Gen<void> {
    yield* asyncio.timeout(1, function* () {
      yield* asyncio.sleep(0);
      yield* inner();
    });
  }
  await runVirtual(function* main() {
    yield* asyncio.shield(c1);
  });
  const [name, frames, parents] = stack![0];
  assert.equal(name, "T<anon>");
  // The block's body (anonymous) and the scope's generator sit between inner and c1.
  assert.deepEqual(frames.slice(0, 2), ["s captureTestStack", "g inner"]);
  assert.equal(frames.at(-1), "g c1");
  assert.ok(frames.includes("g runScope"));
  assert.deepEqual(parents, [["T<anon>", ["g main"], []]]);
});

Deno.test("captureCallGraph(): wait()'s futures are awaited by the task that called it", async () => {
  // CPython: test_graph.py test_stack_wait
  let stack: [Walk, string] | null = null;
  function* inner(): Gen<void> {
    yield* asyncio.sleep(0);
    stack = captureTestStack();
  }
  function* c1(): Gen<void> {
    yield* asyncio.sleep(0);
    yield* inner();
  }
  function* c2(): Gen<void> {
    for (let i = 0; i < 3; i++) yield* asyncio.sleep(0);
  }
  await runVirtual(function* main() {
    const t1 = asyncio.createTask(c1);
    const t2 = asyncio.createTask(c2);
    for (;;) {
      const { pending } = yield* asyncio.wait([t1, t2]);
      if (pending.size === 0) break;
    }
  });
  assert.deepEqual(stack![0], [
    "T<anon>",
    ["s captureTestStack", "g inner", "g c1"],
    [["T<anon>", ["g main"], []]],
  ]);
});

Deno.test("captureCallGraph(): a task awaited directly", async () => {
  // CPython: test_graph.py test_stack_task
  let stack: [Walk, string] | null = null;
  function* inner(): Gen<void> {
    yield* asyncio.sleep(0);
    stack = captureTestStack();
  }
  function* c1(): Gen<void> {
    yield* inner();
  }
  function* c2(): Gen<void> {
    yield* asyncio.createTask(c1, { name: "there there" });
  }
  await runVirtual(function* main() {
    yield* c2();
  }, { debug: true });
  assert.deepEqual(stack![0], [
    "T<there there>",
    ["s captureTestStack", "g inner", "g c1"],
    [["T<anon>", ["g c2", "g main"], []]],
  ]);
});

Deno.test("captureCallGraph(): a plain future awaited by two tasks of a group", async (t) => {
  // CPython: test_graph.py test_stack_future
  for (const debug of [false, true]) {
    await t.step(debug ? "debug mode" : "plain", async () => {
      let stack: [Walk, string] | null = null;
      function* a2(fut: asyncio.Future<void>): Gen<void> {
        yield* fut;
      }
      function* a1(fut: asyncio.Future<void>): Gen<void> {
        yield* a2(fut);
      }
      function* b1(fut: asyncio.Future<void>): Gen<void> {
        yield* fut;
      }
      await runVirtual(function* main() {
        const fut = new asyncio.Future<void>();
        yield* asyncio.taskGroup(function* (g) {
          g.createTask(() => a1(fut), { name: "task A" });
          g.createTask(() => b1(fut), { name: "task B" });
          for (let i = 0; i < 5; i++) yield* asyncio.sleep(0);
          stack = captureTestStack(fut);
          fut.setResult();
        });
      }, { debug });
      const main: Walk = [
        "T<anon>",
        debug ? ["g <anonymous>", "g runGroup", "g main"] : ["g main"],
        [],
      ];
      assert.deepEqual(stack![0], [
        "F",
        [],
        [
          ["T<task A>", debug ? ["g a2", "g a1"] : ["g <anonymous>"], [main]],
          ["T<task B>", debug ? ["g b1"] : ["g <anonymous>"], [main]],
        ],
      ]);
      assert.ok(stack![1].startsWith("* Future(id=0x"));
    });
  }
});

Deno.test("captureCallGraph(): async-function tasks in debug mode show where they suspended", async () => {
  let graph: asyncio.FutureCallGraph | null = null;
  async function leaf() {
    await asyncio.sleep(10);
  }
  async function worker() {
    await leaf();
  }
  await runVirtual(async function main() {
    const task = asyncio.createTask(worker, { name: "worker" });
    await asyncio.sleep(1);
    graph = asyncio.captureCallGraph(task); // main is running: nobody awaits the worker yet
    await task;
  }, { debug: true });
  assert.deepEqual(walk(graph!), ["T<worker>", ["a leaf", "a worker"], []]);
  assert.match(graph!.callStack[0].fileName!, /graph_test\.ts$/);
  assert.equal(typeof graph!.callStack[0].lineNumber, "number");
});

Deno.test("captureCallGraph(): waits of locks, queues and events are the task's own", async () => {
  await runVirtual(function* main() {
    const lock = new asyncio.Lock();
    const queue = new asyncio.Queue<number>();
    using _ = yield* lock.acquire();
    const a = asyncio.createTask(function* locker() {
      using _ = yield* lock.acquire();
    });
    const b = asyncio.createTask(function* getter() {
      yield* queue.get();
    });
    yield* asyncio.sleep(0);
    const me = asyncio.currentTask();
    // Nobody records them: they are no one's children (not awaited by main).
    assert.deepEqual(asyncio.captureCallGraph(a)!.awaitedBy, []);
    const tree = asyncio.formatTaskTree();
    assert.match(tree, /locker\(\), waiting on Lock\.acquire\(\) on <Lock \[locked, waiters:1\]>/);
    assert.match(tree, /getter\(\), waiting on Queue\.get\(\) on <Queue/);
    yield* asyncio.gather([asyncio.createTask(function* () {
      queue.putNowait(1);
      yield* asyncio.sleep(0);
    })]);
    assert.ok(me);
    lock.release();
    yield* a;
    yield* b;
  });
});

Deno.test("captureCallGraph(): limit keeps the outermost frames (positive) or the innermost (negative), 0 none", async () => {
  const graphs: (asyncio.FutureCallGraph | null)[] = [];
  function* c3(): Gen<void> {
    yield* asyncio.sleep(0);
    for (const limit of [null, 1, -1, 0]) graphs.push(asyncio.captureCallGraph(null, { limit }));
  }
  function* c2(): Gen<void> {
    yield* c3();
  }
  function* c1(): Gen<void> {
    yield* c2();
  }
  await runVirtual(c1);
  const names = graphs.map((g) => g!.callStack.map((f) => f.name));
  assert.deepEqual(names, [["c3", "c2", "c1"], ["c1"], ["c3"], []]);
});

Deno.test("captureCallGraph(): outside a loop needs a future; with no running task it is null", () => {
  assert.throws(() => asyncio.captureCallGraph(), {
    message: /captureCallGraph\(\): no event loop is running and no 'future'/,
  });
  const loop = new asyncio.EventLoop();
  const fut = loop.createFuture<void>();
  assertIdentical(asyncio.captureCallGraph(fut), { future: fut, callStack: [], awaitedBy: [] });
  assert.equal(
    asyncio.formatCallGraph(fut),
    `* Future(id=${/0x[0-9a-f]+/.exec(asyncio.formatCallGraph(fut))![0]})`,
  );
  loop.close();
});

Deno.test("captureCallGraph(): an await cycle is cut where it closes", async () => {
  await runVirtual(function* main() {
    const gate = new asyncio.Future<void>();
    const b = asyncio.createTask(function* b() {
      yield* gate;
    }, { name: "b" });
    const a = asyncio.createTask(function* a() {
      yield* b;
    }, { name: "a" });
    // a waits on b; b says it awaits a (a cycle no cancellation could unwind).
    asyncio.futureAddToAwaitedBy(a, b);
    yield* asyncio.sleep(0);
    assert.deepEqual(walk(asyncio.captureCallGraph(b)!), ["T<b>", ["g b"], [[
      "T<a>",
      ["g a"],
      [],
    ]]]);
    const tree = asyncio.formatTaskTree();
    assert.match(tree, /↺ cycle: (a → b → a|b → a → b)/);
    assert.match(tree, /\ncycle: (a → b → a|b → a → b)$/);
    asyncio.futureDiscardFromAwaitedBy(a, b);
    gate.setResult();
    yield* a;
  });
});

Deno.test("printCallGraph(): CPython's layout", async () => {
  let text = "";
  await runVirtual(function* main() {
    const child = asyncio.createTask(function* child() {
      yield* asyncio.sleep(10);
    }, { name: "child" });
    asyncio.createTask(function* () {
      yield* asyncio.sleep(1);
      asyncio.printCallGraph(child, { write: (t) => text += t });
    });
    yield* child;
  });
  assert.match(
    text,
    new RegExp(
      String.raw`^\* Task\(name='child', id=0x[0-9a-f]+\)
  \+ Call stack:
  \|   in generator child\(\)
  \+ Awaited by:
    \* Task\(name='Task-\d+', id=0x[0-9a-f]+\)
      \+ Call stack:
      \|   in generator main\(\)
$`,
    ),
  );
});

Deno.test("futureAddToAwaitedBy(): a record once, gone when discarded; done awaiters are left out", async () => {
  await runVirtual(function* main() {
    const fut = new asyncio.Future<void>();
    const a = new asyncio.Future<void>();
    const b = new asyncio.Future<void>();
    asyncio.futureAddToAwaitedBy(fut, a);
    asyncio.futureAddToAwaitedBy(fut, a);
    asyncio.futureAddToAwaitedBy(fut, b);
    const by = () => asyncio.captureCallGraph(fut)!.awaitedBy.map((g) => g.future);
    assertIdentical(by(), [a, b]);
    b.setResult();
    assertIdentical(by(), [a]);
    asyncio.futureDiscardFromAwaitedBy(fut, a);
    asyncio.futureDiscardFromAwaitedBy(fut, a);
    assert.deepEqual(by(), []);
    yield* asyncio.sleep(0);
  });
});

Deno.test("the combinators' records go when their children finish", async () => {
  await runVirtual(function* main() {
    const child = asyncio.createTask(function* () {
      yield* asyncio.sleep(5);
    });
    const me = asyncio.currentTask();
    const graphOf = () => asyncio.captureCallGraph(child)!.awaitedBy.map((g) => g.future);
    const gathered = asyncio.gather([child]);
    assertIdentical(graphOf(), [me]);
    yield* gathered;
    assert.deepEqual(graphOf(), []);
  });
});
