// Checks that the example site loaded completely and reports how, as JSON in #result:
// { done, ok, protocol, assets: [{ path, status, protocol, bytes, type }], problems: [...] }.
// `protocol` is this page's nextHopProtocol ("h2" over HTTPS to epsilon, "http/1.1" in
// cleartext); ok is true when every expected asset loaded with status 200 and a body, the
// images decoded and the stylesheet applied. Tests/Browser reads the JSON through DevTools.
"use strict";

// What the site page (/ in the frame) must fetch, and what this page fetches itself to see
// the Content-Type of each file of the site.
const siteAssets = ["/style.css", "/logo.svg", "/pattern.png"];
const fetchedTypes = {
  "/": "text/html",
  "/index.html": "text/html",
  "/style.css": "text/css",
  "/logo.svg": "image/svg+xml",
  "/pattern.png": "image/png",
  "/ws.html": "text/html",
  "/ws.js": "text/javascript",
  "/check.js": "text/javascript",
};
const loadTimeoutMs = 20000;

const problems = [];
const assets = [];

function pathOf(entry) {
  return new URL(entry.name, location.href).pathname;
}

function record(where, entry) {
  const item = {
    where,
    path: pathOf(entry),
    status: entry.responseStatus ?? null,
    protocol: entry.nextHopProtocol,
    bytes: entry.decodedBodySize,
  };
  assets.push(item);
  if (item.status !== 200) problems.push(`${where} ${item.path}: status ${item.status}`);
  if (!(item.bytes > 0)) problems.push(`${where} ${item.path}: empty body`);
  if (!item.protocol) problems.push(`${where} ${item.path}: no nextHopProtocol`);
  return item;
}

function checkSite(frame) {
  const win = frame.contentWindow;
  const doc = frame.contentDocument;
  if (!win || !doc) {
    problems.push("site frame has no document");
    return;
  }
  const nav = win.performance.getEntriesByType("navigation")[0];
  if (nav) record("site", nav);
  else problems.push("site: no navigation entry");
  const resources = win.performance.getEntriesByType("resource");
  for (const path of siteAssets) {
    const entry = resources.find((e) => pathOf(e) === path);
    if (entry) record("site", entry);
    else problems.push(`site ${path}: no resource entry (not fetched)`);
  }
  for (const img of doc.images) {
    if (!img.complete || img.naturalWidth === 0) problems.push(`site image ${img.getAttribute("src")}: not decoded`);
  }
  if (doc.images.length < 2) problems.push(`site: ${doc.images.length} images, expected 2`);
  const mark = win.getComputedStyle(doc.documentElement).getPropertyValue("--epsilon-style").trim();
  if (mark !== "loaded") problems.push("site: style.css not applied");
  if (!/It works/.test(doc.body?.textContent ?? "")) problems.push("site: the index page does not say it works");
}

async function checkTypes() {
  for (const [path, want] of Object.entries(fetchedTypes)) {
    try {
      const response = await fetch(path, { cache: "no-store" });
      const body = await response.arrayBuffer();
      const type = response.headers.get("content-type") ?? "";
      const entry = performance.getEntriesByName(new URL(path, location.href).href).at(-1);
      assets.push({ where: "fetch", path, status: response.status, protocol: entry?.nextHopProtocol ?? null, bytes: body.byteLength, type });
      if (response.status !== 200) problems.push(`fetch ${path}: status ${response.status}`);
      if (body.byteLength === 0) problems.push(`fetch ${path}: empty body`);
      if (type.split(";")[0].trim().toLowerCase() !== want) problems.push(`fetch ${path}: Content-Type "${type}", expected ${want}`);
    } catch (error) {
      problems.push(`fetch ${path}: ${error}`);
    }
  }
}

function report(extra) {
  const nav = performance.getEntriesByType("navigation")[0];
  const own = performance.getEntriesByType("resource").find((e) => pathOf(e) === "/check.js");
  if (nav) record("check", nav);
  if (own) record("check", own);
  else problems.push("check /check.js: no resource entry");
  const result = { done: true, ok: problems.length === 0, protocol: nav?.nextHopProtocol ?? null, assets, problems, ...extra };
  const out = document.getElementById("result");
  out.textContent = JSON.stringify(result, null, 1);
  out.className = result.ok ? "pass" : "fail";
  out.dataset.done = "1";
}

let finished = false;
async function run() {
  if (finished) return;
  finished = true;
  checkSite(document.getElementById("site"));
  await checkTypes();
  report({});
}

window.addEventListener("load", () => { run(); });
setTimeout(() => {
  if (finished) return;
  problems.push(`the load event did not fire within ${loadTimeoutMs} ms`);
  run();
}, loadTimeoutMs);
