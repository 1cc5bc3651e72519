// Handling alerts on the page in Debian's headless Chromium:
//
//   node handling.mjs BASE_URL TOKEN GATE_ALERT LOT_ALERT XLSX_PATH
//
// Takes the gate alert, assigns it, comments and closes it; marks the lot alert a false alarm
// with its reason; sees a step that does not fit refused; downloads today's report as CSV (its
// text printed) and as Excel (saved to XLSX_PATH). Prints one JSON line with what it saw.
import { readFileSync } from "node:fs";
import { drive } from "./chromium.mjs";

const [base, token, gate, lot, xlsxPath] = process.argv.slice(2);

await drive("handling", [], async (browser, step, fail) => {
  const context = await browser.newContext({ acceptDownloads: true });
  const page = await context.newPage();
  page.on("pageerror", (e) => fail(`page error: ${e}`));
  await page.goto(base);
  await page.fill("#token", token);
  await page.click("#login-form button[type=submit]");
  await page.waitForSelector(`#alerts li[data-id="${gate}"]`);
  const badge = (id) => page.textContent(`#alerts li[data-id="${id}"] .badge`);
  const before = await badge(gate);
  const stateIs = (st) => page.waitForSelector(`#h-state[data-state="${st}"]`, { timeout: 10_000 });

  await page.click(`#alerts li[data-id="${gate}"]`);
  await page.waitForSelector("#h-take:not([disabled])");
  await page.click("#h-take");
  await stateIs("in_progress");
  const taken = await badge(gate);
  await page.fill("#h-to", "王师傅");
  await page.click("#h-assign");
  await page.waitForFunction(() => document.getElementById("h-state").textContent.includes("王师傅"));
  await page.fill("#ack-comment", "已联系车主");
  await page.click("#h-comment");
  await page.waitForSelector('#h-steps li[data-step="comment"]');
  await page.fill("#ack-comment", "车已挪走");
  await page.click("#h-done");
  await stateIs("done");
  const gateDone = {
    badge: await badge(gate),
    state: await page.textContent("#h-state"),
    steps: await page.$$eval("#h-steps li", (lis) => lis.map((li) => li.textContent)),
    takeDisabled: await page.isDisabled("#h-take"),
    reopenEnabled: await page.isEnabled("#h-reopen"),
  };
  step(`gate: ${JSON.stringify(gateDone)}`);

  await page.click(`#alerts li[data-id="${lot}"]`);
  await page.waitForSelector("#h-false:not([disabled])");
  await page.fill("#h-reason", "树影晃动");
  await page.click("#h-false");
  await stateIs("done");
  const lotBadge = await badge(lot);
  // A step that does not fit is refused with the reason.
  const refused = await page.evaluate(async (id) => {
    const res = await fetch(`/api/alerts/${id}/handling`, {
      method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ step: "take" }),
    });
    return { status: res.status, body: await res.json() };
  }, lot);

  // The list filtered by handling: the false alarm alone, then what is done (both).
  const listed = async (value) => {
    await page.selectOption("#f-handling", value);
    await page.waitForFunction((n) => document.querySelectorAll("#alerts li").length === n,
      value === "false_alarm" ? 1 : 2, { timeout: 10_000 });
    return page.$$eval("#alerts li", (lis) => lis.map((li) => li.dataset.id));
  };
  const filtered = { false_alarm: await listed("false_alarm"), done: await listed("done") };
  await page.selectOption("#f-handling", "");

  const download = async (button) => {
    const [d] = await Promise.all([page.waitForEvent("download"), page.click(button)]);
    return d;
  };
  const csvFile = await download("#r-csv");
  const csv = readFileSync(await csvFile.path(), "utf8");
  const xlsx = await download("#r-xlsx");
  await xlsx.saveAs(xlsxPath);
  console.log(JSON.stringify({
    before, taken, gateDone, lotBadge, refused, filtered, csv, csvName: csvFile.suggestedFilename(), xlsxName: xlsx.suggestedFilename(),
  }));
});
