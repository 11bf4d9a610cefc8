/**
 * The fuzzer inside the test suite (no Python, no permissions): the fixed
 * regression scenarios must still print CPython's trace, and a batch of
 * generated scenarios must keep every invariant. `deno task fuzz` runs the
 * full differential half against CPython.
 *
 * @module
 */

import assert from "node:assert/strict";
import fc from "fast-check";
import { REGRESSIONS } from "./fuzz/regressions/index.ts";
import { runScenario } from "./fuzz/interp.ts";
import { firstDifference, sideBySide } from "./fuzz/compare.ts";
import { countSteps, finalize, kindsOf, scenarioArbitrary, STEP_KINDS } from "./fuzz/scenario.ts";

Deno.test("fuzz regressions: each fixed scenario prints the trace CPython printed", async (t) => {
  for (const regression of REGRESSIONS) {
    await t.step(regression.name, async () => {
      const ours = await runScenario(regression.scenario, { style: regression.style });
      assert.deepEqual(ours.violations, []);
      if (firstDifference(regression.expected, ours.trace) !== -1) {
        assert.fail(
          `${regression.name}: ${regression.note}\n${sideBySide(regression.expected, ours.trace)}`,
        );
      }
    });
  }
});

Deno.test("fuzz invariants: generated scenarios finish, leave nothing behind, lose no error, and replay identically", async () => {
  // A fixed seed: the batch is the same on every run; `deno task fuzz` varies it.
  await fc.assert(
    fc.asyncProperty(scenarioArbitrary(), async (scenario) => {
      const first = await runScenario(scenario);
      assert.deepEqual(first.violations, [], JSON.stringify(scenario));
      const second = await runScenario(scenario);
      assert.deepEqual(second.trace, first.trace, "the same scenario gives the same trace");
    }),
    { seed: 20_261_125, numRuns: 300 },
  );
});

Deno.test("fuzz language: scenarios use every step kind, and deadlines are distinct powers of two", () => {
  const seen = new Set<string>();
  let steps = 0;
  for (const scenario of fc.sample(scenarioArbitrary(), { seed: 7, numRuns: 300 })) {
    for (const kind of kindsOf(scenario)) seen.add(kind);
    steps += countSteps(scenario);
    const delays: number[] = [];
    const collect = (list: typeof scenario.root.steps): void => {
      for (const step of list) {
        if ("ms" in step && step.ms !== null && step.ms > 0) delays.push(step.ms);
        if ("body" in step) collect(step.body);
        if ("task" in step) collect(step.task.steps);
        if ("aw" in step && "task" in step.aw) collect(step.aw.task.steps);
        if ("aws" in step) { for (const aw of step.aws) if ("task" in aw) collect(aw.task.steps); }
      }
    };
    collect(scenario.root.steps);
    assert.equal(new Set(delays).size, delays.length, "every timer has its own delay");
    for (const ms of delays) {
      assert.ok(Number.isInteger(Math.log2(ms)) && ms < scenario.watchdog, `${ms} ms`);
    }
  }
  assert.deepEqual([...seen].sort(), [...STEP_KINDS].sort());
  assert.ok(steps / 300 > 5, "scenarios are not trivially small");
});

Deno.test("fuzz language: finalize drops what cannot run and keeps what can", () => {
  const scenario = finalize({
    queues: [1, 0],
    root: {
      result: 1,
      steps: [
        { k: "await", ref: 3 }, // nothing spawned yet: dropped
        { k: "reschedule", pick: 5, r: 1 }, // not in a timeout: dropped
        { k: "tgSpawn", task: { steps: [], result: 2 } }, // not in a group: dropped
        { k: "spawn", task: { steps: [{ k: "cancel", ref: 0, pick: 1 }], result: 3 }, pick: 5 },
        { k: "await", ref: 7 }, // the spawned task
        { k: "lock", lock: 0, body: [{ k: "lock", lock: 0, body: [] }] }, // no re-entry
        { k: "try", pick: 1, value: 4, body: [] }, // "error" + "return"
        { k: "try", pick: 6, value: 5, body: [] }, // "cancelled" + "continue" -> "return"
      ],
    },
  }, { selfCancel: false });
  assert.deepEqual(scenario.root.steps, [
    { op: "spawn", task: { id: 1, steps: [], result: 3 } }, // cancelling itself is off here
    { op: "await", id: 1 },
    { op: "lock", lock: 0, body: [] },
    { op: "try", catch: "error", then: "return", value: 4, body: [] },
    { op: "try", catch: "cancelled", then: "return", value: 5, body: [] },
  ]);
  const selfCancel = finalize({
    queues: [0, 0],
    root: { result: 0, steps: [{ k: "cancel", ref: 0, pick: 9 }] },
  }, { selfCancel: true });
  assert.deepEqual(selfCancel.root.steps, [{ op: "cancel", id: "self", msg: "m9" }]);
});

Deno.test("fuzz language: uncancel only in a CancelledError handler or after the task's own cancel", () => {
  const scenario = finalize({
    queues: [0, 0],
    semaphores: [{ value: 1, bounded: true }],
    root: {
      result: 0,
      steps: [
        { k: "uncancel" }, // not in a handler: dropped
        { k: "try", pick: 1, value: 1, body: [], handler: [{ k: "uncancel" }] }, // "error": no handler
        {
          k: "try",
          pick: 0,
          value: 2,
          body: [],
          handler: [{ k: "uncancel" }, { k: "sleep", pick: 0, r: 0 }],
        },
        { k: "cancel", ref: 0, pick: 8, n: 0 }, // self, withdrawn
        { k: "release", sem: 1 }, // no such semaphore: dropped
      ],
    },
  });
  assert.deepEqual(scenario.root.steps, [
    { op: "try", catch: "error", then: "return", value: 1, body: [] },
    {
      op: "try",
      catch: "cancelled",
      then: "return",
      value: 2,
      body: [],
      handler: [{ op: "uncancel" }],
    },
    { op: "cancel", id: "self", msg: null },
    { op: "cancelState" },
    { op: "uncancel" },
  ]);
});
