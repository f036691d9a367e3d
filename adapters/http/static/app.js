// The render page: queue a render through the API, follow its progress, then play the video.
"use strict";

const csrf = () => document.querySelector('meta[name="csrf"]')?.content ?? "";
const POLL_MS = 300;

async function apiError(response) {
  try { return (await response.json()).error; } catch { return `The server answered ${response.status}.`; }
}

function show(id, visible) { document.getElementById(id).hidden = !visible; }

async function follow(id) {
  const stage = document.getElementById("render-stage");
  const bar = document.getElementById("render-progress");
  const cancel = document.getElementById("render-cancel");
  cancel.onclick = async () => {
    await fetch(`/api/v1/renders/${id}`, { method: "DELETE", headers: { "X-CSRF-Token": csrf() } });
  };
  for (;;) {
    const response = await fetch(`/api/v1/renders/${id}`);
    if (!response.ok) { return fail(await apiError(response)); }
    const render = await response.json();
    const percent = Math.round(render.progress * 100);
    bar.value = render.status === "done" ? 100 : percent;
    stage.textContent = render.status === "queued"
      ? `waiting in the queue${render.queue_position ? ` (position ${render.queue_position})` : ""}`
      : `${render.stage} ${percent}%${render.eta_seconds != null ? ` · ~${Math.ceil(render.eta_seconds)} s left` : ""}`;
    if (render.status === "done") {
      stage.textContent = `done · ${render.duration.toFixed(1)} s of video`;
      const video = document.getElementById("render-video");
      video.src = render.video_url;
      show("render-video", true);
      cancel.hidden = true;
      video.play().catch(() => {});  // muted, so the browser lets it start by itself
      return;
    }
    if (render.status === "failed" || render.status === "cancelled") { return fail(render.error); }
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

function fail(message) {
  const error = document.getElementById("render-error");
  error.textContent = message;
  show("render-error", true);
  show("render-status", false);
}

function startRender(event) {
  event.preventDefault();
  const form = event.target;
  const data = new FormData(form);
  const clip = data.get("clip"), face = data.get("face");
  let body, headers = { "X-CSRF-Token": csrf() };
  if (!(clip && clip.size)) { data.delete("clip"); }
  if (!(face && face.size)) { data.delete("face"); }
  if (data.has("clip")) { data.delete("text"); }
  if (!data.get("lang")) { data.delete("lang"); }
  if (data.has("clip") || data.has("face")) {
    body = data;
  } else {
    headers["Content-Type"] = "application/json";
    body = JSON.stringify(Object.fromEntries(data));
  }
  show("render-error", false);
  show("render-video", false);
  show("render-status", true);
  document.getElementById("render-cancel").hidden = false;
  document.getElementById("render-progress").value = 0;
  document.getElementById("render-stage").textContent = "sending…";
  fetch("/api/v1/renders", { method: "POST", headers, body }).then(async (response) => {
    if (!response.ok) { return fail(await apiError(response)); }
    follow((await response.json()).id);
  }).catch(() => fail("The dashboard could not reach the server."));
}

document.getElementById("render-form")?.addEventListener("submit", startRender);
