/**
 * The child program of `inspect_host.ts`, printing each step:
 *
 * - `fetch`: on an autojumping VirtualClock with a 20 ms deadlock window,
 *   an async-function task and a generator task each fetch from a local
 *   `Deno.serve` server that answers after 300 ms of real time: real I/O in
 *   flight, which must not be taken for a deadlock. Needs
 *   `--allow-net=127.0.0.1`.
 * - `sigquit`: `run(main, { debug: true })` waits on an event; each SIGQUIT
 *   prints the task tree to stderr; SIGINT ends it. Needs no permissions.
 *
 * @module
 */

import * as asyncio from "../../mod.ts";

const scenario = Deno.args[0];
const say = (line: string) => console.log(line);

if (scenario === "fetch") {
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (request) => {
    await new Promise((resolve) => setTimeout(resolve, 300));
    return new Response(`slow ${new URL(request.url).pathname}`);
  });
  const url = `http://127.0.0.1:${server.addr.port}`;
  const clock = new asyncio.VirtualClock({ autojump: true, deadlockAfterMs: 20 });
  try {
    const results = await asyncio.run(function* main() {
      const asyncStyle = asyncio.createTask(async (signal: AbortSignal) => {
        const response = await fetch(`${url}/async`, { signal });
        const text = await response.text();
        await asyncio.sleep(60_000); // virtual time still jumps
        return text;
      });
      const generatorStyle = asyncio.createTask(function* () {
        const response = yield* asyncio.ensureFuture(fetch(`${url}/generator`));
        return yield* asyncio.ensureFuture(response.text());
      });
      return yield* asyncio.gather([asyncStyle, generatorStyle]);
    }, { clock });
    say(`results: ${results.join(", ")}`);
  } catch (error) {
    say(`failed: ${error}`);
  } finally {
    await server.shutdown();
  }
} else if (scenario === "sigquit") {
  try {
    await asyncio.run(function* main() {
      const event = new asyncio.Event();
      const worker = asyncio.createTask(function* worker() {
        yield* event.wait();
      }, { name: "worker" });
      yield* asyncio.sleep(0);
      say("ready");
      yield* worker;
    }, { debug: true });
  } catch (error) {
    say(`ended: ${(error as Error).name}`);
  }
}
