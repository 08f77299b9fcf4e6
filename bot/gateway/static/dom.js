/* Small DOM helpers shared by the console pages (console.js, review.js). No data is ever set as
   HTML: text goes in with textContent or text nodes. */
(function () {
  "use strict";

  function h(tag, props, children) {
    const node = document.createElement(tag);
    Object.keys(props || {}).forEach(function (key) {
      const value = props[key];
      if (value === null || value === undefined || value === false) return;
      if (key === "text") node.textContent = String(value);
      else if (key === "className") node.className = value;
      else if (key.slice(0, 2) === "on" && typeof value === "function") {
        node.addEventListener(key.slice(2), value);
      } else node.setAttribute(key, value === true ? "" : String(value));
    });
    (children || []).forEach(function (child) {
      if (child === null || child === undefined || child === false) return;
      node.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
    });
    return node;
  }

  function byId(id) {
    return document.getElementById(id);
  }

  function meta(name) {
    const node = document.querySelector('meta[name="' + name + '"]');
    return node ? node.getAttribute("content") || "" : "";
  }

  function safeToken(value) {
    return String(value || "unknown").replace(/[^a-zA-Z0-9_-]/g, "");
  }

  window.AdviceDom = Object.freeze({ h: h, byId: byId, meta: meta, safeToken: safeToken });
})();
