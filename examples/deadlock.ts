/**
 * A program that deadlocks on purpose: two players each wait for the
 * other's event, in a task group inside a gather. On an autojumping
 * VirtualClock, run() rejects with a DeadlockError whose message is the
 * task tree; a watchdog task prints the call graph of one player first.
 * The README's "Debugging a hang" shows this program's output.
 *
 * `deno run examples/deadlock.ts [--debug]`
 *
 * @module
 */

import * as asyncio from "../mod.ts";

const debug = Deno.args.includes("--debug");

function* main(): asyncio.Coroutine<void> {
  const ping = new asyncio.Event();
  const pong = new asyncio.Event();
  let alice: asyncio.Task<void> | null = null;
  asyncio.createTask(function* watchdog() {
    yield* asyncio.sleep(1_000);
    asyncio.printCallGraph(alice);
  }, { name: "watchdog" });
  yield* asyncio.gather([
    asyncio.createTask(function* match() {
      yield* asyncio.taskGroup(function* players(tg) {
        alice = tg.createTask(function* serve() {
          yield* pong.wait(); // waits for bob's pong before serving
          ping.set();
        }, { name: "alice" });
        tg.createTask(function* answer() {
          yield* ping.wait(); // waits for alice's ping before answering
          pong.set();
        }, { name: "bob" });
      });
    }, { name: "match" }),
  ]);
}

try {
  await asyncio.run(main, { clock: new asyncio.VirtualClock({ autojump: true }), debug });
} catch (error) {
  if (!(error instanceof asyncio.DeadlockError)) throw error;
  console.log(`${error.name}: ${error.message}`);
}
