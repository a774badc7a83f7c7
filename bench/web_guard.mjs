// Benchmark: guard keypad submit → verdict rendered, with GUARDS guard screens and CONSOLES
// office consoles open in headless Chromium, all connected to live updates (server-sent
// events). Each sample: a guard screen looks up a pass, the digits are typed, and the time from
// the keypad's Enter to the verdict painted (the page's own performance.now() around the API
// call, read after the next animation frame) is recorded. Screens take turns.
//
//   scripts/install-test-deps && cargo build
//   node bench/web_guard.mjs            # GUARDS=50 CONSOLES=5 SAMPLES=300 by default
//
// GATEHOUSE_BIN chooses the gateway binary as for the browser tests.
import { startGateway, prepare, browser, signIn, PASSWORD } from "../tests/browser/support.mjs";

const GUARDS = Number(process.env.GUARDS || 50);
const CONSOLES = Number(process.env.CONSOLES || 5);
const SAMPLES = Number(process.env.SAMPLES || 300);

const gw = await startGateway();
const chrome = await browser();
let consoleBrowser = null;
try {
  const estate = await prepare(gw.url);
  const ctx = chrome.context;
  // One sign-in per role (the sign-in throttle counts per address); the tabs share the cookie.
  const first = await ctx.newPage();
  await signIn(first, gw.url, "guard-wang", PASSWORD);
  const guards = [first];
  for (let i = 1; i < GUARDS; i++) {
    const p = await ctx.newPage();
    await p.goto(`${gw.url}/guard`);
    guards.push(p);
  }
  for (const p of guards) {
    await p.waitForSelector("body[data-ready=true]");
    if (await p.isVisible("#door-picker")) await p.click(`button[data-door="${estate.door.id}"]`);
    await p.waitForSelector("#checkpoint:not([hidden])");
  }
  // Consoles in a second browser so that they carry their own (office) session cookie.
  consoleBrowser = await browser();
  const consoleCtx = consoleBrowser.context;
  const consoles = [];
  for (let i = 0; i < CONSOLES; i++) {
    const p = await consoleCtx.newPage();
    if (i === 0) await signIn(p, gw.url, "office-li", PASSWORD);
    else { await p.goto(`${gw.url}/office`); await p.waitForSelector("body[data-ready=true]"); }
    consoles.push(p);
  }
  const ms = [];
  const started = Date.now();
  for (let i = 0; i < SAMPLES; i++) {
    const p = guards[i % guards.length];
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
  console.log(`guard screens ${GUARDS}, consoles ${CONSOLES}, samples ${SAMPLES}, wall ${wall.toFixed(1)} s`);
  console.log(`keypad submit -> verdict rendered: p50 ${pct(0.5).toFixed(1)} ms, p90 ${pct(0.9).toFixed(1)} ms, p99 ${pct(0.99).toFixed(1)} ms, max ${ms[ms.length - 1].toFixed(1)} ms`);
} finally {
  await consoleBrowser?.close();
  await chrome.close();
  await gw.stop();
}
