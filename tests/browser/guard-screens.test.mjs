// The guard's checkpoint as guards use it, at the four screens it is made for (a 10-inch tablet
// either way up, a 4:3 tablet, a phone): the phone check never shows the digits it asks for;
// holder and keypad on one screen; no sideways scroll; the verdict whole; short entries refused
// and not counted; "N tries left" before suspension; function-key shortcuts that work while
// the pass is typed; manual entry that checks the temperature; errors, network trouble and
// times in the guard's own words; a door picker with search.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { session, signIn, apiAs, shot, scrollsSideways, wholeOnScreen, VIEWPORTS, PASSWORD, ADMIN_PASSWORD } from "./support.mjs";

let gw, estate, chrome, page, close, admin;

before(async () => {
  ({ gw, estate, chrome, page, close } = await session());
  admin = await apiAs(gw.url, "admin", ADMIN_PASSWORD);
  await signIn(page, gw.url, "guard-wang", PASSWORD);
  await page.waitForSelector("#door-picker:not([hidden])");
  await page.fill("#door-search", estate.door.id);
  await page.press("#door-search", "Enter");
  await page.waitForSelector("#checkpoint:not([hidden])");
});

after(async () => {
  await admin?.ctx.dispose();
  await close?.();
});

/** A fresh pass for 王卫平 (phone 13812345678): each viewport's mismatches count on their own. */
async function freshPass(tag) {
  const r = await admin.post("/api/passes", {
    pass: `P-${tag}${String(Date.now()).slice(-5)}`,
    new_person: { name: "王卫平", phone: "13812345678", household: estate.household, role: "owner" },
  });
  return r.pass;
}

async function atViewport(vp) {
  await page.setViewportSize({ width: vp.width, height: vp.height });
  await page.goto(`${gw.url}/guard`);
  await page.waitForSelector("body[data-ready=true]");
  await page.waitForSelector("#checkpoint:not([hidden])");
}

async function lookUp(pass) {
  await page.fill("#pass-input", pass);
  await page.press("#pass-input", "Enter");
  await page.waitForSelector("#keypad-area:not([hidden])");
}

for (const vp of VIEWPORTS) {
  test(`${vp.name}: the phone check hides the asked digits and keeps holder and keypad on one screen`, async () => {
    await atViewport(vp);
    assert.equal(await scrollsSideways(page), false, "the checkpoint fits the width");
    await lookUp(await freshPass("M"));
    const phone = await page.textContent("#holder-phone");
    assert.equal(phone, "138********", "only the head of the phone shows");
    assert.ok(!phone.includes("5678") && !(await page.content()).includes("5678"), "the asked digits are nowhere on the page");
    assert.match(await page.textContent("#ask-digits"), /后4位/);
    assert.equal(await scrollsSideways(page), false);
    assert.ok(await wholeOnScreen(page, "#holder-name"), "the holder's name is on screen with the keypad");
    assert.ok(await wholeOnScreen(page, "#holder-phone"), "the holder's phone is on screen with the keypad");
    assert.ok(await wholeOnScreen(page, "#key-ok"), "the keypad's confirm key is on screen");
    assert.ok(await wholeOnScreen(page, '.key[data-key="1"]'), "the keypad's first key is on screen");
    if (vp.name === "phone") await page.screenshot({ path: shot("guard-phone") });
    await page.keyboard.press("Escape");
  });

  test(`${vp.name}: a short entry is refused with a prompt and not counted; a mismatch says how many tries are left`, async () => {
    await atViewport(vp);
    await lookUp(await freshPass("S"));
    for (const d of "56") await page.keyboard.press(d);
    await page.keyboard.press("Enter");
    await page.waitForFunction(() => document.getElementById("digits-error").textContent.length > 0);
    assert.match(await page.textContent("#digits-error"), /只输入了 2 位.*全部 4 位/);
    assert.equal(await page.isVisible("#verdict"), false, "no verdict for a short entry");
    await page.keyboard.press("Backspace");
    await page.keyboard.press("Backspace");
    for (const d of "0000") await page.keyboard.press(d);
    await page.keyboard.press("Enter");
    await page.waitForSelector("#verdict:not([hidden])");
    assert.equal(await page.textContent("#verdict-headline"), "不符");
    // Five mismatches suspend a pass; the short entry did not count, so four are left.
    assert.equal(await page.textContent("#verdict-tries"), "还可再错 4 次，之后此卡将被暂停");
    assert.ok(await wholeOnScreen(page, "#verdict-headline"), "the verdict is whole");
    assert.ok(await wholeOnScreen(page, "#verdict-tries"));
    assert.ok(await wholeOnScreen(page, "#next"), "下一位 stays on screen");
    assert.equal(await scrollsSideways(page), false);
    await page.keyboard.press("Enter");
    await page.waitForSelector("#verdict", { state: "hidden" });
  });

  test(`${vp.name}: a refusal's verdict 不可进入 stays whole on one line`, async () => {
    await atViewport(vp);
    await page.fill("#pass-input", estate.revokedPass);
    await page.press("#pass-input", "Enter");
    await page.waitForSelector("#verdict:not([hidden])");
    assert.equal(await page.textContent("#verdict-headline"), "不可进入");
    const lines = await page.$eval("#verdict-headline", (el) => Math.round(el.getBoundingClientRect().height / parseFloat(getComputedStyle(el).lineHeight)));
    assert.equal(lines, 1, "one line");
    assert.ok(await wholeOnScreen(page, "#verdict-headline"));
    assert.ok(await wholeOnScreen(page, "#next"));
    await page.keyboard.press("Enter");
    await page.waitForSelector("#verdict", { state: "hidden" });
  });

  test(`${vp.name}: shortcuts work while the pass field has focus, and the hint names them`, async () => {
    await atViewport(vp);
    assert.match(await page.textContent("#keys-hint"), /F2 人工放行.*F3 登记访客.*F4 待审批.*F8 切换语言/);
    await page.focus("#pass-input");
    await page.keyboard.type("P-1");
    await page.keyboard.press("F8");
    assert.equal(await page.textContent("#open-manual span"), "Manual entry", "F8 switched to English");
    assert.equal(await page.inputValue("#pass-input"), "P-1", "nothing was typed into the pass field");
    await page.keyboard.press("F8");
    assert.equal(await page.textContent("#open-manual span"), "人工放行");
    await page.keyboard.press("F2");
    await page.waitForSelector("#manual-dialog[open]");
    // The temperature is checked: 39.9x is refused, and nobody is let in.
    await page.fill("#manual-note", "快递员，无通行证");
    await page.fill("#manual-temp", "39.9x");
    await page.click("#manual-submit");
    await page.waitForFunction(() => document.getElementById("manual-error").textContent.length > 0);
    assert.match(await page.textContent("#manual-error"), /体温只能填数字/);
    assert.ok(await page.isVisible("#manual-dialog[open]"), "the dialog stays open");
    assert.equal(await page.isVisible("#verdict"), false, "nobody let in");
    await page.fill("#manual-temp", "46");
    await page.click("#manual-submit");
    await page.waitForFunction(() => /30–45/.test(document.getElementById("manual-error").textContent));
    await page.click("#manual-dialog .cancel");
  });

  test(`${vp.name}: the visitor dialog speaks Chinese, clears old errors, and shows the validity in local time`, async () => {
    await atViewport(vp);
    await page.focus("#pass-input");
    await page.keyboard.press("F3");
    await page.waitForSelector("#visitor-dialog[open]");
    await page.fill("#vis-name", "赵访客");
    await page.fill("#vis-phone", "12345");
    await page.fill("#vis-host", estate.household);
    await page.click("#visitor-submit");
    await page.waitForFunction(() => document.getElementById("visitor-error").textContent.length > 0);
    const phoneError = await page.textContent("#visitor-error");
    assert.match(phoneError, /“12345”不是大陆手机号/);
    assert.doesNotMatch(phoneError, /mainland|not a/);
    await page.fill("#vis-phone", "13700001111");
    await page.fill("#vis-host", "99-9-999");
    await page.click("#visitor-submit");
    await page.waitForFunction(() => /没有户号/.test(document.getElementById("visitor-error").textContent));
    assert.match(await page.textContent("#visitor-error"), /没有户号“99-9-999”/);
    await page.fill("#vis-host", estate.household);
    await page.click("#visitor-submit");
    await page.waitForSelector("#visitor-issued:not([hidden]) svg");
    assert.equal(await page.textContent("#visitor-error"), "", "no stale error above the issued pass");
    const validity = await page.textContent("#visitor-pass");
    // Only the time: the pass code before it is random and may hold "5T6".
    const until = validity.slice(validity.indexOf("有效期至"));
    assert.doesNotMatch(until, /UTC|\dT\d|\+00:00/, "no UTC, no ISO");
    assert.match(validity, /有效期至 (今天 |明天 |\d+月\d+日 )?\d{2}:\d{2}$/);
    await page.click("#visitor-dialog .cancel");
  });

  test(`${vp.name}: network trouble in plain words with what to do next`, async () => {
    await atViewport(vp);
    await page.route("**/api/guard/lookup", (r) => r.abort("failed"));
    await page.fill("#pass-input", estate.pass);
    await page.press("#pass-input", "Enter");
    await page.waitForFunction(() => document.getElementById("check-error").textContent.length > 0);
    const down = await page.textContent("#check-error");
    assert.match(down, /连不上门岗系统：请检查本机网络/);
    assert.doesNotMatch(down, /Failed to fetch/);
    await page.unroute("**/api/guard/lookup");
    await page.route("**/api/guard/lookup", (r) => r.fulfill({ status: 502, contentType: "text/html", body: "<html><body>Bad Gateway</body></html>" }));
    await page.press("#pass-input", "Enter");
    await page.waitForFunction(() => /502/.test(document.getElementById("check-error").textContent));
    const bad = await page.textContent("#check-error");
    assert.match(bad, /门岗系统暂时没有响应（502）：请稍等一分钟再试/);
    assert.doesNotMatch(bad, /HTTP 502/);
    await page.unroute("**/api/guard/lookup");
  });

  test(`${vp.name}: the door picker finds any door by search`, async () => {
    await atViewport(vp);
    await page.click("#change-door");
    await page.waitForSelector("#door-picker:not([hidden])");
    assert.equal(await scrollsSideways(page), false);
    const last = estate.site.doors[estate.site.doors.length - 1];
    await page.fill("#door-search", last.id);
    const shown = await page.$$eval("#door-list button", (bs) => bs.map((b) => b.dataset.door));
    assert.ok(shown.includes(last.id), `searching finds ${last.id}`);
    assert.ok(shown.length < estate.site.doors.length || estate.site.doors.length === 1, "the search narrows the list");
    await page.fill("#door-search", "没有这个门");
    assert.ok(await page.isVisible("#door-none"), "no match says so");
    await page.fill("#door-search", estate.door.id);
    await page.press("#door-search", "Enter");
    await page.waitForSelector("#checkpoint:not([hidden])");
    assert.equal(await page.textContent("#door-name"), estate.door.name);
  });
}
