// Starts the gateway (the real `gatehouse demo` by default) on free ports with a fresh data
// directory, signs in over the API to set up what a test needs, and opens headless Chromium.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, existsSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { chromium, request } from "playwright-core";

export const ADMIN_PASSWORD = "browser-test-admin";
export const PASSWORD = "browser-test-pass";
const ROOT = resolve(import.meta.dirname, "../..");

/** The gateway binary: GATEHOUSE_BIN, else target/debug/gatehouse (run as `demo`). */
export function gatewayCommand() {
  const bin = process.env.GATEHOUSE_BIN || join(process.env.CARGO_TARGET_DIR || join(ROOT, "target"), "debug/gatehouse");
  if (!existsSync(bin)) {
    throw new Error(`No gateway binary at ${bin}: build it with \`cargo build\` (or set GATEHOUSE_BIN to it).`);
  }
  return bin;
}

/** Starts the gateway; resolves to { url, stop } once it prints `console: https://…/`. */
export async function startGateway() {
  const dataDir = mkdtempSync(join(tmpdir(), "gatehouse-browser-"));
  const bin = gatewayCommand();
  const child = spawn(bin, ["demo", "--data-dir", dataDir, "--mqtt-listen", "127.0.0.1:0", "--web-listen", "127.0.0.1:0"], {
    env: { ...process.env, GATEHOUSE_ADMIN_PASSWORD: ADMIN_PASSWORD, RUST_LOG: process.env.RUST_LOG || "warn" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  child.stderr.on("data", (d) => { err += d; });
  const url = await new Promise((ok, fail) => {
    const timer = setTimeout(() => fail(new Error(`The gateway printed no console URL in 60 s.\nstdout:\n${out}\nstderr:\n${err}`)), 60_000);
    child.stdout.on("data", (d) => {
      out += d;
      const m = out.match(/console: (https:\/\/\S+?)\/?\s/);
      if (m) { clearTimeout(timer); ok(m[1]); }
    });
    child.on("exit", (code) => { clearTimeout(timer); fail(new Error(`The gateway exited (${code}) before it listened.\nstdout:\n${out}\nstderr:\n${err}`)); });
  });
  const stop = async () => {
    if (child.exitCode === null) {
      const gone = new Promise((r) => child.on("exit", r));
      child.kill("SIGINT");
      await Promise.race([gone, new Promise((r) => setTimeout(r, 10_000))]);
      if (child.exitCode === null) child.kill("SIGKILL");
    }
    rmSync(dataDir, { recursive: true, force: true });
  };
  // `printed`: what the gateway has printed so far (its banner: console, logins).
  return { url, stop, printed: () => out };
}

/** An API client signed in as `user`. */
export async function apiAs(url, user, password) {
  const ctx = await request.newContext({ baseURL: url, ignoreHTTPSErrors: true });
  const res = await ctx.post("/api/login", { data: { user, password } });
  if (!res.ok()) throw new Error(`${user} could not sign in: ${res.status()} ${await res.text()}`);
  const me = await res.json();
  const call = async (method, path, data) => {
    const r = await ctx.fetch(path, { method, data, headers: { "X-CSRF-Token": me.csrf } });
    const body = await r.text();
    if (!r.ok()) throw new Error(`${method} ${path}: ${r.status()} ${body}`);
    return body ? JSON.parse(body) : null;
  };
  return { ctx, call, get: (p) => call("GET", p), post: (p, d) => call("POST", p, d ?? {}) };
}

/**
 * What the tests need from the estate, found through the API so that any estate works: a
 * household, a checkpoint door that leads towards it and checks phones, and a building with
 * doors. Adds a guard and an office user, a resident with an active pass, and a revoked pass.
 */
export async function prepare(url) {
  const admin = await apiAs(url, "admin", ADMIN_PASSWORD);
  const site = await admin.get("/api/site");
  const parent = Object.fromEntries(site.zones.map((z) => [z.id, z.parent]));
  const within = (zone, outer) => { for (let z = zone, n = 0; z && n < 64; z = parent[z], n++) if (z === outer) return true; return false; };
  let household = null;
  for (const zone of site.zones) {
    if (zone.id === "site") continue;
    const table = await admin.get(`/api/buildings/${encodeURIComponent(zone.id)}/households`);
    if (table.households.length) { household = table.households[0]; break; }
  }
  if (!household) throw new Error("The estate has no household: the demo must import its sample residents.");
  const door = site.doors.find((d) => d.outside === "outside" && within(household.zone, d.inside) && (d.verify === "guard" || d.verify === "card+phone"));
  if (!door) throw new Error(`No gate from outside towards ${household.zone} checks phones (verify guard or card+phone).`);
  // A building to lock down: a zone with doors of its own, not the checkpoint's, preferably
  // one whose doors are all in normal mode now (gates may be closed by a night schedule).
  const live = await admin.get("/api/doors");
  const modes = Object.fromEntries(live.doors.map((d) => [d.id, d.mode]));
  const candidates = site.zones.filter((z) => z.id !== "site" && site.doors.some((d) => d.inside === z.id) && !within(door.inside, z.id));
  const building = candidates.find((z) => site.doors.filter((d) => d.inside === z.id).every((d) => modes[d.id] === "normal")) || candidates[0];
  if (!building) throw new Error("No zone besides the gate's own has doors to lock down.");
  await admin.post("/api/users", { name: "guard-wang", role: "guard", password: PASSWORD });
  await admin.post("/api/users", { name: "office-li", role: "office", password: PASSWORD });
  const suffix = String(Date.now()).slice(-6);
  const resident = await admin.post("/api/passes", {
    pass: `P-T${suffix}`, new_person: { name: "王卫平", phone: "13812345678", household: household.household, role: "owner" },
  });
  const revoked = await admin.post("/api/passes", {
    pass: `P-R${suffix}`, new_person: { name: "李秀英", phone: "13998765432", household: household.household, role: "owner" },
  });
  await admin.post(`/api/passes/${revoked.pass}/status`, { status: "revoked", note: "browser test" });
  await admin.ctx.dispose();
  return { site, modes, household: household.household, door, building, pass: resident.pass, revokedPass: revoked.pass, phoneTail: "5678" };
}

/** The four screens the console is made for: a 10-inch tablet either way up, an older tablet, a phone. */
export const VIEWPORTS = [
  { name: "tablet-landscape", width: 1280, height: 800 },
  { name: "tablet-4x3", width: 1024, height: 768 },
  { name: "tablet-portrait", width: 800, height: 1280 },
  { name: "phone", width: 390, height: 844 },
];

/** Whether the page scrolls sideways (it never should). */
export async function scrollsSideways(page) {
  return page.evaluate(() => document.documentElement.scrollWidth > window.innerWidth + 1);
}

/** Whether the element is on screen whole: inside the viewport on every side. */
export async function wholeOnScreen(page, selector) {
  return page.$eval(selector, (el) => {
    const r = el.getBoundingClientRect();
    return r.width > 0 && r.top >= -1 && r.left >= -1 && r.bottom <= window.innerHeight + 1 && r.right <= window.innerWidth + 1;
  });
}

/** Headless Chromium from Debian, with a fresh profile. */
export async function browser() {
  const userDataDir = mkdtempSync(join(tmpdir(), "gatehouse-chromium-"));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    headless: true,
    ignoreHTTPSErrors: true,
    viewport: { width: 1280, height: 800 },
    locale: "zh-CN",
    timezoneId: "Asia/Shanghai",
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
      "--disable-component-update", "--disable-sync"],
  });
  return { context, close: async () => { await context.close(); rmSync(userDataDir, { recursive: true, force: true }); } };
}

/**
 * What every browser test starts from: the gateway, the estate prepared, and a page in a
 * fresh Chromium; `close` stops both.
 */
export async function session() {
  const gw = await startGateway();
  let chrome;
  try {
    const estate = await prepare(gw.url);
    chrome = await browser();
    const page = await chrome.context.newPage();
    return { gw, estate, chrome, page, close: async () => { await chrome.close(); await gw.stop(); } };
  } catch (e) {
    await chrome?.close();
    await gw.stop();
    throw e;
  }
}

export async function signIn(page, url, user, password) {
  await page.goto(`${url}/login`);
  await page.fill("#user", user);
  await page.fill("#password", password);
  await page.press("#password", "Enter");
  await page.waitForSelector("body[data-ready=true]");
}

/**
 * Where a screenshot goes: docs/screenshots/ when GATEHOUSE_SCREENSHOTS=1 (to refresh the
 * docs), else a temporary directory, so that a test run leaves the working tree alone.
 */
export function shot(name) {
  const dir = process.env.GATEHOUSE_SCREENSHOTS === "1" ? join(ROOT, "docs/screenshots") : join(tmpdir(), "gatehouse-screenshots");
  mkdirSync(dir, { recursive: true });
  return join(dir, `${name}.png`);
}
