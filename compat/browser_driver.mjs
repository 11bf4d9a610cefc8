// Runs the portable suite in headless Chromium through playwright-core, for
// compat/run.ts (which passes one JSON argument: the playwright-core entry,
// the Chromium binary, its flags and environment, a fresh user data dir and
// the page URL). Prints `COMPAT_VERSION <browser version>` and
// `COMPAT_RESULT <json>`, or `COMPAT_LAUNCH_FAILED <reason>` when the browser
// cannot be started (so the driver can try another Chromium).

const options = JSON.parse(process.argv[2]);
const { chromium } = await import(options.playwright);

let context;
try {
  // launchPersistentContext because Playwright reserves --user-data-dir for it.
  context = await chromium.launchPersistentContext(options.userDataDir, {
    executablePath: options.executablePath,
    headless: true,
    args: options.args,
    env: { ...process.env, ...options.env },
    timeout: 60_000,
  });
} catch (error) {
  console.log(`COMPAT_LAUNCH_FAILED ${String(error?.message ?? error).replaceAll("\n", " ")}`);
  process.exit(0);
}

const errors = [];
try {
  console.log(`COMPAT_VERSION ${context.browser()?.version() ?? "?"}`);
  const page = context.pages()[0] ?? await context.newPage();
  page.on("pageerror", (error) => errors.push(String(error?.stack ?? error)));
  await page.goto(options.url);
  await page.waitForFunction(
    () => globalThis.__COMPAT_RESULT__ !== undefined || globalThis.__COMPAT_ERROR__ !== undefined,
    null,
    { timeout: options.timeoutMs, polling: 100 },
  );
  const { result, error } = await page.evaluate(() => ({
    result: globalThis.__COMPAT_RESULT__,
    error: globalThis.__COMPAT_ERROR__,
  }));
  if (error !== undefined) throw new Error(`the page failed: ${error}`);
  console.log(`COMPAT_RESULT ${JSON.stringify(result)}`);
} catch (error) {
  console.error(String(error?.stack ?? error));
  if (errors.length > 0) console.error(`page errors: ${errors.join(" | ")}`);
  process.exitCode = 1;
} finally {
  await context.close();
}
