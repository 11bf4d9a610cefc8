/**
 * Preloaded by `deno task test` (see deno.json): `assert.deepEqual` and its
 * kin refuse to compare futures, tasks, handles, loops, primitives and
 * queues. Those have no enumerable own properties, so a deep comparison
 * treats any two of them as equal (`deepEqual([taskA], [taskB])` passes):
 * an assertion that cannot fail. Compare them by identity (`assert.equal`,
 * element by element) or map them to names first.
 *
 * @module
 */

import assert from "node:assert/strict";
import { isOpaque } from "./_helpers.ts";

/** The first opaque object inside `value` (arrays, sets, maps, plain objects), or null. */
function findOpaque(value: unknown, seen = new Set<unknown>()): unknown {
  if (value === null || typeof value !== "object" || seen.has(value)) return null;
  seen.add(value);
  if (isOpaque(value)) return value;
  const children: unknown[] = value instanceof Map
    ? [...value.keys(), ...value.values()]
    : value instanceof Set || Array.isArray(value)
    ? [...(value as Iterable<unknown>)]
    : Object.getPrototypeOf(value) === Object.prototype || Object.getPrototypeOf(value) === null
    ? Object.values(value)
    : [];
  for (const child of children) {
    const found = findOpaque(child, seen);
    if (found !== null) return found;
  }
  return null;
}

type Deep = (actual: unknown, expected: unknown, message?: string | Error) => void;

function guard(name: string, original: Deep): Deep {
  return function (actual, expected, message) {
    const found = findOpaque(actual) ?? findOpaque(expected);
    if (found !== null) {
      throw new assert.AssertionError({
        message: `assert.${name}() compares ${found} deeply, and any two such objects are ` +
          "deeply equal: compare them by identity (assert.equal), or map them to names first",
        actual,
        expected,
        operator: name,
      });
    }
    original(actual, expected, message);
  };
}

const target = assert as unknown as Record<string, Deep>;
for (const name of ["deepEqual", "deepStrictEqual", "notDeepEqual", "notDeepStrictEqual"]) {
  target[name] = guard(name, target[name]);
}
