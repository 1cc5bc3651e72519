// What the page drivers share: Debian's headless Chromium (no browser download) and a run that
// reports each step on stderr, closes the browser whatever happens, and exits 1 on a failure —
// a thrown error, or an error in the page (`fail`).
import { chromium } from "playwright-core";

const ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
  "--disable-background-networking", "--disable-component-update", "--disable-sync"];

export async function drive(name, extraArgs, body) {
  const step = (msg) => process.stderr.write(`${name}: ${msg}\n`);
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    headless: true,
    args: [...ARGS, ...extraArgs],
  });
  let failed = false;
  const fail = (why) => { step(why); failed = true; };
  try {
    await body(browser, step, fail);
  } catch (e) {
    fail(`FAILED: ${e.stack ?? e}`);
  } finally {
    await browser.close();
  }
  process.exit(failed ? 1 : 0);
}
