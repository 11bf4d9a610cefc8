/**
 * The child program of `sigint_host.ts`: a `run()` whose main waits on a
 * worker for a minute of real time, printing each step, so that the parent
 * can send it real SIGINTs. Needs no permissions.
 *
 * `deno run sigint_program.ts <scenario>`, where the scenario is:
 *
 * - `caught`: Ctrl-C cancels main; the program catches the KeyboardInterrupt
 *   and exits with status 130, as a CLI tool should;
 * - `uncaught`: the same, leaving the KeyboardInterrupt to Deno;
 * - `slow-cleanup`: main's cleanup takes a minute (a second Ctrl-C ends it);
 * - `no-handler`: `handleSignals: false` (Ctrl-C is the host's at once);
 * - `finishes`: nothing to interrupt; the process must end by itself.
 *
 * @module
 */

import * as asyncio from "../../mod.ts";

const scenario = Deno.args[0];
const say = (line: string) => console.log(line);

function* main(): asyncio.Coroutine<string> {
  if (scenario === "finishes") {
    yield* asyncio.sleep(5);
    return "finished";
  }
  const worker = asyncio.createTask(function* () {
    try {
      yield* asyncio.sleep(60_000);
    } finally {
      say("worker cleanup");
    }
  });
  try {
    yield* asyncio.sleep(0); // the worker is waiting now
    say("ready");
    yield* worker;
    return "not interrupted";
  } finally {
    say("main cleanup");
    if (scenario === "slow-cleanup") {
      say("slow cleanup started");
      yield* asyncio.sleep(60_000);
      say("slow cleanup finished");
    }
  }
}

const options = { handleSignals: scenario !== "no-handler" };
if (scenario === "uncaught") {
  say(`result: ${await asyncio.run(main, options)}`);
} else {
  try {
    say(`result: ${await asyncio.run(main, options)}`);
  } catch (error) {
    if (!(error instanceof asyncio.KeyboardInterrupt)) throw error;
    say(`caught ${error.name}, cause: ${(error.cause as Error).name}`);
    Deno.exitCode = 130;
  }
}
