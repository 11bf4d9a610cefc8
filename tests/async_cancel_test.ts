/**
 * Async-function tasks with Python's cancellation: where the host has an
 * async context, every await of a library future is a cancellation point
 * (issue "Async functions with Python's cancellation"). Each program here is
 * one that Python 3.13 runs the way the assertions say (checked by running
 * the same program there).
 */

import assert from "node:assert/strict";
import * as asyncio from "../mod.ts";
import {
  assertIdentical,
  asyncContextKind,
  captureReports,
  runVirtual,
  withoutHostContext,
} from "./_helpers.ts";

const hasContext = asyncContextKind !== "none";

/** The outcome of a finished future as a word, for comparisons. */
function outcome(future: asyncio.Future<unknown>): string {
  if (future.cancelled()) return "cancelled";
  const error = future.exception();
  return error === undefined ? `result ${String(future.result())}` : `error ${String(error)}`;
}

Deno.test("the test host has an async context", () => {
  // Deno 2 has AsyncLocalStorage behind process.getBuiltinModule; without it
  // the rest of this file would test nothing.
  assert.equal(asyncContextKind, "AsyncLocalStorage");
});

// ------------------------------------------------ the programs of the issue

Deno.test("run() cancels a background async loop when main returns", async () => {
  // Python: asyncio.run() cancels the task left over; its finally runs.
  const log: string[] = [];
  await runVirtual(async () => {
    asyncio.createTask(async () => {
      try {
        while (true) await asyncio.sleep(100);
      } finally {
        log.push(`poller stopped at ${asyncio.getRunningLoop().time()}`);
      }
    });
    await asyncio.sleep(50);
  });
  assert.deepEqual(log, ["poller stopped at 50"]);
});

Deno.test("timeout() around an async body awaiting gather raises TimeoutError at the deadline", async () => {
  await runVirtual(async () => {
    const loop = asyncio.getRunningLoop();
    const stopped: string[] = [];
    const child = async (name: string, ms: number) => {
      try {
        await asyncio.sleep(ms);
        return name;
      } finally {
        stopped.push(`${name} at ${loop.time()}`);
      }
    };
    let scope!: asyncio.Timeout;
    await assert.rejects(
      asyncio.timeout(600, async (_signal, cm) => {
        scope = cm;
        return await asyncio.gather([child("a", 200), child("b", 800), child("c", 900)]);
      }),
      asyncio.TimeoutError,
    );
    assert.equal(loop.time(), 600);
    assert.ok(scope.expired());
    assert.deepEqual(stopped, ["a at 200", "b at 600", "c at 600"]);
  });
});

Deno.test("cancelling a task that awaits another task cancels the inner one", async () => {
  // CPython: test_tasks.py test_cancel_inner_future (async-function form).
  await runVirtual(async () => {
    const inner = asyncio.createTask(async () => {
      await asyncio.sleep(1_000);
      return "inner done";
    });
    const outer = asyncio.createTask(async () => await inner);
    await asyncio.sleep(10);
    outer.cancel();
    await asyncio.gather([outer], { returnExceptions: true });
    assert.ok(inner.cancelled());
    assert.ok(outer.cancelled());
    assert.equal(asyncio.getRunningLoop().time(), 10);
  });
});

Deno.test("cancelling a handler that awaits shield(save) cancels the handler; save carries on", async () => {
  await runVirtual(async () => {
    const log: string[] = [];
    const loop = asyncio.getRunningLoop();
    const save = asyncio.createTask(async () => {
      await asyncio.sleep(100);
      log.push(`saved at ${loop.time()}`);
      return "ok";
    });
    const handler = asyncio.createTask(async () => {
      try {
        await asyncio.shield(save);
        log.push("handler finished");
      } catch (error) {
        log.push(`handler ${(error as Error).name} at ${loop.time()}`);
        throw error;
      }
    });
    await asyncio.sleep(10);
    handler.cancel();
    assert.equal(await save, "ok");
    assert.ok(handler.cancelled());
    assert.deepEqual(log, ["handler CancelledError at 10", "saved at 100"]);
  });
});

Deno.test("for await over a Queue ends when the consumer is cancelled", async (t) => {
  await t.step("by its task group, when a sibling fails", async () => {
    await runVirtual(async () => {
      const queue = new asyncio.Queue<number>();
      const got: number[] = [];
      let consumerEnded = "";
      await assert.rejects(
        asyncio.taskGroup(async (tg) => {
          tg.createTask(async () => {
            try {
              for await (const item of queue) got.push(item);
            } finally {
              consumerEnded = `ended at ${asyncio.getRunningLoop().time()}`;
            }
          });
          tg.createTask(async () => {
            await queue.put(1);
            await queue.put(2);
            await asyncio.sleep(20);
            throw new Error("producer failed");
          });
        }),
        (error: unknown) =>
          error instanceof asyncio.ExceptionGroup && error.errors.length === 1 &&
          (error.errors[0] as Error).message === "producer failed",
      );
      assert.deepEqual(got, [1, 2]);
      assert.equal(consumerEnded, "ended at 20");
    });
  });
  await t.step("by run(), when main returns", async () => {
    let consumerEnded = false;
    await runVirtual(async () => {
      const queue = new asyncio.Queue<string>();
      asyncio.createTask(async () => {
        try {
          for await (const _ of queue) { /* nothing comes */ }
        } finally {
          consumerEnded = true;
        }
      });
      await asyncio.sleep(5);
    });
    assert.ok(consumerEnded);
  });
});

Deno.test("an error raised by cleanup after a cancel request fails the task with it", async (t) => {
  await t.step("a task group reports both failures, as Python does", async () => {
    // Python 3.13: ["ValueError('first')", "KeyError('cleanup')"] for the same program.
    await runVirtual(async () => {
      try {
        await asyncio.taskGroup(async (tg) => {
          tg.createTask(async () => {
            await asyncio.sleep(10);
            throw new RangeError("first");
          });
          tg.createTask(async () => {
            try {
              await asyncio.sleep(1_000);
            } finally {
              // deno-lint-ignore no-unsafe-finally
              throw new TypeError("cleanup");
            }
          });
        });
        assert.fail("not reached");
      } catch (error) {
        assert.ok(error instanceof asyncio.ExceptionGroup);
        assert.deepEqual(error.errors.map((e: Error) => e.message), ["first", "cleanup"]);
      }
    });
  });
  await t.step("nobody awaits it: the exception handler gets it", async () => {
    let reports: asyncio.ExceptionContext[] = [];
    await runVirtual(async () => {
      reports = captureReports(asyncio.getRunningLoop());
      const task = asyncio.createTask(async () => {
        try {
          await asyncio.sleep(1_000);
        } finally {
          // deno-lint-ignore no-unsafe-finally
          throw new TypeError("cleanup");
        }
      });
      await asyncio.sleep(10);
      task.cancel();
      await asyncio.sleep(10);
      assert.ok(task.done() && !task.cancelled(), "failed, not cancelled");
    });
    assert.equal(reports.length, 1);
    assert.equal(reports[0].message, "Task exception was never retrieved");
    assert.equal((reports[0].exception as Error).message, "cleanup");
  });
});

// ------------------------------------------------ the rules, one by one

Deno.test("Promise.all over library futures: cancel() cancels every one of them", async () => {
  await runVirtual(async () => {
    const a = asyncio.sleep(1_000);
    const b = asyncio.getRunningLoop().createFuture<number>();
    const task = asyncio.createTask(async () => await Promise.all([a, b]));
    await asyncio.sleep(10);
    task.cancel("both");
    await asyncio.gather([task], { returnExceptions: true });
    assert.ok(a.cancelled() && b.cancelled() && task.cancelled());
  });
});

Deno.test("the await throws the cancel message; the first retriever gets it, as with yield*", async () => {
  // CPython: test_tasks.py test_cancel_with_message_then_future_result.
  await runVirtual(async () => {
    let seen = "";
    const task = asyncio.createTask(async () => {
      try {
        await asyncio.sleep(1_000);
      } catch (error) {
        seen = (error as Error).message;
        throw error;
      }
    });
    await asyncio.sleep(0);
    task.cancel("my message");
    await assert.rejects(task, { name: "CancelledError", message: "my message" });
    assert.equal(seen, "my message");
    // gather's results carry the task's own cancel message, which is none
    // here (the coroutine raised it), as Python 3.13 prints `('',)`.
    const [later] = await asyncio.gather([task], { returnExceptions: true });
    assert.equal((later as Error).message, "");
  });
});

Deno.test("currentTask() and getRunningLoop() stay right across any number of awaits", async (t) => {
  await t.step("inside run()", async () => {
    await runVirtual(async () => {
      const main = asyncio.currentTask();
      const task: asyncio.Task<boolean> = asyncio.createTask(async (): Promise<boolean> => {
        const me = asyncio.currentTask();
        for (let i = 0; i < 3; i++) {
          await asyncio.sleep(i);
          await Promise.resolve();
          assert.equal(asyncio.currentTask(), me);
        }
        return me === task;
      }, { name: "worker" });
      assert.equal(await task, true);
      assert.ok(main instanceof asyncio.Task && main !== task);
      assert.equal(asyncio.currentTask(), main, "main is a task too");
    });
  });
  await t.step("on a loop that no run() is running", async () => {
    const clock = new asyncio.VirtualClock();
    const loop = new asyncio.EventLoop({ clock });
    const task = loop.createTask(async () => {
      await asyncio.sleep(5);
      assert.equal(asyncio.getRunningLoop(), loop);
      assert.equal(asyncio.getEventLoop(), loop);
      await asyncio.sleep(5); // on this loop, from its own context
      return [asyncio.currentTask(), loop.time()];
    });
    await clock.advance(10);
    assertIdentical(task.result(), [task, 10]);
    assert.throws(() => asyncio.getRunningLoop(), /no running event loop/);
    loop.close();
  });
});

Deno.test("a cancel request made while the task awaits a foreign promise cancels its next wait", async () => {
  // CPython: test_tasks.py test_cancel_task_ignoring / bpo-34872: a task
  // cancelled while not blocked on a future of ours is cancelled at the next one.
  await runVirtual(async () => {
    const loop = asyncio.getRunningLoop();
    const log: string[] = [];
    const task = asyncio.createTask(async () => {
      await new Promise((resolve) => loop.callLater(20, () => resolve(undefined)));
      log.push("foreign wait over");
      try {
        await asyncio.sleep(1_000);
      } catch (error) {
        log.push(`${(error as Error).name} "${(error as Error).message}" at ${loop.time()}`);
        throw error;
      }
    });
    await asyncio.sleep(10);
    task.cancel("later");
    await asyncio.gather([task], { returnExceptions: true });
    assert.deepEqual(log, ["foreign wait over", 'CancelledError "later" at 20']);
    assert.ok(task.cancelled());
  });
});

Deno.test("a task cancelling itself: its next wait is cancelled at once", async () => {
  // CPython: test_tasks.py test_cancel_current_task.
  await runVirtual(async () => {
    const task = asyncio.createTask(async () => {
      asyncio.currentTask()!.cancel();
      await asyncio.sleep(1_000);
      return "not reached";
    });
    await asyncio.gather([task], { returnExceptions: true });
    assert.ok(task.cancelled());
    assert.equal(asyncio.getRunningLoop().time(), 0);
  });
});

Deno.test("a task awaiting itself fails with an Error, as with yield*", async () => {
  await runVirtual(async () => {
    const task: asyncio.Task<unknown> = asyncio.createTask(async () => {
      await asyncio.sleep(0);
      await asyncio.currentTask();
    });
    const [error] = await asyncio.gather([task], { returnExceptions: true });
    assert.match((error as Error).message, /Task cannot wait on itself/);
  });
});

Deno.test("cancelled after its wait finished, before it resumed: the await raises CancelledError", async () => {
  // Python's Task.__wakeup reads _must_cancel: the result is not delivered.
  await runVirtual(async () => {
    const loop = asyncio.getRunningLoop();
    const fut = loop.createFuture<string>();
    let got = "";
    const task = asyncio.createTask(async () => {
      try {
        got = await fut;
      } catch (error) {
        got = (error as Error).name;
        throw error;
      }
    });
    await asyncio.sleep(0);
    loop.callSoon(() => {
      fut.setResult("value");
      task.cancel(); // the wake-up is queued; the request wins
    });
    await asyncio.gather([task], { returnExceptions: true });
    assert.equal(got, "CancelledError");
    assert.ok(task.cancelled());
  });
});

Deno.test("a failure the cancelled waiter never read is reported, not lost", async () => {
  // The async form of the fuzzer regression waiter-cancel-keeps-failure.
  let reports: asyncio.ExceptionContext[] = [];
  await runVirtual(async () => {
    const loop = asyncio.getRunningLoop();
    reports = captureReports(loop);
    const fut = loop.createFuture<string>();
    const task = asyncio.createTask(async () => await fut);
    await asyncio.sleep(0);
    loop.callSoon(() => {
      fut.setException(new Error("E1"));
      task.cancel();
    });
    const [result] = await asyncio.gather([task], { returnExceptions: true });
    assert.ok(result instanceof asyncio.CancelledError);
  });
  assert.equal(reports.length, 1);
  assert.equal((reports[0].exception as Error).message, "E1");
});

Deno.test("cancelling() and uncancel(): a timeout turned into TimeoutError leaves no request", async () => {
  // CPython: test_timeouts.py test_nested_timeouts_concurrent (async form).
  await runVirtual(async () => {
    const task = asyncio.createTask(async () => {
      await assert.rejects(asyncio.timeout(10, () => asyncio.sleep(1_000)), asyncio.TimeoutError);
      const me = asyncio.currentTask()!;
      return [me.cancelling(), await asyncio.sleep(5).then(() => "carried on")];
    });
    assert.deepEqual(await task, [0, "carried on"]);
  });
});

Deno.test("every wait of the library is a cancellation point of an async task", async (t) => {
  /** What an async task awaits, and what must hold once it was cancelled there. */
  type Case = { wait: () => PromiseLike<unknown>; check?: () => void };
  const cases: Record<string, () => Case> = {
    "sleep": () => ({ wait: () => asyncio.sleep(1_000) }),
    "a Task": () => ({ wait: () => asyncio.createTask(() => asyncio.sleep(1_000)) }),
    "gather": () => ({ wait: () => asyncio.gather([asyncio.sleep(1_000)]) }),
    "shield": () => ({ wait: () => asyncio.shield(asyncio.sleep(1_000)) }),
    "waitFor": () => ({ wait: () => asyncio.waitFor(asyncio.sleep(1_000), 5_000) }),
    "wait": () => ({ wait: () => asyncio.wait([asyncio.sleep(1_000)]) }),
    "asCompleted, plain": () => ({
      wait: () => [...asyncio.asCompleted([asyncio.sleep(1_000)])][0],
    }),
    "asCompleted, for await": () => ({
      wait: async () => {
        for await (const _ of asyncio.asCompleted([asyncio.sleep(1_000)]));
      },
    }),
    "timeout": () => ({ wait: () => asyncio.timeout(5_000, () => asyncio.sleep(1_000)) }),
    "timeoutAt": () => ({ wait: () => asyncio.timeoutAt(5_000, () => asyncio.sleep(1_000)) }),
    "taskGroup": () => ({ wait: () => asyncio.taskGroup(() => asyncio.sleep(1_000)) }),
    "Lock.acquire": () => {
      const lock = new asyncio.Lock();
      return {
        wait: async () => {
          await lock.acquire(); // free: taken at once
          await lock.acquire(); // held: waits
        },
        check: () => {
          assert.ok(lock.locked(), "the first acquire still holds it");
          lock.release();
          assert.equal(lock.locked(), false, "the cancelled waiter never took it");
        },
      };
    },
    "Event.wait": () => ({ wait: () => new asyncio.Event().wait() }),
    "Condition.wait": () => {
      const condition = new asyncio.Condition();
      return {
        wait: async () => {
          await condition.acquire();
          await condition.wait();
        },
        // As in Python, wait() takes the lock back before it raises.
        check: () => assert.ok(condition.locked(), "re-acquired by the cancelled wait"),
      };
    },
    "Condition.waitFor": () => {
      const condition = new asyncio.Condition();
      return {
        wait: async () => {
          await condition.acquire();
          try {
            await condition.waitFor(() => false);
          } finally {
            condition.release();
          }
        },
        check: () => assert.equal(condition.locked(), false),
      };
    },
    "Semaphore.acquire": () => ({ wait: () => new asyncio.Semaphore(0).acquire() }),
    "BoundedSemaphore.acquire": () => {
      const bounded = new asyncio.BoundedSemaphore(1);
      return {
        wait: async () => {
          await bounded.acquire();
          await bounded.acquire();
        },
        check: () => {
          bounded.release();
          assert.throws(() => bounded.release(), "the cancelled acquire took no permit");
        },
      };
    },
    "Barrier.wait": () => {
      const barrier = new asyncio.Barrier(2);
      return { wait: () => barrier.wait(), check: () => assert.equal(barrier.nWaiting, 0) };
    },
    "Queue.get": () => ({ wait: () => new asyncio.Queue<number>().get() }),
    "Queue.put": () => {
      const full = new asyncio.Queue<number>(1);
      return {
        wait: async () => {
          await full.put(1);
          await full.put(2);
        },
        check: () => assert.equal(full.qsize(), 1, "the cancelled put left nothing"),
      };
    },
    "Queue.join": () => {
      const unfinished = new asyncio.Queue<number>();
      unfinished.putNowait(1);
      return { wait: () => unfinished.join() };
    },
    "for await over a Queue": () => {
      const empty = new asyncio.Queue<number>();
      return {
        wait: async () => {
          for await (const _ of empty);
        },
      };
    },
  };
  for (const [name, make] of Object.entries(cases)) {
    await t.step(name, async () => {
      await runVirtual(async () => {
        const { wait, check } = make();
        const task = asyncio.createTask(async () => {
          await wait();
          return "finished";
        });
        await asyncio.sleep(10);
        task.cancel();
        await asyncio.gather([task], { returnExceptions: true });
        assert.equal(outcome(task), "cancelled");
        assert.equal(asyncio.getRunningLoop().time(), 10);
        check?.();
      });
    });
  }
});

// ------------------------------------------------ without a host context

Deno.test("without a host context, async tasks stop only through their signal, as before", async (t) => {
  await t.step(
    "a wait given the signal is cancelled; one without it is not",
    () =>
      withoutHostContext(async () => {
        await runVirtual(async () => {
          const log: string[] = [];
          const task = asyncio.createTask(async (signal: AbortSignal) => {
            await asyncio.sleep(20); // not given the signal: runs to its end
            log.push(`slept at ${asyncio.getRunningLoop().time()}`);
            await asyncio.sleep(1_000, { signal });
          });
          await asyncio.sleep(10);
          task.cancel();
          await asyncio.gather([task], { returnExceptions: true });
          assert.ok(task.cancelled());
          assert.deepEqual(log, ["slept at 20"]);
          assert.equal(asyncio.currentTask(), null);
        });
      }),
  );
  await t.step(
    "in debug mode run() reports a left-over that ignores its signal",
    () =>
      withoutHostContext(async () => {
        const reports: asyncio.ExceptionContext[] = [];
        let rounds = 0;
        await runVirtual(async () => {
          asyncio.getRunningLoop().setExceptionHandler((_loop, context) => reports.push(context));
          asyncio.createTask(async () => {
            // Ignores the cancellation: it cannot see it here. Ends by itself at last.
            for (rounds = 0; rounds < 3; rounds++) await asyncio.sleep(600);
          }, { name: "stubborn" });
          await asyncio.sleep(1);
        }, { debug: true });
        assert.equal(rounds, 3);
        assert.equal(reports.length, 1);
        assert.match(
          reports[0].message,
          /run\(\) is still waiting for stubborn, an async function/,
        );
        assert.match(reports[0].message, /passes its signal \(task\.signal\)/);
      }),
  );
  await t.step(
    "with a host context, the same program is not reported: it is cancelled",
    async () => {
      const reports: asyncio.ExceptionContext[] = [];
      let rounds = 0;
      await runVirtual(async () => {
        asyncio.getRunningLoop().setExceptionHandler((_loop, context) => reports.push(context));
        asyncio.createTask(async () => {
          for (rounds = 0; rounds < 3; rounds++) await asyncio.sleep(600);
        });
        await asyncio.sleep(1);
      }, { debug: true });
      assert.equal(rounds, 0);
      assert.deepEqual(reports, []);
    },
  );
});

if (!hasContext) {
  // Keeps the file honest on a host without a context: the first test fails there.
  console.error("async_cancel_test: this host has no async context");
}
