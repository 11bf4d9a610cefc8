/**
 * Test helpers: deterministic loops and report capture.
 *
 * @module
 */

import assert from "node:assert/strict";
import * as asyncio from "../mod.ts";
import { asyncContextKind, detectHost } from "../src/_host.ts";

/** A generator coroutine returning T. */
export type Gen<T = unknown> = Generator<unknown, T, unknown>;

/** Runs `main` under `run()` on an autojumping virtual clock. */
export function runVirtual<A extends asyncio.Awaitable<unknown>>(
  main: A,
  options: { start?: number; debug?: boolean } = {},
): Promise<asyncio.AwaitedResult<A>> {
  const clock = new asyncio.VirtualClock({ start: options.start ?? 0, autojump: true });
  return asyncio.run(main, { clock, debug: options.debug ?? false });
}

/** Collects what a loop reports to its exception handler. */
export function captureReports(loop: asyncio.EventLoop): asyncio.ExceptionContext[] {
  const reports: asyncio.ExceptionContext[] = [];
  loop.setExceptionHandler((_loop, context) => {
    reports.push(context);
  });
  return reports;
}

/**
 * A loop on a manual virtual clock for callback-level tests; closed (and
 * checked for leftovers) by the caller through the returned `close`.
 */
export function virtualLoop(options: { debug?: boolean; slowCallbackMs?: number } = {}): {
  loop: asyncio.EventLoop;
  clock: asyncio.VirtualClock;
  reports: asyncio.ExceptionContext[];
} {
  const clock = new asyncio.VirtualClock();
  const loop = new asyncio.EventLoop({ clock, ...options });
  const reports = captureReports(loop);
  return { loop, clock, reports };
}

/** Lets the loop run every iteration it can without time moving. */
export async function drain(loop: asyncio.EventLoop): Promise<void> {
  // A macrotask runs after every pending microtask, so after it the loop is idle.
  await new Promise<void>((resolve) => {
    const channel = new MessageChannel();
    channel.port1.onmessage = () => {
      channel.port1.close();
      channel.port2.close();
      resolve();
    };
    channel.port2.postMessage(null);
  });
  void loop;
}

/** Runs `main` on a virtual clock and fails if anything reached the loop's exception handler. */
export async function runChecked<T>(main: () => Gen<T>): Promise<T> {
  let reports: asyncio.ExceptionContext[] = [];
  const result = await runVirtual(function* () {
    reports = captureReports(asyncio.getRunningLoop());
    return yield* main();
  });
  assert.deepEqual(reports.map((r) => r.message), [], "nothing reported");
  return result as T;
}

/** Counts loop iterations: a callSoon chain that increments once per iteration. */
export function iterationCounter(): () => number {
  const loop = asyncio.getRunningLoop();
  let ticks = 0;
  const tick = () => {
    ticks++;
    loop.callSoon(tick);
  };
  loop.callSoon(tick);
  return () => ticks;
}

/** Asserts that a list is empty (without narrowing its type to never[]). */
export function assertEmpty(list: unknown[], message?: string): void {
  assert.equal(list.length, 0, message ?? `expected nothing, got ${list.map(String).join(", ")}`);
}

/**
 * A callSoon chain logging "cb0", "cb1", ...: one entry per loop iteration,
 * the same probe as `loop.call_soon` chains in the CPython programs the
 * ordering tests were compared with.
 */
export function chain(loop: asyncio.EventLoop, log: string[], last: number): void {
  const step = (i: number) => {
    log.push(`cb${i}`);
    if (i < last) loop.callSoon(step, i + 1);
  };
  loop.callSoon(step, 0);
}

/** Names of the callbacks a debug loop with slowCallbackMs 0 ran (it reports every one). */
export function ran(reports: asyncio.ExceptionContext[]): string[] {
  return reports.map((r) => /^Executing (.*) took/.exec(r.message)?.[1] ?? r.message);
}

/** Runs `body` and returns what it threw (fails if it did not throw). */
export function* thrownBy(
  body: () => asyncio.Coroutine<unknown> | asyncio.Future<unknown>,
): asyncio.Coroutine<unknown> {
  try {
    yield* body();
  } catch (error) {
    return error;
  }
  assert.fail("expected an error");
}

/** A VirtualClock that remembers the deadline the loop armed (null when disarmed). */
export class SpyClock implements asyncio.Clock {
  inner = new asyncio.VirtualClock({ autojump: true });
  armed: number | null = null;
  now(): number {
    return this.inner.now();
  }
  setTimer(when: number, callback: () => void): void {
    this.armed = when;
    this.inner.setTimer(when, () => {
      this.armed = null;
      callback();
    });
  }
  clearTimer(): void {
    this.armed = null;
    this.inner.clearTimer();
  }
}

/**
 * Runs `body` as on a host without an async context (a browser today): both
 * TC39 `AsyncContext` and `process.getBuiltinModule` hidden, the host module
 * made to look again, and everything put back afterwards.
 */
export async function withoutHostContext<T>(body: () => Promise<T>): Promise<T> {
  const names = ["AsyncContext", "process"] as const;
  const saved = names.map((name) => Object.getOwnPropertyDescriptor(globalThis, name));
  for (const name of names) {
    Object.defineProperty(globalThis, name, {
      value: undefined,
      configurable: true,
      writable: true,
    });
  }
  detectHost();
  try {
    assert.equal(asyncContextKind, "none");
    return await body();
  } finally {
    names.forEach((name, i) => {
      const descriptor = saved[i];
      if (descriptor === undefined) delete (globalThis as Record<string, unknown>)[name];
      else Object.defineProperty(globalThis, name, descriptor);
    });
    detectHost();
  }
}

/** The form of async context this host has, as the package found it. */
export { asyncContextKind };

/**
 * The package's objects without own data, which a deep comparison finds all
 * equal: {@linkcode assertIdentical} compares them by identity, and
 * `_assert_identity.ts` refuses `assert.deepEqual` over them.
 */
export const OPAQUE_KINDS: ReadonlyArray<abstract new (...args: never[]) => unknown> = [
  asyncio.Future,
  asyncio.Handle,
  asyncio.EventLoop,
  asyncio.Lock,
  asyncio.Event,
  asyncio.Condition,
  asyncio.Semaphore,
  asyncio.Barrier,
  asyncio.Queue,
  asyncio.TaskGroup,
  asyncio.Context,
  asyncio.ContextVar,
];

/** Whether `value` is one of {@linkcode OPAQUE_KINDS}. */
export function isOpaque(value: unknown): boolean {
  return OPAQUE_KINDS.some((kind) => value instanceof kind);
}

/**
 * `assert.deepEqual`, except that futures, tasks, handles, loops, primitives
 * and queues compare by identity (each becomes a token naming it and its
 * identity), so `assertIdentical([taskA], [taskB])` fails, where a plain deep
 * comparison would pass (see `_assert_identity.ts`).
 */
export function assertIdentical(actual: unknown, expected: unknown, message?: string): void {
  const ids = new Map<unknown, string>();
  const token = (value: unknown): string => {
    let id = ids.get(value);
    if (id === undefined) ids.set(value, id = `#${ids.size + 1} ${value}`);
    return id;
  };
  const map = (value: unknown): unknown => {
    if (value === null || typeof value !== "object") return value;
    if (isOpaque(value)) return token(value);
    if (Array.isArray(value)) return value.map(map);
    if (value instanceof Set) return new Set([...value].map(map));
    if (value instanceof Map) return new Map([...value].map(([k, v]) => [map(k), map(v)]));
    const proto = Object.getPrototypeOf(value);
    if (proto !== Object.prototype && proto !== null) return value;
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, map(v)]));
  };
  assert.deepEqual(map(actual), map(expected), message);
}
