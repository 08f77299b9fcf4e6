/* The accounts page (staff only): list, add, change role and most chats at once, disable or enable,
   reset a password. Built with AdviceDom.h (text only, never HTML); every answer from the server,
   including its refusals, is shown as text. */
(function () {
  "use strict";
  const D = window.AdviceDom;
  const ROLE_NAMES = { adviser: "Adviser", duty_lead: "Duty lead", staff: "Staff" };
  let els = null;

  function say(text) {
    els.error.textContent = "";
    els.status.textContent = text;
  }

  function fail(err) {
    els.status.textContent = "";
    els.error.textContent = err && err.message ? err.message : String(err);
  }

  async function act(promise, done) {
    try {
      const result = await promise;
      say(done(result));
      await load();
    } catch (err) {
      fail(err);
    }
  }

  function path(account, tail) {
    return "/console/api/accounts/" + encodeURIComponent(account.username) + (tail || "");
  }

  function row(account, me) {
    const id = D.safeToken(account.username);
    const role = D.h("select", { id: "role-" + id, "aria-label": "Role of " + account.username },
      Object.keys(ROLE_NAMES).map(function (key) {
        return D.h("option", { value: key, selected: key === account.role, text: ROLE_NAMES[key] });
      }));
    const most = D.h("input", { id: "max-" + id, type: "number", min: "1", max: "10", value: account.max_chats,
      "aria-label": "Most chats at once for " + account.username });
    const password = D.h("input", { id: "password-" + id, type: "password", autocomplete: "new-password",
      "aria-label": "New password for " + account.username });
    const status = (account.disabled ? "Disabled" : "Enabled") +
      (account.available ? ", available" : "") + ", " + account.live + " live, takes " + account.chats;
    return D.h("tr", { "data-username": account.username }, [
      D.h("th", { scope: "row", text: account.username + (account.username === me ? " (you)" : "") }),
      D.h("td", { text: account.display_name }),
      D.h("td", {}, [role]),
      D.h("td", {}, [most]),
      D.h("td", { text: status }),
      D.h("td", { className: "actions" }, [
        D.h("button", { type: "button", text: "Save role and chats", onclick: function () {
          act(D.request("POST", path(account), { role: role.value, max_chats: Number(most.value) }),
            function () { return "Saved " + account.username + "."; });
        } }),
        D.h("button", { type: "button", text: account.disabled ? "Enable" : "Disable", onclick: function () {
          act(D.request("POST", path(account), { disabled: !account.disabled }), function () {
            return (account.disabled ? "Enabled " : "Disabled and signed out ") + account.username + ".";
          });
        } }),
        password,
        D.h("button", { type: "button", text: "Reset password", onclick: function () {
          act(D.request("POST", path(account, "/password"), { password: password.value }), function (result) {
            if (result.signed_out) window.location.assign("/console/login");
            return "New password saved; " + account.username + " is signed out everywhere.";
          });
        } }),
      ]),
    ]);
  }

  async function load() {
    const data = await D.request("GET", "/console/api/accounts");
    els.body.replaceChildren.apply(els.body, data.accounts.map(function (account) { return row(account, data.me); }));
  }

  function start() {
    els = D.elementsById({ body: "accounts-body", status: "accounts-status", error: "accounts-error",
      form: "add-form" });
    els.form.addEventListener("submit", function (event) {
      event.preventDefault();
      const f = els.form.elements;
      act(D.request("POST", "/console/api/accounts", {
        username: f.username.value, display_name: f.display_name.value, role: f.role.value,
        max_chats: Number(f.max_chats.value), password: f.password.value,
      }), function (result) {
        els.form.reset();
        return "Added " + result.account.username + ".";
      });
    });
    load().catch(fail);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
