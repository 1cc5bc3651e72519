// The live view and the zone editor in Debian's headless Chromium, against `vigil run`:
//
//   node console.mjs BASE_URL TOKEN RULE_FILE
//
// Opens the live grid (a picture within 2 s, the camera whose server is down shown offline) and the camera's big view (its boxes change from
// picture to picture); opens the zone editor on the frozen picture; draws a zone that crosses
// itself (refused: the error beside the drawing, RULE_FILE untouched); draws the lane with the
// mouse and saves it (RULE_FILE changed there only); waits for an alert of the rule on the
// footage that follows; undoes (RULE_FILE back byte for byte). Prints one JSON line.
import { readFileSync } from "node:fs";
import { drive } from "./chromium.mjs";

const [base, token, ruleFile] = process.argv.slice(2);
const original = readFileSync(ruleFile);
const seen = {};

await drive("console", [], async (browser, step, fail) => {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.on("pageerror", (e) => fail(`page error: ${e}`));
  await page.goto(base);
  await page.fill("#token", token);
  await page.click("#login-form button[type=submit]");
  await page.waitForSelector("#tabs:not([hidden])");

  // The grid: each camera's picture, the first within 2 s of opening.
  const opened = Date.now();
  await page.click("#tab-live");
  await page.waitForFunction(() => {
    const img = document.querySelector("#grid .live img");
    return img && img.naturalWidth > 0;
  }, null, { timeout: 10_000 });
  seen.gridFirstMs = Date.now() - opened;
  step(`grid picture after ${seen.gridFirstMs} ms`);
  // The camera whose server is down turns offline in the grid (a status event), with why.
  await page.waitForSelector('#grid figure[data-camera="gate"][data-state="offline"]', { timeout: 30_000 });
  seen.gate = await page.textContent('#grid figure[data-camera="gate"] figcaption');
  step(`gate: ${seen.gate}`);

  // One camera, big: pictures keep coming, and their boxes change.
  await page.click('#grid figure[data-camera="lot"]');
  // A picture, and the camera's zones over it (they load beside the first picture).
  await page.waitForFunction(() => Number(document.getElementById("cv-live").dataset.seq) > 0
    && document.querySelectorAll("#cv-live .shape").length > 0, null, { timeout: 10_000 });
  const boxesNow = () => page.evaluate(() => ({
    seq: Number(document.getElementById("cv-live").dataset.seq),
    boxes: [...document.querySelectorAll("#cv-live rect.box")].map((r) =>
      ["x", "y", "width", "height"].map((a) => r.getAttribute(a)).join(",") + ":" + r.dataset.label),
    zones: [...document.querySelectorAll("#cv-live .shape")].map((z) => z.dataset.name),
  }));
  const first = await boxesNow();
  const changes = [];
  const deadline = Date.now() + 20_000;
  let last = first;
  while (Date.now() < deadline && changes.length < 3) {
    await page.waitForTimeout(150);
    const now = await boxesNow();
    if (now.seq !== last.seq && JSON.stringify(now.boxes) !== JSON.stringify(last.boxes)) changes.push(now);
    last = now;
  }
  seen.live = { first, changes: changes.length, lastSeq: last.seq, zones: first.zones };
  step(`live: ${JSON.stringify(seen.live)}`);
  if (changes.length < 3) throw new Error("the boxes did not update");

  // The editor, on the frozen picture.
  await page.click("#z-edit");
  await page.waitForSelector("#z-tools:not([hidden])");
  // The picture shown when the editor opened (a newer one may have come after the last look).
  const frozenSeq = Number(await page.getAttribute("#cv-live", "data-seq"));
  await page.selectOption("#z-shape", { value: `zone:fire_lane:${ruleFile.split("/").pop()}` });
  const svg = await page.$("#cv-live svg");
  const box = await svg.boundingBox();
  const at = (x, y) => page.mouse.click(box.x + x * box.width, box.y + y * box.height);
  const draw = async (points) => {
    await page.click("#z-redraw");
    for (const [x, y] of points) await at(x, y);
  };

  // A zone that crosses itself: refused, shown at the drawing, the file untouched.
  await draw([[0.1, 0.4], [0.4, 0.9], [0.4, 0.4], [0.1, 0.9]]);
  await page.click("#z-save");
  await page.waitForSelector("#z-at:not([hidden])");
  seen.invalid = {
    at: await page.textContent("#z-at"),
    errors: await page.$$eval("#z-errors li", (lis) => lis.map((li) => li.textContent)),
    untouched: readFileSync(ruleFile).equals(original),
  };
  step(`invalid: ${JSON.stringify(seen.invalid)}`);

  // The lane, drawn with the mouse and saved (no alert of the rule until then).
  seen.alertsBefore = await page.evaluate(async () => {
    const { alerts } = await (await fetch("/api/alerts?limit=100")).json();
    return alerts.filter((a) => a.alert.rule === "lane_blocked").length;
  });
  const savedAt = Date.now();
  await draw([[0.0, 0.3], [0.45, 0.3], [0.45, 0.995], [0.0, 0.995]]);
  await page.click("#z-save");
  await page.waitForFunction(() => document.getElementById("z-errors").children.length === 0
    && document.getElementById("z-status").textContent.length > 0
    && !document.getElementById("z-undo").disabled, null, { timeout: 10_000 });
  seen.saved = {
    status: await page.textContent("#z-status"),
    text: readFileSync(ruleFile, "utf8"),
    stillFrozen: Number(await page.getAttribute("#cv-live", "data-seq")) === frozenSeq,
  };
  step(`saved: ${seen.saved.status}`);

  // The reload puts it in force: an alert of the rule follows on the footage.
  const alert = await page.evaluate(async (since) => {
    const deadline = Date.now() + 90_000;
    while (Date.now() < deadline) {
      const res = await fetch("/api/alerts?limit=20");
      const { alerts } = await res.json();
      const hit = alerts.find((a) => a.alert.rule === "lane_blocked" && Date.parse(a.alert.wall_time) >= since);
      if (hit) return { id: hit.alert.id, zone: hit.alert.zone };
      await new Promise((r) => setTimeout(r, 500));
    }
    return null;
  }, savedAt);
  seen.alert = alert;
  step(`alert after the edit: ${JSON.stringify(alert)}`);

  // Undo: the file as it was, byte for byte.
  await page.click("#z-undo");
  await page.waitForFunction(() => document.getElementById("z-undo").disabled, null, { timeout: 10_000 });
  seen.undone = readFileSync(ruleFile).equals(original);
  await page.click("#z-done");
  await page.waitForFunction((s) => Number(document.getElementById("cv-live").dataset.seq) > s, frozenSeq, { timeout: 10_000 });
  seen.liveAgain = true;
  console.log(JSON.stringify(seen));
});
