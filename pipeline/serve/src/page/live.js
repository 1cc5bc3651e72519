"use strict";
// The live view and the zone editor. Loaded before app.js, whose helpers (api, t, me,
// cameraName, showLogin) it calls once the page runs.
//
// A player asks /api/cameras/{id}/live for the next picture after the one it shows (the server
// answers when there is one, or 204 after a few seconds) and draws that picture's boxes and the
// camera's zones over it. A grid tile asks once a second; the big view and an alert's camera as
// fast as the server makes pictures. Players stop when their view closes or the tab is hidden,
// and the server stops making pictures for a camera nobody asks for.

const LIVE_TEXT = {
  zh: {
    tab_alerts: "告警", tab_live: "实时画面", back: "返回", live_now: "实时画面",
    edit_zones: "编辑区域", new_zone: "新区域…", new_zone_name: "新区域名称", redraw: "重画",
    save: "保存", undo_edit: "撤销上次修改", close_editor: "完成", saved: "已保存，规则随即生效",
    undone: "已恢复上一版本", stale: "文件已被他人修改，已重新载入", no_picture: "暂无画面",
    hint_zone: "在画面上依次点击多边形各顶点（至少 3 个），可拖动顶点调整",
    hint_line: "点击两点画线", hint_fill_line: "点击两点画出垃圾桶满溢线",
    hint_corners: "依次点击立面矩形四角：左下、右下、右上、左上",
    hint_ground: "依次点击路面矩形四角：先横跨车道从一侧路沿到另一侧，再沿车道向前，再横跨回来",
    kind_zone: "区域", kind_line: "越线", kind_fill_line: "满溢线", kind_corners: "立面标定",
    kind_ground: "路面标定",
    frozen: "画面已冻结，编辑完成后恢复实时",
  },
  en: {
    tab_alerts: "Alerts", tab_live: "Live", back: "Back", live_now: "Live",
    edit_zones: "Edit zones", new_zone: "New zone…", new_zone_name: "new zone name", redraw: "Redraw",
    save: "Save", undo_edit: "Undo last change", close_editor: "Done", saved: "Saved; the rules apply at once",
    undone: "Previous version restored", stale: "Someone else changed the file; reloaded", no_picture: "No picture yet",
    hint_zone: "Click the polygon's corners on the picture (3 or more); drag a corner to move it",
    hint_line: "Click two points for the line", hint_fill_line: "Click two points for the bin's fill line",
    hint_corners: "Click the facade rectangle's corners: bottom-left, bottom-right, top-right, top-left",
    hint_ground: "Click the ground rectangle's corners: across the lane kerb to kerb, then along it, then back across",
    kind_zone: "zone", kind_line: "line", kind_fill_line: "fill line", kind_corners: "facade corners",
    kind_ground: "lane ground",
    frozen: "Picture frozen while editing",
  },
};

const VIEWER = (crypto.randomUUID?.() ?? String(Math.random()).slice(2)).slice(0, 36);
const SVG = "http://www.w3.org/2000/svg";
const POINTS_OF = { zone: Infinity, line: 2, fill_line: 2, corners: 4, ground: 4 };
const CLOSED = new Set(["zone", "corners", "ground"]);
const players = new Set();

function sleep(ms) { return new Promise((r) => setTimeout(r, ms)); }
function svgEl(name, attrs = {}) {
  const el = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
  return el;
}
function pointsAttr(points) { return points.map(([x, y]) => `${x},${y}`).join(" "); }

class LivePlayer {
  constructor(box, camera, every = 0) {
    this.box = box; this.camera = camera; this.every = every; this.seq = 0; this.running = false;
    box.classList.add("live");
    box.dataset.camera = camera;
    this.img = document.createElement("img");
    this.img.alt = "";
    this.svg = svgEl("svg", { viewBox: "0 0 1 1", preserveAspectRatio: "none" });
    this.shapes = svgEl("g", { class: "shapes" });
    this.boxes = svgEl("g", { class: "boxes" });
    this.edit = svgEl("g", { class: "edit" });
    this.svg.append(this.shapes, this.boxes, this.edit);
    this.note = document.createElement("p");
    this.note.className = "live-note";
    this.note.textContent = t("no_picture");
    box.replaceChildren(this.img, this.svg, this.note);
    players.add(this);
  }

  start() {
    if (this.running || document.hidden) return;
    this.running = true;
    this.loop();
  }

  stop() {
    this.running = false;
    this.abort?.abort();
  }

  close() { this.stop(); players.delete(this); }

  async loop() {
    while (this.running) {
      this.abort = new AbortController();
      const url = `/api/cameras/${encodeURIComponent(this.camera)}/live?after=${this.seq}&viewer=${VIEWER}`;
      let res;
      try {
        res = await fetch(url, { credentials: "same-origin", signal: this.abort.signal });
      } catch {
        if (this.running) await sleep(1000);
        continue;
      }
      if (res.status === 401) { this.stop(); showLogin(); return; }
      if (res.status === 204) continue;
      if (!res.ok) {
        const body = await res.json().catch(() => ({}));
        this.note.textContent = body.error ?? `HTTP ${res.status}`;
        this.note.hidden = false;
        await sleep(res.status === 503 ? 5000 : 10000);
        continue;
      }
      const blob = await res.blob().catch(() => null);
      if (!this.running || !blob) continue;
      await this.show(blob, res.headers);
      if (this.every) await sleep(this.every);
    }
  }

  // The picture, its number and its boxes change together, before the picture has loaded: a
  // player stopped meanwhile (the editor freezing it) still says which picture it shows.
  async show(blob, headers) {
    const url = URL.createObjectURL(blob);
    const loaded = new Promise((resolve) => { this.img.onload = this.img.onerror = resolve; });
    this.img.src = url;
    this.seq = Number(headers.get("x-vigil-seq")) || this.seq;
    const [w, h] = (headers.get("x-vigil-size") ?? "").split("x").map(Number);
    if (w && h) this.box.style.aspectRatio = `${w} / ${h}`;
    let boxes = [];
    try { boxes = JSON.parse(headers.get("x-vigil-boxes") ?? "[]"); } catch { boxes = []; }
    this.drawBoxes(boxes);
    this.box.dataset.seq = String(this.seq);
    this.box.dataset.time = headers.get("x-vigil-time") ?? "";
    this.note.hidden = true;
    await loaded;
    if (this.url) URL.revokeObjectURL(this.url);
    this.url = url;
  }

  drawBoxes(boxes) {
    this.boxes.replaceChildren(...boxes.map((b) => {
      const r = svgEl("rect", { class: "box", x: b.x, y: b.y, width: b.w, height: b.h, "data-label": b.label });
      const title = svgEl("title");
      title.textContent = `${b.label} ${b.score.toFixed(2)}`;
      r.append(title);
      return r;
    }));
  }

  drawShapes(shapes) {
    this.shapes.replaceChildren(...shapes.map((s) => {
      const closed = CLOSED.has(s.kind);
      const el = svgEl(closed ? "polygon" : "polyline", {
        class: `shape ${s.kind}`, points: pointsAttr(s.points), "data-name": s.name,
      });
      const title = svgEl("title");
      title.textContent = `${t("kind_" + s.kind)} ${s.name}`;
      el.append(title);
      return el;
    }));
  }
}

async function loadShapes(camera) {
  const res = await api(`/api/cameras/${encodeURIComponent(camera)}/zones`);
  return res.ok ? res.json() : { shapes: [], files: [] };
}

// ---- the grid and one camera's view -------------------------------------------------------

let tiles = [];
let bigPlayer = null;
let alertPlayer = null;

function showTab(tab) {
  const wall = tab === "live";
  document.body.classList.toggle("on-wall", wall);
  $("wall").hidden = !wall;
  $("feed").hidden = wall;
  $("detail").hidden = wall || !selected;
  $("tab-alerts").classList.toggle("active", !wall);
  $("tab-live").classList.toggle("active", wall);
  if (wall) {
    alertPlayer?.stop();
    openGrid();
  } else {
    closeWall();
    if (selected) alertPlayer?.start();
  }
}

async function openGrid() {
  closeCamera();
  $("grid").hidden = false;
  const res = await api("/api/cameras");
  const { cameras } = await res.json();
  for (const p of tiles) p.close();
  tiles = [];
  const items = cameras.map((c) => {
    const fig = document.createElement("figure");
    fig.dataset.camera = c.camera;
    const box = document.createElement("div");
    fig.append(box, document.createElement("figcaption"));
    renderTileState(c, fig);
    fig.addEventListener("click", () => openCamera(c.camera));
    const p = new LivePlayer(box, c.camera, 1000);
    tiles.push(p);
    loadShapes(c.camera).then((l) => p.drawShapes(l.shapes)).catch(() => {});
    return fig;
  });
  $("grid").replaceChildren(...items);
  for (const p of tiles) p.start();
}

// A tile's state: from the listing when the grid opens, then from each status event.
function renderTileState(status, fig) {
  fig ??= $("grid").querySelector(`figure[data-camera="${CSS.escape(status.camera)}"]`);
  if (!fig) return;
  const state = status.online === false ? "offline" : status.online ? "online" : "";
  fig.className = `tile ${state}`;
  fig.dataset.state = state || "unknown";
  fig.querySelector("figcaption").textContent =
    cameraName(status.camera) + (status.online === false ? ` — ${status.detail ?? t("offline")}` : "");
}

function closeWall() {
  for (const p of tiles) p.close();
  tiles = [];
  closeCamera();
}

async function openCamera(camera) {
  for (const p of tiles) p.stop();
  $("grid").hidden = true;
  $("camera-view").hidden = false;
  $("cv-title").textContent = cameraName(camera);
  bigPlayer?.close();
  bigPlayer = new LivePlayer($("cv-live"), camera);
  bigPlayer.start();
  const canEdit = me && (me.role === "operator" || me.role === "admin");
  $("z-edit").hidden = !canEdit;
  editor.listing = await loadShapes(camera);
  bigPlayer.drawShapes(editor.listing.shapes);
}

function closeCamera() {
  stopEditing();
  bigPlayer?.close();
  bigPlayer = null;
  $("camera-view").hidden = true;
}

// The selected alert's camera, live beside its clip (this box's alerts only).
function showAlertLive(camera, elsewhere) {
  const fig = $("d-live-fig");
  // Another box's camera (the district scope) is not live here.
  if (elsewhere || !$("cameras").querySelector(`li[data-camera="${CSS.escape(camera)}"]`)) {
    alertPlayer?.close(); alertPlayer = null; fig.hidden = true; return;
  }
  fig.hidden = false;
  if (alertPlayer?.camera === camera) { alertPlayer.start(); return; }
  alertPlayer?.close();
  alertPlayer = new LivePlayer($("d-live"), camera);
  alertPlayer.start();
  loadShapes(camera).then((l) => alertPlayer?.camera === camera && alertPlayer.drawShapes(l.shapes)).catch(() => {});
}

function stopAllLive() { for (const p of players) p.stop(); }

document.addEventListener("visibilitychange", () => {
  if (document.hidden) { stopAllLive(); return; }
  if (!$("wall").hidden) {
    if (bigPlayer && !editor.active) bigPlayer.start(); else if (!bigPlayer) for (const p of tiles) p.start();
  } else if (selected) alertPlayer?.start();
});

// ---- the zone editor ------------------------------------------------------------------------

const editor = { active: false, listing: null, target: null, points: [], drag: null };

function startEditing() {
  editor.active = true;
  bigPlayer.stop(); // the frozen frame to draw on
  $("z-tools").hidden = false;
  $("z-edit").hidden = true;
  $("z-status").textContent = t("frozen");
  fillShapes();
}

function stopEditing() {
  editor.active = false;
  editor.target = null;
  editor.points = [];
  $("z-tools").hidden = true;
  $("z-errors").replaceChildren();
  $("z-at").hidden = true;
  bigPlayer?.edit.replaceChildren();
  if (bigPlayer) {
    $("z-edit").hidden = !(me && me.role !== "viewer");
    bigPlayer.start();
  }
}

function shapeKey(s) { return `${s.kind}:${s.name}:${s.file}`; }

function fillShapes(keep) {
  const select = $("z-shape");
  const options = editor.listing.shapes.map((s) => {
    const o = document.createElement("option");
    o.value = shapeKey(s);
    o.textContent = `${t("kind_" + s.kind)} ${s.name} (${s.file})`;
    return o;
  });
  const add = document.createElement("option");
  add.value = "new"; add.textContent = t("new_zone");
  select.replaceChildren(...options, add);
  // New zones go into a rule file (the first file is the config itself).
  $("z-file").replaceChildren(...editor.listing.files.slice(1).map((f) => {
    const o = document.createElement("option"); o.value = f.file; o.textContent = f.file; return o;
  }));
  if (keep && [...select.options].some((o) => o.value === keep)) select.value = keep;
  pickShape();
}

function pickShape() {
  const key = $("z-shape").value;
  const isNew = key === "new";
  $("z-new").hidden = !isNew;
  $("z-file").hidden = !isNew;
  const s = editor.listing.shapes.find((x) => shapeKey(x) === key);
  editor.target = s ? { file: s.file, kind: s.kind, name: s.name } : { file: $("z-file").value, kind: "zone", name: "" };
  editor.points = s ? s.points.map((p) => [...p]) : [];
  $("z-hint").textContent = t("hint_" + editor.target.kind);
  $("z-errors").replaceChildren();
  $("z-at").hidden = true;
  drawEditing();
  renderUndo();
}

function fileOf(name) { return editor.listing.files.find((f) => f.file === name); }
function renderUndo() { $("z-undo").disabled = !fileOf(editor.target?.file)?.undo; }

function drawEditing() {
  const g = bigPlayer.edit;
  const closed = CLOSED.has(editor.target.kind);
  const outline = svgEl(closed && editor.points.length > 2 ? "polygon" : "polyline", {
    class: "drawing", points: pointsAttr(editor.points),
  });
  const handles = editor.points.map(([x, y], i) => {
    const h = svgEl("ellipse", { class: "handle", cx: x, cy: y, rx: 0.012, ry: 0.02, "data-i": i });
    h.addEventListener("pointerdown", (e) => {
      e.stopPropagation();
      editor.drag = { i };
      bigPlayer.svg.setPointerCapture(e.pointerId);
    });
    return h;
  });
  g.replaceChildren(outline, ...handles);
}

function pointAt(e) {
  const r = bigPlayer.svg.getBoundingClientRect();
  const clamp = (v) => Math.round(Math.min(1, Math.max(0, v)) * 10000) / 10000;
  return [clamp((e.clientX - r.left) / r.width), clamp((e.clientY - r.top) / r.height)];
}

function onSvgPointerMove(e) {
  if (!editor.active || !editor.drag) return;
  editor.points[editor.drag.i] = pointAt(e);
  drawEditing();
}

function onSvgPointerUp() {
  if (editor.drag) setTimeout(() => { editor.drag = null; }, 0);
}

function onSvgClick(e) {
  if (!editor.active || !editor.target || editor.drag) return;
  if (editor.points.length >= POINTS_OF[editor.target.kind]) return;
  editor.points.push(pointAt(e));
  drawEditing();
}

async function saveShape() {
  const target = { ...editor.target };
  if ($("z-shape").value === "new") { target.name = $("z-new").value.trim(); target.file = $("z-file").value; }
  const version = fileOf(target.file)?.version ?? "";
  const res = await api(`/api/cameras/${encodeURIComponent(bigPlayer.camera)}/zones`, {
    method: "PUT",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ ...target, points: editor.points, version }),
  });
  await afterChange(res, t("saved"), shapeKey(target));
}

async function undoEdit() {
  const res = await api(`/api/cameras/${encodeURIComponent(bigPlayer.camera)}/zones/undo`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ file: editor.target.file }),
  });
  await afterChange(res, t("undone"), $("z-shape").value);
}

async function afterChange(res, done, keep) {
  const body = await res.json().catch(() => ({}));
  $("z-errors").replaceChildren();
  $("z-at").hidden = true;
  if (res.ok) {
    editor.listing = body;
    bigPlayer.drawShapes(body.shapes);
    $("z-status").textContent = done;
    fillShapes(keep);
    return;
  }
  $("z-status").textContent = body.error ?? `HTTP ${res.status}`;
  if (res.status === 409) {
    editor.listing = await loadShapes(bigPlayer.camera);
    bigPlayer.drawShapes(editor.listing.shapes);
    $("z-status").textContent = `${t("stale")}: ${body.error ?? ""}`;
    fillShapes(keep);
    return;
  }
  const errors = body.errors ?? [];
  $("z-errors").replaceChildren(...errors.map((e) => {
    const li = document.createElement("li");
    li.textContent = `${e.file}:${e.line}:${e.column}: ${e.message}`;
    li.classList.toggle("at-edit", e.at_edit);
    return li;
  }));
  // The error beside what was drawn.
  const here = errors.find((e) => e.at_edit);
  if (here && editor.points.length > 0) {
    const [x, y] = editor.points[0];
    const at = $("z-at");
    at.textContent = here.message;
    at.style.left = `${x * 100}%`;
    at.style.top = `${y * 100}%`;
    at.hidden = false;
  }
}

function setupLive() {
  $("tab-alerts").addEventListener("click", () => showTab("alerts"));
  $("tab-live").addEventListener("click", () => showTab("live"));
  $("cv-back").addEventListener("click", () => openGrid());
  $("z-edit").addEventListener("click", startEditing);
  $("z-shape").addEventListener("change", pickShape);
  $("z-file").addEventListener("change", () => { editor.target.file = $("z-file").value; renderUndo(); });
  $("z-redraw").addEventListener("click", () => { editor.points = []; drawEditing(); });
  $("z-save").addEventListener("click", saveShape);
  $("z-undo").addEventListener("click", undoEdit);
  $("z-done").addEventListener("click", stopEditing);
  const svgBox = $("cv-live");
  svgBox.addEventListener("click", onSvgClick);
  svgBox.addEventListener("pointermove", onSvgPointerMove);
  svgBox.addEventListener("pointerup", onSvgPointerUp);
}
