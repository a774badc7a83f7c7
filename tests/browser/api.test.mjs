// The demo and the API as a new user and an integrator meet them: the demo prints a guard login
// beside the admin's and says where the guard screen is; every error is JSON with a code
// (axum's body, content-type and query rejections included), a known path with the wrong
// method is a 405 naming the methods it takes, and limits are enforced with their own codes.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { request } from "playwright-core";
import { startGateway, prepare, ADMIN_PASSWORD } from "./support.mjs";

let gw, estate, ctx, csrf;

before(async () => {
  gw = await startGateway();
  estate = await prepare(gw.url);
  ctx = await request.newContext({ baseURL: gw.url, ignoreHTTPSErrors: true });
  const res = await ctx.post("/api/login", { data: { user: "admin", password: ADMIN_PASSWORD } });
  csrf = (await res.json()).csrf;
});

after(async () => {
  await ctx?.dispose();
  await gw?.stop();
});

test("the demo prints a guard login and the guard screen's address; the login opens the checkpoint", async () => {
  const printed = gw.printed();
  const m = printed.match(/guard login: user 'guard', password '(\S+)'/);
  assert.ok(m, `a guard login in:\n${printed}`);
  assert.match(printed, /guard screen: https:\/\/\S+\/guard /);
  const guard = await request.newContext({ baseURL: gw.url, ignoreHTTPSErrors: true });
  const res = await guard.post("/api/login", { data: { user: "guard", password: m[1] } });
  assert.equal(res.status(), 200);
  assert.equal((await res.json()).home, "/guard");
  await guard.dispose();
});

async function call(method, path, { body, type, csrfToken = csrf } = {}) {
  const headers = { "X-CSRF-Token": csrfToken };
  if (type) headers["Content-Type"] = type;
  // A Buffer goes as it is (a string would be sent as a JSON string).
  const res = await ctx.fetch(path, { method, headers, data: body === undefined ? undefined : Buffer.from(body) });
  const text = await res.text();
  let json = null;
  try { json = JSON.parse(text); } catch (_) { /* asserted below */ }
  return { status: res.status(), type: res.headers()["content-type"] || "", allow: res.headers()["allow"], json, text };
}

function assertError(r, status, code) {
  assert.equal(r.status, status, r.text);
  assert.match(r.type, /^application\/json/, `JSON, not ${r.type}: ${r.text}`);
  assert.ok(r.json, r.text);
  assert.equal(r.json.error, code, r.text);
  assert.ok(typeof r.json.message === "string" && r.json.message.length > 10, r.text);
  assert.doesNotMatch(r.text, /\/tmp\/|gatehouse-browser-|uploads\//, "no server path");
}

test("rejected bodies, content types and queries answer the documented JSON with a code", async () => {
  assertError(await call("POST", "/api/guard/lookup", { body: "P-1", type: "text/plain" }), 415, "unsupported_media_type");
  assertError(await call("POST", "/api/guard/lookup", { body: "{", type: "application/json" }), 400, "bad_request");
  assertError(await call("POST", "/api/guard/lookup", { body: '{"pass": 3}', type: "application/json" }), 422, "invalid_body");
  assertError(await call("GET", "/api/events?before=-1"), 400, "bad_request");
  const short = await call("GET", "/api/people?q=a");
  assertError(short, 400, "query_short");
  assert.equal(short.json.params.min, 2);
  assertError(await call("GET", "/api/no-such-route"), 404, "not_found");
});

test("a known path with the wrong method is a 405 that names the methods it takes", async () => {
  const site = await call("DELETE", "/api/site");
  assertError(site, 405, "method_not_allowed");
  assert.equal(site.allow, "GET");
  const users = await call("PUT", "/api/users", { body: "{}", type: "application/json" });
  assertError(users, 405, "method_not_allowed");
  assert.equal(users.allow, "GET, POST");
  assertError(await call("GET", "/api/guard/check"), 405, "method_not_allowed");
});

test("limits have their own codes and parameters: short digits, temperature, unknown household", async () => {
  const short = await call("POST", "/api/guard/check", { body: JSON.stringify({ door: estate.door.id, pass: estate.pass, pin: "56" }), type: "application/json" });
  assertError(short, 400, "digits_short");
  assert.deepEqual(short.json.params, { typed: 2, n: 4 });
  const hot = await call("POST", "/api/guard/manual", { body: JSON.stringify({ door: estate.door.id, note: "test", temperature: 49.5 }), type: "application/json" });
  assertError(hot, 400, "temperature_range");
  assert.equal(hot.json.params.value, 49.5);
  const host = await call("POST", "/api/guard/visitors", { body: JSON.stringify({ name: "赵", phone: "13700001111", host_household: "99-9-999" }), type: "application/json" });
  assertError(host, 400, "unknown_household");
  assert.equal(host.json.params.household, "99-9-999");
  const phone = await call("POST", "/api/visit", { body: JSON.stringify({ name: "钱", phone: "12345", host_household: estate.household, reason: "" }), type: "application/json" });
  assertError(phone, 400, "phone_not_mobile");
  assert.equal(phone.json.params.phone, "12345");
});
