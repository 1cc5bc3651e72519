// Drives vigil's page in Debian's headless Chromium: sign in (a token, or NAME:PASSWORD of a named
// account), see an alert arrive
// live, play its clip to HAVE_ENOUGH_DATA, acknowledge it, see the state change, switch language,
// save a screenshot. Prints one JSON line with what it saw (alert id, arrival latencies).
//
//   node page.mjs BASE_URL TOKEN|NAME:PASSWORD SCREENSHOT.png [ALERTS_TO_MEASURE] [UNREACHABLE_ALERT_ID] [OTHER_INSTANCE]
//
// With UNREACHABLE_ALERT_ID (an alert of an instance that never said where it is, in the shared
// store), also switch to "all boxes" and open it: listed with its instance, and why its evidence
// cannot be had. With OTHER_INSTANCE (a live instance on the same shared store), open one of its
// alerts there: its clip plays through this instance, and it is acknowledged from here.
import { drive } from "./chromium.mjs";

const [base, token, screenshot, measureArg, districtId, otherInstance] = process.argv.slice(2);
const measure = Number(measureArg ?? "1");

await drive("page", ["--autoplay-policy=no-user-gesture-required"], async (browser, step, fail) => {
  const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
  const page = await context.newPage();
  page.on("pageerror", (e) => { fail(`page error: ${e}`); });
  page.on("console", (m) => { if (m.type() === "error") step(`console: ${m.text()}`); });

  await page.goto(base);
  await page.waitForSelector("#login:not([hidden])");
  const lang = await page.evaluate(() => document.documentElement.lang);
  if (lang !== "zh-CN") throw new Error(`default language ${lang}, expected zh-CN`);
  if (token.includes(":")) {
    const [user, password] = [token.slice(0, token.indexOf(":")), token.slice(token.indexOf(":") + 1)];
    await page.fill("#user", user);
    await page.fill("#password", password);
  } else {
    await page.fill("#token", token);
  }
  await page.click("#login-form button[type=submit]");
  await page.waitForSelector("#main:not([hidden])");
  await page.waitForSelector("#live.up", { timeout: 10_000 });
  step("signed in, live stream up");

  // Note when each alert row arrives (rows added by the live stream carry class "fresh").
  await page.evaluate(() => {
    window.__arrivals = [];
    new MutationObserver((muts) => {
      for (const m of muts) for (const n of m.addedNodes) {
        if (n.classList?.contains("fresh")) window.__arrivals.push({ id: n.dataset.id, at: Date.now() });
      }
    }).observe(document.getElementById("alerts"), { childList: true });
  });
  await page.waitForFunction((n) => window.__arrivals.length >= n, measure, { timeout: 30_000 + 15_000 * measure });
  const arrivals = await page.evaluate(() => window.__arrivals);
  const latencies = [];
  for (const a of arrivals) {
    const res = await page.evaluate(async (id) => (await fetch(`/api/alerts/${id}`)).json(), a.id);
    latencies.push(a.at - Date.parse(res.alert.alert.wall_time));
  }
  const id = arrivals[0].id;
  step(`alert ${id} arrived live`);

  await page.click(`#alerts li[data-id="${id}"]`);
  await page.waitForFunction(() => {
    const v = document.getElementById("d-video");
    return !v.hidden && v.readyState >= 4; // HAVE_ENOUGH_DATA
  }, null, { timeout: 60_000 });
  const video = await page.evaluate(() => {
    const v = document.getElementById("d-video");
    return { readyState: v.readyState, duration: v.duration, width: v.videoWidth, height: v.videoHeight };
  });
  step(`clip ready: ${JSON.stringify(video)}`);
  await page.waitForFunction(() => {
    const img = document.getElementById("d-snapshot");
    return !img.hidden && img.complete && img.naturalWidth > 0;
  }, null, { timeout: 30_000 });

  await page.fill("#ack-comment", "已通知车主挪车");
  await page.click("#ack-button");
  await page.waitForSelector(`#alerts li[data-id="${id}"].acked`, { timeout: 10_000 });
  const ackText = await page.textContent("#d-ack");
  if (!ackText.includes("已由")) throw new Error(`acknowledgement not shown: ${ackText}`);
  const disabled = await page.isDisabled("#ack-button");
  if (!disabled) throw new Error("ack button still enabled after acknowledging");
  step("acknowledged");
  // The operator sees who accessed the alert: this session opened it, played its clip, showed
  // its snapshot and acknowledged it — each recorded once.
  await page.waitForSelector('#d-access:not([hidden]) #d-access-list li[data-action="ack"]', { state: "attached", timeout: 10_000 });
  const access = await page.$$eval("#d-access-list li", (lis) => lis.map((li) => li.dataset.action));
  for (const action of ["view", "clip", "snapshot", "ack"]) {
    if (access.filter((a) => a === action).length !== 1) throw new Error(`access history ${access}: not one ${action}`);
  }
  const accessText = await page.textContent("#d-access-list");
  if (!accessText.includes("确认告警 · 127.0.0.1:") || !accessText.includes("已通知车主挪车")) {
    throw new Error(`access history text: ${accessText}`);
  }
  step(`access history: ${access.join(", ")}`);

  let district = null;
  if (districtId) {
    await page.waitForSelector("#f-scope:not([hidden])", { timeout: 10_000 });
    await page.selectOption("#f-scope", "all");
    // The header lists the instances instead of this box's cameras.
    await page.waitForSelector("#instances:not([hidden]) li", { timeout: 10_000 });
    const instances = await page.$$eval("#instances li", (lis) =>
      lis.map((li) => ({ name: li.dataset.instance, online: li.classList.contains("online"), text: li.textContent })));
    const row = `#alerts li[data-id="${districtId}"]`;
    await page.waitForSelector(row, { timeout: 10_000 });
    const rowText = await page.textContent(row);
    // This box's own alert is in the shared store too.
    await page.waitForSelector(`#alerts li[data-id="${id}"]`, { timeout: 30_000 });
    await page.click(row);
    await page.waitForFunction(() => document.getElementById("d-video-note").textContent.includes("vigil-elsewhere"),
      null, { timeout: 10_000 });
    const note = await page.textContent("#d-video-note");
    const ackDisabled = await page.isDisabled("#ack-button");
    district = { rowText, note, ackDisabled, instances };
    step(`district alert ${districtId} shown: ${note}`);
    if (otherInstance) {
      // One of the other instance's alerts with a clip, listed live or on load.
      const other = await page.waitForFunction((inst) => {
        for (const li of document.querySelectorAll("#alerts li")) {
          if (li.textContent.includes(` · ${inst}`)) return li.dataset.id;
        }
        return null;
      }, otherInstance, { timeout: 60_000 });
      const otherId = await other.jsonValue();
      await page.click(`#alerts li[data-id="${otherId}"]`);
      await page.waitForFunction(() => {
        const v = document.getElementById("d-video");
        return !v.hidden && v.readyState >= 4;
      }, null, { timeout: 60_000 });
      const otherVideo = await page.evaluate(() => {
        const v = document.getElementById("d-video");
        return { readyState: v.readyState, duration: v.duration, src: v.getAttribute("src") };
      });
      await page.fill("#ack-comment", "已派保安");
      await page.click("#ack-button");
      await page.waitForSelector(`#alerts li[data-id="${otherId}"].acked`, { timeout: 10_000 });
      district.other = { id: otherId, video: otherVideo };
      step(`${otherInstance}'s alert ${otherId} played here and acknowledged: ${JSON.stringify(otherVideo)}`);
    }
    await page.selectOption("#f-scope", "");
  }

  await page.click("#lang");
  const english = await page.textContent("#ack-button");
  if (english !== "Acknowledge") throw new Error(`English label: ${english}`);
  await page.click("#lang");

  // The console as a guard leaves it: this box's alert open, its camera named as the site names it.
  await page.click(`#alerts li[data-id="${id}"]`);
  await page.waitForFunction(() => {
    const v = document.getElementById("d-video");
    return !v.hidden && v.readyState >= 2 && !document.getElementById("handling").hidden;
  }, null, { timeout: 30_000 });
  const named = await page.textContent(`#alerts li[data-id="${id}"] .what`);
  if (!named.startsWith("3号楼东门")) throw new Error(`the alert row names its camera ${named}`);
  await page.screenshot({ path: screenshot, fullPage: true });
  console.log(JSON.stringify({ id, video, latencies_ms: latencies, district }));
});
