/* Helpers shared by the console pages (console.js, review.js): DOM building (no data is ever set as
   HTML: text goes in with textContent or text nodes) and the JSON API call with the CSRF header. */
(function () {
  "use strict";
  const LOGIN_PATH = "/console/login";

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

  // {key: "element-id", ...} -> {key: element, ...}
  function elementsById(ids) {
    const found = {};
    Object.keys(ids).forEach(function (key) {
      found[key] = byId(ids[key]);
    });
    return found;
  }

  function meta(name) {
    const node = document.querySelector('meta[name="' + name + '"]');
    return node ? node.getAttribute("content") || "" : "";
  }

  function safeToken(value) {
    return String(value || "unknown").replace(/[^a-zA-Z0-9_-]/g, "");
  }

  class ApiError extends Error {
    constructor(message, status, data) {
      super(message);
      this.status = status;
      this.data = data || {};
    }
  }

  function goToLogin() {
    window.location.assign(LOGIN_PATH);
    return new ApiError("Your session has ended. Please sign in again.", 401);
  }

  async function request(method, path, body) {
    const options = { method: method, credentials: "same-origin", headers: { Accept: "application/json" } };
    if (method !== "GET") {
      options.headers["Content-Type"] = "application/json";
      options.headers["X-CSRF-Token"] = meta("csrf-token");
      options.body = JSON.stringify(body || {});
    }
    let response;
    try {
      response = await fetch(path, options);
    } catch (err) {
      throw new ApiError("Could not reach the server. Check your connection and try again.", 0);
    }
    if (response.status === 401) throw goToLogin();
    if (response.redirected && new URL(response.url).pathname === LOGIN_PATH) throw goToLogin();
    let data = null;
    try {
      data = await response.json();
    } catch (err) {
      data = null;
    }
    if (!response.ok) {
      const message =
        data && typeof data.error === "string" && data.error
          ? data.error
          : "Something went wrong (error " + response.status + "). Please try again.";
      throw new ApiError(message, response.status, data);
    }
    return data || {};
  }

  window.AdviceDom = Object.freeze({
    h: h, byId: byId, elementsById: elementsById, meta: meta, safeToken: safeToken, ApiError: ApiError,
    request: request,
  });
})();
