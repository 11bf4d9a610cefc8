/**
 * Host tests: real SIGINTs sent to a child Deno process running a `run()`
 * program (`sigint_program.ts`). Not part of `deno task test`, which runs
 * with no permissions: `deno task test:host` grants `--allow-run=deno`
 * (the `deno` on PATH, which `.ci/run` puts first) and nothing else.
 *
 * The child says "ready" once main and its worker are waiting; only then is
 * the signal sent. Nothing here measures time: a guard only kills a child
 * that never ends, so that a regression fails instead of hanging.
 *
 * @module
 */

import assert from "node:assert/strict";

const PROGRAM = import.meta.resolve("./sigint_program.ts");
const GUARD_MS = 30_000;

/** A child running one scenario, its stdout read line by line. */
class Child {
  #process: Deno.ChildProcess;
  #lines: AsyncIterator<string>;
  #buffered = "";
  /** Every line read so far. */
  readonly stdout: string[] = [];

  constructor(scenario: string) {
    this.#process = new Deno.Command("deno", {
      args: ["run", "--quiet", "--no-config", PROGRAM, scenario],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      env: { NO_COLOR: "1" },
    }).spawn();
    this.#lines = this.#readLines();
  }

  async *#readLines(): AsyncGenerator<string> {
    const decoder = new TextDecoder();
    for await (const chunk of this.#process.stdout) {
      this.#buffered += decoder.decode(chunk, { stream: true });
      let end;
      while ((end = this.#buffered.indexOf("\n")) !== -1) {
        const line = this.#buffered.slice(0, end);
        this.#buffered = this.#buffered.slice(end + 1);
        this.stdout.push(line);
        yield line;
      }
    }
  }

  /** Reads lines until `line` comes (fails if the output ends first). */
  async waitFor(line: string): Promise<void> {
    for (;;) {
      const next = await this.#lines.next();
      if (next.done) assert.fail(`the child ended before printing ${JSON.stringify(line)}`);
      if (next.value === line) return;
    }
  }

  /** Sends SIGINT, as Ctrl-C in a terminal does. */
  interrupt(): void {
    this.#process.kill("SIGINT");
  }

  /** Reads the rest of the output and waits for the exit. */
  async finish(): Promise<{ status: Deno.CommandStatus; stderr: string }> {
    const guard = setTimeout(() => this.#process.kill("SIGKILL"), GUARD_MS);
    try {
      const [stderr] = await Promise.all([
        new Response(this.#process.stderr).text(),
        (async () => {
          while (!(await this.#lines.next()).done) { /* collecting into stdout */ }
        })(),
      ]);
      const status = await this.#process.status;
      assert.notEqual(status.signal, "SIGKILL", "the child did not end by itself");
      return { status, stderr };
    } finally {
      clearTimeout(guard);
    }
  }
}

Deno.test("SIGINT: run() cancels main, the cleanup runs, the program catches KeyboardInterrupt", async () => {
  const child = new Child("caught");
  await child.waitFor("ready");
  child.interrupt();
  const { status } = await child.finish();
  assert.deepEqual(child.stdout, [
    "ready",
    "worker cleanup",
    "main cleanup",
    "caught KeyboardInterrupt, cause: CancelledError",
  ]);
  assert.equal(status.code, 130);
});

Deno.test("SIGINT: an uncaught KeyboardInterrupt ends the process as Deno's uncaught errors do", async () => {
  const child = new Child("uncaught");
  await child.waitFor("ready");
  child.interrupt();
  const { status, stderr } = await child.finish();
  assert.deepEqual(child.stdout, ["ready", "worker cleanup", "main cleanup"]);
  assert.match(stderr, /Uncaught \(in promise\) KeyboardInterrupt/);
  assert.match(stderr, /Caused by: CancelledError/);
  assert.equal(status.code, 1);
});

Deno.test("SIGINT: a second one during the cleanup is the host's: the process ends", async () => {
  const child = new Child("slow-cleanup");
  await child.waitFor("ready");
  child.interrupt();
  await child.waitFor("slow cleanup started");
  child.interrupt();
  const { status } = await child.finish();
  assert.deepEqual(child.stdout, [
    "ready",
    "worker cleanup",
    "main cleanup",
    "slow cleanup started",
  ]);
  assert.equal(status.success, false);
  assert.equal(status.code, 130);
});

Deno.test("SIGINT: with handleSignals: false, the first one is the host's", async () => {
  const child = new Child("no-handler");
  await child.waitFor("ready");
  child.interrupt();
  const { status } = await child.finish();
  assert.deepEqual(child.stdout, ["ready"]);
  assert.equal(status.code, 130);
});

Deno.test("SIGINT: the listener does not keep a finished program alive", async () => {
  const child = new Child("finishes");
  const { status, stderr } = await child.finish();
  assert.deepEqual(child.stdout, ["result: finished"]);
  assert.equal(stderr, "");
  assert.equal(status.code, 0);
});
