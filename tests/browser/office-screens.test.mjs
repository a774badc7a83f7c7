// The office console in the office's words, at the four screens: a lockdown names its zone on
// purpose (no default) and its confirmation names the doors and the households it affects;
// events, alarms and roles in words, times local; the residents import labelled (new /
// updated / unchanged / refused) and never showing where the server keeps files.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { writeFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { session, signIn, VIEWPORTS, PASSWORD } from "./support.mjs";

let gw, estate, page, close, dir;

before(async () => {
  ({ gw, estate, page, close } = await session());
  await signIn(page, gw.url, "office-li", PASSWORD);
  dir = mkdtempSync(join(tmpdir(), "gatehouse-import-"));
});

after(async () => {
  rmSync(dir, { recursive: true, force: true });
  await close?.();
});

async function atViewport(vp) {
  await page.setViewportSize({ width: vp.width, height: vp.height });
  await page.goto(`${gw.url}/office`);
  await page.waitForSelector("body[data-ready=true]");
}

const doorsOf = (zone) => estate.site.doors.filter((d) => d.inside === zone);

for (const [i, vp] of VIEWPORTS.entries()) {
  test(`${vp.name}: a lockdown has no default zone, and its confirmation names doors and households`, async () => {
    await atViewport(vp);
    await page.click('nav.tabs [data-tab="lockdown"]');
    assert.equal(await page.inputValue("#ld-zone"), "", "no zone is chosen for the office");
    assert.equal(await page.inputValue("#ld-mode"), "", "no mode is chosen either");
    await page.selectOption("#ld-mode", "closed");
    await page.fill("#ld-reason", "消防检查");
    await page.click("#ld-submit");
    await page.waitForFunction(() => document.getElementById("office-error").textContent.length > 0);
    assert.equal(await page.textContent("#office-error"), "请先选择要封控的区域。");
    assert.equal(await page.isVisible("#confirm-dialog[open]"), false);

    const zone = estate.building.id;
    await page.selectOption("#ld-zone", zone);
    await page.click("#ld-submit");
    await page.waitForSelector("#confirm-dialog[open]");
    const text = await page.textContent("#confirm-dialog");
    for (const d of doorsOf(zone)) assert.ok(text.includes(d.name), `the confirmation lists ${d.name}`);
    assert.match(await page.textContent("#confirm-households-title"), /^受影响的住户 \(\d+\)$/);
    assert.match(text, /封闭 · 消防检查/);
    await page.click("#confirm-cancel");
  });

  test(`${vp.name}: events in words and local time`, async () => {
    await atViewport(vp);
    await page.click('nav.tabs [data-tab="events"]');
    await page.waitForFunction(() => document.querySelectorAll("#event-rows tr").length > 0);
    const header = await page.textContent("#tab-events thead");
    assert.match(header, /原因 \/ 状态/);
    assert.match(header, /操作人/);
    const rows = await page.$$eval("#event-rows tr", (trs) => trs.slice(0, 20).map((tr) => [...tr.children].map((td) => td.textContent)));
    for (const [at, kind, , , , decision, what] of rows) {
      assert.doesNotMatch(at, /T\d\d:|\+0\d:00|Z$/, "a local time, not ISO");
      assert.doesNotMatch(kind, /^[a-z_]+$/, `kind '${kind}' in words`);
      assert.doesNotMatch(decision, /^(grant|deny)$/);
      assert.doesNotMatch(what, /^[a-z]+_[a-z_]+$/, `'${what}' in words`);
    }
  });

  test(`${vp.name}: the residents import is labelled and shows no server path`, async () => {
    await atViewport(vp);
    await page.click('nav.tabs [data-tab="import"]');
    const good = join(dir, `residents-${i}.csv`);
    writeFileSync(good, `household,name,phone,role,pass,valid_until\n${estate.household},孙导入,13900001234,family,ABCD1234,2028-06-30\n`);
    await page.setInputFiles("#import-file", good);
    await page.click('#import-form button[type="submit"]');
    await page.waitForSelector("#import-result .import-counts");
    const counts = Object.fromEntries(await page.$$eval("#import-result .import-counts tr", (trs) => trs.map((tr) => [tr.dataset.count, [tr.children[0].textContent, Number(tr.children[1].textContent)]])));
    assert.equal(counts.rows[0], "行数");
    assert.deepEqual(counts.refused, ["有错误被拒", 0], await page.textContent("#import-result"));
    if (i === 0) assert.deepEqual(counts.new, ["新增", 1], "the first upload adds her");
    else assert.deepEqual(counts.unchanged, ["未变", 1], "the same file again changes nothing");

    const bad = join(dir, `bad-${i}.csv`);
    writeFileSync(bad, `household,name,phone,role,pass,valid_until\n${estate.household},错号码,12345,family,ABCD5678,2028-06-30\n`);
    await page.setInputFiles("#import-file", bad);
    await page.click('#import-form button[type="submit"]');
    await page.waitForFunction(() => /有错误被拒/.test(document.getElementById("import-result").textContent) && document.querySelector("#import-result .error"));
    const result = await page.textContent("#tab-import");
    assert.match(result, /有错误被拒1/);
    assert.doesNotMatch(result + (await page.textContent("#office-error")), /uploads|\/tmp\/|data\/demo|gatehouse-browser-/, "no server path");

    // A file the import cannot read at all: the failure names the file, not where it is kept.
    const odd = join(dir, `notes-${i}.txt`);
    writeFileSync(odd, "not a residents file\n");
    await page.setInputFiles("#import-file", odd);
    await page.click('#import-form button[type="submit"]');
    await page.waitForFunction(() => document.getElementById("office-error").textContent.length > 0);
    const failure = await page.textContent("#office-error");
    assert.match(failure, /导入没有完成/);
    assert.doesNotMatch(failure, /uploads|\/tmp\/|gatehouse-browser-/, `no server path in: ${failure}`);
  });
}
