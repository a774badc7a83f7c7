// The sign-in page: on success, go to the role's own screen.
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  GH.applyWords();
  document.getElementById("lang").addEventListener("click", GH.toggleLang);
  document.getElementById("login-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const err = document.getElementById("login-error");
    err.textContent = "";
    try {
      const me = await GH.api("POST", "/api/login", {
        user: document.getElementById("user").value,
        password: document.getElementById("password").value,
      });
      location.href = me.home;
    } catch (x) {
      err.textContent = `${GH.t("bad_login")}: ${x.message}`;
    }
  });
});
