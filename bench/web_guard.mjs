// Benchmark: guard keypad submit → verdict rendered, with GUARDS guard screens and CONSOLES
// office consoles connected to live updates (server-sent events), while the other gates keep
// checking people (BUSY checks per second in all, spread over the other screens).
//
// The measured screen is a real headless Chromium page: it looks up a pass, the digits are
// typed, and the time from the keypad's Enter to the verdict painted (the page's own
// performance.now() around the API call, read after the next animation frame) is recorded.
// The consoles are real Chromium pages too (they render every event live). The other guard
// screens are, by default, live-update subscribers in this process (each holds its own
// /api/live stream, as a tablet at another gate would); REAL_GUARDS=1 opens all of them in
// Chromium instead, which on a small machine measures the browser's own CPU contention.
//
//   scripts/install-test-deps && cargo build
//   node bench/web_guard.mjs        # GUARDS=50 CONSOLES=5 SAMPLES=300 BUSY=10
//
// GATEHOUSE_BIN chooses the gateway binary as for the browser tests.
import https from "node:https";
import { startGateway, prepare, browser, signIn, PASSWORD } from "../tests/browser/support.mjs";

const GUARDS = Number(process.env.GUARDS || 50);
const CONSOLES = Number(process.env.CONSOLES || 5);
const SAMPLES = Number(process.env.SAMPLES || 300);
const BUSY = Number(process.env.BUSY || 10);
const REAL_GUARDS = process.env.REAL_GUARDS === "1";

const agent = new https.Agent({ keepAlive: true, maxSockets: Infinity, rejectUnauthorized: false });

function call(url, method, path, { cookie, csrf, body } = {}) {
  return new Promise((ok, fail) => {
    const data = body === undefined ? undefined : JSON.stringify(body);
    const req = https.request(new URL(path, url), {
      method, agent,
      headers: { ...(data ? { "content-type": "application/json" } : {}), ...(cookie ? { cookie } : {}), ...(csrf ? { "x-csrf-token": csrf } : {}) },
    }, (res) => {
      let text = "";
      res.on("data", (d) => { text += d; });
      res.on("end", () => ok({ status: res.statusCode, headers: res.headers, text }));
    });
    req.on("error", fail);
    if (data) req.write(data);
    req.end();
  });
}

/** A live-update subscriber: holds /api/live open and counts the updates it gets. */
function subscribe(url, cookie, counter, streams) {
  const req = https.get(new URL("/api/live", url), { agent, headers: { cookie, accept: "text/event-stream" } }, (res) => {
    res.on("data", (d) => { counter.updates += (String(d).match(/^event:/gm) || []).length; });
  });
  req.on("error", () => {});
  streams.push(req);
}

const gw = await startGateway();
const chrome = await browser();
let consoleBrowser = null;
const streams = [];
let busy = null;
try {
  const estate = await prepare(gw.url);
  // The measured guard screen (and, with REAL_GUARDS=1, every guard screen) in Chromium.
  const page = await chrome.context.newPage();
  await signIn(page, gw.url, "guard-wang", PASSWORD);
  const pages = [page];
  const counter = { updates: 0 };
  const login = await call(gw.url, "POST", "/api/login", { body: { user: "guard-wang", password: PASSWORD } });
  const cookie = login.headers["set-cookie"].map((c) => c.split(";")[0]).join("; ");
  const csrf = JSON.parse(login.text).csrf;
  for (let i = 1; i < GUARDS; i++) {
    if (REAL_GUARDS) {
      const p = await chrome.context.newPage();
      await p.goto(`${gw.url}/guard`);
      pages.push(p);
    } else {
      subscribe(gw.url, cookie, counter, streams);
    }
  }
  for (const p of pages) {
    await p.waitForSelector("body[data-ready=true]");
    if (await p.isVisible("#door-picker")) await p.click(`button[data-door="${estate.door.id}"]`);
    await p.waitForSelector("#checkpoint:not([hidden])");
  }
  // Consoles in a second browser so that they carry their own (office) session cookie.
  consoleBrowser = await browser();
  for (let i = 0; i < CONSOLES; i++) {
    const p = await consoleBrowser.context.newPage();
    if (i === 0) await signIn(p, gw.url, "office-li", PASSWORD);
    else { await p.goto(`${gw.url}/office`); await p.waitForSelector("body[data-ready=true]"); }
  }
  // The other gates at work: BUSY checks per second through the API.
  let background = 0;
  if (BUSY > 0) {
    busy = setInterval(() => {
      background++;
      call(gw.url, "POST", "/api/guard/check", { cookie, csrf, body: { door: estate.door.id, direction: "in", pass: estate.pass, pin: "5678" } }).catch(() => {});
    }, 1000 / BUSY);
  }
  const ms = [];
  const started = Date.now();
  for (let i = 0; i < SAMPLES; i++) {
    const p = pages[i % pages.length];
    await p.fill("#pass-input", estate.pass);
    await p.press("#pass-input", "Enter");
    await p.waitForSelector("#keypad-area:not([hidden])");
    // Alternate a match and a mismatch so that both verdicts are measured.
    const digits = i % 2 === 0 ? estate.phoneTail : "0000";
    for (const d of digits) await p.keyboard.press(d);
    await p.keyboard.press("Enter");
    await p.waitForSelector("#verdict[data-ms]:not([hidden])");
    ms.push(Number(await p.getAttribute("#verdict", "data-ms")));
    await p.evaluate(() => delete document.getElementById("verdict").dataset.ms);
    await p.keyboard.press("Enter");
  }
  const wall = (Date.now() - started) / 1000;
  ms.sort((a, b) => a - b);
  const pct = (q) => ms[Math.min(ms.length - 1, Math.floor(q * ms.length))];
  console.log(`guard screens ${GUARDS} (${REAL_GUARDS ? "all in Chromium" : "1 in Chromium, " + (GUARDS - 1) + " live subscribers"}), consoles ${CONSOLES} in Chromium, background checks ${background} in ${wall.toFixed(1)} s, live updates to subscribers ${counter.updates}`);
  console.log(`keypad submit -> verdict rendered (${SAMPLES} samples): p50 ${pct(0.5).toFixed(1)} ms, p90 ${pct(0.9).toFixed(1)} ms, p99 ${pct(0.99).toFixed(1)} ms, max ${ms[ms.length - 1].toFixed(1)} ms`);
} finally {
  if (busy) clearInterval(busy);
  for (const s of streams) s.destroy();
  await consoleBrowser?.close();
  await chrome.close();
  await gw.stop();
}
