// The page's alarm in Debian's headless Chromium, with the browser's own autoplay policy (sound
// only after the page was clicked: the sign-in is that click) and notifications allowed:
//
//   node alarm.mjs BASE_URL TOKEN WAITING_ALERT
//
// WAITING_ALERT is at the alarm's severity, unacknowledged, in the store before the page opens: it
// rings from sign-in, and the sound stops only once it is acknowledged too.
// Signs in, prints "ready" and waits for two alerts the test then raises: one below the alarm's
// severity (it must stay quiet) and one at or above it. Then: the sound plays, the header flashes,
// a notification is up; a mute stops the sound, and when the mute runs out the sound is back;
// acknowledging the alert stops it all. Prints one JSON line with what it saw.
import { drive } from "./chromium.mjs";

const [base, token, waiting] = process.argv.slice(2);

await drive("alarm", [], async (browser, step, fail) => {
  const context = await browser.newContext({ permissions: ["notifications"] });
  // Watch the notifications the page shows (and closes) without changing what they do.
  await context.addInitScript(() => {
    const Real = window.Notification;
    window.__notes = [];
    class Watched extends Real {
      constructor(title, options) {
        super(title, options);
        const seen = { title, body: options?.body, tag: options?.tag, closed: false };
        window.__notes.push(seen);
        const close = this.close.bind(this);
        this.close = () => { seen.closed = true; close(); };
      }
    }
    window.Notification = Watched;
  });
  const page = await context.newPage();
  page.on("pageerror", (e) => { fail(`page error: ${e}`); });
  await page.goto(base);
  await page.fill("#token", token);
  await page.click("#login-form button[type=submit]");
  await page.waitForSelector("#live.up", { timeout: 10_000 });
  const permission = await page.evaluate(() => Notification.permission);
  console.log("ready");

  const [quiet, loud] = await page.waitForFunction(() => {
    const ids = [...document.querySelectorAll("#alerts li.fresh")].map((li) => li.dataset.id);
    return ids.length >= 2 ? ids.reverse() : null; // newest first: the loud one came second
  }, null, { timeout: 30_000 }).then((h) => h.jsonValue());
  const playing = () => page.waitForFunction(() => {
    const a = document.getElementById("alarm");
    return !a.paused && a.currentTime > 0.3 && a.duration > 0.9;
  }, null, { timeout: 10_000 });
  await playing();
  const ringing = await page.evaluate(([quiet, loud]) => ({
    flashing: document.body.classList.contains("alarm"),
    bar: document.getElementById("alarm-count").textContent,
    loudOutlined: document.querySelector(`#alerts li[data-id="${loud}"]`).classList.contains("ringing"),
    quietOutlined: document.querySelector(`#alerts li[data-id="${quiet}"]`).classList.contains("ringing"),
    notes: window.__notes.map((n) => ({ ...n })),
    title: document.title,
  }), [quiet, loud]);
  step(`ringing: ${JSON.stringify(ringing)}`);

  await page.selectOption("#alarm-mute", "5");
  await page.waitForFunction(() => document.getElementById("alarm").paused, null, { timeout: 5_000 });
  const muted = await page.evaluate(() => ({
    paused: document.getElementById("alarm").paused,
    flashing: document.body.classList.contains("alarm"),
    text: document.getElementById("alarm-muted").textContent,
    stored: Object.keys(localStorage).filter((k) => k.startsWith("vigil.mute.")),
  }));
  step(`muted: ${JSON.stringify(muted)}`);
  // The mute runs out (as if its five minutes had passed): the sound is back by itself.
  await page.evaluate(() => {
    for (const k of Object.keys(localStorage)) if (k.startsWith("vigil.mute.")) localStorage.setItem(k, String(Date.now() + 1500));
  });
  await page.waitForTimeout(500);
  const stillMuted = await page.evaluate(() => document.getElementById("alarm").paused);
  await playing();
  step("mute ran out: sound back");

  await page.click(`#alerts li[data-id="${loud}"]`);
  await page.waitForSelector("#ack-button:not([disabled])");
  await page.fill("#ack-comment", "已到场处理");
  await page.click("#ack-button");
  // The waiting alert still rings.
  await page.waitForFunction(() => document.getElementById("alarm-count").textContent.startsWith("1 "), null, { timeout: 10_000 });
  const afterLoud = await page.evaluate(() => ({
    paused: document.getElementById("alarm").paused,
    bar: document.getElementById("alarm-count").textContent,
  }));
  step(`loud acknowledged, waiting still rings: ${JSON.stringify(afterLoud)}`);
  await page.click(`#alerts li[data-id="${waiting}"]`);
  await page.waitForSelector("#ack-button:not([disabled])");
  await page.click("#ack-button");
  await page.waitForFunction(() => document.getElementById("alarm").paused, null, { timeout: 10_000 });
  const after = await page.evaluate(() => ({
    paused: document.getElementById("alarm").paused,
    flashing: document.body.classList.contains("alarm"),
    bar: !document.getElementById("alarm-bar").hidden,
    notes: window.__notes.map((n) => ({ ...n })),
    title: document.title,
  }));
  step(`acknowledged: ${JSON.stringify(after)}`);
  console.log(JSON.stringify({ permission, quiet, loud, ringing, muted, stillMuted, afterLoud, after }));
});
