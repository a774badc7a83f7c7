// The office console in headless Chromium: lock down a building, watch its doors change live,
// then lift the lockdown and watch them return.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { session, signIn, shot, PASSWORD } from "./support.mjs";

let gw, estate, page, close;

before(async () => {
  ({ gw, estate, page, close } = await session());
  await signIn(page, gw.url, "office-li", PASSWORD);
  assert.match(page.url(), /\/office/);
});

after(async () => {
  await close?.();
});

const doorsOf = (zone) => estate.site.doors.filter((d) => d.inside === zone);

test("the office locks a building down, sees its doors change live, then lifts it", async () => {
  const zone = estate.building.id;
  const doors = doorsOf(zone);
  assert.ok(doors.length > 0);
  // Each door's mode before (normal, or closed by its schedule at night) comes back after.
  for (const d of doors) await page.waitForSelector(`#door-${d.id}[data-mode="${estate.modes[d.id]}"]`);
  await page.locator(`#door-${doors[0].id}`).scrollIntoViewIfNeeded();
  await page.screenshot({ path: shot("office-doors") });

  await page.click('nav.tabs [data-tab="lockdown"]');
  await page.selectOption("#ld-zone", zone);
  await page.selectOption("#ld-mode", "closed");
  await page.fill("#ld-reason", "夜间封楼");
  await page.click("#ld-submit");
  // A confirmation that names the building and the doors it closes.
  await page.waitForSelector("#confirm-dialog[open]");
  const text = await page.textContent("#confirm-dialog");
  for (const d of doors) assert.ok(text.includes(d.name), `the confirmation lists ${d.name}`);
  await page.click("#confirm-ok");

  // The doors change on screen through the live feed, with no reload.
  for (const d of doors) await page.waitForSelector(`#door-${d.id}[data-mode="locked_down"]`, { timeout: 10_000 });
  await page.waitForSelector(`.lockdown-banner[data-zone="${zone}"]`);
  await page.locator(`tr.zone-row[data-zone="${zone}"]`).scrollIntoViewIfNeeded();
  await page.screenshot({ path: shot("office-lockdown") });

  await page.click('nav.tabs [data-tab="lockdown"]');
  await page.click(`#lockdown-rows tr[data-zone="${zone}"] .lift`);
  await page.waitForSelector("#confirm-dialog[open]");
  await page.click("#confirm-ok");
  for (const d of doors) await page.waitForSelector(`#door-${d.id}[data-mode="${estate.modes[d.id]}"]`, { timeout: 10_000 });
  assert.equal(await page.$(`.lockdown-banner[data-zone="${zone}"]`), null);

  // Both changes are in the event list, live.
  await page.click('nav.tabs [data-tab="events"]');
  await page.waitForFunction(() => document.querySelectorAll("#event-rows tr").length >= 2);
  const events = await page.textContent("#event-rows");
  assert.match(events, /封闭/, "the lockdown, in words");
  assert.match(events, /已解封/, "the lift, in words");
});
