// The guard's checkpoint in headless Chromium, on the real gateway: a matching pass, a phone
// mismatch, a revoked pass, a visitor registered by the guard, and a visitor who registers
// themselves and is approved. Driven from the keyboard, as a guard without a mouse would.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { session, signIn, shot, PASSWORD } from "./support.mjs";

let gw, estate, chrome, page, close;

before(async () => {
  ({ gw, estate, chrome, page, close } = await session());
  await signIn(page, gw.url, "guard-wang", PASSWORD);
  assert.match(page.url(), /\/guard$/, "a guard lands on the checkpoint screen");
  // The door is chosen once: by its number key on the picker.
  await page.waitForSelector("#door-picker:not([hidden])");
  const index = estate.site.doors.findIndex((d) => d.id === estate.door.id);
  if (index < 9) await page.keyboard.press(String(index + 1));
  else await page.click(`button[data-door="${estate.door.id}"]`);
  await page.waitForSelector("#checkpoint:not([hidden])");
});

after(async () => {
  await close?.();
});

async function checkPass(pass, digits) {
  await page.fill("#pass-input", pass);
  await page.press("#pass-input", "Enter");
  if (digits !== undefined) {
    await page.waitForSelector("#keypad-area:not([hidden])");
    for (const d of digits) await page.keyboard.press(d);
    await page.keyboard.press("Enter");
  }
  await page.waitForSelector("#verdict:not([hidden])");
  return {
    grant: await page.getAttribute("#verdict", "data-grant"),
    reason: await page.getAttribute("#verdict", "data-reason"),
    headline: await page.textContent("#verdict-headline"),
    words: await page.textContent("#verdict-reason"),
  };
}

async function next() {
  await page.keyboard.press("Enter");
  await page.waitForSelector("#verdict", { state: "hidden" });
}

test("a matching pass: holder shown with a masked phone, then a green 放行", async () => {
  await page.fill("#pass-input", estate.pass);
  await page.press("#pass-input", "Enter");
  await page.waitForSelector("#holder:not([hidden])");
  assert.equal(await page.textContent("#holder-name"), "王卫平");
  assert.equal(await page.textContent("#holder-household"), estate.household);
  assert.equal(await page.textContent("#holder-phone"), "138********", "the phone is masked, the asked digits too");
  assert.ok(!(await page.content()).includes("13812345678"), "the full phone never reaches the page");
  // The big keypad works by tapping too.
  for (const d of estate.phoneTail) await page.click(`.key[data-key="${d}"]`);
  assert.equal(await page.textContent("#digits"), estate.phoneTail);
  await page.screenshot({ path: shot("guard-keypad") });
  await page.click("#key-ok");
  await page.waitForSelector("#verdict:not([hidden])");
  assert.equal(await page.getAttribute("#verdict", "data-grant"), "true");
  assert.equal(await page.textContent("#verdict-headline"), "放行");
  assert.match(await page.getAttribute("#verdict", "class"), /grant/);
  await page.screenshot({ path: shot("guard-let-in") });
  await next();
});

test("a phone mismatch: a red 不符 with the reason in words", async () => {
  const v = await checkPass(estate.pass, "0000");
  assert.equal(v.grant, "false");
  assert.equal(v.reason, "phone_mismatch");
  assert.equal(v.headline, "不符");
  assert.equal(v.words, "手机号不符");
  await page.screenshot({ path: shot("guard-mismatch") });
  await next();
});

test("a revoked pass is refused at once, without asking for digits", async () => {
  const v = await checkPass(estate.revokedPass);
  assert.equal(v.grant, "false");
  assert.equal(v.reason, "pass_revoked");
  assert.equal(v.words, "通行证已注销");
  await next();
});

test("English is one key away", async () => {
  await page.keyboard.press("Alt+l");
  const v = await checkPass(estate.pass, "0000");
  assert.equal(v.headline, "MISMATCH");
  assert.equal(v.words, "Phone mismatch");
  await next();
  await page.keyboard.press("Alt+l");
  assert.equal(await page.textContent("#open-manual span"), "人工放行");
});

test("a visitor registered by the guard gets a QR pass at once", async () => {
  await page.keyboard.press("Alt+v");
  await page.waitForSelector("#visitor-dialog[open]");
  await page.fill("#vis-name", "赵访客");
  await page.fill("#vis-phone", "13700001111");
  await page.fill("#vis-host", estate.household);
  await page.fill("#vis-reason", "探亲");
  await page.press("#vis-reason", "Enter");
  await page.waitForSelector("#visitor-issued:not([hidden]) svg");
  assert.match(await page.textContent("#visitor-pass"), /^V-/);
  await page.click("#visitor-dialog .cancel");
});

test("a visitor who registers themselves is approved by the guard and sees the QR pass", async () => {
  const visitor = await chrome.context.newPage();
  await visitor.goto(`${gw.url}/visit`);
  await visitor.fill("#v-name", "钱自助");
  await visitor.fill("#v-phone", "13600002222");
  await visitor.fill("#v-host", estate.household);
  await visitor.fill("#v-reason", "送货");
  await visitor.press("#v-reason", "Enter");
  await visitor.waitForSelector("#visit-status:not([hidden])");
  assert.equal(await visitor.textContent("#visit-state"), "已提交，请稍候，门岗正在审核…");
  assert.ok(!(await visitor.content()).includes("13600002222"), "nothing personal is shown back");

  // The guard's pending count goes up live; the guard opens the list with P.
  await page.waitForFunction(() => Number(document.getElementById("pending-count").textContent) >= 1);
  await page.keyboard.press("Alt+p");
  await page.waitForSelector("#pending-dialog[open] .pending-item");
  const item = await page.textContent("#pending-list");
  assert.match(item, /钱自助/);
  assert.match(item, /136\*{8}/, "the guard sees the phone masked, its tail too");
  await page.screenshot({ path: shot("guard-pending") });
  await page.click(".pending-item .approve");
  await page.waitForSelector("#pending-issued:not([hidden]) svg");
  await page.click("#pending-dialog .cancel");

  await visitor.waitForSelector("#visit-qr svg", { timeout: 10_000 });
  assert.equal(await visitor.textContent("#visit-state"), "已同意：请在门口出示此二维码");
  await visitor.close();
});
