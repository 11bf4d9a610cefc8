/**
 * The bad-input table: every export of mod.ts (functions, constructors,
 * public methods) against the bad values. For each argument and
 * each value the outcome must be a TypeError or RangeError whose message
 * names the function and the argument, or acceptance that the docs state.
 * No bad input may hang, leave loop state behind, or leave a timer (Deno's
 * sanitizers are on).
 *
 * Cases that do not meet this yet are listed in KNOWN_GAPS with what
 * happens instead; the test checks that they still fail, so it turns red
 * when one is fixed (then move it out of the list).
 *
 * @module
 */

import assert from "node:assert/strict";
import * as asyncio from "../mod.ts";

// ------------------------------------------------------------ the bad values

/** The bad values, made fresh for every call. */
const BAD = {
  undefined: () => undefined,
  null: () => null,
  NaN: () => NaN,
  negative: () => -1,
  Infinity: () => Infinity,
  string: () => "5",
  object: () => ({}),
  promise: () => Promise.resolve(1),
  generatorFunction: () =>
    function* () {
      return 1;
    },
  usedGenerator: () => {
    const generator = (function* () {
      return 1;
    })();
    generator.next();
    return generator;
  },
} as const;

type Bad = keyof typeof BAD;
const ALL = Object.keys(BAD) as Bad[];

// What the docs accept, by kind of argument.
/** An options bag: any object (fields default); `undefined` means none. */
const OPTIONS: Bad[] = ["undefined", "object", "promise", "usedGenerator"];
/** A delay or deadline in ms: negative means now, Infinity never. */
const DURATION: Bad[] = ["negative", "Infinity"];
/** Anything ensureFuture() takes: futures, tasks, generators, functions, promises. */
const AWAITABLE: Bad[] = ["promise", "generatorFunction"];
/** A coroutine: a generator or a function (a generator function is one). */
const COROUTINE: Bad[] = ["generatorFunction"];
/** A callback: any function. */
const CALLBACK: Bad[] = ["generatorFunction"];
/** An optional field: only `undefined` (the default). */
const OPTIONAL: Bad[] = ["undefined"];

// ------------------------------------------------------------ the table

interface Row {
  /** The call, as the test step names it. */
  name: string;
  /** What the message must name: the function or class. */
  fn: string;
  /** What the message must name: the argument (`'ms'`, `'options'`, `'aws[0]'`...). */
  arg: string;
  /** Makes the call with the bad value (inside a run() on a virtual clock unless `outside`). */
  call: (bad: unknown) => unknown;
  /** The values the docs accept here. */
  accepts: Bad[];
  /** Values not tried here, and why. */
  skip?: Partial<Record<Bad, string>>;
  /** Call outside any run() (run() itself cannot nest); a rejection of what it returns is not judged. */
  outside?: boolean;
  /** The call returns a promise: a rejection counts as the error. */
  async?: boolean;
}

const noop = () => {};
function* body(): Generator<unknown, number, unknown> {
  yield* asyncio.sleep(0);
  return 1;
}

/** A lock held by the caller, for the Condition methods that need it. */
function heldCondition(): asyncio.Condition {
  const condition = new asyncio.Condition();
  condition.acquire(); // free: acquired at once
  return condition;
}

const ROWS: Row[] = [
  // -- functions
  {
    name: "sleep(ms)",
    fn: "sleep()",
    arg: "ms",
    call: (v) => asyncio.sleep(v as number),
    accepts: DURATION,
  },
  {
    name: "sleep(ms, options)",
    fn: "sleep()",
    arg: "options",
    call: (v) => asyncio.sleep(1, v as never),
    accepts: OPTIONS,
  },
  {
    name: "sleep(ms, { signal })",
    fn: "sleep()",
    arg: "signal",
    call: (v) => asyncio.sleep(1, { signal: v as AbortSignal }),
    accepts: OPTIONAL,
  },
  {
    name: "waitFor(aw, ms)",
    fn: "waitFor()",
    arg: "aw",
    call: (v) => asyncio.waitFor(v as never, 10),
    accepts: AWAITABLE,
  },
  {
    name: "waitFor(aw, timeoutMs)",
    fn: "waitFor()",
    arg: "timeoutMs",
    call: (v) => asyncio.waitFor(asyncio.sleep(1), v as number),
    accepts: ["null", ...DURATION],
  },
  {
    name: "gather(aws)",
    fn: "gather()",
    arg: "aws",
    call: (v) => asyncio.gather(v as never),
    accepts: [],
    skip: { usedGenerator: "see KNOWN_GAPS: any generator object as `aws` is iterated" },
  },
  {
    name: "gather(aws, options)",
    fn: "gather()",
    arg: "options",
    call: (v) => asyncio.gather([], v as never),
    accepts: OPTIONS,
  },
  {
    name: "gather(aws, { returnExceptions })",
    fn: "gather()",
    arg: "returnExceptions",
    call: (v) => asyncio.gather([], { returnExceptions: v as boolean }),
    accepts: OPTIONAL,
  },
  {
    name: "shield(aw)",
    fn: "shield()",
    arg: "aw",
    call: (v) => asyncio.shield(v as never),
    accepts: AWAITABLE,
  },
  {
    name: "ensureFuture(aw)",
    fn: "ensureFuture()",
    arg: "aw",
    call: (v) => asyncio.ensureFuture(v as never),
    accepts: AWAITABLE,
  },
  {
    name: "createTask(coro)",
    fn: "createTask()",
    arg: "coro",
    call: (v) => asyncio.createTask(v as never),
    accepts: COROUTINE,
  },
  {
    name: "createTask(coro, options)",
    fn: "createTask()",
    arg: "options",
    call: (v) => asyncio.createTask(body, v as never),
    accepts: OPTIONS,
  },
  {
    name: "createTask(coro, { name })",
    fn: "createTask()",
    arg: "name",
    call: (v) => asyncio.createTask(body, { name: v as string }),
    accepts: ["undefined", "string"],
  },
  {
    name: "createTask(coro, { eagerStart })",
    fn: "createTask()",
    arg: "eagerStart",
    call: (v) => asyncio.createTask(body, { eagerStart: v as boolean }),
    accepts: OPTIONAL,
  },
  {
    name: "createTask(coro, { loop })",
    fn: "createTask()",
    arg: "loop",
    call: (v) => asyncio.createTask(body, { loop: v as asyncio.EventLoop }),
    accepts: OPTIONAL,
  },
  {
    name: "run(main)",
    fn: "run()",
    arg: "main",
    call: (v) => asyncio.run(v as never, { clock: new asyncio.VirtualClock({ autojump: true }) }),
    accepts: AWAITABLE,
    outside: true,
  },
  {
    name: "run(main, options)",
    fn: "run()",
    arg: "options",
    call: (v) => asyncio.run(body, v as never),
    accepts: ["undefined", "object", "promise", "usedGenerator"],
    outside: true,
  },
  {
    name: "run(main, { clock })",
    fn: "run()",
    arg: "clock",
    call: (v) => asyncio.run(body, { clock: v as asyncio.Clock }),
    accepts: OPTIONAL,
    outside: true,
  },
  {
    name: "run(main, { debug })",
    fn: "run()",
    arg: "debug",
    call: (v) =>
      asyncio.run(body, {
        debug: v as boolean,
        clock: new asyncio.VirtualClock({ autojump: true }),
      }),
    accepts: OPTIONAL,
    outside: true,
  },
  {
    name: "run(main, { handleSignals })",
    fn: "run()",
    arg: "handleSignals",
    call: (v) =>
      asyncio.run(body, {
        handleSignals: v as boolean,
        clock: new asyncio.VirtualClock({ autojump: true }),
      }),
    accepts: OPTIONAL,
    outside: true,
  },
  {
    name: "new Runner(options)",
    fn: "Cannot create Runner",
    arg: "options",
    call: (v) => new asyncio.Runner(v as never)[Symbol.dispose](),
    accepts: OPTIONS,
  },
  {
    name: "new Runner({ clock })",
    fn: "Cannot create Runner",
    arg: "clock",
    call: (v) => new asyncio.Runner({ clock: v as asyncio.Clock })[Symbol.dispose](),
    accepts: OPTIONAL,
  },
  {
    name: "new Runner({ debug })",
    fn: "Cannot create Runner",
    arg: "debug",
    call: (v) => new asyncio.Runner({ debug: v as boolean })[Symbol.dispose](),
    accepts: OPTIONAL,
  },
  {
    name: "new Runner({ handleSignals })",
    fn: "Cannot create Runner",
    arg: "handleSignals",
    call: (v) => new asyncio.Runner({ handleSignals: v as boolean })[Symbol.dispose](),
    accepts: OPTIONAL,
  },
  {
    name: "runner.run(main)",
    fn: "Runner.run()",
    arg: "main",
    call: (v) => {
      const runner = new asyncio.Runner({ clock: new asyncio.VirtualClock({ autojump: true }) });
      try {
        return runner.run(v as never).finally(() => runner.close());
      } catch (error) {
        runner[Symbol.dispose]();
        throw error;
      }
    },
    accepts: AWAITABLE,
    outside: true,
  },
  {
    name: "runner.run(main, { context })",
    fn: "Runner.run()",
    arg: "context",
    call: (v) => {
      const runner = new asyncio.Runner({ clock: new asyncio.VirtualClock({ autojump: true }) });
      try {
        return runner.run(function* () {}, { context: v as asyncio.Context }).finally(() =>
          runner.close()
        );
      } catch (error) {
        runner[Symbol.dispose]();
        throw error;
      }
    },
    accepts: OPTIONAL,
    outside: true,
  },
  {
    name: "staggeredRace(coroFns, delayMs)",
    fn: "staggeredRace()",
    arg: "coroFns",
    call: (v) => asyncio.staggeredRace(v as never, null),
    // A used generator is an empty iterable: a race without attempts.
    accepts: ["usedGenerator"],
  },
  {
    name: "staggeredRace([bad], delayMs)",
    fn: "staggeredRace()",
    arg: "coroFns[0]",
    call: (v) => asyncio.staggeredRace([v as never], null),
    accepts: CALLBACK,
  },
  {
    name: "staggeredRace(coroFns, delayMs) <- delayMs",
    fn: "staggeredRace()",
    arg: "delayMs",
    call: (v) => asyncio.staggeredRace([], v as number),
    accepts: ["null", ...DURATION],
  },
  {
    name: "staggeredRace(coroFns, delayMs, options)",
    fn: "staggeredRace()",
    arg: "options",
    call: (v) => asyncio.staggeredRace([], null, v as never),
    accepts: OPTIONS,
  },
  {
    name: "staggeredRace(coroFns, delayMs, { signal })",
    fn: "staggeredRace()",
    arg: "signal",
    call: (v) => asyncio.staggeredRace([], null, { signal: v as AbortSignal }),
    accepts: OPTIONAL,
  },
  {
    name: "timeout(ms, body)",
    fn: "timeout()",
    arg: "ms",
    call: (v) => asyncio.timeout(v as number, body),
    accepts: ["null", ...DURATION],
  },
  {
    name: "timeout(ms, body) body",
    fn: "timeout()",
    arg: "body",
    call: (v) => asyncio.timeout(10, v as never),
    accepts: COROUTINE,
  },
  {
    name: "timeoutAt(whenMs, body)",
    fn: "timeoutAt()",
    arg: "whenMs",
    call: (v) => asyncio.timeoutAt(v as number, body),
    accepts: ["null", ...DURATION],
  },
  {
    name: "timeoutAt(whenMs, body) body",
    fn: "timeoutAt()",
    arg: "body",
    call: (v) => asyncio.timeoutAt(10, v as never),
    accepts: COROUTINE,
  },
  {
    name: "taskGroup(body)",
    fn: "taskGroup()",
    arg: "body",
    call: (v) => asyncio.taskGroup(v as never),
    accepts: COROUTINE,
  },
  {
    name: "wait(futures)",
    fn: "wait()",
    arg: "futures",
    call: (v) => asyncio.wait(v as never),
    accepts: [],
  },
  {
    name: "wait(futures, options)",
    fn: "wait()",
    arg: "options",
    call: (v) => asyncio.wait([asyncio.sleep(1)], v as never),
    accepts: OPTIONS,
  },
  {
    name: "wait(futures, { timeout })",
    fn: "wait()",
    arg: "timeout",
    call: (v) => asyncio.wait([asyncio.sleep(1)], { timeout: v as number }),
    accepts: ["undefined", "null", ...DURATION],
  },
  {
    name: "wait(futures, { returnWhen })",
    fn: "wait()",
    arg: "returnWhen",
    call: (v) => asyncio.wait([asyncio.sleep(1)], { returnWhen: v as never }),
    accepts: OPTIONAL,
  },
  {
    name: "asCompleted(aws)",
    fn: "asCompleted()",
    arg: "aws",
    call: (v) => asyncio.asCompleted(v as never),
    accepts: [],
  },
  {
    name: "asCompleted(aws, options)",
    fn: "asCompleted()",
    arg: "options",
    call: (v) => asyncio.asCompleted([], v as never),
    accepts: OPTIONS,
  },
  {
    name: "asCompleted(aws, { timeout })",
    fn: "asCompleted()",
    arg: "timeout",
    call: (v) => asyncio.asCompleted([], { timeout: v as number }),
    accepts: ["undefined", "null", ...DURATION],
  },
  {
    name: "captureCallGraph(future)",
    fn: "captureCallGraph()",
    arg: "future",
    call: (v) => asyncio.captureCallGraph(v as never),
    accepts: ["undefined", "null"],
  },
  {
    name: "captureCallGraph(future, options)",
    fn: "captureCallGraph()",
    arg: "options",
    call: (v) => asyncio.captureCallGraph(null, v as never),
    accepts: OPTIONS,
  },
  {
    name: "captureCallGraph(future, { depth })",
    fn: "captureCallGraph()",
    arg: "depth",
    call: (v) => asyncio.captureCallGraph(null, { depth: v as number }),
    accepts: OPTIONAL,
  },
  {
    name: "captureCallGraph(future, { limit })",
    fn: "captureCallGraph()",
    arg: "limit",
    call: (v) => asyncio.captureCallGraph(null, { limit: v as number }),
    // A negative limit keeps the innermost frames; null keeps them all.
    accepts: ["undefined", "null", "negative"],
  },
  {
    name: "formatCallGraph(future)",
    fn: "formatCallGraph()",
    arg: "future",
    call: (v) => asyncio.formatCallGraph(v as never),
    accepts: ["undefined", "null"],
  },
  {
    name: "formatCallGraph(future, { depth })",
    fn: "formatCallGraph()",
    arg: "depth",
    call: (v) => asyncio.formatCallGraph(null, { depth: v as number }),
    accepts: OPTIONAL,
  },
  {
    name: "printCallGraph(future)",
    fn: "printCallGraph()",
    arg: "future",
    call: (v) => asyncio.printCallGraph(v as never, { write: () => {} }),
    accepts: ["undefined", "null"],
  },
  {
    name: "printCallGraph(future, { write })",
    fn: "printCallGraph()",
    arg: "write",
    call: (v) => asyncio.printCallGraph(null, { write: v as never }),
    accepts: [...OPTIONAL, ...CALLBACK],
    skip: { undefined: "prints the graph with console.log" },
  },
  {
    name: "printCallGraph(future, { limit })",
    fn: "printCallGraph()",
    arg: "limit",
    call: (v) => asyncio.printCallGraph(null, { limit: v as number, write: () => {} }),
    accepts: ["undefined", "null", "negative"],
  },
  {
    name: "formatTaskTree(loop)",
    fn: "formatTaskTree()",
    arg: "loop",
    call: (v) => asyncio.formatTaskTree(v as never),
    accepts: OPTIONAL,
  },
  {
    name: "printTaskTree(loop)",
    fn: "printTaskTree()",
    arg: "loop",
    call: (v) => asyncio.printTaskTree(v as never, { write: () => {} }),
    accepts: OPTIONAL,
  },
  {
    name: "printTaskTree(loop, options)",
    fn: "printTaskTree()",
    arg: "options",
    call: (v) => asyncio.printTaskTree(undefined, v as never),
    accepts: OPTIONS,
    skip: {
      undefined: "prints the tree with console.log",
      object: "prints the tree with console.log",
      promise: "prints the tree with console.log",
      usedGenerator: "prints the tree with console.log",
    },
  },
  {
    name: "printTaskTree(loop, { write })",
    fn: "printTaskTree()",
    arg: "write",
    call: (v) => asyncio.printTaskTree(undefined, { write: v as never }),
    accepts: [...OPTIONAL, ...CALLBACK],
    skip: { undefined: "prints the tree with console.log" },
  },
  {
    name: "futureAddToAwaitedBy(fut)",
    fn: "futureAddToAwaitedBy()",
    arg: "fut",
    call: (v) => asyncio.futureAddToAwaitedBy(v as never, new asyncio.Future()),
    accepts: [],
  },
  {
    name: "futureAddToAwaitedBy(fut, waiter)",
    fn: "futureAddToAwaitedBy()",
    arg: "waiter",
    call: (v) => asyncio.futureAddToAwaitedBy(new asyncio.Future(), v as never),
    accepts: [],
  },
  {
    name: "futureDiscardFromAwaitedBy(fut)",
    fn: "futureDiscardFromAwaitedBy()",
    arg: "fut",
    call: (v) => asyncio.futureDiscardFromAwaitedBy(v as never, new asyncio.Future()),
    accepts: [],
  },
  {
    name: "futureDiscardFromAwaitedBy(fut, waiter)",
    fn: "futureDiscardFromAwaitedBy()",
    arg: "waiter",
    call: (v) => asyncio.futureDiscardFromAwaitedBy(new asyncio.Future(), v as never),
    accepts: [],
  },
  {
    name: "allTasks(loop)",
    fn: "allTasks()",
    arg: "loop",
    call: (v) => asyncio.allTasks(v as never),
    accepts: OPTIONAL,
  },

  // -- EventLoop and VirtualClock
  {
    name: "new EventLoop(options)",
    fn: "EventLoop",
    arg: "options",
    call: (v) => new asyncio.EventLoop(v as never).close(),
    accepts: OPTIONS,
  },
  {
    name: "new EventLoop({ clock })",
    fn: "EventLoop",
    arg: "clock",
    call: (v) => new asyncio.EventLoop({ clock: v as asyncio.Clock }).close(),
    accepts: OPTIONAL,
  },
  {
    name: "new EventLoop({ debug })",
    fn: "EventLoop",
    arg: "debug",
    call: (v) => new asyncio.EventLoop({ debug: v as boolean }).close(),
    accepts: OPTIONAL,
  },
  {
    name: "new EventLoop({ slowCallbackMs })",
    fn: "EventLoop",
    arg: "slowCallbackMs",
    call: (v) => new asyncio.EventLoop({ slowCallbackMs: v as number }).close(),
    accepts: ["undefined", "Infinity"],
  },
  {
    name: "loop.callSoon(callback)",
    fn: "EventLoop.callSoon()",
    arg: "callback",
    call: (v) => asyncio.getRunningLoop().callSoon(v as never),
    accepts: CALLBACK,
  },
  {
    name: "loop.callLater(delayMs, callback)",
    fn: "EventLoop.callLater()",
    arg: "delayMs",
    call: (v) => asyncio.getRunningLoop().callLater(v as number, noop),
    accepts: DURATION,
  },
  {
    name: "loop.callLater(delayMs, callback) callback",
    fn: "EventLoop.callLater()",
    arg: "callback",
    call: (v) => asyncio.getRunningLoop().callLater(1, v as never),
    accepts: CALLBACK,
  },
  {
    name: "loop.callAt(whenMs, callback)",
    fn: "EventLoop.callAt()",
    arg: "whenMs",
    call: (v) => asyncio.getRunningLoop().callAt(v as number, noop),
    accepts: DURATION,
  },
  {
    name: "loop.callAt(whenMs, callback) callback",
    fn: "EventLoop.callAt()",
    arg: "callback",
    call: (v) => asyncio.getRunningLoop().callAt(1, v as never),
    accepts: CALLBACK,
  },
  {
    name: "loop.createTask(coro)",
    fn: "EventLoop.createTask()",
    arg: "coro",
    call: (v) => asyncio.getRunningLoop().createTask(v as never),
    accepts: COROUTINE,
  },
  {
    name: "loop.setExceptionHandler(handler)",
    fn: "EventLoop.setExceptionHandler()",
    arg: "handler",
    call: (v) =>
      new asyncio.EventLoop({ clock: new asyncio.VirtualClock() }).setExceptionHandler(v as never),
    accepts: ["null", ...CALLBACK],
  },
  {
    name: "loop.setTaskFactory(factory)",
    fn: "EventLoop.setTaskFactory()",
    arg: "factory",
    call: (v) =>
      new asyncio.EventLoop({ clock: new asyncio.VirtualClock() }).setTaskFactory(v as never),
    accepts: ["null", ...CALLBACK],
  },
  {
    name: "createEagerTaskFactory(taskConstructor)",
    fn: "createEagerTaskFactory()",
    arg: "taskConstructor",
    call: (v) => asyncio.createEagerTaskFactory(v as never),
    accepts: CALLBACK,
  },
  {
    name: "eagerTaskFactory(loop, coro, options)",
    fn: "eagerTaskFactory()",
    arg: "loop",
    call: (v) => asyncio.eagerTaskFactory(v as never, body, {}),
    accepts: [],
  },
  {
    name: "eagerTaskFactory(loop, coro, options) options",
    fn: "eagerTaskFactory()",
    arg: "options",
    call: (v) => asyncio.eagerTaskFactory(asyncio.getRunningLoop(), body, v as never),
    accepts: OPTIONS,
  },
  {
    name: "createTask(coro, { context })",
    fn: "createTask()",
    arg: "context",
    call: (v) => asyncio.createTask(body, { context: v as asyncio.Context }),
    accepts: OPTIONAL,
  },
  {
    name: "new ContextVar(name)",
    fn: "new ContextVar()",
    arg: "name",
    call: (v) => new asyncio.ContextVar(v as string),
    accepts: ["string"],
  },
  {
    name: "new ContextVar(name, options)",
    fn: "new ContextVar()",
    arg: "options",
    call: (v) => new asyncio.ContextVar("x", v as never),
    accepts: OPTIONS,
  },
  {
    name: "contextVar.set(value)",
    fn: "ContextVar.set()",
    arg: "value",
    call: (v) => new asyncio.Context().run(() => new asyncio.ContextVar("x").set(v)),
    accepts: ALL,
  },
  {
    name: "new Token(key, ...)",
    fn: "new Token()",
    arg: "key",
    call: (v) =>
      new asyncio.Token(v as symbol, new asyncio.Context(), new asyncio.ContextVar("x"), 1),
    accepts: [],
  },
  {
    name: "contextVar.reset(token)",
    fn: "ContextVar.reset()",
    arg: "token",
    call: (v) => new asyncio.ContextVar("x").reset(v as never),
    accepts: [],
  },
  {
    name: "context.run(fn)",
    fn: "Context.run()",
    arg: "fn",
    call: (v) => new asyncio.Context().run(v as never),
    accepts: CALLBACK,
  },
  {
    name: "context.get(variable)",
    fn: "Context.get()",
    arg: "variable",
    call: (v) => new asyncio.Context().get(v as never),
    accepts: [],
  },
  {
    name: "context.has(variable)",
    fn: "Context.has()",
    arg: "variable",
    call: (v) => new asyncio.Context().has(v as never),
    accepts: [],
  },
  {
    name: "loop.callExceptionHandler(context)",
    fn: "EventLoop.callExceptionHandler()",
    arg: "context",
    call: (v) => quietLoop().callExceptionHandler(v as never),
    accepts: ["object", "promise", "usedGenerator"],
  },
  {
    name: "loop.defaultExceptionHandler(context)",
    fn: "EventLoop.defaultExceptionHandler()",
    arg: "context",
    call: (v) => muted(() => quietLoop().defaultExceptionHandler(v as never)),
    accepts: ["object", "promise", "usedGenerator"],
  },
  {
    name: "loop.runUntilComplete(aw)",
    fn: "EventLoop.runUntilComplete()",
    arg: "aw",
    call: (v) => onFreshLoop((loop) => loop.runUntilComplete(v)),
    accepts: AWAITABLE,
    outside: true,
  },
  {
    name: "loop.setDebug(enabled)",
    fn: "EventLoop.setDebug()",
    arg: "enabled",
    call: (v) =>
      new asyncio.EventLoop({ clock: new asyncio.VirtualClock() }).setDebug(v as boolean),
    accepts: [],
  },
  {
    name: "clock.advance(ms)",
    fn: "VirtualClock",
    arg: "ms",
    call: (v) => new asyncio.VirtualClock().advance(v as number),
    accepts: [],
    async: true,
  },
  // setTimer is the Clock interface the loop calls; it checks what it is given.
  {
    name: "clock.setTimer(when, callback)",
    fn: "VirtualClock.setTimer()",
    arg: "when",
    call: (v) => new asyncio.VirtualClock().setTimer(v as number, noop),
    accepts: DURATION,
  },
  {
    name: "clock.setTimer(when, callback) callback",
    fn: "VirtualClock.setTimer()",
    arg: "callback",
    call: (v) => new asyncio.VirtualClock().setTimer(1, v as never),
    accepts: CALLBACK,
  },
  // Handles are made by the loop ("user code receives them"); nothing checks a hand-made one.
  {
    name: "new Handle(callback, args)",
    fn: "Handle",
    arg: "callback",
    call: (v) => new asyncio.Handle(v as never, []),
    accepts: ALL,
  },
  {
    name: "new TimerHandle(when, callback, args)",
    fn: "TimerHandle",
    arg: "when",
    call: (v) => new asyncio.TimerHandle(v as number, noop, []),
    accepts: ALL,
  },
  {
    name: "new VirtualClock(options)",
    fn: "VirtualClock",
    arg: "options",
    call: (v) => new asyncio.VirtualClock(v as never),
    accepts: OPTIONS,
  },
  {
    name: "new VirtualClock({ start })",
    fn: "VirtualClock",
    arg: "start",
    call: (v) => new asyncio.VirtualClock({ start: v as number }),
    accepts: ["undefined", "negative"],
  },
  {
    name: "new VirtualClock({ autojump })",
    fn: "VirtualClock",
    arg: "autojump",
    call: (v) => new asyncio.VirtualClock({ autojump: v as boolean }),
    accepts: OPTIONAL,
  },
  {
    name: "new VirtualClock({ deadlockAfterMs })",
    fn: "VirtualClock",
    arg: "deadlockAfterMs",
    call: (v) => new asyncio.VirtualClock({ deadlockAfterMs: v as number }),
    // Infinity turns the deadlock check off.
    accepts: ["undefined", "Infinity"],
  },

  // -- Future and Task
  {
    name: "new Future(options)",
    fn: "Future",
    arg: "options",
    call: (v) => new asyncio.Future(v as never),
    accepts: OPTIONS,
  },
  {
    name: "new Future({ loop })",
    fn: "Future",
    arg: "loop",
    call: (v) => new asyncio.Future({ loop: v as asyncio.EventLoop }),
    accepts: OPTIONAL,
  },
  {
    name: "future.setException(exception)",
    fn: "Future.setException()",
    arg: "exception",
    call: (v) => silenced(new asyncio.Future()).setException(v),
    accepts: ALL.filter((b) => b !== "undefined"),
  },
  {
    name: "future.setResult(value)",
    fn: "Future.setResult()",
    arg: "value",
    call: (v) => new asyncio.Future().setResult(v),
    accepts: ALL,
  },
  {
    name: "future.cancel(msg)",
    fn: "Future.cancel()",
    arg: "msg",
    call: (v) => new asyncio.Future().cancel(v as string),
    accepts: ["undefined", "string"],
  },
  {
    name: "future.addDoneCallback(callback)",
    fn: "Future.addDoneCallback()",
    arg: "callback",
    call: (v) => new asyncio.Future().addDoneCallback(v as never),
    accepts: CALLBACK,
  },
  // Python removes by equality and returns 0 when nothing matched.
  {
    name: "future.removeDoneCallback(callback)",
    fn: "Future.removeDoneCallback()",
    arg: "callback",
    call: (v) => new asyncio.Future().removeDoneCallback(v as never),
    accepts: ALL,
  },
  {
    name: "new Task(coro)",
    fn: "Task",
    arg: "coro",
    call: (v) => new asyncio.Task(v as never),
    accepts: COROUTINE,
  },
  // Documented: "other values are converted with String(), as in Python".
  {
    name: "task.setName(name)",
    fn: "Task.setName()",
    arg: "name",
    call: (v) => asyncio.createTask(body, { name: "t" }).setName(v as string),
    accepts: ALL,
  },
  {
    name: "task.cancel(msg)",
    fn: "Task.cancel()",
    arg: "msg",
    call: (v) => asyncio.createTask(body).cancel(v as string),
    accepts: ["undefined", "string"],
  },

  // -- primitives
  {
    name: "lock.acquire(options)",
    fn: "Lock.acquire()",
    arg: "options",
    call: (v) => new asyncio.Lock().acquire(v as never),
    accepts: OPTIONS,
  },
  {
    name: "lock.acquire({ signal })",
    fn: "Lock.acquire()",
    arg: "signal",
    call: (v) => new asyncio.Lock().acquire({ signal: v as AbortSignal }),
    accepts: OPTIONAL,
  },
  {
    name: "event.wait(options)",
    fn: "Event.wait()",
    arg: "options",
    call: (v) => new asyncio.Event().wait(v as never),
    accepts: OPTIONS,
  },
  {
    name: "event.wait({ signal })",
    fn: "Event.wait()",
    arg: "signal",
    call: (v) => new asyncio.Event().wait({ signal: v as AbortSignal }),
    accepts: OPTIONAL,
  },
  {
    name: "new Condition(lock)",
    fn: "Condition",
    arg: "lock",
    call: (v) => new asyncio.Condition(v as asyncio.Lock),
    accepts: OPTIONAL,
  },
  {
    name: "condition.wait(options)",
    fn: "Condition.wait()",
    arg: "options",
    call: (v) => heldCondition().wait(v as never),
    accepts: OPTIONS,
  },
  {
    name: "condition.waitFor(predicate)",
    fn: "Condition.waitFor()",
    arg: "predicate",
    call: (v) => heldCondition().waitFor(v as never),
    accepts: CALLBACK,
  },
  {
    name: "condition.notify(n)",
    fn: "Condition.notify()",
    arg: "n",
    call: (v) => heldCondition().notify(v as number),
    accepts: [...OPTIONAL, "Infinity"], // Infinity wakes every waiter (documented)
  },
  {
    name: "new Semaphore(value)",
    fn: "Semaphore",
    arg: "value",
    call: (v) => new asyncio.Semaphore(v as number),
    accepts: OPTIONAL,
  },
  {
    name: "semaphore.acquire(options)",
    fn: "Semaphore.acquire()",
    arg: "options",
    call: (v) => new asyncio.Semaphore(0).acquire(v as never),
    accepts: OPTIONS,
  },
  {
    name: "new BoundedSemaphore(value)",
    fn: "BoundedSemaphore",
    arg: "value",
    call: (v) => new asyncio.BoundedSemaphore(v as number),
    accepts: OPTIONAL,
  },
  {
    name: "new Barrier(parties)",
    fn: "Barrier",
    arg: "parties",
    call: (v) => new asyncio.Barrier(v as number),
    accepts: [],
  },
  {
    name: "barrier.wait(options)",
    fn: "Barrier.wait()",
    arg: "options",
    call: (v) => new asyncio.Barrier(2).wait(v as never),
    accepts: OPTIONS,
  },
  {
    name: "barrier.reset(options)",
    fn: "Barrier.reset()",
    arg: "options",
    call: (v) => new asyncio.Barrier(2).reset(v as never),
    accepts: OPTIONS,
  },
  {
    name: "barrier.abort(options)",
    fn: "Barrier.abort()",
    arg: "options",
    call: (v) => new asyncio.Barrier(2).abort(v as never),
    accepts: OPTIONS,
  },

  // -- queues
  {
    name: "new Queue(maxsize)",
    fn: "Queue",
    arg: "maxsize",
    call: (v) => new asyncio.Queue(v as number),
    accepts: ["undefined", "Infinity"],
  },
  {
    name: "new LifoQueue(maxsize)",
    fn: "LifoQueue",
    arg: "maxsize",
    call: (v) => new asyncio.LifoQueue(v as number),
    accepts: ["undefined", "Infinity"],
  },
  {
    name: "new PriorityQueue(maxsize)",
    fn: "PriorityQueue",
    arg: "maxsize",
    call: (v) => new asyncio.PriorityQueue(v as number),
    accepts: ["undefined", "Infinity"],
  },
  {
    name: "new PriorityQueue(maxsize, options)",
    fn: "PriorityQueue",
    arg: "options",
    call: (v) => new asyncio.PriorityQueue(0, v as never),
    accepts: OPTIONS,
  },
  {
    name: "new PriorityQueue(maxsize, { compare })",
    fn: "PriorityQueue",
    arg: "compare",
    call: (v) => new asyncio.PriorityQueue(0, { compare: v as never }),
    accepts: ["undefined", ...CALLBACK],
  },
  {
    name: "priorityQueue.putNowait(item)",
    fn: "PriorityQueue.putNowait()",
    arg: "item",
    call: (v) => new asyncio.PriorityQueue().putNowait(v),
    accepts: ["NaN", "negative", "Infinity", "string"],
  },
  {
    name: "priorityQueue.put(item)",
    fn: "PriorityQueue.put()",
    arg: "item",
    call: (v) => new asyncio.PriorityQueue().put(v),
    accepts: ["NaN", "negative", "Infinity", "string"],
  },
  {
    name: "queue.put(item, options)",
    fn: "Queue.put()",
    arg: "options",
    call: (v) => new asyncio.Queue().put(1, v as never),
    accepts: OPTIONS,
  },
  {
    name: "queue.put(item, { signal })",
    fn: "Queue.put()",
    arg: "signal",
    call: (v) => new asyncio.Queue().put(1, { signal: v as AbortSignal }),
    accepts: OPTIONAL,
  },
  {
    name: "queue.get(options)",
    fn: "Queue.get()",
    arg: "options",
    call: (v) => new asyncio.Queue().get(v as never),
    accepts: OPTIONS,
  },
  {
    name: "queue.join(options)",
    fn: "Queue.join()",
    arg: "options",
    call: (v) => new asyncio.Queue().join(v as never),
    accepts: OPTIONS,
  },
  {
    name: "queue.shutdown(immediate)",
    fn: "Queue.shutdown()",
    arg: "immediate",
    call: (v) => new asyncio.Queue().shutdown(v as boolean),
    accepts: OPTIONAL,
  },

  // -- task groups and errors
  {
    name: "group.createTask(coro)",
    fn: "TaskGroup.createTask()",
    arg: "coro",
    call: (v) => inGroup((tg) => tg.createTask(v as never)),
    accepts: COROUTINE,
  },
  {
    name: "group.createTask(coro, options)",
    fn: "TaskGroup.createTask()",
    arg: "options",
    call: (v) => inGroup((tg) => tg.createTask(body, v as never)),
    accepts: OPTIONS,
  },
  {
    name: "group.createTask(coro, { name })",
    fn: "TaskGroup.createTask()",
    arg: "name",
    call: (v) => inGroup((tg) => tg.createTask(body, { name: v as string })),
    accepts: ["undefined", "string"],
  },
  {
    name: "group.createTask(coro, { eagerStart })",
    fn: "TaskGroup.createTask()",
    arg: "eagerStart",
    call: (v) => inGroup((tg) => tg.createTask(body, { eagerStart: v as boolean })),
    accepts: OPTIONAL,
  },
  // The error classes are standard Error subclasses: any message is converted to a string.
  ...[
    asyncio.CancelledError,
    asyncio.TimeoutError,
    asyncio.InvalidStateError,
    asyncio.KeyboardInterrupt,
    asyncio.QueueEmpty,
    asyncio.QueueFull,
    asyncio.QueueShutDown,
    asyncio.BrokenBarrierError,
    asyncio.LookupError,
    asyncio.DeadlockError,
  ].flatMap((ErrorClass): Row[] => [
    {
      name: `new ${ErrorClass.name}(message)`,
      fn: ErrorClass.name,
      arg: "message",
      call: (v) => new ErrorClass(v as string),
      accepts: ALL,
    },
    {
      name: `new ${ErrorClass.name}(message, options)`,
      fn: ErrorClass.name,
      arg: "options",
      call: (v) => new ErrorClass("m", v as ErrorOptions),
      accepts: ALL,
    },
  ]),
  {
    name: "new ExceptionGroup(errors)",
    fn: "ExceptionGroup",
    arg: "errors",
    call: (v) => new asyncio.ExceptionGroup(v as never),
    accepts: ["string", "usedGenerator"],
  },
];

/** A loop whose exception handler keeps quiet, for callExceptionHandler(). */
function quietLoop(): asyncio.EventLoop {
  const loop = new asyncio.EventLoop({ clock: new asyncio.VirtualClock() });
  loop.setExceptionHandler(noop);
  return loop;
}

/** Runs `use` with console.error silenced (the default exception handler writes there). */
function muted(use: () => unknown): unknown {
  const original = console.error;
  console.error = noop;
  try {
    return use();
  } finally {
    console.error = original;
  }
}

/** Calls `use` with a new loop on an autojumping virtual clock, closed once the promise settles. */
function onFreshLoop(use: (loop: asyncio.EventLoop) => Promise<unknown>): Promise<unknown> {
  const loop = new asyncio.EventLoop({ clock: new asyncio.VirtualClock({ autojump: true }) });
  try {
    return use(loop).finally(() => loop.close());
  } catch (error) {
    loop.close();
    throw error;
  }
}

/** A future whose failure counts as seen (no report at the end of the run). */
function silenced<T>(future: asyncio.Future<T>): asyncio.Future<T> {
  future.addDoneCallback((f) => f.exception());
  return future;
}

/** Calls `use` with the group of a taskGroup() started now, as an eager task (its body runs at once). */
function inGroup(use: (group: asyncio.TaskGroup) => unknown): unknown {
  let outcome: { value: unknown } | { error: unknown } = { value: undefined };
  const group = asyncio.createTask(
    asyncio.taskGroup((tg) => {
      try {
        outcome = { value: use(tg) };
      } catch (error) {
        outcome = { error };
      }
    }),
    { eagerStart: true },
  );
  group.then(noop, noop);
  if ("error" in outcome) throw outcome.error;
  return outcome.value;
}

// ------------------------------------------------------------ known gaps

/**
 * `<row name> <- <value>`: what happens today instead of the contract. The
 * test requires each of these to still miss it, so it turns red once fixed.
 */
const KNOWN_GAPS: Record<string, string> = {
  ...gaps(
    [
      "waitFor(aw, ms)",
      "shield(aw)",
      "ensureFuture(aw)",
      "createTask(coro)",
      "loop.createTask(coro)",
      "new Task(coro)",
      "group.createTask(coro)",
      "run(main)",
      "runner.run(main)",
      "loop.runUntilComplete(aw)",
    ],
    ["usedGenerator"],
    "A finished generator is accepted and its task completes at once with undefined " +
      "(CPython raises RuntimeError: cannot reuse already awaited coroutine). JavaScript cannot " +
      "tell a finished generator from a fresh one; the README says so.",
  ),
};

/** Gap entries for `rows` and `values` ("rejected": every value the row does not accept). */
function gaps(rows: string[], values: Bad[] | "rejected", why: string): Record<string, string> {
  const entries: Record<string, string> = {};
  for (const name of rows) {
    const row = ROWS.find((r) => r.name === name);
    if (row === undefined) throw new Error(`KNOWN_GAPS: no row ${name}`);
    const list = values === "rejected" ? ALL.filter((b) => !row.accepts.includes(b)) : values;
    for (const bad of list) entries[`${name} <- ${bad}`] = why;
  }
  return entries;
}

/**
 * Not run at all: `gather(generator)`. A generator object passed as the
 * `aws` iterable (for `[generator]`, or Python's `gather(coro)`) is
 * iterated: it runs the coroutine synchronously and yields the pending
 * future it waits on, again and again, until the array passed 2^32-1
 * elements: 14 s of CPU and gigabytes of memory, then RangeError
 * "Invalid array length" (measured with a coroutine that sleeps). A used
 * generator is an empty iterable: gather resolves to [] silently.
 */
export const NOT_RUN = ["gather(aws) <- a generator object (fresh or used)"];

// ------------------------------------------------------------ the engine

type Outcome = { kind: "accepted" } | { kind: "error"; error: unknown };

function outcomeOf(row: Row, bad: Bad): Outcome {
  try {
    const result = row.call(BAD[bad]());
    if (result instanceof Promise) result.catch(noop); // run() rejections are checked below
    return { kind: "accepted" };
  } catch (error) {
    return { kind: "error", error };
  }
}

/** Why the outcome breaks the contract, or null. */
function judge(row: Row, bad: Bad, outcome: Outcome): string | null {
  const accepted = row.accepts.includes(bad);
  if (outcome.kind === "accepted") {
    return accepted ? null : "accepted, but the docs do not say so";
  }
  const error = outcome.error;
  if (accepted) return `the docs accept it, but it threw ${describeError(error)}`;
  if (!(error instanceof TypeError) && !(error instanceof RangeError)) {
    return `threw ${describeError(error)}, not a TypeError or RangeError`;
  }
  if (!error.message.includes(row.fn) || !error.message.includes(`'${row.arg}`)) {
    return `the message does not name ${row.fn} and '${row.arg}': ${describeError(error)}`;
  }
  return null;
}

function describeError(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

/** Runs every row inside (or outside) a run() on a virtual clock; returns the breaches. */
async function walk(rows: Row[]): Promise<Map<string, string>> {
  const breaches = new Map<string, string>();
  const check = (row: Row) => {
    for (const bad of ALL) {
      if (row.skip?.[bad] !== undefined) continue;
      const breach = judge(row, bad, outcomeOf(row, bad));
      if (breach !== null) breaches.set(`${row.name} <- ${bad}`, breach);
    }
  };
  const inside = rows.filter((row) => !row.outside && !row.async);
  const outside = rows.filter((row) => row.outside || row.async);
  const reports: asyncio.ExceptionContext[] = [];
  await asyncio.run(function* () {
    asyncio.getRunningLoop().setExceptionHandler((_loop, context) => {
      reports.push(context);
    });
    for (const row of inside) check(row);
    yield* asyncio.sleep(0);
  }, { clock: new asyncio.VirtualClock({ autojump: true }) });
  for (const row of outside) {
    for (const bad of ALL) {
      if (row.skip?.[bad] !== undefined) continue;
      let outcome: Outcome;
      try {
        const result = row.call(BAD[bad]());
        // An accepted run() must finish before the next one may start.
        if (result instanceof Promise) await (row.async ? result : result.catch(noop));
        outcome = { kind: "accepted" };
      } catch (error) {
        outcome = { kind: "error", error };
      }
      const breach = judge(row, bad, outcome);
      if (breach !== null) breaches.set(`${row.name} <- ${bad}`, breach);
    }
  }
  return breaches;
}

Deno.test("bad-input table: every export answers bad values with a TypeError/RangeError naming the function and the argument, or documented acceptance", async () => {
  const breaches = await walk(ROWS);
  const unexpected = [...breaches].filter(([key]) => !(key in KNOWN_GAPS));
  const fixed = Object.keys(KNOWN_GAPS).filter((key) => !breaches.has(key));
  assert.deepEqual(
    unexpected.map(([key, why]) => `${key}: ${why}`),
    [],
    "breaches of the contract that are not in KNOWN_GAPS",
  );
  assert.deepEqual(fixed, [], "KNOWN_GAPS entries that now meet the contract: remove them");
});

Deno.test("bad-input table: nothing hangs or is left behind afterwards", async () => {
  await walk(ROWS);
  assert.throws(() => asyncio.getRunningLoop(), /no running event loop/);
  const loop = asyncio.getEventLoop();
  assert.equal(loop.isClosed(), false);
  assert.equal(asyncio.allTasks(loop).size, 0, "no task left on the default loop");
  // The library still works.
  const result = await asyncio.run(function* () {
    yield* asyncio.sleep(10);
    return "fine";
  }, { clock: new asyncio.VirtualClock({ autojump: true }) });
  assert.equal(result, "fine");
});

// ------------------------------------------------------------ coverage of mod.ts

/** Exports and methods that take no argument (nothing to feed bad values to). */
const NO_ARGUMENTS = new Set([
  "copyContext",
  "currentTask",
  "getEventLoop",
  "getRunningLoop",
  "new Context",
  "new Event",
  "new Lock",
  "new TaskGroup",
]);

/** Whether a function's source declares parameters (`length` misses defaults and optionals). */
function declaresParameters(fn: (...args: never[]) => unknown): boolean {
  const source = Function.prototype.toString.call(fn);
  const open = source.indexOf("(");
  return open !== -1 && source.slice(open + 1, source.indexOf(")", open)).trim() !== "";
}

/** Prototype methods that are not part of the argument surface. */
const NOT_METHODS = new Set([
  "constructor",
  "toString",
  // A Future is its own yield* iterator; kept out of its public type.
  "next",
  "throw",
  // A task's result comes from its coroutine: these always throw Error (documented).
  "setResult",
  "setException",
  // Promise interop: Promise's own rules (non-functions are ignored).
  "then",
  "catch",
  "finally",
]);

Deno.test("bad-input table: covers every export of mod.ts that takes arguments, and their public methods", () => {
  const missing: string[] = [];
  const covered = (prefix: string) =>
    ROWS.some((row) => row.name.startsWith(prefix) || row.name.includes(` ${prefix}`));
  for (const [name, value] of Object.entries(asyncio)) {
    if (typeof value !== "function") continue;
    const isClass = /^class\b/.test(Function.prototype.toString.call(value));
    if (!isClass) {
      if (!NO_ARGUMENTS.has(name) && !covered(`${name}(`)) missing.push(`${name}()`);
      continue;
    }
    if (!NO_ARGUMENTS.has(`new ${name}`) && !covered(`new ${name}(`)) missing.push(`new ${name}()`);
    const instance = name.charAt(0).toLowerCase() + name.slice(1);
    for (const method of Object.getOwnPropertyNames(value.prototype)) {
      if (NOT_METHODS.has(method)) continue;
      const descriptor = Object.getOwnPropertyDescriptor(value.prototype, method);
      const fn = descriptor?.value;
      if (typeof fn !== "function" || !declaresParameters(fn)) continue;
      const aliases = [`${instance}.${method}(`, `.${method}(`];
      if (!aliases.some((alias) => ROWS.some((row) => row.name.includes(alias)))) {
        missing.push(`${name}.prototype.${method}()`);
      }
    }
  }
  assert.deepEqual(missing, []);
});
