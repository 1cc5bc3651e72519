// The security office page: sign-in (a named account or a token), a live alert feed, evidence,
// acknowledgement, camera status, an alarm for new alerts at or above the configured severity
// (a sound, a flashing header, a browser notification, until acknowledged; each account may mute
// the sound for a while), and for admins each alert's access history.
// Plain JavaScript served by vigil itself (nothing is fetched from elsewhere). Text is set with
// textContent only, never innerHTML, so nothing in an alert can become markup.
"use strict";

const TEXT = {
  zh: {
    title: "社区安防告警", token: "或访问令牌", user: "用户名", password: "密码",
    bad_login: "用户名或密码错误", locked: "失败次数过多，请稍后再试", login: "登录", logout: "退出",
    all_cameras: "全部摄像头", all_kinds: "全部类型", all_states: "全部状态",
    unacked: "未确认", acked: "已确认", connecting: "连接中…", live: "实时", offline: "已断开",
    record_down: "主码流断开（无录像）",
    no_alerts: "暂无告警", more: "加载更多", comment: "处理说明", ack: "确认告警",
    bad_token: "令牌无效", camera: "摄像头", rule: "规则", zone: "区域", kind: "类型",
    raised: "告警时间", state: "状态", open: "进行中", ended: "已结束", objects: "目标",
    no_clip: "录像生成中…", clip_error: "录像不可用：", transcoding: "浏览器无法播放原始编码（H.265），正在转为 H.264 播放；证据仍是原始录像。", acked_by: "已由 {by} 于 {at} 确认",
    viewer_only: "只读令牌，不能确认", lang: "English",
    this_box: "本机告警", all_boxes: "全部实例", held_by: "证据保存在实例 ", instance: "实例", last_seen: "最后在线",
    kinds: { dwell: "区域滞留", enter: "进入区域", count: "数量超限", line_cross: "越线", falling_object: "高空抛物", waste_left: "垃圾遗留", bin_overflow: "垃圾桶满溢", unsorted_waste: "垃圾未分类", lane_obstructed: "通道占用" }, severity: "级别", end_clip: "结束时录像",
    static: "静止物体", fall: "坠落轨迹",
    origin: "抛出位置", origin_value: "{floor} 层（{lo}–{hi} 层），第 {column} 列窗户",
    severities: { low: "低", medium: "中", high: "高", critical: "紧急" },
    access_history: "访问记录",
    access_actions: { view: "查看告警", clip: "播放录像", snapshot: "查看截图", ack: "确认告警" },
    alarm_count: "{n} 条告警待处理", enable_sound: "点击开启告警声音", mute: "静音…",
    mute_5: "静音 5 分钟", mute_15: "静音 15 分钟", mute_60: "静音 1 小时", unmute: "取消静音",
    muted_until: "已静音至 {at}",
    report: "报表", daily: "按日", monthly: "按月", take: "接手处理", assignee: "负责人", assign: "指派",
    add_comment: "备注", done: "办结", reason: "误报原因", false_alarm: "标为误报", reopen: "重新打开",
    states: { pending: "待处理", in_progress: "处理中", done: "已办结" }, false_alarm_state: "误报",
    handled_by: "负责人 {who}", handling_state: "处理状态", all_handling: "全部处理状态",
    h_pending: "待处理", h_in_progress: "处理中", h_done: "已办结",
    step_names: { take: "接手处理", assign: "指派给", comment: "备注", done: "办结", false_alarm: "标为误报", reopen: "重新打开" },
  },
  en: {
    title: "Community security alerts", token: "Or an access token", user: "Name", password: "Password",
    bad_login: "Wrong name or password", locked: "Too many failed sign-ins: try again later", login: "Sign in", logout: "Sign out",
    all_cameras: "All cameras", all_kinds: "All kinds", all_states: "All states",
    unacked: "Unacknowledged", acked: "Acknowledged", connecting: "Connecting…", live: "Live", offline: "Disconnected",
    record_down: "main stream down (no clips)",
    no_alerts: "No alerts", more: "Load more", comment: "Comment", ack: "Acknowledge",
    bad_token: "Unknown token", camera: "Camera", rule: "Rule", zone: "Zone", kind: "Kind",
    raised: "Raised", state: "State", open: "Ongoing", ended: "Ended", objects: "Objects",
    no_clip: "Clip being recorded…", clip_error: "Clip unavailable: ", transcoding: "This browser cannot play the recorded codec (H.265): playing an H.264 copy; the evidence stays the recording.", acked_by: "Acknowledged by {by} at {at}",
    viewer_only: "Read-only token: cannot acknowledge", lang: "中文",
    this_box: "This box", all_boxes: "All boxes", held_by: "Evidence held by instance ", instance: "Instance", last_seen: "last seen",
    kinds: { dwell: "Dwell in zone", enter: "Entered zone", count: "Too many in zone", line_cross: "Line crossed", falling_object: "Object thrown from height", waste_left: "Waste left by bins", bin_overflow: "Bin overflowing", unsorted_waste: "Waste not sorted", lane_obstructed: "Lane obstructed" }, severity: "Severity", end_clip: "Clip of the end",
    static: "static object", fall: "fall",
    origin: "Thrown from", origin_value: "floor {floor} (floors {lo}–{hi}), window column {column}",
    severities: { low: "low", medium: "medium", high: "high", critical: "critical" },
    access_history: "Access history",
    access_actions: { view: "opened", clip: "played the clip", snapshot: "viewed the snapshot", ack: "acknowledged" },
    alarm_count: "{n} alert(s) waiting", enable_sound: "Click to turn the alarm sound on", mute: "Mute…",
    mute_5: "Mute 5 minutes", mute_15: "Mute 15 minutes", mute_60: "Mute 1 hour", unmute: "Unmute",
    muted_until: "muted until {at}",
    report: "Report", daily: "Daily", monthly: "Monthly", take: "Take it", assignee: "Assignee", assign: "Assign",
    add_comment: "Comment", done: "Done", reason: "Why a false alarm", false_alarm: "False alarm", reopen: "Reopen",
    states: { pending: "Pending", in_progress: "In progress", done: "Done" }, false_alarm_state: "False alarm",
    handled_by: "assigned to {who}", handling_state: "Handling", all_handling: "Any handling",
    h_pending: "Pending", h_in_progress: "In progress", h_done: "Done",
    step_names: { take: "took it", assign: "assigned it to", comment: "commented", done: "closed it", false_alarm: "marked a false alarm", reopen: "reopened it" },
  },
};

const $ = (id) => document.getElementById(id);
let lang = localStorage.getItem("vigil.lang") === "en" ? "en" : "zh";
let me = null;
let selected = null;
let nextBefore = null;
let source = null;
let live = "connecting"; // connecting | live | offline
const views = new Map(); // alert id -> view
const cameraNames = new Map(); // camera id -> what people call it (its display_name)

function t(key) { return TEXT[lang][key] ?? LIVE_TEXT[lang][key] ?? key; }
function kindName(kind) { return TEXT[lang].kinds[kind] ?? kind; }
function severityName(s) { return TEXT[lang].severities[s ?? "medium"] ?? s; }
// An alert object's id: a track (`#7`), a static object, a falling object's track, or none (a
// part of a zone: bin overflow).
function objectRef(o) {
  if (o.track_id !== undefined) return `#${o.track_id}`;
  if (o.static_id !== undefined) return `${t("static")} #${o.static_id}`;
  if (o.fall_id !== undefined) return `${t("fall")} #${o.fall_id}`;
  return "";
}
// What people call an alert's camera, zone and rule (the config's display names), else the ids.
function cameraName(id) { return cameraNames.get(id) ?? id; }
function names(a) {
  return {
    camera: a.names?.camera ?? cameraName(a.camera),
    zone: a.zone ? (a.names?.zone ?? a.zone) : null,
    rule: a.names?.rule ?? a.rule,
  };
}
// A name with its id beside it, where they differ: 3号楼东门（gate_2）.
function named(name, id) { return name === id ? id : `${name}（${id}）`; }
// Where an alert's handling stands, as the badge says it: 待处理 / 处理中 / 已办结 / 误报; an
// alert acknowledged with no step taken says 已确认.
function stateName(v) {
  if (v.handling?.false_alarm != null) return t("false_alarm_state");
  if (v.handling) return TEXT[lang].states[v.handling.state];
  return v.ack ? t("acked") : TEXT[lang].states.pending;
}
function when(ms) { return new Date(ms).toLocaleString(lang === "zh" ? "zh-CN" : "en-GB"); }

function applyLanguage() {
  document.documentElement.lang = lang === "zh" ? "zh-CN" : "en";
  for (const el of document.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  for (const el of document.querySelectorAll("[data-i18n-placeholder]")) el.placeholder = t(el.dataset.i18nPlaceholder);
  $("lang").textContent = t("lang");
  for (const opt of $("f-kind").querySelectorAll("option[value]:not([value=''])")) opt.textContent = kindName(opt.value);
  renderLive();
  if (ringing.size > 0) renderAlarm();
  for (const v of views.values()) renderRow(v);
  if (selected && views.has(selected)) renderDetail(views.get(selected));
}

async function api(path, options = {}) {
  const res = await fetch(path, { credentials: "same-origin", ...options });
  if (res.status === 401) { showLogin(); throw new Error("unauthorized"); }
  return res;
}

function showLogin() {
  if (source) { source.close(); source = null; }
  stopAllLive();
  $("tabs").hidden = true;
  for (const id of [...ringing.keys()]) silence(id);
  $("main").hidden = true; $("logout").hidden = true; $("login").hidden = false; $("who").textContent = "";
  $("user").focus();
}

async function start() {
  const res = await fetch("/api/session", { credentials: "same-origin" });
  if (!res.ok) { showLogin(); return; }
  me = await res.json();
  $("login").hidden = true; $("main").hidden = false; $("logout").hidden = false;
  $("who").textContent = me.name;
  $("tabs").hidden = false;
  await loadCameras();
  // The district scope, where the instance reads a shared store.
  $("f-scope").hidden = (await api("/api/district/alerts?limit=1")).status === 404;
  if (!$("f-scope").hidden) {
    // Every instance's cameras, to filter the district's alerts by.
    const res = await api("/api/district/instances");
    const { instances } = res.ok ? await res.json() : { instances: [] };
    for (const c of instances.flatMap((i) => i.cameras)) addCameraOption(c);
  }
  await reload();
  connect();
}

async function loadCameras() {
  const res = await api("/api/cameras");
  const { cameras } = await res.json();
  const list = $("cameras");
  list.replaceChildren();
  for (const c of cameras) {
    if (c.display_name) cameraNames.set(c.camera, c.display_name);
    const li = document.createElement("li");
    li.dataset.camera = c.camera;
    list.append(li);
    renderCamera(c);
    if (c.record) renderCamera(c.record);
    addCameraOption(c.camera);
  }
}

function addCameraOption(camera) {
  const select = $("f-camera");
  if (select.querySelector(`option[value="${CSS.escape(camera)}"]`)) return;
  const opt = document.createElement("option");
  opt.value = camera; opt.textContent = cameraName(camera);
  select.append(opt);
}

// Each camera's latest status (its detect stream's: the camera's), and its main stream's for a
// camera that records one (`record:`, status events with `stream: "record"`).
const cameraStates = new Map();
const recordStates = new Map();

function renderCamera(status) {
  const isRecord = status.stream === "record";
  (isRecord ? recordStates : cameraStates).set(status.camera, status);
  const cam = cameraStates.get(status.camera) ?? { camera: status.camera, online: null };
  const rec = recordStates.get(status.camera);
  let li = $("cameras").querySelector(`li[data-camera="${CSS.escape(status.camera)}"]`);
  if (!li) { li = document.createElement("li"); li.dataset.camera = status.camera; $("cameras").append(li); }
  const recordDown = rec?.online === false;
  li.className = cam.online === true ? "online" : cam.online === false ? "offline" : "";
  li.classList.toggle("record-down", recordDown);
  li.textContent = cameraName(cam.camera) + (recordDown ? ` · ${t("record_down")}` : "");
  li.title = [
    cam.camera,
    cam.online === false ? cam.detail : "",
    recordDown ? `${t("record_down")}: ${rec.detail}` : "",
  ].filter(Boolean).join(" — ");
  if (!isRecord) renderTileState(status);
}

function query(before) {
  const p = new URLSearchParams({ limit: "50" });
  if ($("f-camera").value) p.set("camera", $("f-camera").value);
  if ($("f-kind").value) p.set("kind", $("f-kind").value);
  if ($("f-acked").value) p.set("acknowledged", $("f-acked").value);
  // Handling is kept by each box: the district scope does not filter by it.
  if ($("f-handling").value && !district()) p.set("handling", $("f-handling").value);
  if (before) p.set("before", before);
  return p;
}

async function reload() {
  views.clear();
  $("alerts").replaceChildren();
  // The district scope shows the instances (online or not) where this box's cameras were.
  $("cameras").hidden = district();
  $("f-handling").hidden = district();
  $("instances").hidden = !district();
  if (district()) await loadInstances();
  await loadMore(null);
}

async function loadInstances() {
  const res = await api("/api/district/instances");
  const { instances } = res.ok ? await res.json() : { instances: [] };
  const list = $("instances");
  list.replaceChildren();
  for (const i of instances) {
    const li = document.createElement("li");
    li.dataset.instance = i.instance;
    li.className = i.online ? "online" : "offline";
    li.textContent = `${i.instance} (${i.cameras.length})`;
    li.title = `${i.cameras.join(", ")}${i.online ? "" : ` — ${t("last_seen")} ${when(i.seen_ms)}`}`;
    list.append(li);
  }
}

function district() { return $("f-scope").value === "all"; }

async function loadMore(before) {
  // Every instance's alerts come from the shared store, filtered and paged the same way.
  const res = await api(`${district() ? "/api/district/alerts" : "/api/alerts"}?${query(before)}`);
  const body = res.ok ? await res.json() : { alerts: [], next_before: null };
  for (const v of body.alerts) { views.set(v.alert.id, v); $("alerts").append(renderRow(v)); }
  // A page opened (or reopened) while alerts wait rings for those of the last hour nobody has
  // acknowledged: a reload at night must not silence them.
  if (!before && !district()) {
    for (const v of body.alerts) {
      if (!v.ack && alarming(v.alert) && Date.now() - Date.parse(v.alert.wall_time) < WAITING_RINGS_MS) ring(v.alert);
    }
  }
  nextBefore = body.next_before;
  $("more").hidden = nextBefore == null;
  $("empty").hidden = views.size > 0;
}

function matchesFilters(v) {
  const cam = $("f-camera").value, kind = $("f-kind").value, acked = $("f-acked").value;
  return (!cam || v.alert.camera === cam) && (!kind || v.alert.kind === kind)
    && (!acked || String(v.ack != null) === acked);
}

function renderRow(v) {
  let li = $("alerts").querySelector(`li[data-id="${CSS.escape(v.alert.id)}"]`);
  if (!li) { li = document.createElement("li"); li.dataset.id = v.alert.id; li.addEventListener("click", () => select(v.alert.id)); }
  li.classList.toggle("acked", v.ack != null);
  li.classList.toggle("ended", v.ended);
  for (const s of Object.keys(TEXT.zh.severities)) li.classList.toggle(`sev-${s}`, (v.alert.severity ?? "medium") === s);
  li.classList.toggle("selected", selected === v.alert.id);
  li.classList.toggle("ringing", ringing.has(v.alert.id));
  const what = document.createElement("span"); what.className = "what";
  const n = names(v.alert);
  what.textContent = `${n.camera} · ${kindName(v.alert.kind)}`;
  const badge = document.createElement("span"); badge.className = "badge";
  badge.textContent = stateName(v);
  badge.classList.toggle("false-alarm", v.handling?.false_alarm != null);
  for (const st of Object.keys(TEXT.zh.states)) badge.classList.toggle(`state-${st}`, v.handling?.state === st);
  const whenEl = document.createElement("span"); whenEl.className = "when";
  whenEl.textContent = new Date(v.alert.wall_time).toLocaleTimeString(lang === "zh" ? "zh-CN" : "en-GB");
  const rule = document.createElement("span"); rule.className = "when";
  rule.textContent = `${n.rule}${n.zone ? " / " + n.zone : ""} · ${severityName(v.alert.severity)} · ${v.ended ? t("ended") : t("open")}`
    + (v.instance ? ` · ${v.instance}` : "");
  li.replaceChildren(whenEl, what, badge, document.createElement("span"), rule);
  return li;
}

async function select(id) {
  selected = id;
  for (const li of $("alerts").children) li.classList.toggle("selected", li.dataset.id === id);
  // Another instance's alert is fetched through this one, from the instance that holds it.
  const res = await api(`/api/alerts/${encodeURIComponent(id)}`);
  const instance = views.get(id)?.instance;
  if (!res.ok) {
    // That instance cannot be reached: what the shared store says, and why nothing more.
    const v = views.get(id);
    if (v?.instance) {
      const why = await res.json().catch(() => ({}));
      v.elsewhere = why.error ?? `HTTP ${res.status}`;
      renderDetail(v, true);
    }
    return;
  }
  const body = await res.json();
  const v = { ...body.alert, instance, steps: body.steps ?? [] };
  views.set(id, v);
  renderDetail(v, true);
  loadAccess(id);
}

// Who opened, played or acknowledged the selected alert (admins only; the server records every
// access before it serves it).
async function loadAccess(id) {
  const box = $("d-access");
  if (!me || me.role !== "admin") { box.hidden = true; return; }
  const res = await api(`/api/alerts/${encodeURIComponent(id)}/access`);
  if (!res.ok || selected !== id) { box.hidden = true; return; }
  const body = await res.json();
  const items = body.access.map((r) => {
    const li = document.createElement("li");
    const action = TEXT[lang].access_actions[r.action] ?? r.action;
    li.dataset.action = r.action;
    li.textContent = `${when(r.at_ms)} ${r.who} (${r.role}) ${action}`
      + (r.from ? ` · ${r.from}` : "") + (r.detail ? ` — ${r.detail}` : "");
    return li;
  });
  $("d-access-list").replaceChildren(...items);
  box.hidden = false;
}

function renderDetail(v, fresh = false) {
  const a = v.alert;
  $("detail").hidden = false;
  const n = names(a);
  $("d-title").textContent = `${kindName(a.kind)} — ${n.camera}`;
  const rows = [
    [t("camera"), named(n.camera, a.camera)], [t("rule"), named(n.rule, a.rule)],
    [t("zone"), a.zone ? named(n.zone, a.zone) : "—"],
    [t("severity"), severityName(a.severity)],
    [t("raised"), new Date(a.wall_time).toLocaleString(lang === "zh" ? "zh-CN" : "en-GB")],
    [t("state"), v.ended ? t("ended") : t("open")],
    [t("objects"), a.objects.map((o) => [objectRef(o), o.class, o.score.toFixed(2)].filter(Boolean).join(" ")).join(", ") || "—"],
  ];
  const o = a.trajectory?.origin;
  if (o) {
    rows.push([t("origin"), t("origin_value").replace("{floor}", o.floor).replace("{lo}", o.floor_range[0])
      .replace("{hi}", o.floor_range[1]).replace("{column}", o.column)]);
  }
  const meta = $("d-meta");
  meta.replaceChildren();
  for (const [k, val] of rows) {
    const dt = document.createElement("dt"); dt.textContent = k;
    const dd = document.createElement("dd"); dd.textContent = val;
    meta.append(dt, dd);
  }
  if (v.instance) {
    const dt = document.createElement("dt"); dt.textContent = t("instance");
    const dd = document.createElement("dd"); dd.textContent = v.instance;
    meta.append(dt, dd);
  }
  const video = $("d-video"), note = $("d-video-note"), img = $("d-snapshot");
  const base = `/api/alerts/${encodeURIComponent(a.id)}`;
  if (fresh) showAlertLive(a.camera, v.instance);
  if (v.elsewhere) {
    video.hidden = true; video.removeAttribute("src"); delete video.dataset.id;
    img.hidden = true; img.removeAttribute("src");
    $("d-end").hidden = true;
    note.textContent = `${t("held_by")}${v.instance}: ${v.elsewhere}`;
    $("ack-button").disabled = true; $("ack-comment").disabled = true;
    $("d-ack").textContent = "";
    return;
  }
  if (a.evidence.clip) {
    if (fresh || video.dataset.id !== a.id || video.hidden) {
      video.dataset.id = a.id; video.src = `${base}/clip`; video.hidden = false; video.load();
    }
    note.textContent = "";
  } else {
    video.hidden = true; video.removeAttribute("src"); delete video.dataset.id;
    note.textContent = a.evidence.error ? t("clip_error") + a.evidence.error : t("no_clip");
  }
  if (a.evidence.snapshot) {
    if (fresh || img.dataset.id !== a.id || img.hidden) { img.dataset.id = a.id; img.src = `${base}/snapshot`; img.hidden = false; }
  } else {
    img.hidden = true; img.removeAttribute("src");
  }
  const endClip = v.end_evidence?.clip;
  const endVideo = $("d-end-video");
  $("d-end").hidden = !endClip;
  if (endClip && (fresh || endVideo.dataset.id !== a.id)) {
    endVideo.dataset.id = a.id; endVideo.src = `${base}/clip?end=true`;
  }
  const canAck = me && (me.role === "operator" || me.role === "admin");
  renderHandling(v, canAck);
  $("ack-button").disabled = v.ack != null || !canAck;
  // The text box serves the handling steps too (a comment, what was done) after the ack.
  $("ack-comment").disabled = !canAck;
  if (v.ack) {
    $("d-ack").textContent = t("acked_by").replace("{by}", v.ack.by).replace("{at}", when(v.ack.at_ms))
      + (v.ack.comment ? ` — ${v.ack.comment}` : "");
  } else {
    $("d-ack").textContent = canAck ? "" : t("viewer_only");
  }
}

function renderHandling(v, canAct) {
  const h = v.handling, state = h?.state ?? "pending";
  $("handling").hidden = v.elsewhere != null || v.instance != null;
  $("h-state").textContent = `${t("handling_state")}: ${stateName(v)}`
    + (h?.assignee ? ` · ${t("handled_by").replace("{who}", h.assignee)}` : "")
    + (h?.false_alarm ? ` — ${h.false_alarm}` : "");
  $("h-state").dataset.state = state;
  const open = state !== "done";
  for (const [id, on] of [["h-take", open], ["h-assign", open], ["h-to", open], ["h-comment", true],
    ["h-done", open], ["h-false", open], ["h-reason", open], ["h-reopen", !open]]) {
    $(id).disabled = !canAct || !on;
  }
  $("h-steps").replaceChildren(...(v.steps ?? []).map((s) => {
    const li = document.createElement("li");
    li.dataset.step = s.step;
    li.textContent = `${when(s.at_ms)} ${s.who} ${TEXT[lang].step_names[s.step] ?? s.step}${s.text ? " " + s.text : ""}`;
    return li;
  }));
}

// One handling step on the selected alert; the text comes from the comment box (a comment,
// what was done), the assignee or the false alarm's reason from theirs.
async function step(body) {
  if (!selected) return;
  $("h-error").textContent = "";
  const res = await api(`/api/alerts/${encodeURIComponent(selected)}/handling`, {
    method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
  });
  const answer = await res.json().catch(() => ({}));
  if (!res.ok) { $("h-error").textContent = answer.error ?? `HTTP ${res.status}`; return; }
  $("ack-comment").value = ""; $("h-reason").value = "";
  await select(selected);
}

function renderLive() {
  $("live").textContent = t(live);
  $("live").className = live === "live" ? "up" : "";
}

function connect() {
  if (source) source.close();
  source = new EventSource("/api/events");
  source.onopen = () => { live = "live"; renderLive(); };
  source.onerror = () => { live = "offline"; renderLive(); };
  // This box's events in its own scope; every instance's (this one's among them) from the shared
  // store in the district scope.
  source.addEventListener("alert", (e) => { if (!district()) onRecord(JSON.parse(e.data).record); });
  source.addEventListener("ack", (e) => { if (!district()) onAck(JSON.parse(e.data)); });
  source.addEventListener("handling", (e) => { if (!district()) onHandling(JSON.parse(e.data)); });
  source.addEventListener("district_alert", (e) => {
    const { record, instance } = JSON.parse(e.data);
    if (district()) onRecord(record, instance);
  });
  source.addEventListener("district_ack", (e) => { if (district()) onAck(JSON.parse(e.data)); });
  source.addEventListener("district_resync", () => { if (district()) reload(); });
  source.addEventListener("camera", (e) => renderCamera(JSON.parse(e.data).status));
  source.addEventListener("resync", () => reload());
}

// The alarm. An alert arriving live at or above the configured severity — or one of the last hour
// still waiting when the page opens — rings until someone (here or on another console)
// acknowledges it: the sound loops, the header flashes, the row is
// outlined, and the browser shows a notification that stays until then. A mute silences the
// sound only, for this account on this browser, and runs out by itself.
const SEVERITY_RANK = { low: 0, medium: 1, high: 2, critical: 3 };
const WAITING_RINGS_MS = 3600_000;
const ringing = new Map(); // alert id -> its Notification, or null
const title = document.title;

function alarming(record) {
  return me?.alarm != null && SEVERITY_RANK[record.severity ?? "medium"] >= SEVERITY_RANK[me.alarm.min_severity];
}
function muteKey() { return `vigil.mute.${me?.name ?? ""}`; }
function mutedUntil() {
  const until = Number(localStorage.getItem(muteKey()));
  return until > Date.now() ? until : 0;
}

// Asked on a click (browsers only ask then): sign-in, or the button shown when sound was refused.
function askToNotify() {
  if ("Notification" in window && Notification.permission === "default") Notification.requestPermission().catch(() => {});
}

function ring(record) {
  if (ringing.has(record.id)) return;
  let note = null;
  if ("Notification" in window && Notification.permission === "granted") {
    const n = names(record);
    note = new Notification(`【${severityName(record.severity)}】${kindName(record.kind)}`, {
      body: `${n.camera}${n.zone ? " · " + n.zone : ""} · ${when(Date.parse(record.wall_time))}`,
      tag: record.id, requireInteraction: true,
    });
    note.onclick = () => { window.focus(); select(record.id); };
  }
  ringing.set(record.id, note);
  renderAlarm();
}

function silence(id) {
  if (!ringing.has(id)) return;
  ringing.get(id)?.close();
  ringing.delete(id);
  renderAlarm();
}

function renderAlarm() {
  const on = ringing.size > 0, until = mutedUntil();
  document.body.classList.toggle("alarm", on);
  document.title = on ? `(${ringing.size}) ${title}` : title;
  $("alarm-bar").hidden = !on;
  $("alarm-count").textContent = t("alarm_count").replace("{n}", ringing.size);
  $("alarm-muted").textContent = until ? t("muted_until").replace("{at}", new Date(until).toLocaleTimeString(lang === "zh" ? "zh-CN" : "en-GB")) : "";
  $("alarm-unmute").hidden = !until;
  $("alarm-mute").hidden = !!until;
  for (const li of $("alerts").children) li.classList.toggle("ringing", ringing.has(li.dataset.id));
  const audio = $("alarm");
  if (on && !until) {
    // A browser may refuse sound until the page is clicked: then a button asks for that click.
    if (audio.paused) audio.play().then(() => { $("alarm-enable").hidden = true; }, () => { $("alarm-enable").hidden = false; });
  } else if (!audio.paused || audio.currentTime > 0) {
    audio.pause();
    audio.currentTime = 0;
  }
  if (!on) $("alarm-enable").hidden = true;
}

function onHandling({ id, handling }) {
  const v = views.get(id);
  if (!v) return;
  v.handling = handling;
  renderRow(v);
}

function onAck({ id, ack }) {
  silence(id);
  const v = views.get(id);
  if (!v) return;
  v.ack = ack;
  if (matchesFilters(v)) renderRow(v); else $("alerts").querySelector(`li[data-id="${CSS.escape(id)}"]`)?.remove();
  if (selected === id) renderDetail(v);
}

function onRecord(record, instance) {
  let v = views.get(record.id);
  if (record.event === "start") {
    if (alarming(record) && !v?.ack) ring(record);
    if (v) return;
    // A falling object is over once raised: no end record follows.
    v = { seq: null, alert: { ...record }, ended: record.kind === "falling_object", ack: null, instance };
    delete v.alert.prev_hash;
    if (!matchesFilters(v)) return;
    views.set(record.id, v);
    const li = renderRow(v);
    li.classList.add("fresh");
    $("alerts").prepend(li);
    $("empty").hidden = true;
    return;
  }
  if (!v) return;
  if (record.event === "end") { v.ended = true; v.alert.ended_pts_secs = record.ended_pts_secs; }
  if (record.event === "update") v.alert.objects = record.objects;
  if (record.event === "evidence" || record.event === "expired") v.alert.evidence = record.evidence;
  if (record.event === "end_evidence" || record.event === "end_expired") v.end_evidence = record.evidence;
  v.alert.event = record.event;
  renderRow(v);
  if (selected === record.id) renderDetail(v);
}

$("login-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  // A named account (name and password), else a token.
  const user = $("user").value.trim();
  const body = user ? { user, password: $("password").value } : { token: $("token").value };
  const res = await fetch("/api/session", {
    method: "POST", credentials: "same-origin",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
  if (!res.ok) {
    $("login-error").textContent = res.status === 429 ? t("locked") : t(user ? "bad_login" : "bad_token");
    return;
  }
  $("token").value = ""; $("password").value = ""; $("login-error").textContent = "";
  askToNotify();
  await start();
});

$("logout").addEventListener("click", async () => {
  await fetch("/api/session", { method: "DELETE", credentials: "same-origin" });
  showLogin();
});

$("lang").addEventListener("click", () => {
  lang = lang === "zh" ? "en" : "zh";
  localStorage.setItem("vigil.lang", lang);
  applyLanguage();
});

$("ack-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  if (!selected) return;
  $("ack-button").disabled = true;
  const res = await api(`/api/alerts/${encodeURIComponent(selected)}/ack`, {
    method: "POST", headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ comment: $("ack-comment").value }),
  });
  if (!res.ok) { $("ack-button").disabled = false; return; }
  onAck(await res.json());
  $("ack-comment").value = "";
  loadAccess(selected);
});

$("h-take").addEventListener("click", () => step({ step: "take" }));
$("h-assign").addEventListener("click", () => step({ step: "assign", to: $("h-to").value }));
$("h-comment").addEventListener("click", () => step({ step: "comment", text: $("ack-comment").value }));
$("h-done").addEventListener("click", () => step({ step: "done", text: $("ack-comment").value }));
$("h-false").addEventListener("click", () => step({ step: "false_alarm", reason: $("h-reason").value }));
$("h-reopen").addEventListener("click", () => step({ step: "reopen" }));
// The report: a download of the chosen days (Beijing time) as CSV or Excel.
$("report-form").addEventListener("submit", (e) => {
  e.preventDefault();
  const p = new URLSearchParams({ since: $("r-since").value, until: $("r-until").value, period: $("r-period").value, format: e.submitter?.value ?? "csv" });
  const a = document.createElement("a");
  a.href = `/api/report?${p}`;
  a.download = "";
  a.click();
});
{
  const today = new Date(Date.now() + 8 * 3600_000).toISOString().slice(0, 10);
  $("r-since").value = today; $("r-until").value = today;
}

$("alarm-mute").addEventListener("change", () => {
  const minutes = Number($("alarm-mute").value);
  $("alarm-mute").value = "";
  if (minutes > 0) localStorage.setItem(muteKey(), String(Date.now() + minutes * 60_000));
  renderAlarm();
});
$("alarm-unmute").addEventListener("click", () => { localStorage.removeItem(muteKey()); renderAlarm(); });
$("alarm-enable").addEventListener("click", () => { askToNotify(); renderAlarm(); });
// A mute runs out while the alarm waits: the sound comes back on its own.
setInterval(() => { if (ringing.size > 0) renderAlarm(); }, 1000);

for (const id of ["f-scope", "f-camera", "f-kind", "f-acked", "f-handling"]) $(id).addEventListener("change", () => reload());
$("more").addEventListener("click", () => loadMore(nextBefore));

// A clip this browser cannot decode (H.265 without hardware HEVC, Firefox) is asked for again as
// the H.264 copy the server makes once (`?rendition=h264`); the recording stays the evidence.
for (const id of ["d-video", "d-end-video"]) {
  const v = $(id);
  v.addEventListener("error", () => {
    const src = v.getAttribute("src");
    const code = v.error?.code;
    if (!src || src.includes("rendition=h264") || (code !== 3 && code !== 4)) return;
    v.src = src + (src.includes("?") ? "&" : "?") + "rendition=h264";
    v.load();
    if (id === "d-video") $("d-video-note").textContent = t("transcoding");
  });
}

for (const kind of Object.keys(TEXT.zh.kinds)) {
  const opt = document.createElement("option");
  opt.value = kind;
  $("f-kind").append(opt);
}
// Instances' liveness is read, not pushed: every 10 s while the district is shown.
setInterval(() => { if (me && district()) loadInstances().catch(() => {}); }, 10_000);
applyLanguage();
setupLive();
start();
