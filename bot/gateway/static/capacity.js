/* The console's "Chats at once" choice (issue 17): up to the most staff allow this adviser; the gateway
   offers a queued chat only to an adviser with fewer live chats than this. Also shows staff the link
   to the accounts page. Text only (AdviceDom.h), never HTML. */
(function () {
  "use strict";
  const D = window.AdviceDom;

  async function start() {
    const box = D.byId("capacity-box");
    const select = D.byId("capacity");
    const status = D.byId("capacity-status");
    const link = D.byId("accounts-link");
    if (link && D.meta("role") === "staff") link.hidden = false;
    if (!box || !select) return;
    let state;
    try {
      state = await D.request("GET", "/console/api/state");
    } catch (err) {
      return; /* console.js shows connection problems */
    }
    const capacity = state.capacity || { chats: 2, max_chats: 2 };
    const options = [];
    for (let n = 1; n <= capacity.max_chats; n += 1) {
      options.push(D.h("option", { value: String(n), selected: n === capacity.chats, text: String(n) }));
    }
    select.replaceChildren.apply(select, options);
    box.hidden = false;
    select.addEventListener("change", async function () {
      try {
        const result = await D.request("POST", "/console/api/capacity", { chats: Number(select.value) });
        status.textContent = "Saved: " + result.chats + " at once.";
      } catch (err) {
        status.textContent = err.message;
      }
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
