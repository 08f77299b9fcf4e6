/*
 * Adviser console: the queue, several live chats at once, safety-net alerts and (for staff) the
 * canned responses editor. Speaks the JSON API and the socket.io namespace `/console` described in
 * docs/gateway-protocol.md. Plain DOM, no framework, no build step.
 *
 * Every piece of data is rendered with textContent or text nodes, never as HTML.
 */
(function () {
  "use strict";
  const { h, elementsById, meta, safeToken } = window.AdviceDom; // static/dom.js

  // From bot/gateway/texts.yml (console_closing), with the hours from config/service_hours.yml.
  const DEFAULT_CLOSING = meta("closing") || "";
  const TYPING_REPEAT_MS = 2000; // while typing, repeat adviser_typing true at most this often
  const TYPING_IDLE_MS = 3000; // then send false after this long without a keystroke
  const FAMILY_TYPING_TIMEOUT_MS = 10000; // hide "Family is typing" if no update arrives
  const NOTICE_CLEAR_MS = 20000;
  const SOCKET_RETRY_MS = 10000;
  const TICK_MS = 500; // refresh waiting times twice a second so no second is skipped
  const ALERT_LABEL_WAIT_MS = 2000;
  const API = "/console/api";

  const STATE_TEXT = { queued: "Waiting", live: "Live", bot: "With the bot", ended: "Ended" };
  const SENDER_TEXT = { family: "Family", bot: "Bot", adviser: "Adviser", system: "System" };
  const ALERT_TEXT = {
    emergency: "possible emergency — the family was shown emergency numbers",
  };

  const app = {
    adviser: "",
    role: "adviser",
    names: new Set(), // every name the server may use for this adviser
    availableBusy: false,
    queue: [],
    waitStarts: new Map(), // conversation id -> when it joined the queue, on this browser's clock
    clockOffset: 0, // server clock minus this browser's clock, in ms
    canned: [],
    panes: new Map(), // conversation id -> pane
    currentPaneId: null, // the pane the adviser last worked in
    alerted: new Map(), // conversation id -> when its latest alert arrived
    waits: [], // queue waiting-time nodes refreshed every second
    socket: null,
    retryTimer: 0,
    editingCannedId: null,
    paneCounter: 0,
    baseTitle: document.title,
    noticeTimers: {},
    els: {},
  };

  /* ------------------------------------------------------------------ DOM helpers */




  function testIdSelector(testId) {
    return '[data-testid="' + CSS.escape(testId) + '"]';
  }

  function focusedTestId(container) {
    const active = document.activeElement;
    return active && active !== container && container.contains(active)
      ? active.getAttribute("data-testid")
      : null;
  }

  /* After a list is rebuilt, put focus back on the control that had it (or on a fallback). */
  function restoreFocus(container, testId, fallback) {
    if (!testId) return;
    const again = container.querySelector(testIdSelector(testId));
    if (again) {
      if (document.activeElement !== again) again.focus({ preventScroll: true });
    } else if (fallback) {
      fallback.focus({ preventScroll: true });
    }
  }


  /* ------------------------------------------------------------------ notices */

  function setNotice(node, key, text) {
    window.clearTimeout(app.noticeTimers[key]);
    node.textContent = text || "";
    if (text) {
      app.noticeTimers[key] = window.setTimeout(function () {
        node.textContent = "";
      }, NOTICE_CLEAR_MS);
    }
  }

  function showError(errorOrText) {
    if (errorOrText && errorOrText.status === 401) return; // already going to the login page
    const text = typeof errorOrText === "string" ? errorOrText : errorOrText.message;
    setNotice(app.els.errors, "error", text);
  }

  function showStatus(text) {
    setNotice(app.els.status, "status", text);
  }

  /* Screen-reader announcement: appended lines are read in order, old ones are pruned. */
  function announce(text) {
    const region = app.els.live;
    region.appendChild(h("p", { text: text }));
    while (region.childElementCount > 5) region.removeChild(region.firstElementChild);
  }

  function setConnection(text, kind) {
    const node = app.els.connection;
    node.textContent = text;
    node.className = "connection connection-" + kind;
  }

  /* ------------------------------------------------------------------ API */

  const api = window.AdviceDom.request; // static/dom.js: JSON, CSRF header, sign-in on 401

  function conversationPath(id, action) {
    return API + "/conversations/" + encodeURIComponent(id) + (action ? "/" + action : "");
  }

  /* ------------------------------------------------------------------ formatting */

  function humanise(value) {
    if (value === null || value === undefined || value === "") return "not known";
    const text = String(value).replace(/_/g, " ");
    return text.charAt(0).toUpperCase() + text.slice(1);
  }

  function formatDuration(totalSeconds) {
    const s = Math.max(0, Math.floor(totalSeconds));
    if (s < 60) return s + " s";
    const m = Math.floor(s / 60);
    if (m < 60) return m + " min " + String(s % 60).padStart(2, "0") + " s";
    return Math.floor(m / 60) + " h " + String(m % 60).padStart(2, "0") + " min";
  }

  function formatClock(date) {
    const time = date.toLocaleTimeString("en-GB", { hour: "2-digit", minute: "2-digit" });
    if (date.toDateString() === new Date().toDateString()) return time;
    return date.toLocaleDateString("en-GB", { day: "numeric", month: "short" }) + " " + time;
  }

  function isMe(name) {
    return Boolean(name) && app.names.has(String(name));
  }

  function shortLabel(id) {
    return "Chat " + String(id).slice(0, 4).toUpperCase();
  }

  function labelFor(id) {
    const pane = app.panes.get(id);
    if (pane && pane.item && pane.item.label) return pane.item.label;
    const item = findQueueItem(id);
    return item && item.label ? item.label : null;
  }

  function senderLabel(msg) {
    if (msg.sender === "adviser") return msg.adviser ? "Adviser (" + msg.adviser + ")" : "Adviser";
    return SENDER_TEXT[msg.sender] || "System";
  }

  function stateText(item) {
    if (item.state === "live" && item.adviser) {
      return isMe(item.adviser) ? "Live with you" : "Live with " + item.adviser;
    }
    return STATE_TEXT[item.state] || humanise(item.state);
  }

  /* ------------------------------------------------------------------ state */

  function collectNames(adviser) {
    if (!adviser || typeof adviser !== "object") return;
    ["name", "display_name", "username"].forEach(function (key) {
      if (typeof adviser[key] === "string" && adviser[key]) app.names.add(adviser[key]);
    });
  }

  function loadState() {
    return api("GET", API + "/state")
      .then(applyState)
      .catch(showError);
  }

  function applyState(state) {
    collectNames(state.adviser);
    if (typeof state.available === "boolean") setAvailabilityChecked(state.available);
    if (Array.isArray(state.canned)) {
      app.canned = state.canned.filter(function (c) {
        return c && c.id !== undefined && c.id !== null;
      });
      app.panes.forEach(fillCannedSelect);
      renderCannedList();
    }
    applyQueue(state.queue);
  }

  /* Reload everything the socket may have missed (after a (re)connect). */
  function resync() {
    loadState();
    app.panes.forEach(function (pane) {
      loadConversation(pane);
    });
  }

  /* ------------------------------------------------------------------ availability */

  function setAvailabilityChecked(available) {
    app.els.availability.checked = available;
  }

  async function onAvailabilityChange() {
    const box = app.els.availability;
    const wanted = box.checked;
    if (app.availableBusy) {
      box.checked = !wanted;
      return;
    }
    app.availableBusy = true;
    try {
      const data = await api("POST", API + "/availability", { available: wanted });
      const now = typeof data.available === "boolean" ? data.available : wanted;
      setAvailabilityChecked(now);
      showStatus(now ? "You are available for webchat." : "You are not available for webchat.");
    } catch (err) {
      setAvailabilityChecked(!wanted);
      showError(err);
    } finally {
      app.availableBusy = false;
    }
  }

  /* ------------------------------------------------------------------ queue */

  function findQueueItem(id) {
    return app.queue.find(function (item) {
      return item.id === id;
    }) || null;
  }

  function isUrgent(id, item) {
    return Boolean((item && item.urgent) || app.alerted.has(id));
  }

  function updateClockOffset(queue) {
    const sample = queue.find(function (item) {
      return item.state !== "live" && typeof item.waiting_seconds === "number" &&
        !isNaN(Date.parse(item.queued_at || ""));
    });
    if (sample) app.clockOffset = Date.parse(sample.queued_at) + sample.waiting_seconds * 1000 - Date.now();
  }

  /* When the item joined the queue, on this browser's clock. A waiting family's waiting_seconds
     is the freshest figure; a live one's counts from queued_at. A new estimate within 2 s of the
     last one keeps the earlier, so the displayed time never stalls or jumps back on a refresh. */
  function updateWaitStarts(queue) {
    const now = Date.now();
    const starts = new Map();
    queue.forEach(function (item) {
      const queuedAt = Date.parse(item.queued_at || "");
      let start = now;
      if (item.state !== "live" && typeof item.waiting_seconds === "number" && isFinite(item.waiting_seconds)) {
        start = now - item.waiting_seconds * 1000;
      } else if (!isNaN(queuedAt)) {
        start = queuedAt - app.clockOffset;
      } else if (typeof item.waiting_seconds === "number" && isFinite(item.waiting_seconds)) {
        start = now - item.waiting_seconds * 1000;
      }
      const previous = app.waitStarts.get(item.id);
      starts.set(item.id, previous !== undefined && Math.abs(previous - start) < 2000 ? Math.min(previous, start) : start);
    });
    app.waitStarts = starts;
  }

  function waitingSeconds(item) {
    const start = app.waitStarts.get(item.id);
    return start === undefined ? 0 : (Date.now() - start) / 1000;
  }

  function waitText(item) {
    const duration = formatDuration(waitingSeconds(item));
    return item.state === "live" ? "Joined the queue " + duration + " ago" : "Waiting " + duration;
  }

  function tickWaits() {
    app.waits.forEach(function (entry) {
      const text = waitText(entry.item);
      if (entry.node.textContent !== text) entry.node.textContent = text;
    });
  }

  function applyQueue(queue) {
    if (!Array.isArray(queue)) return;
    app.queue = queue
      .filter(function (item) {
        return item && item.id !== undefined && item.id !== null;
      })
      .map(function (item) {
        return Object.assign({}, item, { id: String(item.id) });
      });
    updateClockOffset(app.queue);
    updateWaitStarts(app.queue);
    app.queue.forEach(function (item) {
      const pane = app.panes.get(item.id);
      if (!pane) return;
      const before = paneSignature(pane);
      applyItemToPane(pane, item);
      renderPaneState(pane);
      // Only chats this adviser has get `message` pushes; refresh the others when they change.
      if (pane.loaded && paneMode(pane) !== "mine" && paneSignature(pane) !== before) {
        loadConversation(pane);
      }
    });
    renderQueue();
  }

  function sortedQueue() {
    return app.queue
      .map(function (item, index) {
        return { item: item, index: index };
      })
      .sort(function (a, b) {
        const ua = isUrgent(a.item.id, a.item) ? 1 : 0;
        const ub = isUrgent(b.item.id, b.item) ? 1 : 0;
        if (ua !== ub) return ub - ua;
        const ta = app.alerted.get(a.item.id) || 0;
        const tb = app.alerted.get(b.item.id) || 0;
        if (ta !== tb) return tb - ta; // the latest alert first
        return a.index - b.index; // otherwise the server's order
      })
      .map(function (entry) {
        return entry.item;
      });
  }

  function renderQueue() {
    const list = app.els.queue;
    const focused = focusedTestId(list);
    const items = sortedQueue();
    app.waits = [];
    list.replaceChildren.apply(list, items.map(queueItemNode));
    app.els.queueEmpty.hidden = items.length > 0;
    const waiting = items.filter(function (item) {
      return item.state !== "live";
    }).length;
    app.els.queueCount.textContent =
      "(" + waiting + " waiting, " + (items.length - waiting) + " live)";
    restoreFocus(list, focused, app.els.queueHeading);
  }

  function fact(name, value) {
    return h("span", { className: "fact" }, [h("span", { className: "fact-name", text: name + ": " }), value]);
  }

  function queueItemNode(item) {
    const urgent = isUrgent(item.id, item);
    const open = app.panes.has(item.id);
    const mine = item.state === "live" && isMe(item.adviser);
    const wait = h("span", { className: "queue-wait", "data-testid": "wait", text: waitText(item) });
    app.waits.push({ node: wait, item: item });
    const classes = ["queue-item", "state-" + safeToken(item.state)];
    if (urgent) classes.push("is-urgent");
    if (mine) classes.push("is-mine");
    if (open) classes.push("is-open");
    const button = h(
      "button",
      {
        type: "button",
        className: "queue-open",
        "data-testid": "open-" + item.id,
        onclick: function () {
          openPane(item.id, { focus: true });
        },
      },
      [
        h("span", { className: "queue-line" }, [
          urgent ? h("span", { className: "badge badge-urgent", text: "URGENT" }) : null,
          h("span", { className: "queue-label", text: item.label || shortLabel(item.id) }),
          open ? h("span", { className: "badge badge-open", text: "Open" }) : null,
        ]),
        wait,
        item.summary ? h("span", { className: "queue-summary", text: item.summary }) : null,
        h("span", { className: "queue-facts" }, [
          fact("Topic", humanise(item.topic)),
          fact("Council", item.council || "not known"),
          fact("Stage", humanise(item.stage)),
          fact("State", stateText(item)),
          fact("Adviser", item.adviser ? item.adviser + (mine ? " (you)" : "") : "none yet"),
        ]),
      ]
    );
    return h("li", { className: classes.join(" "), "data-testid": "queue-item-" + item.id }, [button]);
  }

  /* ------------------------------------------------------------------ panes */

  function paneMode(pane) {
    if (pane.state === "ended") return "ended";
    if (pane.state === "live") return isMe(pane.adviser) ? "mine" : "other";
    return "open"; // queued, with the bot, or not known yet
  }

  function paneStateText(pane) {
    switch (paneMode(pane)) {
      case "mine":
        return "Live: you are chatting with this family";
      case "other":
        return pane.adviser ? "Live with " + pane.adviser : "Live with another adviser";
      case "ended":
        return "This chat has ended";
      default:
        if (pane.state === "queued") return "Waiting for an adviser";
        if (pane.state === "bot") return "With the bot";
        if (pane.state) return humanise(pane.state);
        return pane.loaded ? "Not in the queue" : "Loading…";
    }
  }

  function paneSignature(pane) {
    const item = pane.item || {};
    return JSON.stringify([pane.state, pane.adviser, item.summary, Boolean(item.urgent)]);
  }

  function applyItemToPane(pane, item) {
    if (!item || typeof item !== "object") return;
    pane.item = Object.assign({}, pane.item, item);
    if (item.label) pane.label = item.label;
    if (item.state) pane.state = item.state;
    if ("adviser" in item) pane.adviser = item.adviser || null;
    if (typeof item.summary === "string" && item.summary) pane.summary = item.summary;
  }

  function openPane(id, options) {
    const opts = options || {};
    let pane = app.panes.get(id);
    if (!pane) {
      pane = createPane(id);
      app.panes.set(id, pane);
      app.els.panes.appendChild(pane.el);
      app.els.panesEmpty.hidden = true;
      applyItemToPane(pane, findQueueItem(id));
      renderPaneState(pane);
      renderQueue();
      loadConversation(pane).then(function () {
        if (opts.unread && app.currentPaneId !== id && app.panes.has(id)) {
          setUnread(pane, pane.unread + opts.unread);
          announce("New message from the family in " + pane.label + ".");
        }
      });
    }
    if (opts.focus) focusPane(pane);
    return pane;
  }

  function createPane(id) {
    const n = ++app.paneCounter;
    const ids = {
      title: "pane-title-" + n,
      input: "pane-input-" + n,
      hint: "pane-hint-" + n,
      canned: "pane-canned-" + n,
      closing: "pane-closing-" + n,
      endBox: "pane-end-" + n,
    };
    const pane = {
      id: id,
      label: labelFor(id) || shortLabel(id),
      item: null,
      summary: "",
      state: null,
      adviser: null,
      seen: new Set(),
      loaded: false,
      loading: null,
      reloadAgain: false,
      unread: 0,
      typing: false,
      typingAt: 0,
      typingIdle: 0,
      familyTimer: 0,
      sending: false,
      busy: false,
      els: {},
    };
    const e = pane.els;

    e.title = h("h2", { id: ids.title, className: "pane-title", tabindex: "-1", text: pane.label });
    e.urgent = h("span", { className: "badge badge-urgent", text: "URGENT", hidden: true });
    e.unread = h("span", { className: "badge badge-unread", "data-testid": "unread", hidden: true });
    e.close = h("button", {
      type: "button",
      className: "button-quiet pane-close",
      "data-testid": "close",
      text: "Close",
      onclick: function () {
        closePane(pane);
      },
    });
    e.state = h("p", { className: "pane-state", "data-testid": "pane-state" });
    e.summary = h("p", { className: "pane-summary", "data-testid": "summary" });
    e.facts = h("p", { className: "pane-facts" });
    e.loading = h("p", { className: "pane-loading", text: "Loading transcript…" });
    e.transcript = h("ol", { className: "transcript", tabindex: "0", "data-testid": "transcript" });
    e.familyTyping = h("p", {
      className: "family-typing",
      "data-testid": "family-typing",
      hidden: true,
      text: "Family is typing…",
    });
    e.error = h("p", { className: "pane-error", "data-testid": "pane-error", "aria-live": "assertive" });

    e.takeover = h("button", {
      type: "button",
      className: "button-primary",
      "data-testid": "takeover",
      text: "Take over",
      onclick: function () {
        takeover(pane);
      },
    });
    e.refresh = h("button", {
      type: "button",
      "data-testid": "refresh",
      text: "Refresh transcript",
      onclick: function () {
        loadConversation(pane);
      },
    });
    e.viewActions = h("div", { className: "row pane-view-actions" }, [e.takeover, e.refresh]);

    e.input = h("textarea", {
      id: ids.input,
      className: "composer-input",
      rows: "2",
      "data-testid": "adviser-input",
      "aria-describedby": ids.hint,
      placeholder: "Enter sends · Shift+Enter: new line",
      oninput: function () {
        onAdviserInput(pane);
      },
      onkeydown: function (event) {
        onComposerKey(pane, event);
      },
      onblur: function () {
        stopAdviserTyping(pane);
      },
    });
    e.send = h("button", { type: "submit", className: "button-primary", "data-testid": "adviser-send", text: "Send" });
    e.composer = h(
      "form",
      {
        className: "composer",
        onsubmit: function (event) {
          event.preventDefault();
          sendMessage(pane);
        },
      },
      [
        h("label", { for: ids.input, className: "small-label", text: "Message to the family" }),
        h("div", { className: "composer-row" }, [e.input, e.send]),
        h("p", { id: ids.hint, className: "visually-hidden", text: "Enter sends. Shift+Enter starts a new line." }),
      ]
    );

    e.cannedSelect = h("select", { id: ids.canned, "data-testid": "canned-select" });
    e.cannedInsert = h("button", {
      type: "button",
      "data-testid": "canned-insert",
      text: "Insert",
      onclick: function () {
        insertCanned(pane);
      },
    });
    e.canned = h("div", { className: "canned-picker" }, [
      h("label", { for: ids.canned, className: "small-label", text: "Canned reply" }),
      e.cannedSelect,
      e.cannedInsert,
    ]);

    e.resume = h("button", {
      type: "button",
      "data-testid": "resume",
      text: "Hand back to bot",
      onclick: function () {
        resumeChat(pane);
      },
    });
    e.end = h("button", {
      type: "button",
      className: "button-warning",
      "data-testid": "end",
      text: "End chat",
      "aria-expanded": "false",
      "aria-controls": ids.endBox,
      onclick: function () {
        startEnd(pane);
      },
    });
    e.closing = h("textarea", {
      id: ids.closing,
      rows: "3",
      "data-testid": "end-message",
      onkeydown: function (event) {
        if (event.key === "Escape") cancelEnd(pane);
      },
    });
    e.endConfirm = h("button", {
      type: "button",
      className: "button-warning",
      "data-testid": "end-confirm",
      text: "End chat now",
      onclick: function () {
        confirmEnd(pane);
      },
    });
    e.endCancel = h("button", {
      type: "button",
      "data-testid": "end-cancel",
      text: "Keep chatting",
      onclick: function () {
        cancelEnd(pane);
      },
    });
    e.endBox = h("div", { id: ids.endBox, className: "end-box", hidden: true }, [
      h("label", {
        for: ids.closing,
        className: "small-label",
        text: "Closing message to the family (optional: empty sends none)",
      }),
      e.closing,
      h("div", { className: "row" }, [e.endConfirm, e.endCancel]),
    ]);
    e.live = h("div", { className: "live-controls", hidden: true }, [
      e.composer,
      e.canned,
      h("div", { className: "row" }, [e.resume, e.end]),
      e.endBox,
    ]);

    pane.el = h(
      "section",
      { className: "pane", "data-testid": "pane-" + id, "aria-labelledby": ids.title },
      [
        h("header", { className: "pane-head" }, [
          h("div", { className: "pane-heading" }, [e.title, e.urgent, e.unread]),
          e.close,
        ]),
        e.state,
        e.summary,
        e.facts,
        e.loading,
        e.transcript,
        e.familyTyping,
        e.error,
        e.viewActions,
        e.live,
      ]
    );
    pane.el.addEventListener("focusin", function () {
      setCurrentPane(pane);
    });
    pane.el.addEventListener("pointerdown", function () {
      setCurrentPane(pane);
    });
    fillCannedSelect(pane);
    return pane;
  }

  function renderPaneState(pane) {
    const e = pane.els;
    const item = pane.item || {};
    const mode = paneMode(pane);
    const urgent = isUrgent(pane.id, item);

    e.title.textContent = pane.label;
    e.close.setAttribute("aria-label", "Close the " + pane.label + " pane");
    e.transcript.setAttribute("aria-label", "Transcript of " + pane.label);
    e.urgent.hidden = !urgent;
    pane.el.classList.toggle("is-urgent", urgent);
    pane.el.setAttribute("data-state", safeToken(pane.state));
    e.state.textContent = paneStateText(pane);
    e.summary.textContent = pane.summary || "No summary yet.";
    e.facts.textContent = e.facts.title = pane.item
      ? "Topic: " + humanise(item.topic) + " · Council: " + (item.council || "not known") +
        " · Stage: " + humanise(item.stage)
      : "";

    const focusInLive = e.live.contains(document.activeElement);
    const focusInView = e.viewActions.contains(document.activeElement);
    e.viewActions.hidden = mode === "mine" || mode === "ended";
    e.takeover.hidden = mode === "mine" || mode === "ended";
    e.live.hidden = mode !== "mine";
    if (mode !== "mine") {
      stopAdviserTyping(pane);
      hideEndBox(pane);
    }
    if (mode === "ended") setFamilyTyping(pane, false);
    if ((focusInLive && e.live.hidden) || (focusInView && e.viewActions.hidden)) {
      e.title.focus({ preventScroll: true });
    }
  }

  /* Change a pane's state (from an API answer or a socket event); announce it once. */
  function setPaneState(pane, state, adviser) {
    const before = paneStateText(pane);
    pane.state = state;
    pane.adviser = state === "live" ? adviser || null : null;
    if (pane.item) {
      pane.item.state = pane.state;
      pane.item.adviser = pane.adviser;
    }
    renderPaneState(pane);
    const after = paneStateText(pane);
    if (after !== before) announce(pane.label + ": " + after + ".");
  }

  function setCurrentPane(pane) {
    if (app.currentPaneId !== pane.id) {
      const previous = app.panes.get(app.currentPaneId);
      if (previous) previous.el.classList.remove("is-current");
      app.currentPaneId = pane.id;
      pane.el.classList.add("is-current");
    }
    if (!document.hidden) setUnread(pane, 0);
  }

  function focusPane(pane) {
    setCurrentPane(pane);
    pane.el.scrollIntoView({ block: "nearest", inline: "nearest" });
    pane.els.title.focus({ preventScroll: true });
  }

  function setUnread(pane, count) {
    pane.unread = count;
    pane.els.unread.hidden = count === 0;
    pane.els.unread.textContent = count === 1 ? "1 unread" : count + " unread";
    updateTitle();
  }

  function updateTitle() {
    let total = 0;
    app.panes.forEach(function (pane) {
      total += pane.unread;
    });
    document.title = total ? "(" + total + ") " + app.baseTitle : app.baseTitle;
  }

  function closePane(pane) {
    const panes = Array.from(app.panes.values());
    const index = panes.indexOf(pane);
    stopAdviserTyping(pane);
    window.clearTimeout(pane.familyTimer);
    pane.el.remove();
    app.panes.delete(pane.id);
    if (app.currentPaneId === pane.id) app.currentPaneId = null;
    app.els.panesEmpty.hidden = app.panes.size > 0;
    updateTitle();
    renderQueue();
    const next = panes[index + 1] || panes[index - 1];
    if (next) {
      focusPane(next);
    } else {
      const opener = app.els.queue.querySelector(testIdSelector("open-" + pane.id));
      (opener || app.els.queueHeading).focus();
    }
  }

  function paneError(pane, errorOrText) {
    if (errorOrText && errorOrText.status === 401) return;
    pane.els.error.textContent = typeof errorOrText === "string" ? errorOrText : errorOrText.message;
  }

  function clearPaneError(pane) {
    pane.els.error.textContent = "";
  }

  /* Fetch the transcript; a request made while one is running is done again after it. */
  function loadConversation(pane) {
    if (pane.loading) {
      pane.reloadAgain = true;
      return pane.loading;
    }
    pane.loading = api("GET", conversationPath(pane.id))
      .then(function (data) {
        if (app.panes.get(pane.id) !== pane) return;
        applyConversation(pane, data);
      })
      .catch(function (err) {
        paneError(pane, err);
      })
      .finally(function () {
        pane.loading = null;
        pane.els.loading.hidden = true;
        if (pane.reloadAgain && app.panes.get(pane.id) === pane) {
          pane.reloadAgain = false;
          return loadConversation(pane);
        }
        return undefined;
      });
    return pane.loading;
  }

  function applyConversation(pane, data) {
    applyItemToPane(pane, data.item);
    if (typeof data.summary === "string" && data.summary) pane.summary = data.summary;
    const quiet = !pane.loaded; // the first load is history, not news
    const messages = Array.isArray(data.messages) ? data.messages.slice() : [];
    messages.sort(function (a, b) {
      return (a && typeof a.seq === "number" ? a.seq : 0) - (b && typeof b.seq === "number" ? b.seq : 0);
    });
    messages.forEach(function (msg) {
      addMessage(pane, msg, { quiet: quiet });
    });
    pane.loaded = true;
    renderPaneState(pane);
    if (quiet) scrollToEnd(pane.els.transcript);
  }

  /* ------------------------------------------------------------------ messages */

  function isOwnMessage(msg) {
    return msg.sender === "adviser" && isMe(msg.adviser);
  }

  function nearBottom(list) {
    return list.scrollHeight - list.scrollTop - list.clientHeight < 60;
  }

  function scrollToEnd(list) {
    list.scrollTop = list.scrollHeight;
  }

  function insertBySeq(list, node, seq) {
    let before = null;
    if (typeof seq === "number") {
      for (let child = list.lastElementChild; child; child = child.previousElementSibling) {
        const childSeq = child.getAttribute("data-seq");
        if (childSeq === "" || !(Number(childSeq) > seq)) break;
        before = child;
      }
    }
    list.insertBefore(node, before);
  }

  function addMessage(pane, msg, options) {
    if (!msg || typeof msg !== "object") return;
    const opts = options || {};
    const key = msg.id !== undefined && msg.id !== null ? String(msg.id) : null;
    if (key !== null) {
      if (pane.seen.has(key)) return;
      pane.seen.add(key);
    }
    const list = pane.els.transcript;
    const own = opts.own || isOwnMessage(msg);
    const stick = opts.quiet || own || nearBottom(list);
    insertBySeq(list, messageNode(msg), msg.seq);
    if (stick) scrollToEnd(list);
    if (msg.sender === "family") setFamilyTyping(pane, false);
    if (!opts.quiet && !own) noteNewMessage(pane, msg);
  }

  function noteNewMessage(pane, msg) {
    const watching = app.currentPaneId === pane.id && !document.hidden;
    if (watching) {
      announce(senderLabel(msg) + " in " + pane.label + ": " + (msg.text || ""));
      return;
    }
    setUnread(pane, pane.unread + 1);
    if (msg.sender === "family") announce("New message from the family in " + pane.label + ".");
  }

  function timeNode(at) {
    if (!at) return null;
    const date = new Date(at);
    if (isNaN(date.getTime())) return null;
    return h("time", { datetime: at, title: date.toLocaleString("en-GB"), text: formatClock(date) });
  }

  function buttonsNode(buttons) {
    if (!Array.isArray(buttons) || !buttons.length) return null;
    return h(
      "p",
      { className: "msg-buttons" },
      [h("span", { className: "msg-buttons-label", text: "Buttons offered: " })].concat(
        buttons.map(function (button) {
          return h("span", { className: "chip", text: (button && (button.title || button.payload)) || "" });
        })
      )
    );
  }

  function messageNode(msg) {
    const sender = SENDER_TEXT[msg.sender] ? msg.sender : "system";
    return h(
      "li",
      {
        className: "msg msg-" + sender + (msg.urgent ? " msg-urgent" : ""),
        "data-message-id": msg.id === undefined || msg.id === null ? "" : msg.id,
        "data-seq": typeof msg.seq === "number" ? msg.seq : "",
      },
      [
        h("p", { className: "msg-meta" }, [
          h("span", { className: "msg-sender", text: senderLabel(msg) }),
          " ",
          timeNode(msg.at),
          msg.urgent ? " " : null,
          msg.urgent ? h("span", { className: "badge badge-urgent", text: "URGENT" }) : null,
        ]),
        h("p", { className: "msg-text", text: msg.text === undefined || msg.text === null ? "" : msg.text }),
        buttonsNode(msg.buttons),
      ]
    );
  }

  /* ------------------------------------------------------------------ typing */

  function setFamilyTyping(pane, typing) {
    window.clearTimeout(pane.familyTimer);
    const show = Boolean(typing) && pane.state !== "ended";
    pane.els.familyTyping.hidden = !show;
    if (show) {
      pane.familyTimer = window.setTimeout(function () {
        setFamilyTyping(pane, false);
      }, FAMILY_TYPING_TIMEOUT_MS);
    }
  }

  function emitTyping(pane, typing) {
    pane.typing = typing;
    pane.typingAt = Date.now();
    if (app.socket && app.socket.connected) {
      app.socket.emit("adviser_typing", { conversation_id: pane.id, typing: typing });
    }
  }

  function onAdviserInput(pane) {
    if (!pane.els.input.value.trim()) {
      stopAdviserTyping(pane);
      return;
    }
    if (!pane.typing || Date.now() - pane.typingAt >= TYPING_REPEAT_MS) emitTyping(pane, true);
    window.clearTimeout(pane.typingIdle);
    pane.typingIdle = window.setTimeout(function () {
      stopAdviserTyping(pane);
    }, TYPING_IDLE_MS);
  }

  function stopAdviserTyping(pane) {
    window.clearTimeout(pane.typingIdle);
    pane.typingIdle = 0;
    if (pane.typing) emitTyping(pane, false);
  }

  /* ------------------------------------------------------------------ chat actions */

  function onComposerKey(pane, event) {
    if (event.key !== "Enter" || event.shiftKey || event.altKey || event.ctrlKey || event.metaKey) return;
    if (event.isComposing) return;
    event.preventDefault();
    sendMessage(pane);
  }

  async function takeover(pane) {
    if (pane.busy) return;
    pane.busy = true;
    clearPaneError(pane);
    try {
      await api("POST", conversationPath(pane.id, "takeover"));
      setPaneState(pane, "live", app.adviser);
      pane.els.input.focus();
      loadConversation(pane);
    } catch (err) {
      paneError(pane, err);
      if (err.status === 409) loadConversation(pane); // show who has it now
    } finally {
      pane.busy = false;
    }
  }

  async function sendMessage(pane) {
    const input = pane.els.input;
    const text = input.value.trim();
    if (!text) {
      paneError(pane, "Type a message first.");
      input.focus();
      return;
    }
    if (pane.sending) return;
    pane.sending = true;
    pane.els.send.setAttribute("aria-busy", "true");
    clearPaneError(pane);
    try {
      const data = await api("POST", conversationPath(pane.id, "messages"), { text: text });
      if (input.value.trim() === text) input.value = "";
      stopAdviserTyping(pane);
      if (data && data.message) addMessage(pane, data.message, { own: true });
    } catch (err) {
      paneError(pane, err);
    } finally {
      pane.sending = false;
      pane.els.send.removeAttribute("aria-busy");
    }
  }

  function fillCannedSelect(pane) {
    const select = pane.els.cannedSelect;
    const keep = select.value;
    const options = [
      h("option", { value: "", text: app.canned.length ? "Choose a reply…" : "No canned replies" }),
    ].concat(
      app.canned.map(function (c) {
        return h("option", { value: String(c.id), text: c.title || "(untitled)" });
      })
    );
    select.replaceChildren.apply(select, options);
    if (app.canned.some(function (c) { return String(c.id) === keep; })) select.value = keep;
  }

  function insertCanned(pane) {
    const chosen = pane.els.cannedSelect.value;
    const canned = app.canned.find(function (c) {
      return String(c.id) === chosen;
    });
    if (!canned) {
      paneError(pane, "Choose a canned reply first.");
      pane.els.cannedSelect.focus();
      return;
    }
    clearPaneError(pane);
    const input = pane.els.input;
    const start = typeof input.selectionStart === "number" ? input.selectionStart : input.value.length;
    const end = typeof input.selectionEnd === "number" ? input.selectionEnd : start;
    const before = input.value.slice(0, start);
    const gap = before && !/\s$/.test(before) ? " " : "";
    input.setRangeText(gap + (canned.text || ""), start, end, "end");
    input.focus();
    onAdviserInput(pane);
  }

  async function resumeChat(pane) {
    if (pane.busy) return;
    pane.busy = true;
    clearPaneError(pane);
    try {
      await api("POST", conversationPath(pane.id, "resume"));
      setPaneState(pane, "bot", null);
    } catch (err) {
      paneError(pane, err);
    } finally {
      pane.busy = false;
    }
  }

  function startEnd(pane) {
    const e = pane.els;
    if (!e.endBox.hidden) {
      e.closing.focus();
      return;
    }
    if (!e.closing.value) e.closing.value = DEFAULT_CLOSING;
    e.endBox.hidden = false;
    e.end.setAttribute("aria-expanded", "true");
    e.closing.focus();
  }

  function hideEndBox(pane) {
    pane.els.endBox.hidden = true;
    pane.els.end.setAttribute("aria-expanded", "false");
  }

  function cancelEnd(pane) {
    hideEndBox(pane);
    pane.els.end.focus();
  }

  async function confirmEnd(pane) {
    if (pane.busy) return;
    pane.busy = true;
    clearPaneError(pane);
    const text = pane.els.closing.value.trim();
    try {
      await api("POST", conversationPath(pane.id, "end"), text ? { text: text } : {});
      stopAdviserTyping(pane);
      setPaneState(pane, "ended", null);
      pane.els.closing.value = "";
    } catch (err) {
      paneError(pane, err);
    } finally {
      pane.busy = false;
    }
  }

  /* ------------------------------------------------------------------ alerts */

  function alertReason(reason) {
    if (ALERT_TEXT[reason]) return ALERT_TEXT[reason];
    return "safety-net alert" + (reason ? " (" + humanise(reason).toLowerCase() + ")" : "") +
      " — read the chat now";
  }

  function onAlert(data) {
    if (!data || data.conversation_id === undefined || data.conversation_id === null) return;
    const id = String(data.conversation_id);
    app.alerted.set(id, Date.now());
    renderQueue();
    const pane = app.panes.get(id);
    if (pane) renderPaneState(pane);
    const known = labelFor(id);
    if (known) {
      showAlertBanner(id, known, data.reason);
      return;
    }
    // Not in the queue yet (its queue event may still be on its way): ask for the label briefly.
    const fallback = new Promise(function (resolve) {
      window.setTimeout(resolve, ALERT_LABEL_WAIT_MS, null);
    });
    Promise.race([api("GET", conversationPath(id)).catch(function () { return null; }), fallback])
      .then(function (conversation) {
        const label = (conversation && conversation.item && conversation.item.label) || labelFor(id) || shortLabel(id);
        showAlertBanner(id, label, data.reason);
      });
  }

  function showAlertBanner(id, label, reason) {
    const container = app.els.alerts;
    Array.from(container.children).forEach(function (old) {
      if (old.getAttribute("data-conversation-id") === id) old.remove();
    });
    const banner = h("div", { className: "alert-banner", role: "alert", "data-testid": "alert", "data-conversation-id": id });
    banner.appendChild(
      h("p", { className: "alert-text" }, [
        h("span", { className: "badge badge-urgent", text: "URGENT" }),
        " ",
        h("span", { "data-testid": "alert-text", text: label + ": " + alertReason(reason) }),
      ])
    );
    banner.appendChild(
      h("div", { className: "row" }, [
        h("button", {
          type: "button",
          className: "button-primary",
          "data-testid": "alert-open",
          text: "Open " + label,
          onclick: function () {
            openPane(id, { focus: true });
          },
        }),
        h("button", {
          type: "button",
          "data-testid": "alert-dismiss",
          "aria-label": "Dismiss the alert for " + label,
          text: "Dismiss",
          onclick: function () {
            dismissAlert(banner);
          },
        }),
      ])
    );
    container.prepend(banner);
  }

  function dismissAlert(banner) {
    const hadFocus = banner.contains(document.activeElement);
    const next = banner.nextElementSibling || banner.previousElementSibling;
    banner.remove();
    if (!hadFocus) return;
    const target = next && next.querySelector(testIdSelector("alert-dismiss"));
    (target || app.els.queueHeading).focus();
  }

  /* ------------------------------------------------------------------ canned responses editor (staff) */

  function initCannedEditor() {
    const editor = app.els.cannedEditor;
    if (!editor) return;
    if (app.role !== "staff") {
      editor.remove();
      app.els.cannedEditor = null;
      return;
    }
    editor.hidden = false;
    app.els.cannedForm.addEventListener("submit", function (event) {
      event.preventDefault();
      saveCanned();
    });
    app.els.cannedCancel.addEventListener("click", function () {
      resetCannedForm();
      app.els.cannedTitle.focus();
    });
  }

  function renderCannedList() {
    if (!app.els.cannedEditor) return;
    const list = app.els.cannedList;
    const focused = focusedTestId(list);
    list.replaceChildren.apply(list, app.canned.map(cannedItemNode));
    app.els.cannedEmpty.hidden = app.canned.length > 0;
    restoreFocus(list, focused, app.els.cannedListHeading);
  }

  function cannedItemNode(canned) {
    const id = String(canned.id);
    const title = canned.title || "(untitled)";
    return h("li", { className: "canned-item", "data-testid": "canned-item-" + id }, [
      h("p", { className: "canned-title", text: title }),
      h("p", { className: "canned-body", text: canned.text || "" }),
      h("div", { className: "row" }, [
        h("button", {
          type: "button",
          "data-testid": "canned-edit-" + id,
          "aria-label": "Edit " + title,
          text: "Edit",
          onclick: function () {
            editCanned(id);
          },
        }),
        h("button", {
          type: "button",
          className: "button-warning",
          "data-testid": "canned-delete-" + id,
          "aria-label": "Delete " + title,
          text: "Delete",
          onclick: function () {
            deleteCanned(id);
          },
        }),
      ]),
    ]);
  }

  function resetCannedForm() {
    app.editingCannedId = null;
    app.els.cannedForm.reset();
    app.els.cannedFormHeading.textContent = "Add a response";
    app.els.cannedSave.textContent = "Add response";
    app.els.cannedCancel.hidden = true;
  }

  function editCanned(id) {
    const canned = app.canned.find(function (c) {
      return String(c.id) === id;
    });
    if (!canned) return;
    app.editingCannedId = id;
    app.els.cannedTitle.value = canned.title || "";
    app.els.cannedText.value = canned.text || "";
    app.els.cannedFormHeading.textContent = "Edit “" + (canned.title || "untitled") + "”";
    app.els.cannedSave.textContent = "Save changes";
    app.els.cannedCancel.hidden = false;
    app.els.cannedTitle.focus();
  }

  async function saveCanned() {
    const title = app.els.cannedTitle.value.trim();
    const text = app.els.cannedText.value.trim();
    if (!title || !text) {
      showError("Give the canned response a title and some text.");
      (title ? app.els.cannedText : app.els.cannedTitle).focus();
      return;
    }
    const editing = app.editingCannedId;
    try {
      if (editing) {
        await api("PUT", API + "/canned/" + encodeURIComponent(editing), { title: title, text: text });
      } else {
        await api("POST", API + "/canned", { title: title, text: text });
      }
      resetCannedForm();
      showStatus(editing ? "Saved “" + title + "”." : "Added “" + title + "”.");
      await loadState();
    } catch (err) {
      showError(err);
    }
  }

  async function deleteCanned(id) {
    const canned = app.canned.find(function (c) {
      return String(c.id) === id;
    });
    const title = canned ? canned.title || "untitled" : "the response";
    try {
      await api("DELETE", API + "/canned/" + encodeURIComponent(id));
      if (app.editingCannedId === id) resetCannedForm();
      showStatus("Deleted “" + title + "”.");
      await loadState();
    } catch (err) {
      showError(err);
    }
  }

  /* ------------------------------------------------------------------ socket */

  // A random id per tab: the load balancer sends every request of this tab's socket.io session
  // (long-polling included) to the same gateway by it (docs/production.md, sticky routing).
  function routeId() {
    let id = null;
    try {
      id = window.sessionStorage.getItem("console_route");
    } catch (err) {
      id = null;
    }
    if (!id || !/^[0-9a-f]{32}$/.test(id)) {
      const bytes = new Uint8Array(16);
      window.crypto.getRandomValues(bytes);
      id = Array.prototype.map.call(bytes, function (b) {
        return (b + 0x100).toString(16).slice(1);
      }).join("");
      try {
        window.sessionStorage.setItem("console_route", id);
      } catch (err) {
        // blocked storage: a new id per page load is still sticky for this page's socket
      }
    }
    return id;
  }

  function connectSocket() {
    if (typeof window.io !== "function") {
      setConnection("Live updates are off: the page did not load fully. Reload the page.", "error");
      return;
    }
    const socket = window.io("/console", {
      path: "/socket.io/",
      transports: ["websocket", "polling"],
      tryAllTransports: true, // fall back to polling where websockets are blocked (client 4.8+)
      query: { route: routeId() },
    });
    app.socket = socket;
    socket.on("connect", onConnect);
    socket.on("disconnect", onDisconnect);
    socket.on("connect_error", onConnectError);
    socket.on("queue", function (data) {
      applyQueue(data && data.queue);
    });
    socket.on("message", onSocketMessage);
    socket.on("family_typing", onFamilyTyping);
    socket.on("alert", onAlert);
    socket.on("conversation_state", onConversationState);
  }

  function scheduleReconnect() {
    window.clearTimeout(app.retryTimer);
    app.retryTimer = window.setTimeout(function () {
      if (app.socket && !app.socket.connected) app.socket.connect();
    }, SOCKET_RETRY_MS);
  }

  function onConnect() {
    window.clearTimeout(app.retryTimer);
    setConnection("Live updates on", "ok");
    resync();
  }

  function onDisconnect(reason) {
    setConnection("Live updates lost. Reconnecting…", "warn");
    app.panes.forEach(function (pane) {
      setFamilyTyping(pane, false);
      pane.typing = false;
    });
    if (reason === "io server disconnect") {
      // The server closed us (perhaps the session ended): check, then try again.
      loadState().then(scheduleReconnect);
    }
  }

  function onConnectError() {
    if (app.socket.active) {
      setConnection("Cannot reach live updates. Retrying…", "warn");
      return;
    }
    // Refused by the server: a 401 from the API sends us to the login page, else retry later.
    setConnection("Live updates refused. Retrying soon…", "error");
    loadState().then(scheduleReconnect);
  }

  function onSocketMessage(data) {
    if (!data || data.conversation_id === undefined || data.conversation_id === null || !data.message) return;
    const id = String(data.conversation_id);
    const pane = app.panes.get(id);
    if (pane) {
      addMessage(pane, data.message, {});
    } else if (data.message.sender === "family") {
      // A family in one of this adviser's chats wrote while its pane was closed: bring it back.
      openPane(id, { focus: false, unread: 1 });
    }
  }

  function onFamilyTyping(data) {
    if (!data || data.conversation_id === undefined || data.conversation_id === null) return;
    const pane = app.panes.get(String(data.conversation_id));
    if (pane) setFamilyTyping(pane, data.typing);
  }

  function onConversationState(data) {
    if (!data || data.conversation_id === undefined || data.conversation_id === null) return;
    const id = String(data.conversation_id);
    const adviser = data.state === "live" ? data.adviser || null : null;
    const item = findQueueItem(id);
    if (item && data.state) {
      item.state = data.state;
      item.adviser = adviser;
      renderQueue();
    }
    const pane = app.panes.get(id);
    if (pane && data.state) setPaneState(pane, data.state, adviser);
  }

  /* ------------------------------------------------------------------ start */

  function cacheElements() {
    const ids = {
      availability: "availability",
      connection: "connection",
      alerts: "alerts",
      errors: "errors",
      status: "status",
      queueHeading: "queue-heading",
      queueCount: "queue-count",
      queue: "queue",
      queueEmpty: "queue-empty",
      panes: "panes",
      panesEmpty: "panes-empty",
      live: "live",
      cannedEditor: "canned-editor",
      cannedListHeading: "canned-list-heading",
      cannedList: "canned-list",
      cannedEmpty: "canned-empty",
      cannedForm: "canned-form",
      cannedFormHeading: "canned-form-heading",
      cannedTitle: "canned-title",
      cannedText: "canned-text",
      cannedSave: "canned-save",
      cannedCancel: "canned-cancel",
    };
    Object.assign(app.els, elementsById(ids));
  }

  function onVisibilityChange() {
    if (document.hidden) return;
    const pane = app.panes.get(app.currentPaneId);
    if (pane) setUnread(pane, 0);
  }

  function init() {
    cacheElements();
    if (!app.els.queue || !app.els.panes) return; // not the console page
    app.adviser = meta("adviser");
    app.role = meta("role") === "staff" ? "staff" : "adviser";
    if (app.adviser) app.names.add(app.adviser);
    app.els.availability.addEventListener("change", onAvailabilityChange);
    document.addEventListener("visibilitychange", onVisibilityChange);
    initCannedEditor();
    renderQueue();
    window.setInterval(tickWaits, TICK_MS);
    connectSocket();
    loadState();
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
