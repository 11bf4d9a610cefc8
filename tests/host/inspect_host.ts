/**
 * Host tests of the inspection tools, in child Deno processes
 * (`inspect_program.ts`): a real fetch in flight is not a deadlock, and
 * SIGQUIT prints the task tree in debug mode. Run by `deno task test:host`,
 * which grants `--allow-run=deno` only; the child of the fetch scenario gets
 * `--allow-net=127.0.0.1`. Nothing here measures time: a guard only kills a
 * child that never ends.
 *
 * @module
 */

import assert from "node:assert/strict";

const PROGRAM = import.meta.resolve("./inspect_program.ts");
const GUARD_MS = 30_000;

function spawn(scenario: string, permissions: string[] = []): Deno.ChildProcess {
  return new Deno.Command("deno", {
    args: ["run", "--quiet", "--no-config", ...permissions, PROGRAM, scenario],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).spawn();
}

async function finish(child: Deno.ChildProcess): Promise<{ stdout: string; stderr: string }> {
  const guard = setTimeout(() => child.kill("SIGKILL"), GUARD_MS);
  try {
    const output = await child.output();
    assert.notEqual(output.signal, "SIGKILL", "the child did not end by itself");
    const decoder = new TextDecoder();
    return { stdout: decoder.decode(output.stdout), stderr: decoder.decode(output.stderr) };
  } finally {
    clearTimeout(guard);
  }
}

Deno.test("deadlock check: a fetch to a local server in flight is not a deadlock (both styles)", async () => {
  const { stdout, stderr } = await finish(spawn("fetch", ["--allow-net=127.0.0.1"]));
  assert.equal(stdout, "results: slow /async, slow /generator\n", stderr);
});

Deno.test("SIGQUIT: run(main, { debug: true }) prints the task tree and goes on", async () => {
  const child = spawn("sigquit");
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let seen = "";
  while (!seen.includes("ready\n")) {
    const { value, done } = await reader.read();
    if (done) assert.fail(`the child ended before it was ready: ${seen}`);
    seen += value;
  }
  const stderr = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
  let tree = "";
  child.kill("SIGQUIT");
  while (!tree.includes("waiting on Event.wait()")) {
    const { value, done } = await stderr.read();
    if (done) assert.fail(`no task tree on stderr: ${tree}`);
    tree += value;
  }
  child.kill("SIGINT"); // still running: Ctrl-C ends it as usual
  const guard = setTimeout(() => child.kill("SIGKILL"), GUARD_MS);
  while (!(await reader.read()).done) { /* the rest of stdout */ }
  while (!(await stderr.read()).done) { /* the rest of stderr */ }
  const status = await child.status;
  clearTimeout(guard);
  assert.match(tree, /└── \(T\) Task-\d+: generator main\(\), waiting on task worker/);
  assert.match(tree, /\(T\) worker: generator worker\(\), waiting on Event\.wait\(\) on <Event/);
  assert.match(tree, /at worker \(file:.*inspect_program\.ts:\d+:\d+\)/);
  assert.notEqual(status.signal, "SIGKILL");
});
