/**
 * `deno task compat`: bundles the portable suite with `deno bundle` and runs
 * it on Deno (from source), Node, Bun, workerd and headless Chromium, then
 * prints a table (runtime, version, passed, failed), writes
 * `compat/results.json` and `compat/RUNS_ON.md`, and exits non-zero when any
 * runtime failed a test or could not start (never a skip).
 *
 * Everything it installs goes under `.tools/compat/` (git-ignored), pinned:
 * npm packages with `npm install --prefix .tools/compat`, and Chromium as
 * Debian's `chromium` when present or installable with apt-get (as root), else
 * the Chromium that the `@sparticuz/chromium` npm package ships.
 *
 * Usage: `deno run -A compat/run.ts [--only=deno,node,bun,workerd,chromium] [--filter=text]`
 *
 * Environment:
 * - `COMPAT_CHROMIUM`: `auto` (default), `system` (only /usr/bin/chromium),
 *   `npm` (only the npm-shipped Chromium: tests the fallback), or a path.
 * - `COMPAT_SYSTEM_CHROMIUM`: where Debian's chromium is looked for
 *   (default `/usr/bin/chromium`; point it at a missing file to test the path
 *   without it).
 * - `COMPAT_NO_APT=1`: never call apt-get.
 * - `COMPAT_NO_WRITE=1`: do not rewrite results.json / RUNS_ON.md.
 *
 * @module
 */

import { brotliDecompressSync } from "node:zlib";

// ----------------------------------------------------------------- config

/** Pinned npm packages (exact versions). */
const PINS: Record<string, string> = {
  "bun": "1.4.5",
  "workerd": "1.20261117.1",
  "playwright-core": "1.65.1",
  "@sparticuz/chromium": "153.0.0",
};

/** Flags every Chromium is started with (plus Playwright's own and a fresh --user-data-dir). */
const CHROMIUM_FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

const RUNTIMES = ["deno", "node", "bun", "workerd", "chromium"] as const;
type Runtime = typeof RUNTIMES[number];

const ROOT = decodeURIComponent(new URL("..", import.meta.url).pathname).replace(/\/$/, "");
const COMPAT = `${ROOT}/compat`;
const TOOLS = `${ROOT}/.tools/compat`;
const DIST = `${TOOLS}/dist`;
const BIN = `${TOOLS}/node_modules/.bin`;

/** Per-runtime limit for the whole suite (it takes about a second). */
const RUN_TIMEOUT_MS = 120_000;
/** A CLI runtime must exit by itself this soon after printing its results. */
const EXIT_GRACE_MS = 10_000;

// ------------------------------------------------------------------ types

interface SuiteTest {
  name: string;
  ok: boolean;
  ms: number;
  error?: string;
}

interface SuiteResult {
  passed: number;
  failed: number;
  tests: SuiteTest[];
}

/** One row of the table. */
interface Row {
  runtime: Runtime;
  version: string;
  passed: number;
  failed: number;
  /** False when the runtime failed a test, could not start, or misbehaved. */
  ok: boolean;
  /** Why it failed, or what was used (which Chromium). */
  note: string;
  failures: { name: string; error: string }[];
}

// --------------------------------------------------------------- helpers

function log(message: string): void {
  console.error(`[compat] ${message}`);
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

interface Spawned {
  code: number | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  /** The suite's result, when the output had a `COMPAT_RESULT` line. */
  result?: SuiteResult;
  /** Set when the process printed its result but did not exit in time. */
  hung: boolean;
}

/**
 * Runs a command to its end (or kills it after `timeoutMs`, or `EXIT_GRACE_MS`
 * after it printed a `COMPAT_RESULT` line) and collects its output.
 */
async function spawn(
  cmd: string,
  args: string[],
  options: { timeoutMs?: number; env?: Record<string, string>; cwd?: string } = {},
): Promise<Spawned> {
  const child = new Deno.Command(cmd, {
    args,
    cwd: options.cwd ?? ROOT,
    env: options.env,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let stdout = "";
  let stderr = "";
  let result: SuiteResult | undefined;
  let timedOut = false;
  let hung = false;
  let timer = setTimeout(onTimeout, options.timeoutMs ?? RUN_TIMEOUT_MS);
  function onTimeout(): void {
    if (result !== undefined) hung = true;
    else timedOut = true;
    try {
      child.kill("SIGKILL");
    } catch {
      // already gone
    }
  }
  const decoder = new TextDecoder();
  const readOut = (async () => {
    for await (const chunk of child.stdout) {
      stdout += decoder.decode(chunk, { stream: true });
      if (result === undefined) {
        const line = stdout.split("\n").find((l) => l.startsWith("COMPAT_RESULT "));
        if (line !== undefined && stdout.includes("\n", stdout.indexOf(line))) {
          result = JSON.parse(line.slice("COMPAT_RESULT ".length));
          clearTimeout(timer);
          timer = setTimeout(onTimeout, EXIT_GRACE_MS);
        }
      }
    }
  })();
  const readErr = (async () => {
    const d = new TextDecoder();
    for await (const chunk of child.stderr) stderr += d.decode(chunk, { stream: true });
  })();
  const status = await child.status;
  await Promise.all([readOut, readErr]);
  clearTimeout(timer);
  return { code: status.code, stdout, stderr, timedOut, result, hung };
}

/** The last lines of a process's output, for a failure reason. */
function tail(text: string, lines = 6): string {
  return text.trim().split("\n").slice(-lines).join(" | ").slice(0, 600);
}

async function firstLine(cmd: string, args: string[]): Promise<string> {
  try {
    const out = await spawn(cmd, args, { timeoutMs: 30_000 });
    return (out.stdout.trim() || out.stderr.trim()).split("\n")[0] ?? "";
  } catch (error) {
    return `unknown (${(error as Error).message})`;
  }
}

function rowFrom(
  runtime: Runtime,
  version: string,
  result: SuiteResult | undefined,
  problem: string | undefined,
  note = "",
): Row {
  const failures = (result?.tests ?? [])
    .filter((t) => !t.ok)
    .map((t) => ({ name: t.name, error: t.error ?? "" }));
  const passed = result?.passed ?? 0;
  const failed = result?.failed ?? 0;
  const ok = problem === undefined && result !== undefined && failed === 0 && passed > 0;
  const notes = [note, problem].filter((x) => x).join("; ");
  return { runtime, version, passed, failed, ok, note: notes, failures };
}

/** The reason a spawned suite run is a failure, or undefined when it is not. */
function problemOf(out: Spawned): string | undefined {
  if (out.timedOut) return `no result within ${RUN_TIMEOUT_MS / 1000} s: ${tail(out.stderr)}`;
  if (out.hung) {
    return `did not exit within ${EXIT_GRACE_MS / 1000} s after the suite ` +
      "(a host timer or handle was left alive)";
  }
  if (out.result === undefined) {
    return `could not run (exit ${out.code}): ${tail(out.stderr || out.stdout)}`;
  }
  if (out.code !== 0) return `exited with code ${out.code}: ${tail(out.stderr)}`;
  return undefined;
}

// ------------------------------------------------------------ preparation

async function installedVersion(name: string): Promise<string | undefined> {
  try {
    const text = await Deno.readTextFile(`${TOOLS}/node_modules/${name}/package.json`);
    return JSON.parse(text).version;
  } catch {
    return undefined;
  }
}

/** Installs the pinned npm packages into .tools/compat when they are missing or differ. */
async function ensurePackages(): Promise<string | undefined> {
  const missing: string[] = [];
  for (const [name, version] of Object.entries(PINS)) {
    if ((await installedVersion(name)) !== version) missing.push(`${name}@${version}`);
  }
  if (missing.length === 0) return undefined;
  log(`npm install --prefix .tools/compat ${missing.join(" ")}`);
  await Deno.mkdir(TOOLS, { recursive: true });
  const out = await spawn("npm", [
    "install",
    "--prefix",
    TOOLS,
    "--no-audit",
    "--no-fund",
    "--save-exact",
    "--loglevel=error",
    ...missing,
  ], { timeoutMs: 600_000 });
  if (out.code !== 0) return `npm install failed: ${tail(out.stderr || out.stdout)}`;
  return undefined;
}

/** Bundles the suite entries into plain ESM with Deno's own bundler. */
async function bundle(): Promise<string | undefined> {
  await Deno.mkdir(DIST, { recursive: true });
  for (const entry of ["cli", "worker", "browser"]) {
    const out = await spawn(Deno.execPath(), [
      "bundle",
      "--quiet",
      "--platform=browser",
      "--format=esm",
      "-o",
      `${DIST}/${entry}.mjs`,
      `${COMPAT}/${entry}.ts`,
    ], { timeoutMs: 120_000 });
    if (out.code !== 0) return `deno bundle ${entry}.ts failed: ${tail(out.stderr)}`;
    const code = await Deno.readTextFile(`${DIST}/${entry}.mjs`);
    // Plain ESM for any host: no imports left, no Deno or Node built-ins.
    if (/^\s*import\s[^;]*from\s*["']/m.test(code) || /\bDeno\.(?!customInspect)/.test(code)) {
      return `the ${entry} bundle is not self-contained`;
    }
  }
  await Deno.copyFile(`${COMPAT}/workerd/config.capnp`, `${DIST}/config.capnp`);
  await Deno.copyFile(`${COMPAT}/browser.html`, `${DIST}/browser.html`);
  return undefined;
}

// ------------------------------------------------------------ the server

/**
 * The loopback server the suite's network tests and the browser page use:
 * `/hello` answers at once; `/slow` sends its body after 10 s unless the
 * client aborts; `/browser.html` and `/browser.mjs` are the page and its bundle.
 */
function startServer(): { server: Deno.HttpServer<Deno.NetAddr>; base: string; port: number } {
  const server = Deno.serve({
    hostname: "127.0.0.1",
    port: 0,
    onListen() {},
    onError() {
      return new Response("error", { status: 500 });
    },
  }, async (request) => {
    const { pathname } = new URL(request.url);
    if (pathname === "/hello") return new Response("hello");
    if (pathname === "/slow") {
      // Headers at once, the body after 10 s; a client that aborts cancels
      // the stream, which clears the timer.
      let timer: ReturnType<typeof setTimeout> | undefined;
      const body = new ReadableStream<Uint8Array>({
        start(controller) {
          timer = setTimeout(() => {
            controller.enqueue(new TextEncoder().encode("slow"));
            controller.close();
          }, 10_000);
        },
        cancel() {
          clearTimeout(timer);
        },
      });
      return new Response(body);
    }
    if (pathname === "/browser.html" || pathname === "/browser.mjs") {
      const type = pathname.endsWith(".html") ? "text/html" : "text/javascript";
      return new Response(await Deno.readFile(`${DIST}${pathname}`), {
        headers: { "content-type": `${type}; charset=utf-8` },
      });
    }
    return new Response("not found", { status: 404 });
  });
  const port = server.addr.port;
  return { server, base: `http://127.0.0.1:${port}/`, port };
}

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

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
  const port = freePort();
  const child = new Deno.Command(workerd, {
    args: [
      "serve",
      "config.capnp",
      `--socket-addr=http=127.0.0.1:${port}`,
      `--external-addr=driver=127.0.0.1:${driverPort}`,
    ],
    cwd: DIST,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let output = "";
  const decoder = new TextDecoder();
  const collect = async (stream: ReadableStream<Uint8Array>) => {
    for await (const chunk of stream) output += decoder.decode(chunk, { stream: true });
  };
  const reading = Promise.all([collect(child.stdout), collect(child.stderr)]);
  let exited = false;
  const status = child.status.then((s) => {
    exited = true;
    return s;
  });
  const compatDate = (await Deno.readTextFile(`${DIST}/config.capnp`))
    .match(/compatibilityDate = "([^"]+)"/)?.[1] ?? "?";
  const note =
    `bundled ESM in a Worker's fetch handler, npm:workerd@${PINS.workerd}, compatibility date ${compatDate}`;
  try {
    // Wait until it listens.
    const deadline = Date.now() + 30_000;
    for (;;) {
      if (exited) {
        return rowFrom("workerd", version, undefined, `workerd exited: ${tail(output)}`, note);
      }
      try {
        const r = await fetch(`http://127.0.0.1:${port}/ping`);
        await r.body?.cancel();
        if (r.ok) break;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) {
        return rowFrom("workerd", version, undefined, `did not listen: ${tail(output)}`, note);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    const query = new URLSearchParams({ base });
    if (filter[0] !== undefined) query.set("filter", filter[0]);
    let result: SuiteResult | undefined;
    let problem: string | undefined;
    try {
      const response = await fetch(`http://127.0.0.1:${port}/run?${query}`, {
        signal: AbortSignal.timeout(RUN_TIMEOUT_MS),
      });
      const text = await response.text();
      if (response.ok) result = JSON.parse(text);
      else problem = `HTTP ${response.status}: ${tail(text)} ${tail(output)}`;
    } catch (error) {
      problem = `request failed: ${(error as Error).message} ${tail(output)}`;
    }
    return rowFrom("workerd", version, result, problem, note);
  } finally {
    try {
      child.kill("SIGTERM");
    } catch {
      // already gone
    }
    const killer = setTimeout(() => {
      try {
        child.kill("SIGKILL");
      } catch {
        // already gone
      }
    }, 5_000);
    await status;
    clearTimeout(killer);
    await reading;
  }
}

// ----------------------------------------------------------- Chromium

interface ChromiumCandidate {
  path: string;
  label: string;
  env?: Record<string, string>;
}

function isRoot(): boolean {
  try {
    return Deno.uid() === 0;
  } catch {
    return false;
  }
}

/** Tries apt-get (as root) to install Debian's chromium; returns why not, if it did not. */
async function aptInstallChromium(): Promise<string | undefined> {
  if (Deno.env.get("COMPAT_NO_APT") === "1") return "apt-get disabled by COMPAT_NO_APT=1";
  if (!isRoot()) return "not root, so no apt-get";
  if (!(await exists("/usr/bin/apt-get"))) return "no apt-get";
  log("apt-get update && apt-get install -y --no-install-recommends chromium ...");
  const env = { DEBIAN_FRONTEND: "noninteractive" };
  const update = await spawn("apt-get", ["update"], { timeoutMs: 120_000, env });
  if (update.code !== 0 || update.timedOut) {
    return `apt-get update failed${update.timedOut ? " (timed out)" : ""}: ${tail(update.stderr)}`;
  }
  const install = await spawn(
    "apt-get",
    ["install", "-y", "--no-install-recommends", "chromium"],
    { timeoutMs: 600_000, env },
  );
  if (install.code !== 0 || install.timedOut) {
    return `apt-get install chromium failed${install.timedOut ? " (timed out)" : ""}: ${
      tail(install.stderr)
    }`;
  }
  return undefined;
}

/**
 * Unpacks the Chromium that `@sparticuz/chromium` ships (brotli-compressed,
 * with the NSS libraries it needs from its al2023 archive and SwiftShader)
 * into .tools/compat/chromium-npm/. The package's own JS needs Node 22, so
 * the driver inflates the files itself.
 */
async function npmChromium(): Promise<ChromiumCandidate> {
  const version = PINS["@sparticuz/chromium"];
  const dir = `${TOOLS}/chromium-npm`;
  const marker = `${dir}/.version`;
  const exe = `${dir}/chromium`;
  const label = `the Chromium shipped in npm:@sparticuz/chromium@${version}`;
  const env = { LD_LIBRARY_PATH: `${dir}/lib` };
  if ((await exists(exe)) && (await Deno.readTextFile(marker).catch(() => "")) === version) {
    return { path: exe, label, env };
  }
  const bin = `${TOOLS}/node_modules/@sparticuz/chromium/bin`;
  log(`unpacking ${label} into .tools/compat/chromium-npm ...`);
  await Deno.remove(dir, { recursive: true }).catch(() => {});
  await Deno.mkdir(dir, { recursive: true });
  const inflate = async (name: string) =>
    brotliDecompressSync(await Deno.readFile(`${bin}/${name}`));
  await Deno.writeFile(exe, await inflate("chromium.br"), { mode: 0o755 });
  for (const archive of ["al2023.tar.br", "swiftshader.tar.br", "fonts.tar.br"]) {
    const tar = `${dir}/${archive.replace(/\.br$/, "")}`;
    await Deno.writeFile(tar, await inflate(archive));
    const target = archive.startsWith("fonts") ? `${dir}/fonts` : dir;
    await Deno.mkdir(target, { recursive: true });
    const out = await spawn("tar", ["-xf", tar, "-C", target], { timeoutMs: 60_000 });
    if (out.code !== 0) throw new Error(`tar -xf ${archive} failed: ${tail(out.stderr)}`);
    await Deno.remove(tar);
  }
  await Deno.writeTextFile(marker, version);
  return { path: exe, label, env };
}

/**
 * The Chromium binaries to try, best first (each made ready only when its
 * turn comes, so the npm one is unpacked only if needed), and why others were
 * not available.
 */
async function chromiumCandidates(): Promise<
  { list: (() => Promise<ChromiumCandidate>)[]; notes: string[] }
> {
  const mode = Deno.env.get("COMPAT_CHROMIUM") ?? "auto";
  const notes: string[] = [];
  const list: (() => Promise<ChromiumCandidate>)[] = [];
  const system = Deno.env.get("COMPAT_SYSTEM_CHROMIUM") ?? "/usr/bin/chromium";
  if (mode !== "auto" && mode !== "system" && mode !== "npm") {
    return { list: [() => Promise.resolve({ path: mode, label: mode })], notes };
  }
  if (mode === "auto" || mode === "system") {
    if (!(await exists(system)) && mode === "auto") {
      const why = await aptInstallChromium();
      if (why !== undefined) notes.push(why);
    }
    if (await exists(system)) {
      list.push(() => Promise.resolve({ path: system, label: `Debian's chromium (${system})` }));
    } else notes.push(`${system} not present`);
  }
  if (mode === "auto" || mode === "npm") list.push(npmChromium);
  return { list, notes };
}

async function runChromium(base: string, filter: string[]): Promise<Row> {
  const { list, notes } = await chromiumCandidates();
  const tried: string[] = [...notes];
  for (const prepare of list) {
    let candidate: ChromiumCandidate;
    try {
      candidate = await prepare();
    } catch (error) {
      tried.push(`npm Chromium unavailable: ${(error as Error).message}`);
      continue;
    }
    const userDataDir = await Deno.makeTempDir({ prefix: "compat-chromium-" });
    try {
      const out = await spawn("node", [
        `${COMPAT}/browser_driver.mjs`,
        JSON.stringify({
          playwright: `${TOOLS}/node_modules/playwright-core/index.mjs`,
          executablePath: candidate.path,
          args: CHROMIUM_FLAGS,
          env: candidate.env ?? {},
          userDataDir,
          url: `${base}browser.html${filter[0] ? `?filter=${encodeURIComponent(filter[0])}` : ""}`,
          timeoutMs: RUN_TIMEOUT_MS - 10_000,
        }),
      ]);
      const launchFailed = out.stdout.split("\n").find((l) =>
        l.startsWith("COMPAT_LAUNCH_FAILED ")
      );
      if (launchFailed !== undefined) {
        tried.push(`${candidate.label} did not start: ${launchFailed.slice(21, 400)}`);
        continue;
      }
      const versionLine = out.stdout.split("\n").find((l) => l.startsWith("COMPAT_VERSION "));
      const version = versionLine?.slice("COMPAT_VERSION ".length).trim() ?? "?";
      const extra = tried.length > 0 ? ` (${tried.join("; ")})` : "";
      return rowFrom(
        "chromium",
        version,
        out.result,
        problemOf(out),
        `bundled ESM in a page, ${candidate.label}, npm:playwright-core@${
          PINS["playwright-core"]
        }${extra}`,
      );
    } finally {
      await Deno.remove(userDataDir, { recursive: true }).catch(() => {});
    }
  }
  return rowFrom("chromium", "-", undefined, `no Chromium could be started: ${tried.join("; ")}`);
}

// ---------------------------------------------------------------- report

function table(rows: Row[]): string {
  const header = ["runtime", "version", "passed", "failed", "notes"];
  const cells = rows.map((r) => [
    r.runtime,
    r.version,
    String(r.passed),
    String(r.failed),
    r.ok ? r.note : `FAILED: ${r.note}`,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
  const line = (c: string[]) => c.map((x, i) => x.padEnd(widths[i])).join("  ").trimEnd();
  return [line(header), line(widths.map((w) => "-".repeat(w))), ...cells.map(line)].join("\n");
}

const DISPLAY: Record<Runtime, string> = {
  deno: "Deno",
  node: "Node.js",
  bun: "Bun",
  workerd: "workerd (Cloudflare Workers)",
  chromium: "Chromium (headless)",
};

function markdown(rows: Row[], date: string, tests: number): string {
  const esc = (s: string) => s.replaceAll("|", "\\|");
  const lines = [
    "<!-- Generated by `deno task compat` (compat/run.ts); do not edit by hand. -->",
    "",
    "## Runs on",
    "",
    `The portable suite (${tests} behaviour tests, \`compat/suite.ts\`) on each runtime, last run ${date}:`,
    "",
    "| runtime | version | passed | failed | how it ran |",
    "| --- | --- | --- | --- | --- |",
    ...rows.map((r) =>
      `| ${DISPLAY[r.runtime]} | ${esc(r.version)} | ${r.passed} | ${r.failed} | ${
        esc(r.ok ? r.note : `**failed**: ${r.note}`)
      } |`
    ),
    "",
  ];
  return lines.join("\n");
}

const README = new URL("../README.md", import.meta.url).pathname;
const START = "<!-- runs-on:start (generated by deno task compat) -->";
const END = "<!-- runs-on:end -->";

/** Puts the table of the last run between the README's runs-on markers. */
async function updateReadme(generated: string): Promise<void> {
  const text = await Deno.readTextFile(README);
  const from = text.indexOf(START);
  const to = text.indexOf(END);
  if (from === -1 || to < from) return;
  // The README has its own heading: keep only the sentence and the table.
  const body = generated.slice(generated.indexOf("The portable suite")).trim();
  await Deno.writeTextFile(
    README,
    `${text.slice(0, from + START.length)}\n\n${body}\n\n${text.slice(to)}`,
  );
}

// ------------------------------------------------------------------ main

async function main(): Promise<number> {
  const only = Deno.args.find((a) => a.startsWith("--only="))?.slice(7).split(",") ?? [];
  const filterArg = Deno.args.find((a) => a.startsWith("--filter="))?.slice(9);
  const filter = filterArg ? [filterArg] : [];
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
        let row: Row;
        try {
          row = runtime === "deno"
            ? await runDeno(base, filter)
            : runtime === "node"
            ? await runNode(base, filter)
            : runtime === "bun"
            ? await runBun(base, filter)
            : runtime === "workerd"
            ? await runWorkerd(base, port, filter)
            : await runChromium(base, filter);
        } catch (error) {
          row = rowFrom(runtime, "-", undefined, `driver error: ${(error as Error).message}`);
        }
        rows.push(row);
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
  const full = only.length === 0 && filter.length === 0;
  if (full && Deno.env.get("COMPAT_NO_WRITE") !== "1") {
    const date = new Date().toISOString().slice(0, 10);
    await Deno.writeTextFile(
      `${COMPAT}/results.json`,
      JSON.stringify({ date, tests, runtimes: rows }, null, 2) + "\n",
    );
    await Deno.writeTextFile(`${COMPAT}/RUNS_ON.md`, markdown(rows, date, tests));
    await updateReadme(markdown(rows, date, tests));
    // Keep the generated files as `deno fmt` wants them (the check task runs fmt --check).
    await spawn(Deno.execPath(), [
      "fmt",
      "--quiet",
      `${COMPAT}/results.json`,
      `${COMPAT}/RUNS_ON.md`,
      README,
    ]);
  }
  const passed = rows.reduce((n, r) => n + r.passed, 0);
  const failed = rows.reduce((n, r) => n + r.failed, 0) +
    rows.filter((r) => !r.ok && r.failed === 0).length;
  const bad = rows.filter((r) => !r.ok).map((r) => r.runtime);
  console.log("");
  if (bad.length > 0) console.log(`compat: failing runtimes: ${bad.join(", ")}`);
  // The plain closing line CI reads: every test on every runtime, plus one
  // failure per runtime that could not run at all.
  console.log(`${passed} passed, ${failed} failed`);
  return bad.length === 0 ? 0 : 1;
}

Deno.exit(await main());
