// Plays an H.265 camera's clip in Debian's headless Chromium (no HEVC decoder there): sign in,
// open the first alert with a clip, and wait for the video element to reach `canplay` and its
// time to advance. Prints one JSON line: what the browser says it can play, the source it
// ended on (the page asks for `?rendition=h264` when the recording will not decode), and how far
// playback got.
//
//   node hevc.mjs BASE_URL TOKEN
import { drive } from "./chromium.mjs";

const [base, token] = process.argv.slice(2);

await drive("hevc", ["--autoplay-policy=no-user-gesture-required"], async (browser, step, fail) => {
  const page = await (await browser.newContext()).newPage();
  page.on("pageerror", (e) => { fail(`page error: ${e}`); });
  await page.goto(base);
  await page.fill("#token", token);
  await page.click("#login-form button[type=submit]");
  await page.waitForSelector("#main:not([hidden])");
  const hevc = await page.evaluate(() => document.createElement("video").canPlayType('video/mp4; codecs="hvc1.1.6.L93.B0"'));
  step(`canPlayType(hvc1) = "${hevc}"`);
  // The first alert whose clip is recorded.
  const id = await page.evaluate(async () => {
    for (let i = 0; i < 120; i++) {
      const list = await (await fetch("/api/alerts")).json();
      const done = (list.alerts ?? list).find((v) => (v.alert ?? v).evidence?.clip);
      if (done) return (done.alert ?? done).id;
      await new Promise((r) => setTimeout(r, 500));
    }
    return null;
  });
  if (!id) throw new Error("no alert with a clip within 60 s");
  await page.click(`#alerts li[data-id="${id}"]`);
  step(`opened alert ${id}`);
  await page.evaluate(() => new Promise((resolve, reject) => {
    const v = document.getElementById("d-video");
    const t = setTimeout(() => reject(new Error(`no canplay; src ${v.getAttribute("src")}, error ${v.error?.code}`)), 120_000);
    const ok = () => { if (!v.getAttribute("src").includes("rendition") && v.error) return; clearTimeout(t); resolve(); };
    if (v.readyState >= 3 && !v.error) ok(); else v.addEventListener("canplay", ok);
  }));
  step("canplay");
  await page.evaluate(() => { const v = document.getElementById("d-video"); v.muted = true; return v.play(); });
  await page.waitForFunction(() => document.getElementById("d-video").currentTime > 0.5, null, { timeout: 30_000 });
  const seen = await page.evaluate(() => {
    const v = document.getElementById("d-video");
    return { src: v.getAttribute("src"), currentTime: v.currentTime, width: v.videoWidth, height: v.videoHeight,
      note: document.getElementById("d-video-note").textContent };
  });
  console.log(JSON.stringify({ id, can_play_hevc: hevc, ...seen }));
});
