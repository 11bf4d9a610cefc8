import assert from "node:assert/strict";
import * as asyncio from "../mod.ts";
import { iterationCounter, runVirtual, thrownBy } from "./_helpers.ts";
import { crawlStructured, describeEnding } from "../examples/crawler_structured.ts";
import type { Fetcher } from "../examples/crawler.ts";

class MyExc extends Error {
  override name = "MyExc";
}

/** The constructor names of an ExceptionGroup's errors, as a set. */
function errorTypes(group: unknown): Set<string> {
  assert.ok(group instanceof asyncio.ExceptionGroup, `expected an ExceptionGroup, got ${group}`);
  return new Set(group.errors.map((e: Error) => e.constructor.name));
}

function* sleepThen<T>(ms: number, value: T): asyncio.Coroutine<T> {
  yield* asyncio.sleep(ms);
  return value;
}

function* crashAfter(ms: number, error: () => Error = () => new RangeError(`after ${ms}`)) {
  yield* asyncio.sleep(ms);
  throw error();
}

Deno.test("taskGroup(): waits for every child", async (t) => {
  // CPython: test_taskgroups.py test_taskgroup_01, test_taskgroup_02
  await t.step("children started at once", async () => {
    await runVirtual(function* () {
      let t1!: asyncio.Task<number>;
      let t2!: asyncio.Task<number>;
      yield* asyncio.taskGroup(function* (g) {
        t1 = g.createTask(sleepThen(100, 42));
        t2 = g.createTask(sleepThen(200, 11));
      });
      assert.equal(t1.result(), 42);
      assert.equal(t2.result(), 11);
      assert.equal(asyncio.getRunningLoop().time(), 200);
    });
  });
  await t.step("a child started later by the body", async () => {
    await runVirtual(function* () {
      let t2!: asyncio.Task<number>;
      const t1 = yield* asyncio.taskGroup(function* (g) {
        const first = g.createTask(sleepThen(100, 42));
        yield* asyncio.sleep(150);
        t2 = g.createTask(sleepThen(200, 11));
        return first;
      });
      assert.equal(t1.result(), 42);
      assert.equal(t2.result(), 11);
      assert.equal(asyncio.getRunningLoop().time(), 350);
    });
  });
});

Deno.test("taskGroup(): a child cancelled explicitly is not a failure", async () => {
  // CPython: test_taskgroups.py test_taskgroup_03
  await runVirtual(function* () {
    let t1!: asyncio.Task<number>;
    let t2!: asyncio.Task<number>;
    yield* asyncio.taskGroup(function* (g) {
      t1 = g.createTask(sleepThen(1_000, 42));
      yield* asyncio.sleep(150);
      t1.cancel();
      t2 = g.createTask(sleepThen(200, 11));
    });
    assert.ok(t1.cancelled());
    assert.equal(t2.result(), 11);
  });
});

Deno.test("taskGroup(): a failing child cancels its siblings; the group raises ExceptionGroup", async () => {
  // CPython: test_taskgroups.py test_taskgroup_04
  await runVirtual(function* () {
    let num = 0;
    let t2Cancel = false;
    let t2!: asyncio.Task<void>;
    const runner = asyncio.createTask(function* () {
      yield* asyncio.taskGroup(function* (g) {
        g.createTask(crashAfter(100));
        t2 = g.createTask(function* () {
          try {
            yield* asyncio.sleep(1_000);
          } catch (error) {
            t2Cancel = error instanceof asyncio.CancelledError;
            throw error;
          }
          num += 1;
        });
      });
      num += 10;
    });
    const error = yield* thrownBy(() => runner);
    assert.deepEqual(errorTypes(error), new Set(["RangeError"]));
    assert.equal(num, 0);
    assert.ok(t2Cancel);
    assert.ok(t2.cancelled());
  });
});

Deno.test("taskGroup(): children failing cancel the rest and the body; every failure is collected", async () => {
  // CPython: test_taskgroups.py test_cancel_children_on_child_error
  await runVirtual(function* () {
    let num = 0;
    let t2Cancel = false;
    let runnerCancel = false;
    const runner = asyncio.createTask(function* () {
      yield* asyncio.taskGroup(function* (g) {
        g.createTask(crashAfter(100));
        g.createTask(crashAfter(100));
        g.createTask(crashAfter(100));
        g.createTask(function* () {
          try {
            yield* asyncio.sleep(5_000);
          } catch (error) {
            t2Cancel = true;
            throw error;
          }
          num += 1;
        });
        try {
          yield* asyncio.sleep(10_000);
        } catch (error) {
          runnerCancel = error instanceof asyncio.CancelledError;
          throw error;
        }
      });
      num += 10;
    });
    const error = yield* thrownBy(() => runner);
    assert.deepEqual(errorTypes(error), new Set(["RangeError"]));
    // The three crash in the same iteration: all three are in the group.
    assert.equal((error as asyncio.ExceptionGroup).errors.length, 3);
    assert.equal(num, 0);
    assert.ok(t2Cancel);
    assert.ok(runnerCancel);
  });
});

Deno.test("taskGroup(): cancelling the parent cancels every child and re-raises CancelledError", async (t) => {
  // CPython: test_taskgroups.py test_cancellation, test_taskgroup_07
  for (const bodyWaits of [false, true]) {
    await t.step(
      bodyWaits ? "the body is waiting too" : "the group is waiting for children",
      async () => {
        await runVirtual(function* () {
          let num = 0;
          const foo = function* () {
            try {
              yield* asyncio.sleep(5_000);
            } catch (error) {
              num += 1;
              throw error;
            }
          };
          const runner = asyncio.createTask(function* () {
            yield* asyncio.taskGroup(function* (g) {
              for (let i = 0; i < 5; i++) g.createTask(foo);
              if (!bodyWaits) return;
              try {
                yield* asyncio.sleep(10_000);
              } catch (error) {
                num += 10;
                throw error;
              }
            });
          });
          yield* asyncio.sleep(100);
          assert.equal(runner.done(), false);
          runner.cancel();
          const error = yield* thrownBy(() => runner);
          assert.ok(error instanceof asyncio.CancelledError, `got ${error}`);
          assert.ok(runner.cancelled());
          assert.equal(num, bodyWaits ? 15 : 5);
        });
      },
    );
  }
});

Deno.test("taskGroup(): children that fail while being cancelled turn the cancellation into an ExceptionGroup", async () => {
  // CPython: test_taskgroups.py test_taskgroup_08
  await runVirtual(function* () {
    const foo = function* () {
      try {
        yield* asyncio.sleep(10_000);
      } finally {
        // deno-lint-ignore no-unsafe-finally
        throw new RangeError("in finally");
      }
    };
    const runner = asyncio.createTask(function* () {
      yield* asyncio.taskGroup(function* (g) {
        for (let i = 0; i < 5; i++) g.createTask(foo);
        yield* asyncio.sleep(10_000);
      });
    });
    yield* asyncio.sleep(100);
    runner.cancel();
    const error = yield* thrownBy(() => runner);
    assert.deepEqual(errorTypes(error), new Set(["RangeError"]));
    assert.equal((error as asyncio.ExceptionGroup).errors.length, 5);
  });
});

Deno.test("taskGroup(): a body that fails cancels the children and is in the group", async (t) => {
  // CPython: test_taskgroups.py test_taskgroup_09, test_taskgroup_10
  for (const waitFirst of [true, false]) {
    await t.step(waitFirst ? "after a wait" : "at once", async () => {
      await runVirtual(function* () {
        let t1!: asyncio.Task<number>;
        let t2!: asyncio.Task<number>;
        const error = yield* thrownBy(() =>
          asyncio.taskGroup(function* (g) {
            t1 = g.createTask(sleepThen(1_000, 42));
            t2 = g.createTask(sleepThen(2_000, 11));
            if (waitFirst) yield* asyncio.sleep(100);
            throw new RangeError("body");
          })
        );
        assert.deepEqual(errorTypes(error), new Set(["RangeError"]));
        assert.ok(t1.cancelled());
        assert.ok(t2.cancelled());
      });
    });
  }
});

Deno.test("taskGroup(): nested groups, parent cancelled, inner children fail in cleanup", async (t) => {
  // CPython: test_taskgroups.py test_taskgroup_11, test_taskgroup_12
  for (const outerChild of [false, true]) {
    await t.step(outerChild ? "with an outer child" : "without", async () => {
      await runVirtual(function* () {
        const foo = function* () {
          try {
            yield* asyncio.sleep(10_000);
          } finally {
            // deno-lint-ignore no-unsafe-finally
            throw new RangeError("in finally");
          }
        };
        const runner = asyncio.createTask(function* () {
          yield* asyncio.taskGroup(function* (g1) {
            if (outerChild) g1.createTask(() => asyncio.sleep(10_000));
            yield* asyncio.taskGroup(function* (g2) {
              for (let i = 0; i < 5; i++) g2.createTask(foo);
              yield* asyncio.sleep(10_000);
            });
          });
        });
        yield* asyncio.sleep(100);
        runner.cancel();
        const error = yield* thrownBy(() => runner);
        assert.deepEqual(errorTypes(error), new Set(["ExceptionGroup"]));
        const inner = (error as asyncio.ExceptionGroup).errors[0];
        assert.deepEqual(errorTypes(inner), new Set(["RangeError"]));
      });
    });
  }
});

Deno.test("taskGroup(): nested groups, which child crashes first decides the shape", async (t) => {
  // CPython: test_taskgroups.py test_taskgroup_13, test_taskgroup_14
  await t.step("outer child first: the inner group is just cancelled", async () => {
    await runVirtual(function* () {
      const error = yield* thrownBy(() =>
        asyncio.taskGroup(function* (g1) {
          g1.createTask(crashAfter(100));
          yield* asyncio.taskGroup(function* (g2) {
            g2.createTask(crashAfter(10_000));
          });
        })
      );
      assert.deepEqual(errorTypes(error), new Set(["RangeError"]));
    });
  });
  await t.step("inner child first: the inner group's ExceptionGroup is nested", async () => {
    await runVirtual(function* () {
      const error = yield* thrownBy(() =>
        asyncio.taskGroup(function* (g1) {
          g1.createTask(crashAfter(10_000));
          yield* asyncio.taskGroup(function* (g2) {
            g2.createTask(crashAfter(100));
          });
        })
      );
      assert.deepEqual(errorTypes(error), new Set(["ExceptionGroup"]));
      assert.deepEqual(
        errorTypes((error as asyncio.ExceptionGroup).errors[0]),
        new Set(["RangeError"]),
      );
    });
  });
});

Deno.test("taskGroup(): a child failing while the body handles an outside cancellation", async (t) => {
  // CPython: test_taskgroups.py test_taskgroup_15, test_taskgroup_16
  for (const nested of [false, true]) {
    await t.step(nested ? "through an extra task" : "directly", async () => {
      await runVirtual(function* () {
        const group = () =>
          asyncio.taskGroup(function* (g1) {
            g1.createTask(crashAfter(300));
            try {
              yield* asyncio.sleep(10_000);
            } catch (error) {
              yield* asyncio.sleep(500);
              throw error;
            }
          });
        const runner = asyncio.createTask(function* () {
          if (nested) yield* asyncio.createTask(group);
          else yield* group();
        });
        yield* asyncio.sleep(100);
        runner.cancel();
        const error = yield* thrownBy(() => runner);
        assert.deepEqual(errorTypes(error), new Set(["RangeError"]));
      });
    });
  }
});

Deno.test("taskGroup(): an empty group's body cancelled from outside", async (t) => {
  // CPython: test_taskgroups.py test_taskgroup_17, test_taskgroup_18
  await t.step("re-raises CancelledError", async () => {
    await runVirtual(function* () {
      let num = 0;
      const runner = asyncio.createTask(function* () {
        yield* asyncio.taskGroup(function* () {
          try {
            yield* asyncio.sleep(10_000);
          } catch (error) {
            num += 10;
            throw error;
          }
        });
      });
      yield* asyncio.sleep(100);
      runner.cancel();
      assert.ok((yield* thrownBy(() => runner)) instanceof asyncio.CancelledError);
      assert.equal(num, 10);
    });
  });
  await t.step("turned into another error: an ExceptionGroup", async () => {
    await runVirtual(function* () {
      const runner = asyncio.createTask(function* () {
        yield* asyncio.taskGroup(function* () {
          try {
            yield* asyncio.sleep(10_000);
          } catch {
            // Not a good idea, but supported.
            throw new MyExc();
          }
        });
      });
      yield* asyncio.sleep(100);
      runner.cancel();
      assert.deepEqual(errorTypes(yield* thrownBy(() => runner)), new Set(["MyExc"]));
    });
  });
});

Deno.test("taskGroup(): the body's own error and a child's are both collected", async () => {
  // CPython: test_taskgroups.py test_taskgroup_19 (20, 20a and 21 need BaseException: no JS equivalent)
  await runVirtual(function* () {
    const nested = function* () {
      try {
        yield* asyncio.sleep(10_000);
      } finally {
        // deno-lint-ignore no-unsafe-finally
        throw new MyExc();
      }
    };
    const error = yield* thrownBy(() =>
      asyncio.taskGroup(function* (g) {
        g.createTask(crashAfter(100));
        yield* nested();
      })
    );
    assert.deepEqual(errorTypes(error), new Set(["MyExc", "RangeError"]));
    // Children's failures first, the body's last (as CPython appends it on exit).
    assert.deepEqual((error as asyncio.ExceptionGroup).errors.map((e: Error) => e.name), [
      "RangeError",
      "MyExc",
    ]);
  });
});

Deno.test("taskGroup(): cancelled while children are still running", async () => {
  // CPython: test_taskgroups.py test_taskgroup_22
  await runVirtual(function* () {
    const runner = asyncio.createTask(function* () {
      yield* asyncio.taskGroup(function* (g) {
        g.createTask(sleepThen(1_000, 42));
        g.createTask(sleepThen(2_000, 11));
      });
    });
    yield* asyncio.sleep(50);
    runner.cancel();
    assert.ok((yield* thrownBy(() => runner)) instanceof asyncio.CancelledError);
  });
});

Deno.test("taskGroup(): finished children leave the group", async () => {
  // CPython: test_taskgroups.py test_taskgroup_23
  await runVirtual(function* () {
    yield* asyncio.taskGroup(function* (g) {
      for (let count = 0; count < 10; count++) {
        yield* asyncio.sleep(100);
        g.createTask(() => asyncio.sleep(300));
        if (count === 5) assert.match(String(g), /^<TaskGroup tasks=[1-4] entered>$/);
      }
      yield* asyncio.sleep(1_350);
      assert.equal(String(g), "<TaskGroup entered>");
    });
  });
});

Deno.test("taskGroup(): children may start more children while the group waits", async (t) => {
  // CPython: test_taskgroups.py test_taskgroup_24, test_taskgroup_25
  await t.step("a root child starts two more", async () => {
    await runVirtual(function* () {
      const started: number[] = [];
      yield* asyncio.taskGroup(function* (g) {
        g.createTask(function* () {
          yield* asyncio.sleep(100);
          for (const delay of [100, 200]) {
            g.createTask(function* () {
              yield* asyncio.sleep(delay);
              started.push(delay);
            });
          }
        });
      });
      assert.deepEqual(started, [100, 200]);
      assert.equal(asyncio.getRunningLoop().time(), 300);
    });
  });
  await t.step("hydras until Hercules fails", async () => {
    await runVirtual(function* () {
      let nhydras = 0;
      const hydra = (g: asyncio.TaskGroup) =>
        function* () {
          nhydras += 1;
          yield* asyncio.sleep(10);
          g.createTask(hydra(g));
          g.createTask(hydra(g));
        };
      const hercules = function* () {
        while (nhydras < 10) yield* asyncio.sleep(15);
        throw new RangeError("hercules");
      };
      const error = yield* thrownBy(() =>
        asyncio.taskGroup(function* (g) {
          g.createTask(hydra(g));
          g.createTask(hercules);
        })
      );
      assert.deepEqual(errorTypes(error), new Set(["RangeError"]));
      assert.ok(nhydras >= 10);
    });
  });
});

Deno.test("TaskGroup.createTask(): names and both coroutine styles", async () => {
  // CPython: test_taskgroups.py test_taskgroup_task_name
  await runVirtual(function* () {
    yield* asyncio.taskGroup(function* (g) {
      const t1 = g.createTask(function* () {
        yield* asyncio.sleep(0);
      }, { name: "yolo" });
      assert.equal(t1.getName(), "yolo");
      const t2 = g.createTask(async (signal: AbortSignal) => {
        await asyncio.sleep(1, { signal });
        return "async";
      });
      const t3 = g.createTask((function* () {
        yield* asyncio.sleep(0);
        return "generator object";
      })());
      assert.equal(yield* t2, "async");
      assert.equal(yield* t3, "generator object");
    });
  });
});

Deno.test("TaskGroup.createTask(): refused once the group is shutting down after a failure", async () => {
  // CPython: test_taskgroups.py test_taskgroup_no_create_task_after_failure
  await runVirtual(function* () {
    let refusal: unknown;
    const error = yield* thrownBy(() =>
      asyncio.taskGroup(function* (g) {
        g.createTask(crashAfter(1));
        g.createTask(function* () {
          try {
            yield* asyncio.sleep(1_000);
          } catch {
            try {
              g.createTask(crashAfter(1));
            } catch (error) {
              refusal = error;
            }
          }
        });
      })
    );
    assert.deepEqual(errorTypes(error), new Set(["RangeError"]));
    assert.ok(refusal instanceof Error);
    assert.match(
      (refusal as Error).message,
      /^TaskGroup\.createTask\(\): <TaskGroup tasks=\d+ errors=1 cancelling> is shutting down/,
    );
  });
});

Deno.test("taskGroup(): failures of a child and of the body's cleanup, caller not left cancelling", async () => {
  // CPython: test_taskgroups.py test_taskgroup_context_manager_exit_raises
  await runVirtual(function* () {
    const main = asyncio.createTask(function* () {
      const task = asyncio.currentTask()!;
      const error = yield* thrownBy(() =>
        asyncio.taskGroup(function* (tg) {
          try {
            tg.createTask(function* () {
              throw new MyExc();
            });
            yield* asyncio.sleep(1_000);
          } finally {
            // deno-lint-ignore no-unsafe-finally
            throw new MyExc("from the database");
          }
        })
      );
      assert.equal(task.cancelling(), 0);
      assert.equal((error as asyncio.ExceptionGroup).errors.length, 2);
      assert.deepEqual(errorTypes(error), new Set(["MyExc"]));
    });
    yield* main;
  });
});

Deno.test("TaskGroup.createTask(): refused before entering and after finishing; a generator given is closed", async () => {
  // CPython: test_taskgroups.py test_taskgroup_not_entered, test_taskgroup_finished, test_coro_closed_when_tg_closed
  const fresh = new asyncio.TaskGroup();
  const closedEarly = (function* () {
    yield* asyncio.sleep(0);
  })();
  assert.throws(() => fresh.createTask(closedEarly), {
    name: "Error",
    message:
      "TaskGroup.createTask(): <TaskGroup> has not been entered; groups are made by taskGroup(body), which passes them to body",
  });
  assert.deepEqual(closedEarly.next(), { done: true, value: undefined }, "closed");
  await runVirtual(function* () {
    let group!: asyncio.TaskGroup;
    yield* asyncio.taskGroup(function* (tg) {
      group = tg;
    });
    const coro = (function* () {
      yield* asyncio.sleep(0);
    })();
    assert.throws(() => group.createTask(coro), {
      name: "Error",
      message:
        "TaskGroup.createTask(): <TaskGroup entered> is finished; start tasks from its body or from its running children",
    });
    assert.deepEqual(coro.next(), { done: true, value: undefined });
  });
});

Deno.test("TaskGroup.createTask(): bad arguments throw TypeError", async () => {
  await runVirtual(function* () {
    yield* asyncio.taskGroup(function* (tg) {
      assert.throws(() => tg.createTask(42 as never), {
        name: "TypeError",
        message:
          "TaskGroup.createTask(): 'coro' must be a generator, a generator function or an async function, got 42",
      });
      assert.throws(
        () => tg.createTask(asyncio.sleep(1) as never),
        /got <Future pending>; it is already a future: wait on it/,
      );
      assert.throws(
        () => tg.createTask(function* () {}, 1 as never),
        /'options' must be an object/,
      );
      assert.throws(() => tg.createTask(function* () {}, { name: 1 as never }), TypeError);
    });
  });
  assert.throws(() => asyncio.taskGroup(5 as never), {
    name: "TypeError",
    message: "taskGroup(): 'body' must be a function, got 5",
  });
});

Deno.test("taskGroup(): the caller's cancel level is preserved", async () => {
  // CPython: test_taskgroups.py test_cancelling_level_preserved
  await runVirtual(function* () {
    yield* thrownBy(() =>
      asyncio.taskGroup(function* (tg) {
        tg.createTask(crashAfter(0));
      })
    );
    assert.equal(asyncio.currentTask()!.cancelling(), 0);
  });
});

Deno.test("taskGroup(): nested groups both failing", async () => {
  // CPython: test_taskgroups.py test_nested_groups_both_cancelled
  await runVirtual(function* () {
    const me = asyncio.currentTask()!;
    const outerError = yield* thrownBy(() =>
      asyncio.taskGroup(function* (outerTg) {
        const innerError = yield* thrownBy(() =>
          asyncio.taskGroup(function* (innerTg) {
            innerTg.createTask(crashAfter(0, () => new RangeError("inner")));
            outerTg.createTask(crashAfter(0, () => new TypeError("outer")));
          })
        );
        assert.deepEqual(errorTypes(innerError), new Set(["RangeError"]));
        // The outer group's own task has a cancellation pending from its failed child.
        assert.equal(asyncio.currentTask()!.cancelling(), 1);
      })
    );
    assert.deepEqual(errorTypes(outerError), new Set(["TypeError"]));
    assert.equal(me.cancelling(), 0);
  });
});

Deno.test("taskGroup(): a caller cancelled during the group still gets CancelledError afterwards", async () => {
  // CPython: test_taskgroups.py test_error_and_cancel
  await runVirtual(function* () {
    const event = new asyncio.Future<void>();
    const log: string[] = [];
    const inner = asyncio.createTask(function* () {
      try {
        yield* asyncio.taskGroup(function* (tg) {
          tg.createTask(function* () {
            event.setResult();
            yield* asyncio.sleep(0);
            throw new RangeError();
          });
          yield* asyncio.sleep(1_000);
          assert.fail("sleep in group should have been cancelled");
        });
      } catch (error) {
        assert.deepEqual(errorTypes(error), new Set(["RangeError"]));
        assert.equal(asyncio.currentTask()!.cancelling(), 1);
        log.push("group failed");
      }
      assert.equal(asyncio.currentTask()!.cancelling(), 1);
      yield* asyncio.sleep(1_000);
      assert.fail("sleep after group should have been cancelled");
    });
    yield* event;
    assert.equal(inner.cancelling(), 0);
    inner.cancel();
    assert.equal(inner.cancelling(), 1);
    assert.ok((yield* thrownBy(() => inner)) instanceof asyncio.CancelledError);
    assert.ok(inner.cancelled());
    assert.deepEqual(log, ["group failed"]);
  });
});

Deno.test("taskGroup(): an async body: its signal aborts on the first failure", async () => {
  await runVirtual(async () => {
    const log: string[] = [];
    const group = asyncio.taskGroup(async (tg, signal) => {
      tg.createTask(crashAfter(10));
      try {
        await asyncio.sleep(10_000, { signal });
      } catch (error) {
        log.push(`body: ${(error as Error).name}, aborted=${signal.aborted}`);
        throw error;
      }
    });
    await assert.rejects(group, (error) => {
      assert.deepEqual(errorTypes(error), new Set(["RangeError"]));
      return true;
    });
    assert.deepEqual(log, ["body: CancelledError, aborted=true"]);
  });
});

Deno.test("taskGroup(): async children are cancelled through their signals", async () => {
  await runVirtual(async () => {
    const log: string[] = [];
    await assert.rejects(
      asyncio.taskGroup(async (tg) => {
        tg.createTask(async (signal: AbortSignal) => {
          try {
            await asyncio.sleep(10_000, { signal });
          } catch (error) {
            log.push("slow child aborted");
            throw error;
          }
        });
        tg.createTask(async () => {
          await asyncio.sleep(5);
          throw new MyExc("failed");
        });
      }),
      asyncio.ExceptionGroup,
    );
    assert.deepEqual(log, ["slow child aborted"]);
  });
});

Deno.test("taskGroup(): resolves to the body's result once the children are done", async () => {
  await runVirtual(async () => {
    const order: string[] = [];
    const result = await asyncio.taskGroup(async (tg) => {
      tg.createTask(function* () {
        yield* asyncio.sleep(50);
        order.push("child");
      });
      order.push("body");
      return "result";
    });
    order.push("group");
    assert.equal(result, "result");
    assert.deepEqual(order, ["body", "child", "group"]);
    // A generator body returns a value too.
    assert.equal(
      await asyncio.taskGroup(function* () {
        return 7;
      }),
      7,
    );
  });
});

Deno.test("taskGroup(): a generator body runs inside the task that waits on it, its parent", async () => {
  // Python: `async with TaskGroup()` runs in the awaiting task, its _parent_task.
  await runVirtual(function* () {
    const me = asyncio.currentTask();
    let inside: unknown;
    let signal: AbortSignal | undefined;
    const group = asyncio.taskGroup(function* (_tg, s) {
      inside = asyncio.currentTask();
      signal = s;
      yield* asyncio.sleep(0);
    });
    yield* group;
    assert.equal(inside, me);
    assert.notEqual(signal, me!.signal, "the body's own signal: it aborts when the group does");
    assert.equal(signal!.aborted, false);
  });
});

Deno.test("TaskGroup.createTask(): an eager child that fails at once aborts the group immediately", async () => {
  await runVirtual(function* () {
    const log: string[] = [];
    let sibling!: asyncio.Task<void>;
    const error = yield* thrownBy(() =>
      asyncio.taskGroup(function* (tg) {
        sibling = tg.createTask(function* () {
          try {
            yield* asyncio.sleep(1_000);
          } catch (error) {
            log.push("sibling cancelled");
            throw error;
          }
        });
        const failed = tg.createTask(function* () {
          throw new MyExc("eager");
        }, { eagerStart: true });
        assert.ok(failed.done());
        assert.match(String(tg), /cancelling/);
        assert.ok(sibling.cancelling() > 0);
        yield* asyncio.sleep(0); // the body's next wait is cancelled
        log.push("not reached");
      })
    );
    assert.deepEqual(errorTypes(error), new Set(["MyExc"]));
    // Cancelled before its first step, the sibling never ran (as in CPython).
    assert.ok(sibling.cancelled());
    assert.deepEqual(log, []);
  });
});

Deno.test("ExceptionGroup: an AggregateError with its own name and a default-free message", () => {
  const errors = [new Error("a")];
  const group = new asyncio.ExceptionGroup(errors, "msg", { cause: "why" });
  assert.ok(group instanceof AggregateError);
  assert.ok(group instanceof Error);
  assert.equal(group.name, "ExceptionGroup");
  assert.equal(group.message, "msg");
  assert.equal(group.cause, "why");
  assert.deepEqual(group.errors, errors);
  assert.match(String(group), /^ExceptionGroup: msg$/);
});

Deno.test("taskGroup(): the ExceptionGroup's message counts the failures", async () => {
  await runVirtual(function* () {
    const one = yield* thrownBy(() =>
      asyncio.taskGroup(function* (tg) {
        tg.createTask(crashAfter(0));
      })
    );
    assert.equal((one as Error).message, "unhandled errors in a TaskGroup (1 sub-exception)");
    const two = yield* thrownBy(() =>
      asyncio.taskGroup(function* (tg) {
        tg.createTask(crashAfter(0));
        tg.createTask(crashAfter(0));
      })
    );
    assert.equal((two as Error).message, "unhandled errors in a TaskGroup (2 sub-exceptions)");
  });
});

Deno.test("taskGroup(): in debug mode a child's getStack() shows where it was created", async () => {
  await runVirtual(function* () {
    yield* asyncio.taskGroup(function* (tg) {
      const child = tg.createTask(() => asyncio.sleep(0));
      const stack = child.getStack();
      assert.ok(stack.some((line) => line.includes("task_group_test.ts")), stack.join("\n"));
    });
  }, { debug: true });
  await runVirtual(function* () {
    yield* asyncio.taskGroup(function* (tg) {
      assert.deepEqual(tg.createTask(() => asyncio.sleep(0)).getStack(), []);
    });
  });
});

Deno.test("taskGroup(): no report in a run where every failure reached the caller", async () => {
  const reports: asyncio.ExceptionContext[] = [];
  await runVirtual(function* () {
    asyncio.getRunningLoop().setExceptionHandler((_loop, context) => reports.push(context));
    yield* thrownBy(() =>
      asyncio.taskGroup(function* (tg) {
        tg.createTask(crashAfter(5));
        tg.createTask(crashAfter(5));
        yield* asyncio.sleep(100);
      })
    );
  });
  assert.deepEqual(reports, []);
});

// ------------------------------------------------ the structured crawler example
//
// examples/crawler_structured.ts on a virtual clock with a fake fetch that
// waits on loop time and honours its signal (rejecting with the reason, as
// fetch does).

function fakeFetch(routes: Record<string, { ms: number; status?: number }>): {
  fetch: Fetcher;
  aborted: Record<string, number>;
} {
  const aborted: Record<string, number> = {};
  const fetch: Fetcher = async (url, { signal }) => {
    const loop = asyncio.getRunningLoop();
    const path = new URL(url).pathname;
    const route = routes[path];
    signal.addEventListener("abort", () => aborted[path] = loop.time(), { once: true });
    await asyncio.sleep(route.ms, { signal });
    return new Response(`answer of ${path}\n`, { status: route.status ?? 200 });
  };
  return { fetch, aborted };
}

const SITE = "http://site.test";

Deno.test("crawler_structured: the first failure cancels the other requests and aborts their fetches", async () => {
  const { fetch, aborted } = fakeFetch({
    "/ok/1": { ms: 10 },
    "/bad/2": { ms: 20, status: 500 },
    "/slow/3": { ms: 5_000 },
    "/slow/4": { ms: 6_000 },
  });
  const urls = ["/ok/1", "/bad/2", "/slow/3", "/slow/4"].map((p) => SITE + p);
  const seen: string[] = [];
  const report = await runVirtual(() =>
    crawlStructured(urls, { fetch, onResult: (r) => seen.push(`${r.outcome} ${r.url}`) })
  );
  assert.equal(report.ending, "failed");
  assert.deepEqual(report.results.map((r) => r.outcome), [
    "ok",
    "failed",
    "cancelled",
    "cancelled",
  ]);
  assert.equal(report.errors.length, 1);
  assert.equal(report.errors[0].message, "/bad/2: HTTP 500: answer of /bad/2");
  assert.deepEqual(aborted, { "/slow/3": 20, "/slow/4": 20 }, "aborted when /bad/2 failed");
  assert.equal(report.elapsedMs, 20);
  assert.deepEqual(report.progress, {
    total: 4,
    done: 4,
    ok: 1,
    timeout: 0,
    failed: 1,
    cancelled: 2,
  });
  assert.equal(seen.length, 4);
  assert.match(describeEnding(report), /ExceptionGroup of 1 error:\n {2}- \/bad\/2: HTTP 500/);
  assert.match(describeEnding(report), /2 requests were cancelled/);
});

Deno.test("crawler_structured: a request's own deadline is a failure too", async () => {
  const { fetch, aborted } = fakeFetch({ "/slow/1": { ms: 5_000 }, "/slow/2": { ms: 9_000 } });
  const report = await runVirtual(() =>
    crawlStructured([SITE + "/slow/1", SITE + "/slow/2"], { fetch, deadlineMs: 300 })
  );
  assert.equal(report.ending, "failed");
  // Both deadlines pass in the same iteration: both are failures, nothing is left to cancel.
  assert.deepEqual(report.results.map((r) => r.outcome), ["timeout", "timeout"]);
  assert.equal(report.errors[0].message, "/slow/1: no full answer within 300 ms");
  assert.ok(report.errors[0].cause instanceof asyncio.TimeoutError);
  assert.deepEqual(aborted, { "/slow/1": 300, "/slow/2": 300 });
});

Deno.test("crawler_structured: the round's deadline cancels the group from outside", async () => {
  const { fetch, aborted } = fakeFetch({ "/ok/1": { ms: 10 }, "/slow/2": { ms: 5_000 } });
  const report = await runVirtual(() =>
    crawlStructured([SITE + "/ok/1", SITE + "/slow/2"], { fetch, roundDeadlineMs: 100 })
  );
  assert.equal(report.ending, "timeout");
  assert.deepEqual(report.results.map((r) => r.outcome), ["ok", "cancelled"]);
  assert.deepEqual(aborted, { "/slow/2": 100 });
  assert.equal(report.elapsedMs, 100);
  assert.match(describeEnding(report, 100), /deadline \(100 ms\) passed.*raised TimeoutError/);
});

Deno.test("crawler_structured: an interrupt cancels the round; everything succeeding completes it", async () => {
  const { fetch } = fakeFetch({ "/ok/1": { ms: 10 }, "/ok/2": { ms: 20 } });
  const urls = [SITE + "/ok/1", SITE + "/ok/2"];
  const done = await runVirtual(() => crawlStructured(urls, { fetch }));
  assert.equal(done.ending, "completed");
  assert.deepEqual(done.results.map((r) => r.detail), ["16 bytes", "16 bytes"]);
  assert.match(describeEnding(done), /every request succeeded/);
  const controller = new AbortController();
  const interrupted = await runVirtual(function* () {
    asyncio.getRunningLoop().callLater(15, () => controller.abort());
    return yield* crawlStructured(urls, { fetch, signal: controller.signal });
  });
  assert.equal(interrupted.ending, "interrupted");
  assert.ok(interrupted.interrupted);
  assert.deepEqual(interrupted.results.map((r) => r.outcome), ["ok", "cancelled"]);
  assert.match(describeEnding(interrupted), /^Interrupted: the round was cancelled; 1 request was/);
});

Deno.test("taskGroup(): the caller resumes in the same loop iteration as in CPython", async () => {
  // Compared with CPython 3.13: a TaskGroup with one child doing sleep(0) takes
  // 4 iterations, counted by a call_soon chain.
  await runVirtual(function* () {
    const ticks = iterationCounter();
    yield* asyncio.sleep(0);
    const t0 = ticks();
    yield* asyncio.taskGroup(function* (tg) {
      tg.createTask(() => asyncio.sleep(0));
    });
    assert.equal(ticks() - t0, 4);
  });
});

// ------------------------------------------------------------ TaskGroup.cancel() (3.15)
// CPython 3.15's test_taskgroups.py (gh-127214): test_taskgroup_cancel_children,
// test_taskgroup_cancel_body, test_taskgroup_cancel_idempotent,
// test_taskgroup_cancel_after_exit, test_taskgroup_cancel_with_errors,
// test_taskgroup_cancel_with_outside_cancel. CPython 3.13 on this machine has
// no cancel(): each expected log was checked with 3.13.0 patched with 3.15's
// cancel() and its __aexit__ that suppresses what is left (return True).

Deno.test("TaskGroup.cancel(): a child that found the answer stops the others; the group exits normally", async () => {
  const log: string[] = [];
  await runVirtual(function* () {
    yield* asyncio.taskGroup(function* (tg) {
      for (const ms of [30, 10]) {
        tg.createTask(function* () {
          try {
            yield* asyncio.sleep(ms);
            log.push(`found after ${ms}`);
            tg.cancel();
          } catch (error) {
            log.push(`${ms} cancelled`);
            throw error;
          }
        });
      }
    });
    log.push("exited normally");
    assert.equal(asyncio.currentTask()!.cancelling(), 0);
  });
  assert.deepEqual(log, ["found after 10", "30 cancelled", "exited normally"]);
});

for (const style of ["generator", "async"] as const) {
  Deno.test(`TaskGroup.cancel() from the body (${style} task): children and body cancelled, no CancelledError, idempotent`, async () => {
    // Python's log: cancelling=1, body cancelled, after: c.cancelled=True cancelling=0.
    const log: string[] = [];
    let child!: asyncio.Task<void>;
    let group!: asyncio.TaskGroup;
    const body = function* (tg: asyncio.TaskGroup) {
      group = tg;
      child = tg.createTask(function* () {
        yield* asyncio.sleep(10_000);
      });
      tg.cancel();
      tg.cancel();
      log.push(`cancelling=${asyncio.currentTask()!.cancelling()}`);
      try {
        yield* asyncio.sleep(1);
      } catch (error) {
        log.push("body cancelled");
        throw error;
      }
      return "unreachable";
    };
    const after = () => {
      log.push(
        `after: child cancelled=${child.cancelled()} cancelling=${
          asyncio.currentTask()!.cancelling()
        }`,
      );
      group.cancel(); // after the exit: nothing
    };
    if (style === "generator") {
      await runVirtual(function* () {
        const result = yield* asyncio.taskGroup(body);
        assert.equal(result, undefined, "no result: the body never returned");
        after();
      });
    } else {
      await runVirtual(async () => {
        const result = await asyncio.taskGroup(body);
        assert.equal(result, undefined, "no result: the body never returned");
        after();
      });
    }
    assert.deepEqual(log, [
      "cancelling=1",
      "body cancelled",
      "after: child cancelled=true cancelling=0",
    ]);
  });
}

Deno.test("TaskGroup.cancel(): an async body's signal aborts, and the group exits normally", async () => {
  const log: string[] = [];
  await runVirtual(async () => {
    await asyncio.taskGroup(async (tg, signal) => {
      tg.createTask(function* () {
        yield* asyncio.sleep(5);
        tg.cancel();
      });
      try {
        await asyncio.sleep(1_000, { signal });
      } catch (error) {
        log.push(`body: ${(error as Error).name}, signal aborted=${signal.aborted}`);
        throw error;
      }
    });
    log.push(`exited at ${asyncio.getRunningLoop().time()}`);
  });
  assert.deepEqual(log, ["body: CancelledError, signal aborted=true", "exited at 5"]);
});

Deno.test("TaskGroup.cancel(): failures before it still raise as an ExceptionGroup", async () => {
  // Python: 'not reached' is logged (the failure's callback runs after the
  // body's wake-up), then the group raises ExceptionGroup([ValueError]).
  const log: string[] = [];
  await runVirtual(function* () {
    const error = yield* thrownBy(() =>
      asyncio.taskGroup(function* (tg) {
        tg.createTask(function* () {
          throw new RangeError("x");
        });
        yield* asyncio.sleep(0);
        log.push("reached");
        tg.cancel(); // the group is already shutting down: nothing more
        yield* asyncio.sleep(0);
        log.push("not reached");
      })
    );
    assert.deepEqual(errorTypes(error), new Set(["RangeError"]));
    assert.equal(asyncio.currentTask()!.cancelling(), 0);
  });
  assert.deepEqual(log, ["reached"]);
});

Deno.test("TaskGroup.cancel(): a cancellation requested from elsewhere still propagates", async () => {
  // Python: the task running the group ends cancelled (inner cancelled True).
  await runVirtual(function* () {
    const inner = asyncio.createTask(function* () {
      yield* asyncio.taskGroup(function* (tg) {
        tg.createTask(function* () {
          yield* asyncio.sleep(10_000);
        });
        asyncio.currentTask()!.cancel();
        tg.cancel();
        yield* asyncio.sleep(1);
      });
      return "finished";
    });
    const error = yield* thrownBy(() => inner);
    assert.ok(error instanceof asyncio.CancelledError);
    assert.ok(inner.cancelled());
  });
});

Deno.test("TaskGroup.createTask(): a child made while its eager sibling's first step aborted the group is cancelled", async () => {
  // CPython gh-155418: an eager task can abort the group before it joins the
  // group's tasks; it must still be cancelled.
  const log: string[] = [];
  await runVirtual(function* () {
    yield* asyncio.taskGroup(function* (tg) {
      const eager = tg.createTask(function* () {
        tg.cancel();
        try {
          yield* asyncio.sleep(1_000);
          log.push("eager child finished");
        } catch (error) {
          log.push("eager child cancelled");
          throw error;
        }
      }, { eagerStart: true });
      log.push(`eager child cancelling=${eager.cancelling()}`);
    });
  });
  assert.deepEqual(log, ["eager child cancelling=1", "eager child cancelled"]);
});

Deno.test("TaskGroup.cancel(): an outside cancel while the group waits for its children is not dropped", async () => {
  // CPython gh-155433: after uncancel() the cancellation left over is not the
  // group's, so its CancelledError propagates instead of being swallowed.
  const log: string[] = [];
  await runVirtual(function* () {
    const runner = asyncio.createTask(function* () {
      yield* asyncio.taskGroup(function* (tg) {
        tg.createTask(function* () {
          try {
            yield* asyncio.sleep(1_000);
          } finally {
            yield* asyncio.shield(asyncio.sleep(10)); // a slow cleanup
            log.push("child cleaned up");
          }
        });
        yield* asyncio.sleep(0);
        tg.cancel();
      });
      log.push("not reached: the outside cancel was dropped");
    });
    yield* asyncio.sleep(5);
    runner.cancel(); // while the group waits for the child's cleanup
    const error = yield* thrownBy(() => runner);
    assert.ok(error instanceof asyncio.CancelledError);
  });
  assert.deepEqual(log, ["child cleaned up"]);
});
