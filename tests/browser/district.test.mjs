// The district console in headless Chromium, against a real district: three NATS nodes
// (deploy/district/nats-cluster.sh), a PostgreSQL server of the test's own
// (deploy/district/postgres.sh), `gatehouse office`, and two gateways (`gatehouse run`) whose
// uplinks report to it. An office worker signs in, sees both estates online, locks both down
// (confirming the estates named), watches each answer, searches, and takes the report.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn, execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { browser, gatewayCommand, shot, ADMIN_PASSWORD } from "./support.mjs";

const ROOT = resolve(import.meta.dirname, "../..");
const DEPLOY = join(ROOT, "deploy/district");
const SITES = ["estate-a", "estate-b"];
// Ports of their own, away from the other tests' and the demos'.
const BASE = 31000 + Math.floor(Math.random() * 40) * 50;
const PG_PORT = BASE + 45;

let dir, children = [], url, chrome, page;

/** Starts a process; resolves once a line of its stdout matches `ready` (with the match). */
function start(args, ready, env = {}) {
  const child = spawn(gatewayCommand(), args, {
    env: { ...process.env, RUST_LOG: "warn", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.push(child);
  let out = "", err = "";
  child.stderr.on("data", (d) => { err += d; });
  return new Promise((ok, fail) => {
    const timer = setTimeout(() => fail(new Error(`${args[0]} was not ready in 90 s.\nstdout:\n${out}\nstderr:\n${err}`)), 90_000);
    child.stdout.on("data", (d) => {
      out += d;
      const m = out.match(ready);
      if (m) { clearTimeout(timer); ok(m); }
    });
    child.on("exit", (code) => { clearTimeout(timer); fail(new Error(`${args[0]} exited (${code}).\nstdout:\n${out}\nstderr:\n${err}`)); });
  });
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "gatehouse-district-"));
  execFileSync("bash", [join(DEPLOY, "nats-cluster.sh"), "start", join(dir, "nats"), String(BASE)], { stdio: "ignore" });
  const pg = execFileSync("bash", [join(DEPLOY, "postgres.sh"), "start", join(dir, "pg"), String(PG_PORT)]).toString().trim();
  execFileSync(gatewayCommand(), ["keys", "new", "--out", join(dir, "district")], { stdio: "ignore" });
  const publicKey = readFileSync(join(dir, "district.pub"), "utf8").trim();
  const nats = [0, 1, 2].map((k) => `"nats://127.0.0.1:${BASE + k}"`).join(", ");
  writeFileSync(join(dir, "office.toml"), `[nats]
servers = [${nats}]
[postgres]
url = "${pg}"
[issuer]
id = "district"
key_file = "district.key"
[web]
listen = "127.0.0.1:0"
data_dir = "office-data"
`);
  const m = await start(["office", "--config", join(dir, "office.toml")], /District console: (https:\/\/\S+?)\/?\s/,
    { GATEHOUSE_ADMIN_PASSWORD: ADMIN_PASSWORD });
  url = m[1];
  const uplinks = [20, 21, 22].map((k) => `"mqtt://127.0.0.1:${BASE + k}"`).join(", ");
  for (const site of SITES) {
    writeFileSync(join(dir, `${site}.toml`), `[site]
id = "${site}"
name = "${site === "estate-a" ? "东风一区" : "东风二区"}"
[broker]
mode = "embedded"
listen = "127.0.0.1:0"
[web]
listen = "127.0.0.1:0"
[metrics]
enabled = false
[uplink]
urls = [${uplinks}]
[[issuers]]
id = "district"
public_key = "${publicKey}"
[[zones]]
id = "court"
name = "小区"
parent = "site"
[[doors]]
id = "gate"
name = "大门"
kind = "pedestrian"
outside = "outside"
inside = "court"
controller = "mqtt"
readers = [{ id = "r-in", direction = "in" }]
`);
    await start(["run", "--config", join(dir, `${site}.toml`), "--data-dir", join(dir, site)], /console: https:\/\/\S+/);
  }
  chrome = await browser();
  page = await chrome.context.newPage();
});

after(async () => {
  await chrome?.close();
  for (const c of children) if (c.exitCode === null) c.kill("SIGINT");
  await Promise.all(children.map((c) => (c.exitCode === null ? new Promise((r) => { c.on("exit", r); setTimeout(r, 10_000); }) : null)));
  for (const c of children) if (c.exitCode === null) c.kill("SIGKILL");
  if (dir) {
    try { execFileSync("bash", [join(DEPLOY, "nats-cluster.sh"), "stop", join(dir, "nats")], { stdio: "ignore" }); } catch (_) { /* already stopped */ }
    try { execFileSync("bash", [join(DEPLOY, "postgres.sh"), "stop", join(dir, "pg")], { stdio: "ignore" }); } catch (_) { /* already stopped */ }
    rmSync(dir, { recursive: true, force: true });
  }
});

test("the district office locks two estates down, sees each answer, searches and takes the report", async () => {
  await page.goto(`${url}/login`);
  await page.fill("#user", "admin");
  await page.fill("#password", ADMIN_PASSWORD);
  await page.press("#password", "Enter");
  await page.waitForSelector("body[data-ready=true]");
  assert.match(page.url(), /\/district$/);

  // Both estates online, by name.
  for (const site of SITES) await page.waitForSelector(`#estate-rows tr[data-site="${site}"][data-state="online"]`, { timeout: 60_000 });
  assert.match(await page.textContent(`#estate-rows tr[data-site="estate-a"]`), /东风一区/);
  await page.screenshot({ path: shot("district-estates") });

  // A lockdown of both: the confirmation names them; each estate answers.
  await page.check("#select-all");
  await page.selectOption("#order-action", "lockdown");
  await page.selectOption("#order-mode", "quarantine");
  await page.fill("#order-reason", "街道统一封控");
  await page.click("#order-submit");
  await page.waitForSelector("#confirm-dialog[open]");
  const confirm = await page.textContent("#confirm-dialog");
  for (const site of SITES) assert.ok(confirm.includes(site), `the confirmation names ${site}`);
  await page.click("#confirm-ok");
  for (const site of SITES) await page.waitForSelector(`#order-list tr[data-site="${site}"][data-state="applied"]`, { timeout: 30_000 });
  await page.screenshot({ path: shot("district-order") });

  // Each estate's own lockdown table says so.
  await page.click('nav.tabs [data-tab="estates"]');
  for (const site of SITES) await page.waitForSelector(`#estate-rows tr[data-site="${site}"][data-locked="true"]`, { timeout: 30_000 });

  // A search that finds nothing says so, and is in the audit.
  await page.click('nav.tabs [data-tab="search"]');
  await page.fill("#search-q", "P-999999");
  await page.click('#search-form button[type="submit"]');
  await page.waitForSelector("#search-none:not([hidden])");
  await page.click('nav.tabs [data-tab="audit"]');
  await page.waitForFunction(() => document.querySelector("#audit-rows")?.textContent.includes("P-999999"));

  // The report as a spreadsheet, through the signed-in session.
  await page.click('nav.tabs [data-tab="reports"]');
  await page.waitForFunction(() => document.querySelectorAll("#count-rows tr").length === 3);
  const xlsx = await page.request.get(`${url}/api/district/report.xlsx`);
  assert.equal(xlsx.status(), 200);
  const bytes = await xlsx.body();
  assert.equal(bytes.subarray(0, 2).toString(), "PK", "an XLSX is a zip");
});
