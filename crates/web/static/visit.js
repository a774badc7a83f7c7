// Visitor self-registration: send the form, then poll the ticket until the guard decides.
// The ticket is kept in this tab only; nothing personal comes back from the server.
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  GH.applyWords();
  document.getElementById("lang").addEventListener("click", () => { GH.toggleLang(); if (state) show(state); });
  let state = null;
  const show = (s) => {
    state = s;
    const title = document.getElementById("visit-state");
    const qr = document.getElementById("visit-qr");
    document.getElementById("visit-status").hidden = false;
    document.getElementById("visit-form").hidden = true;
    if (s.status === "pending") { title.textContent = GH.t("wait_guard"); qr.innerHTML = ""; }
    if (s.status === "refused") { title.textContent = GH.t("refused") + (s.reason ? `: ${s.reason}` : ""); qr.innerHTML = ""; }
    if (s.status === "approved") {
      title.textContent = GH.t("approved");
      qr.innerHTML = s.qr_svg; // our own server's SVG of the signed token
      document.getElementById("visit-pass").textContent = `${s.pass} · ${GH.t("valid_until")} ${GH.when(s.valid_until)}`;
    }
  };
  const poll = async (ticket) => {
    try {
      const s = await GH.api("GET", `/api/visit/${encodeURIComponent(ticket)}`);
      show(s);
      if (s.status === "pending") setTimeout(() => poll(ticket), 1000);
    } catch (x) {
      document.getElementById("visit-error").textContent = x.message;
      setTimeout(() => poll(ticket), 3000);
    }
  };
  const saved = sessionStorage.getItem("gh_visit_ticket");
  if (saved) poll(saved);
  document.getElementById("visit-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const err = document.getElementById("visit-error");
    err.textContent = "";
    try {
      const r = await GH.api("POST", "/api/visit", {
        name: document.getElementById("v-name").value,
        phone: document.getElementById("v-phone").value,
        host_household: document.getElementById("v-host").value,
        reason: document.getElementById("v-reason").value,
      });
      sessionStorage.setItem("gh_visit_ticket", r.ticket);
      poll(r.ticket);
    } catch (x) {
      err.textContent = x.message;
    }
  });
});
