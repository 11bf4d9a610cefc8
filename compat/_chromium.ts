/**
 * The Chromium runner of `deno task compat`: finds a Chromium (Debian's
 * `chromium`, installed with apt-get when root and missing, else the one
 * shipped inside the `@sparticuz/chromium` npm package), opens the suite's
 * page in it headless through `playwright-core` (`browser_driver.mjs`), and
 * reads the results the page leaves.
 *
 * Environment: `COMPAT_CHROMIUM` = `auto` (default), `system`, `npm` or a
 * path; `COMPAT_SYSTEM_CHROMIUM` (default `/usr/bin/chromium`);
 * `COMPAT_NO_APT=1` never calls apt-get.
 *
 * @module
 */

import { brotliDecompressSync } from "node:zlib";
import {
  COMPAT,
  exists,
  log,
  problemOf,
  type Row,
  rowFrom,
  RUN_TIMEOUT_MS,
  spawn,
  tail,
  TOOLS,
} from "./_driver.ts";
import { PINS } from "./_pins.ts";

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

/** Runs the suite in headless Chromium; resolves to its row. */
export async function runChromium(base: string, filter: string[]): Promise<Row> {
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
