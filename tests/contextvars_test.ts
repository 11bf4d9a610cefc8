import assert from "node:assert/strict";
import * as asyncio from "../mod.ts";
import { asyncContextKind, runVirtual, withoutHostContext } from "./_helpers.ts";

// ------------------------------------------------------------ variables, tokens, contexts

Deno.test("ContextVar: get() with a value, a fallback, the default, or a LookupError", () => {
  // CPython: test_context.py ContextTest.test_context_var_new_1, test_context_getset_1
  const withDefault = new asyncio.ContextVar<string>("withDefault", { default: "d" });
  const without = new asyncio.ContextVar<number>("without");
  const undefinedDefault = new asyncio.ContextVar<undefined>("undefinedDefault", {
    default: undefined,
  });
  assert.equal(withDefault.name, "withDefault");
  assert.equal(withDefault.get(), "d");
  assert.equal(withDefault.get("fallback"), "fallback");
  assert.equal(undefinedDefault.get(), undefined, "an explicit undefined default is a default");
  assert.throws(() => without.get(), {
    name: "LookupError",
    message:
      `ContextVar.get(): <ContextVar name="without"> has no value in this context and no default`,
  });
  assert.equal(without.get(3), 3);
  asyncio.copyContext().run(() => {
    const token = without.set(1);
    assert.equal(without.get(), 1);
    assert.equal(without.get(3), 1, "a value beats the fallback");
    assert.equal(token.var, without);
    assert.equal(token.oldValue, asyncio.Token.MISSING);
    without.reset(token);
    assert.throws(() => without.get(), asyncio.LookupError);
  });
  assert.equal(String(withDefault), `<ContextVar name="withDefault" default="d">`);
});

Deno.test("Token: reset restores the old value once; another variable's or context's token is refused", () => {
  // CPython: test_context.py test_context_getset_2 (token of another var),
  // test_context_getset_3 (used twice), test_context_getset_4 (another context)
  const a = new asyncio.ContextVar<number>("a", { default: 0 });
  const b = new asyncio.ContextVar<number>("b", { default: 0 });
  asyncio.copyContext().run(() => {
    const first = a.set(1);
    const second = a.set(2);
    assert.equal(second.oldValue, 1);
    a.reset(second);
    assert.equal(a.get(), 1);
    assert.throws(() => a.reset(second), {
      name: "InvalidStateError",
      message:
        /^ContextVar\.reset\(\): this token of <ContextVar name="a" default=0> was already used$/,
    });
    assert.throws(() => b.reset(first as unknown as asyncio.Token<number>), {
      name: "TypeError",
      message: /^ContextVar\.reset\(\): 'token' was made by another variable/,
    });
    asyncio.copyContext().run(() => {
      assert.throws(() => a.reset(first), {
        name: "Error",
        message: /made in another context; reset it where set\(\) was called$/,
      });
    });
    a.reset(first);
    assert.equal(a.get(), 0);
  });
  assert.throws(() => new asyncio.Token(Symbol(), new asyncio.Context(), a, 1), {
    name: "TypeError",
    message: "new Token(): 'key' is the package's own; tokens are made by ContextVar.set()",
  });
});

Deno.test("Token: `using` resets at the end of the block (3.14's `with var.set(x):`)", () => {
  // CPython 3.14: test_context.py test_token_contextmanager
  const level = new asyncio.ContextVar<number>("level", { default: 0 });
  asyncio.copyContext().run(() => {
    {
      using _outer = level.set(1);
      {
        using _inner = level.set(2);
        assert.equal(level.get(), 2);
      }
      assert.equal(level.get(), 1);
    }
    assert.equal(level.get(), 0);
  });
});

Deno.test("Context: run() enters it, copies are independent, it reads as a mapping", () => {
  // CPython: test_context.py test_context_run_1..5, test_context_copy_1, test_context_new_1
  const x = new asyncio.ContextVar<string>("x");
  const y = new asyncio.ContextVar<string>("y");
  const empty = new asyncio.Context();
  assert.equal(empty.size, 0);
  assert.equal(empty.run((a: number, b: number) => a + b, 2, 3), 5);
  empty.run(() => {
    x.set("1");
    y.set("2");
  });
  assert.equal(empty.get(x), "1");
  assert.equal(empty.get(new asyncio.ContextVar("other"), "none"), "none");
  assert.ok(empty.has(y));
  assert.deepEqual([...empty].map((v) => v.name), ["x", "y"]);
  assert.deepEqual([...empty.values()], ["1", "2"]);
  assert.deepEqual([...empty.entries()].map(([v, value]) => `${v.name}=${value}`), ["x=1", "y=2"]);
  const copy = empty.copy();
  copy.run(() => x.set("changed"));
  assert.equal(empty.get(x), "1");
  assert.equal(copy.get(x), "changed");
  assert.equal(String(copy), "<Context vars=2>");
  // Python: RuntimeError "cannot enter context: ... is already entered".
  empty.run(() => {
    assert.throws(() => empty.run(() => {}), {
      message: /^Context\.run\(\): this context is already entered/,
    });
  });
  // A throw leaves it: it can be entered again.
  assert.throws(() =>
    empty.run(() => {
      throw new RangeError("inside");
    }), RangeError);
  assert.equal(empty.run(() => x.get()), "1");
  assert.throws(() => x.get(), asyncio.LookupError, "the root context never saw x");
});

// ------------------------------------------------------------ tasks and callbacks

/** The CPython program behind the two tests below; its output with 3.13.0, line by line. */
const PYTHON_LOG = [
  "a sees main",
  "a after await sees a",
  "main sees main2, task context a",
  "cb1 sees main2",
  "cb3 sees main3",
  "cb2 sees main3",
  "b sees main3",
  "b after await sees b",
  "ctx after t1 b, task context is ctx true",
  "c sees b",
  "c after await sees c",
  "ctx after t2 c, main main3",
  "g1 sees main3",
  "g2 sees main3",
  "g1 after await sees g1",
  "g2 after await sees g2",
  "after gather main3",
  "outside root",
];

Deno.test("contexts: tasks copy the context they are created in; callbacks the one they are scheduled in (generator tasks)", async () => {
  // CPython: test_tasks.py test_context_1, test_context_3, test_context_4,
  // test_context_6, test_get_context; test_events.py call_soon/call_later
  // with contexts. The same program in Python 3.13 prints PYTHON_LOG.
  const cv = new asyncio.ContextVar<string>("cv", { default: "root" });
  const log: string[] = [];
  function* child(tag: string) {
    log.push(`${tag} sees ${cv.get()}`);
    cv.set(tag);
    yield* asyncio.sleep(0);
    log.push(`${tag} after await sees ${cv.get()}`);
  }
  await runVirtual(function* () {
    cv.set("main");
    const t = asyncio.createTask(() => child("a"));
    cv.set("main2");
    yield* t;
    log.push(`main sees ${cv.get()}, task context ${t.getContext().get(cv)}`);
    const loop = asyncio.getRunningLoop();
    const fut = loop.createFuture<void>();
    const cb = (x: number) => {
      log.push(`cb${x} sees ${cv.get()}`);
      cv.set("cb");
    };
    loop.callSoon(cb, 1);
    cv.set("main3");
    loop.callLater(1, cb, 2);
    loop.callSoon(() => {
      log.push(`cb3 sees ${cv.get()}`);
      fut.setResult();
    });
    yield* fut;
    yield* asyncio.sleep(10);
    const ctx = asyncio.copyContext();
    const t1 = asyncio.createTask(() => child("b"), { context: ctx });
    yield* t1;
    log.push(`ctx after t1 ${ctx.get(cv)}, task context is ctx ${t1.getContext() === ctx}`);
    yield* asyncio.createTask(() => child("c"), { context: ctx });
    log.push(`ctx after t2 ${ctx.get(cv)}, main ${cv.get()}`);
    yield* asyncio.gather([() => child("g1"), () => child("g2")]);
    log.push(`after gather ${cv.get()}`);
  });
  log.push(`outside ${cv.get()}`);
  assert.deepEqual(log, PYTHON_LOG);
});

Deno.test("contexts: the same program with async-function tasks (across await where the host has an async context)", async () => {
  const cv = new asyncio.ContextVar<string>("cv", { default: "root" });
  const log: string[] = [];
  async function child(tag: string) {
    log.push(`${tag} sees ${cv.get()}`);
    cv.set(tag);
    await asyncio.sleep(0);
    log.push(`${tag} after await sees ${cv.get()}`);
  }
  await runVirtual(async () => {
    cv.set("main");
    const t = asyncio.createTask(() => child("a"));
    cv.set("main2");
    await t;
    log.push(`main sees ${cv.get()}, task context ${t.getContext().get(cv)}`);
    const loop = asyncio.getRunningLoop();
    const fut = loop.createFuture<void>();
    const cb = (x: number) => {
      log.push(`cb${x} sees ${cv.get()}`);
      cv.set("cb");
    };
    loop.callSoon(cb, 1);
    cv.set("main3");
    loop.callLater(1, cb, 2);
    loop.callSoon(() => {
      log.push(`cb3 sees ${cv.get()}`);
      fut.setResult();
    });
    await fut;
    await asyncio.sleep(10);
    const ctx = asyncio.copyContext();
    const t1 = asyncio.createTask(() => child("b"), { context: ctx });
    await t1;
    log.push(`ctx after t1 ${ctx.get(cv)}, task context is ctx ${t1.getContext() === ctx}`);
    await asyncio.createTask(() => child("c"), { context: ctx });
    log.push(`ctx after t2 ${ctx.get(cv)}, main ${cv.get()}`);
    await asyncio.gather([() => child("g1"), () => child("g2")]);
    log.push(`after gather ${cv.get()}`);
  });
  log.push(`outside ${cv.get()}`);
  if (asyncContextKind !== "none") assert.deepEqual(log, PYTHON_LOG);
  else assert.fail("this test expects a host async context (Deno has AsyncLocalStorage)");
});

Deno.test("contexts: without a host async context, an async task's context holds until its first await", async () => {
  const cv = new asyncio.ContextVar<string>("cv", { default: "root" });
  const log: string[] = [];
  await withoutHostContext(() =>
    runVirtual(async () => {
      cv.set("main");
      await asyncio.createTask(async () => {
        log.push(`before await: ${cv.get()}`);
        await asyncio.sleep(0);
        log.push(`after await: ${cv.get()}`);
      });
      log.push(`main after await: ${cv.get()}`);
    })
  );
  // After the first await, code runs in the root context (documented).
  assert.deepEqual(log, ["before await: main", "after await: root", "main after await: root"]);
  assert.equal(cv.get(), "root");
});

Deno.test("contexts: a block runs in the context of the task that awaits it; handed to gather, in a copy", async () => {
  const cv = new asyncio.ContextVar<string>("cv", { default: "root" });
  const log: string[] = [];
  await runVirtual(function* () {
    cv.set("main");
    yield* asyncio.timeout(100, function* () {
      log.push(`timeout body sees ${cv.get()}`);
      cv.set("set in the body"); // the body is main's own code (Python's async with)
    });
    log.push(`main after the block sees ${cv.get()}`);
    yield* asyncio.gather([asyncio.waitFor(function* () {
      log.push(`gathered waitFor sees ${cv.get()}`);
      cv.set("in the gathered block");
    }, 100)]);
    log.push(`main after gather sees ${cv.get()}`);
  });
  assert.deepEqual(log, [
    "timeout body sees main",
    "main after the block sees set in the body",
    "gathered waitFor sees set in the body",
    "main after gather sees set in the body",
  ]);
});

Deno.test("contexts: a task factory and run() pass the context option through", async () => {
  const cv = new asyncio.ContextVar<string>("cv", { default: "root" });
  const ctx = new asyncio.Context();
  ctx.run(() => cv.set("given"));
  const seen = await runVirtual(function* () {
    asyncio.getRunningLoop().setTaskFactory(asyncio.eagerTaskFactory);
    const task = asyncio.createTask(function* () {
      return cv.get();
    }, { context: ctx });
    assert.equal(task.getContext(), ctx);
    return task.result();
  });
  assert.equal(seen, "given");
  assert.equal(cv.get(), "root");
});

Deno.test("contexts: a future's done callback runs in the root context; ctx.run keeps one (README)", async () => {
  // A difference from Python (add_done_callback copies the context): documented.
  const cv = new asyncio.ContextVar<string>("cv", { default: "root" });
  const log: string[] = [];
  await runVirtual(function* () {
    cv.set("main");
    const future = asyncio.getRunningLoop().createFuture<void>();
    future.addDoneCallback(() => log.push(`plain: ${cv.get()}`));
    const ctx = asyncio.copyContext();
    future.addDoneCallback((f) => ctx.run((_: unknown) => log.push(`kept: ${cv.get()}`), f));
    future.setResult();
    yield* asyncio.sleep(0);
  });
  assert.deepEqual(log, ["plain: root", "kept: main"]);
});
