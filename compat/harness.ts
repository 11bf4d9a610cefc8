/**
 * A tiny runtime-neutral test harness for the portable suite: `test(name, fn)`
 * registers a test, {@linkcode runTests} runs them in order and returns the
 * results as plain JSON. It uses nothing but ECMAScript and `setTimeout`, so
 * the same bundle runs on Deno, Node, Bun, workerd and in a browser page.
 *
 * @module
 */

/** One test's outcome. */
export interface TestResult {
  name: string;
  ok: boolean;
  ms: number;
  error?: string;
}

/** What a run of the suite reports, as JSON. */
export interface SuiteResult {
  passed: number;
  failed: number;
  tests: TestResult[];
}

/** A test body: may be async; throwing or rejecting fails the test. */
export type TestFn = () => unknown;

const registered: { name: string; fn: TestFn }[] = [];

/** Registers a test. Names must be unique. */
export function test(name: string, fn: TestFn): void {
  if (registered.some((t) => t.name === name)) throw new Error(`duplicate test name: ${name}`);
  registered.push({ name, fn });
}

/** The registered test names, in order. */
export function testNames(): string[] {
  return registered.map((t) => t.name);
}

/** Per-test limit: a test that neither settles nor fails in this time fails. */
const TEST_TIMEOUT_MS = 10_000;

// Captured at import: tests replace globals (MessageChannel, performance,
// setTimeout) for a while, and the harness must not be fooled by that.
const hostSetTimeout = globalThis.setTimeout;
const hostClearTimeout = globalThis.clearTimeout;
const hostDateNow = Date.now;

function describeError(error: unknown): string {
  if (error instanceof Error) {
    const stack = typeof error.stack === "string" ? error.stack : "";
    // V8 stacks start with "Name: message"; keep a few frames to locate the failure.
    const text = stack.startsWith(`${error.name}`)
      ? stack.split("\n").slice(0, 6).join("\n")
      : `${error.name}: ${error.message}`;
    return error.cause === undefined ? text : `${text}\n[cause] ${describeError(error.cause)}`;
  }
  return String(error);
}

/**
 * Runs every registered test (or those whose name includes `filter`), one
 * after the other, and returns the results.
 */
export async function runTests(filter?: string): Promise<SuiteResult> {
  const tests: TestResult[] = [];
  for (const { name, fn } of registered) {
    if (filter !== undefined && !name.includes(filter)) continue;
    const t0 = hostDateNow();
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      await Promise.race([
        Promise.resolve().then(fn),
        new Promise((_, reject) => {
          timer = hostSetTimeout(
            () => reject(new Error(`timed out after ${TEST_TIMEOUT_MS} ms`)),
            TEST_TIMEOUT_MS,
          );
        }),
      ]);
      tests.push({ name, ok: true, ms: hostDateNow() - t0 });
    } catch (error) {
      tests.push({ name, ok: false, ms: hostDateNow() - t0, error: describeError(error) });
    } finally {
      hostClearTimeout(timer);
    }
  }
  const passed = tests.filter((t) => t.ok).length;
  return { passed, failed: tests.length - passed, tests };
}

// ------------------------------------------------------------- assertions
//
// node:assert is not available in browsers or workerd (without nodejs_compat),
// so the suite brings its own few assertions.

/** Thrown by the assertions below. */
export class AssertionError extends Error {
  override name = "AssertionError";
}

function show(value: unknown): string {
  try {
    return typeof value === "string" ? JSON.stringify(value) : String(
      JSON.stringify(value, (_k, v) => (typeof v === "bigint" ? `${v}n` : v)) ?? value,
    );
  } catch {
    return String(value);
  }
}

/** Fails unless `condition` is truthy. */
export function ok(condition: unknown, message = "expected a truthy value"): asserts condition {
  if (!condition) throw new AssertionError(message);
}

/** Fails unless `actual === expected` (`Object.is`). */
export function equal<T>(actual: unknown, expected: T, message?: string): asserts actual is T {
  if (!Object.is(actual, expected)) {
    throw new AssertionError(
      `${message ? `${message}: ` : ""}expected ${show(expected)}, got ${show(actual)}`,
    );
  }
}

function deepEq(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const proto = Object.getPrototypeOf(a);
  if (proto !== Object.getPrototypeOf(b)) return false;
  // Any other object (a task, a future, a lock...) compares by identity: two
  // of them have no enumerable data to tell them apart.
  if (proto !== Object.prototype && proto !== null && !Array.isArray(a) && !(a instanceof Set)) {
    return false;
  }
  if (a instanceof Set && b instanceof Set) {
    return a.size === b.size && [...a].every((x) => b.has(x));
  }
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  return ka.every((k) =>
    deepEq((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k])
  );
}

/**
 * Fails unless `actual` and `expected` are structurally equal (arrays, plain
 * objects, sets); any other object must be the same one.
 */
export function deepEqual(actual: unknown, expected: unknown, message?: string): void {
  if (!deepEq(actual, expected)) {
    throw new AssertionError(
      `${message ? `${message}: ` : ""}expected ${show(expected)}, got ${show(actual)}`,
    );
  }
}

// deno-lint-ignore no-explicit-any
type ErrorClass = abstract new (...args: any[]) => Error;

/** Fails unless `fn()` throws an instance of `type`; returns the error. */
export function throws<E extends ErrorClass>(fn: () => unknown, type: E): InstanceType<E> {
  try {
    fn();
  } catch (error) {
    if (error instanceof type) return error as InstanceType<E>;
    throw new AssertionError(`expected ${type.name}, got ${describeError(error)}`);
  }
  throw new AssertionError(`expected ${type.name}, nothing was thrown`);
}

/** Fails unless `promise` rejects with an instance of `type`; resolves to the error. */
export async function rejects<E extends ErrorClass>(
  promise: PromiseLike<unknown>,
  type: E,
): Promise<InstanceType<E>> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof type) return error as InstanceType<E>;
    throw new AssertionError(`expected ${type.name}, got ${describeError(error)}`);
  }
  throw new AssertionError(`expected ${type.name}, the promise resolved`);
}

/** Wall time in ms, read with the host's `Date.now` captured at import. */
export function wallNow(): number {
  return hostDateNow();
}

/** Waits `ms` of real time with the host's own `setTimeout` (captured at import). */
export function realDelay(ms: number): Promise<void> {
  return new Promise((resolve) => hostSetTimeout(resolve, ms));
}
