/**
 * `deno task compat`: bundles the portable suite with `deno bundle` and runs
 * it on Deno (from source), Node (the one on PATH, and the pinned Node 22
 * and 24 binaries from the npm registry), Bun, workerd, Vercel's Edge
 * Runtime and headless Chromium, prints a table (runtime, version, async
 * context, passed, failed), and exits non-zero when any runtime failed a
 * test or could not start (never a skip).
 *
 * It writes no tracked file unless told to: the results of every run go to
 * `.tools/compat/results.json` (git-ignored); `--update` (full runs only)
 * also records them in `compat/results.json`, `compat/RUNS_ON.md` and the
 * README's "Runs on" table.
 *
 * Everything it installs goes under `.tools/compat/` (git-ignored), pinned in
 * `_pins.ts`. Chromium is Debian's `chromium` when present or installable
 * with apt-get (as root), else the Chromium that `@sparticuz/chromium` ships
 * (see `_chromium.ts` for its environment variables).
 *
 * Usage: `deno run -A compat/run.ts [--only=deno,node,...] [--filter=text] [--update]`
 *
 * @module
 */

import {
  BIN,
  COMPAT,
  DIST,
  exists,
  firstLine,
  freePort,
  log,
  problemOf,
  ROOT,
  type Row,
  rowFrom,
  type Runtime,
  RUNTIMES,
  spawn,
  TOOLS,
} from "./_driver.ts";
import { runChromium } from "./_chromium.ts";
import { bundle, ensureNode, ensurePackages, nodeBinary, nodePackage } from "./_prepare.ts";
import { NODE_PINS, PINS } from "./_pins.ts";
import { runsOnPage, table, withRunsOn } from "./_report.ts";
import { runServed } from "./_served.ts";
import { startServer } from "./_server.ts";

// ------------------------------------------------------------- runtimes

async function runDeno(base: string, filter: string[]): Promise<Row> {
  const version = Deno.version.deno;
  const out = await spawn(Deno.execPath(), [
    "run",
    "--no-prompt",
    "--allow-net=127.0.0.1",
    `${COMPAT}/cli.ts`,
    base,
    ...filter,
  ]);
  return rowFrom("deno", version, out.result, problemOf(out), "from source (TypeScript)");
}

async function runNode(base: string, filter: string[]): Promise<Row> {
  const version = (await firstLine("node", ["--version"])).replace(/^v/, "");
  const out = await spawn("node", [`${DIST}/cli.mjs`, base, ...filter]);
  return rowFrom("node", version, out.result, problemOf(out), "bundled ESM, plain `node cli.mjs`");
}

async function runPinnedNode(
  runtime: "node22" | "node24",
  base: string,
  filter: string[],
): Promise<Row> {
  const problem = await ensureNode(runtime);
  if (problem !== undefined) return rowFrom(runtime, NODE_PINS[runtime], undefined, problem);
  const node = nodeBinary(runtime);
  const version = (await firstLine(node, ["--version"])).replace(/^v/, "");
  const out = await spawn(node, [`${DIST}/cli.mjs`, base, ...filter]);
  return rowFrom(
    runtime,
    version,
    out.result,
    problemOf(out),
    `bundled ESM, the official binary from npm:${nodePackage()}@${NODE_PINS[runtime]}`,
  );
}

async function runBun(base: string, filter: string[]): Promise<Row> {
  const bun = `${BIN}/bun`;
  if (!(await exists(bun))) return rowFrom("bun", "-", undefined, `${bun} is missing`);
  const version = await firstLine(bun, ["--version"]);
  const out = await spawn(bun, [`${DIST}/cli.mjs`, base, ...filter], {
    env: { BUN_RUNTIME_TRANSPILER_CACHE_PATH: "0" },
  });
  return rowFrom("bun", version, out.result, problemOf(out), `bundled ESM, npm:bun@${PINS.bun}`);
}

async function runWorkerd(base: string, driverPort: number, filter: string[]): Promise<Row> {
  const workerd = `${BIN}/workerd`;
  if (!(await exists(workerd))) return rowFrom("workerd", "-", undefined, `${workerd} is missing`);
  const version = (await firstLine(workerd, ["--version"])).replace(/^workerd\s+/, "");
  const config = await Deno.readTextFile(`${DIST}/config.capnp`);
  const compatDate = config.match(/compatibilityDate = "([^"]+)"/)?.[1] ?? "?";
  const flags = config.match(/compatibilityFlags = \[([^\]]*)\]/)?.[1]
    .replaceAll('"', "").replaceAll(",", " +").trim();
  const port = freePort();
  return await runServed(
    {
      runtime: "workerd",
      version,
      note: `bundled ESM in a Worker's fetch handler, npm:workerd@${PINS.workerd}, ` +
        `compatibility date ${compatDate}${flags ? ` + ${flags}` : ""}`,
      cmd: workerd,
      args: [
        "serve",
        "config.capnp",
        `--socket-addr=http=127.0.0.1:${port}`,
        `--external-addr=driver=127.0.0.1:${driverPort}`,
      ],
      cwd: DIST,
      port,
    },
    base,
    filter,
  );
}

/**
 * Vercel's Edge Runtime: its CLI (`edge-runtime --listen`) evaluates the
 * bundled classic script in an edge context, the sandbox edge functions
 * and Next.js middleware run in, and answers HTTP through the script's
 * `fetch` event listener. The CLI is a Node program: the `node` on PATH.
 */
async function runEdgeRuntime(base: string, filter: string[]): Promise<Row> {
  const cli = `${TOOLS}/node_modules/edge-runtime/dist/cli/index.js`;
  if (!(await exists(cli))) return rowFrom("edge-runtime", "-", undefined, `${cli} is missing`);
  const pkg = JSON.parse(
    await Deno.readTextFile(`${TOOLS}/node_modules/edge-runtime/package.json`),
  );
  const node = await firstLine("node", ["--version"]);
  const port = freePort();
  return await runServed(
    {
      runtime: "edge-runtime",
      version: String(pkg.version),
      note: `bundled script in an edge context's fetch event handler, npm:edge-runtime@${
        PINS["edge-runtime"]
      } on Node.js ${node.replace(/^v/, "")}`,
      cmd: "node",
      args: [cli, "--listen", "--host", "127.0.0.1", "--port", String(port), "edge.js"],
      cwd: DIST,
      env: { NO_COLOR: "1" },
      port,
    },
    base,
    filter,
  );
}

async function runOne(runtime: Runtime, base: string, port: number, filter: string[]) {
  switch (runtime) {
    case "deno":
      return await runDeno(base, filter);
    case "node":
      return await runNode(base, filter);
    case "node22":
    case "node24":
      return await runPinnedNode(runtime, base, filter);
    case "bun":
      return await runBun(base, filter);
    case "workerd":
      return await runWorkerd(base, port, filter);
    case "edge-runtime":
      return await runEdgeRuntime(base, filter);
    case "chromium":
      return await runChromium(base, filter);
  }
}

// ------------------------------------------------------------------ main

const README = `${ROOT}/README.md`;

/** Records a full run in the tracked files (only with --update). */
async function update(rows: Row[], date: string, tests: number): Promise<void> {
  await Deno.writeTextFile(
    `${COMPAT}/results.json`,
    JSON.stringify({ date, tests, runtimes: rows }, null, 2) + "\n",
  );
  await Deno.writeTextFile(`${COMPAT}/RUNS_ON.md`, runsOnPage(rows, date, tests));
  const readme = withRunsOn(await Deno.readTextFile(README), rows, date, tests);
  if (readme === undefined) log("README.md has no runs-on markers: not updated");
  else await Deno.writeTextFile(README, readme);
  // Keep the generated files as `deno fmt` wants them (the check task runs fmt --check).
  await spawn(Deno.execPath(), [
    "fmt",
    "--quiet",
    `${COMPAT}/results.json`,
    `${COMPAT}/RUNS_ON.md`,
    README,
  ]);
  log("recorded in compat/results.json, compat/RUNS_ON.md and README.md");
}

async function main(): Promise<number> {
  const only = Deno.args.find((a) => a.startsWith("--only="))?.slice(7).split(",") ?? [];
  const filterArg = Deno.args.find((a) => a.startsWith("--filter="))?.slice(9);
  const filter = filterArg ? [filterArg] : [];
  const recording = Deno.args.includes("--update");
  const unknown = Deno.args.filter((a) => !/^--(only|filter)=/.test(a) && a !== "--update");
  const wrong = only.filter((r) => !(RUNTIMES as readonly string[]).includes(r));
  if (unknown.length > 0 || wrong.length > 0) {
    console.error(
      `compat: unknown ${unknown.length > 0 ? `argument ${unknown[0]}` : `runtime ${wrong[0]}`}` +
        `\nusage: deno task compat [--only=${RUNTIMES.join(",")}] [--filter=text] [--update]`,
    );
    return 2;
  }
  if (recording && (only.length > 0 || filter.length > 0)) {
    console.error("compat: --update records a full run only; drop --only and --filter");
    return 2;
  }
  const selected = RUNTIMES.filter((r) => only.length === 0 || only.includes(r));

  const setupProblem = (await ensurePackages()) ?? (await bundle());
  const rows: Row[] = [];
  if (setupProblem !== undefined) {
    log(setupProblem);
    for (const r of selected) rows.push(rowFrom(r, "-", undefined, setupProblem));
  } else {
    const { server, base, port } = startServer();
    try {
      for (const runtime of selected) {
        log(`running the suite on ${runtime} ...`);
        try {
          rows.push(await runOne(runtime, base, port, filter));
        } catch (error) {
          rows.push(rowFrom(runtime, "-", undefined, `driver error: ${(error as Error).message}`));
        }
      }
    } finally {
      await server.shutdown();
    }
  }

  console.log("");
  console.log(table(rows));
  for (const row of rows) {
    for (const f of row.failures) {
      console.log(`\n${row.runtime}: FAILED ${f.name}\n  ${f.error.replaceAll("\n", "\n  ")}`);
    }
  }
  const tests = Math.max(0, ...rows.map((r) => r.passed + r.failed));
  const date = new Date().toISOString().slice(0, 10);
  await Deno.writeTextFile(
    `${TOOLS}/results.json`,
    JSON.stringify({ date, tests, runtimes: rows }, null, 2) + "\n",
  );
  const bad = rows.filter((r) => !r.ok).map((r) => r.runtime);
  if (recording) await update(rows, date, tests);
  else if (only.length === 0 && filter.length === 0) {
    log("results in .tools/compat/results.json; `deno task compat --update` records them");
  }
  const passed = rows.reduce((n, r) => n + r.passed, 0);
  const failed = rows.reduce((n, r) => n + r.failed, 0) +
    rows.filter((r) => !r.ok && r.failed === 0).length;
  console.log("");
  console.log(`${rows.length} runtimes`);
  if (bad.length > 0) console.log(`compat: failing runtimes: ${bad.join(", ")}`);
  // The plain closing line CI reads: every test on every runtime, plus one
  // failure per runtime that could not run at all.
  console.log(`${passed} passed, ${failed} failed`);
  return bad.length === 0 ? 0 : 1;
}

Deno.exit(await main());
