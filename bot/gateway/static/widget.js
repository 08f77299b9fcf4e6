/*
 * Family webchat widget. Plain JavaScript, no build step, no framework.
 *
 * Embed with one tag:
 *   <script src="https://GATEWAY/widget.js" data-exit-url="https://www.bbc.co.uk/weather" defer></script>
 * Options (data- attributes on that tag):
 *   data-exit-url  where "Quick exit" goes (http or https only; default https://www.bbc.co.uk/weather)
 *   data-title     the chat panel's heading (default "Ask our advice assistant")
 *   data-open      "true" to start open
 * If the page has an element with id "advice-chat", the widget is drawn inside it at full width
 * (the family page, index.html); otherwise it floats in the corner behind a "Chat with us" button.
 *
 * Speaks the family side of docs/gateway-protocol.md (Rasa's socket.io channel plus our events).
 * Message text is only ever put on the page with textContent / text nodes, never as HTML.
 * Read if the gateway sends them (not yet in the protocol doc):
 *   - `client_id` in a family message object (or beside it in user_echo): which outbox entry it
 *     confirms. Without it the oldest unconfirmed entry with the same text is taken.
 *   - `metadata.rejected_client_id` on a refusal's bot_uttered: that message is marked "Not sent"
 *     and leaves the outbox instead of being resent on every reconnect.
 */
(function () {
  "use strict";

  // Must be read while this script runs for the first time: it is null afterwards.
  const OWN_SCRIPT = document.currentScript || findOwnScript();

  const DEFAULT_EXIT_URL = "https://www.bbc.co.uk/weather";
  const DEFAULT_TITLE = "Ask our advice assistant";
  const MOUNT_ID = "advice-chat";
  const KEY_PREFIX = "advice_chat_";
  const KEYS = {
    session: "advice_chat_session", // the gateway's session id, to resume after a reload
    outbox: "advice_chat_outbox", // messages sent but not yet confirmed by a user_echo
    accepted: "advice_chat_accepted", // "1" once the privacy notice was accepted
    open: "advice_chat_open", // "1" while the floating panel is open
    feedback: "advice_chat_feedback", // {message_id: true|false} answers to "Was this helpful?"
  };
  const END_LABEL = "End chat and clear";
  const END_CONFIRM = "Press again to end and clear";
  const END_ARMED_MS = 4000; // the first press arms the button this long
  const END_ACK_MS = 3000; // how long to wait for the gateway to confirm the chat has ended
  const MAX_CHARS = 2000;
  const COUNTER_FROM = 1800;
  const BOT_TYPING_TIMEOUT_MS = 15000;
  const USER_TYPING_EVERY_MS = 2000;
  const USER_TYPING_IDLE_MS = 3000;
  const ESC_TWICE_MS = 1000;
  const BANNER_DELAY_MS = 1000;
  const HISTORY_WAIT_MS = 5000;
  const RECONNECT_AGAIN_MS = 5000;
  // Web addresses, and UK phone numbers (plus 999 and 116 123), become links.
  const LINK_PATTERN = new RegExp(
    "(https?:\\/\\/[^\\s<>\"']+)" +
      "|(\\b0\\d{2,4}(?: ?\\d{3,4}){1,2}\\b|\\b116 ?123\\b|\\b999\\b)",
    "g"
  );

  // The gateway writes the sentence from bot/gateway/texts.yml in here when it serves this script,
  // with the advice line's hours from config/service_hours.yml (bot/gateway/texts.py, render_script).
  const ADVICE_LINE_TEXT = "$widget_reconnecting";

  if (window.adviceChatWidget) {
    return; // the tag is on the page twice
  }
  window.adviceChatWidget = { version: 1 };

  const config = readConfig(OWN_SCRIPT);
  const store = makeStore();
  const state = {
    sessionId: store.get(KEYS.session),
    accepted: store.get(KEYS.accepted) === "1",
    outbox: readJson(KEYS.outbox, []).filter(isOutboxItem),
    feedback: readJson(KEYS.feedback, {}),
    socket: null,
    loadingClient: false,
    connected: false,
    ready: false, // session confirmed and, when resuming, history received
    lastSeq: 0,
    shown: new Map(), // server message id -> element
    pending: new Map(), // client_id -> element of a message not yet confirmed
    replyGroups: [], // [{group, buttons: Map(payload -> button)}], oldest first
    deferred: [], // [event, data] to emit once ready
    handoff: "bot",
    adviser: null,
    typingTimer: null,
    bannerTimer: null,
    bannerShown: false,
    historyTimer: null,
    counterTimer: null,
    userTyping: { active: false, lastSent: 0, idleTimer: null },
    lastEscape: 0,
    exiting: false,
    endArmedTimer: null,
    open: false,
    ui: null,
    feedbackCount: 0,
  };

  // ---------------------------------------------------------------------------------------------
  // Start-up

  function findOwnScript() {
    const scripts = document.getElementsByTagName("script");
    for (let i = scripts.length - 1; i >= 0; i -= 1) {
      if (/\/widget\.js(\?|#|$)/.test(scripts[i].src || "")) {
        return scripts[i];
      }
    }
    return null;
  }

  function readConfig(script) {
    const data = (script && script.dataset) || {};
    let origin = window.location.origin;
    if (script && script.src) {
      try {
        origin = new URL(script.src, window.location.href).origin;
      } catch (error) {
        // keep the page's own origin
      }
    }
    return {
      origin: origin,
      exitUrl: httpUrl(data.exitUrl) || DEFAULT_EXIT_URL,
      title: (data.title || "").trim() || DEFAULT_TITLE,
      startOpen: data.open === "true",
    };
  }

  function httpUrl(value) {
    if (!value) {
      return null;
    }
    try {
      const url = new URL(value, window.location.href);
      return url.protocol === "https:" || url.protocol === "http:" ? url.href : null;
    } catch (error) {
      return null;
    }
  }

  function start() {
    loadStylesheet(function () {
      state.ui = buildUi();
      renderOutbox();
      const wantOpen = state.ui.inline || config.startOpen || store.get(KEYS.open) === "1";
      setOpen(wantOpen, false);
      if (state.accepted) {
        connect();
      }
    });
  }

  function loadStylesheet(then) {
    const href = config.origin + "/widget.css";
    const links = document.querySelectorAll('link[rel="stylesheet"]');
    for (let i = 0; i < links.length; i += 1) {
      if (links[i].href === href) {
        then(); // the page already links it (index.html does, to avoid a flash)
        return;
      }
    }
    const link = document.createElement("link");
    link.rel = "stylesheet";
    link.href = href;
    let done = false;
    const finish = function () {
      if (!done) {
        done = true;
        then();
      }
    };
    link.addEventListener("load", finish);
    link.addEventListener("error", finish);
    window.setTimeout(finish, 3000);
    document.head.appendChild(link);
  }

  // ---------------------------------------------------------------------------------------------
  // Storage: sessionStorage only (gone when the tab closes), with a memory fallback when it is
  // blocked. Quick exit removes every key starting with KEY_PREFIX from both storages.

  function storageArea(name) {
    try {
      const area = window[name];
      const probe = KEY_PREFIX + "probe";
      area.setItem(probe, "1");
      area.removeItem(probe);
      return area;
    } catch (error) {
      return null;
    }
  }

  function makeStore() {
    const area = storageArea("sessionStorage");
    let memory = {};
    let locked = false;
    return {
      get: function (key) {
        if (area) {
          try {
            return area.getItem(key);
          } catch (error) {
            // fall through to memory
          }
        }
        return Object.prototype.hasOwnProperty.call(memory, key) ? memory[key] : null;
      },
      set: function (key, value) {
        if (locked) {
          return; // after quick exit nothing may be written again
        }
        memory[key] = String(value);
        if (area) {
          try {
            area.setItem(key, String(value));
          } catch (error) {
            // full or blocked: memory still has it
          }
        }
      },
      forgetAndLock: function () {
        memory = {};
        locked = true;
      },
    };
  }

  function readJson(key, fallback) {
    try {
      const value = JSON.parse(store.get(key) || "null");
      return value && typeof value === "object" ? value : fallback;
    } catch (error) {
      return fallback;
    }
  }

  function writeJson(key, value) {
    store.set(key, JSON.stringify(value));
  }

  function clearStoredChat() {
    ["sessionStorage", "localStorage"].forEach(function (name) {
      let area = null;
      try {
        area = window[name];
      } catch (error) {
        return;
      }
      try {
        const doomed = [];
        for (let i = 0; i < area.length; i += 1) {
          const key = area.key(i);
          if (key && key.indexOf(KEY_PREFIX) === 0) {
            doomed.push(key);
          }
        }
        doomed.forEach(function (key) {
          area.removeItem(key);
        });
      } catch (error) {
        // blocked storage holds nothing of ours
      }
    });
    store.forgetAndLock();
  }

  function isOutboxItem(item) {
    return (
      item &&
      typeof item.client_id === "string" &&
      typeof item.message === "string" &&
      item.message.length > 0
    );
  }

  function saveOutbox() {
    writeJson(KEYS.outbox, state.outbox);
  }

  // ---------------------------------------------------------------------------------------------
  // Building the page

  function make(tag, attributes, children) {
    const node = document.createElement(tag);
    Object.keys(attributes || {}).forEach(function (name) {
      const value = attributes[name];
      if (value === null || value === undefined || value === false) {
        return;
      }
      if (name === "class") {
        node.className = value;
      } else if (name === "text") {
        node.textContent = value;
      } else {
        node.setAttribute(name, value === true ? "" : String(value));
      }
    });
    [].concat(children || []).forEach(function (child) {
      if (child !== null && child !== undefined) {
        node.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
      }
    });
    return node;
  }

  function buildUi() {
    const mount = document.getElementById(MOUNT_ID);
    const inline = Boolean(mount);
    const ui = { inline: inline };

    ui.exitButton = make("button", {
      type: "button",
      id: "quick-exit",
      class: "acw-exit",
      "data-testid": "quick-exit",
      "aria-describedby": "acw-exit-hint",
      text: "Quick exit",
    });
    ui.exitHint = make("span", { id: "acw-exit-hint", class: "acw-exit-hint", text: "or press Esc twice" });
    ui.exitButton.addEventListener("click", quickExit);
    ui.endButton = make("button", {
      type: "button",
      id: "acw-end-chat",
      class: "acw-end",
      "data-testid": "end-chat",
      "aria-live": "polite",
      text: END_LABEL,
    });
    ui.endButton.addEventListener("click", onEndChatPressed);
    const exitGroup = make("div", { class: "acw-exit-group" }, [ui.exitButton, ui.exitHint, ui.endButton]);

    ui.root = make("section", {
      id: "acw-root",
      class: "acw " + (inline ? "acw-inline" : "acw-floating"),
      "aria-labelledby": "acw-title",
    });
    const title = make("h2", {
      id: "acw-title",
      class: inline ? "acw-title acw-visually-hidden" : "acw-title",
      text: config.title,
    });
    const header = make("div", { class: "acw-header" }, [title]);
    if (inline) {
      // The family page: the exit bar is fixed to the top of the window, whatever is scrolled.
      ui.exitBar = make("div", { class: "acw-exitbar", role: "region", "aria-label": "Quick exit" }, [exitGroup]);
      document.body.insertBefore(ui.exitBar, document.body.firstChild);
      document.documentElement.classList.add("acw-has-exitbar");
    } else {
      header.appendChild(exitGroup);
      ui.closeButton = make("button", {
        type: "button",
        class: "acw-close",
        "aria-label": "Minimise chat",
        "aria-controls": "acw-root",
      }, [make("span", { "aria-hidden": "true", text: "\u2212" })]);
      ui.closeButton.addEventListener("click", function () {
        setOpen(false, true);
      });
      header.appendChild(ui.closeButton);
    }

    ui.connection = make("div", { class: "acw-connection", role: "status", "data-testid": "connection-status" });
    ui.handoff = make("p", { class: "acw-handoff", "aria-live": "polite", "data-testid": "handoff-status" });
    ui.alert = make("div", { class: "acw-visually-hidden", role: "alert", "data-testid": "urgent-alert" });
    ui.politeStatus = make("div", { class: "acw-visually-hidden", role: "status" });

    ui.transcript = make("div", {
      class: "acw-transcript",
      role: "log",
      "aria-live": "polite",
      "aria-label": "Conversation",
      "data-testid": "transcript",
      tabindex: "0",
    }, [
      make("p", {
        class: "acw-intro",
        text: "Ask your question in your own words. The assistant is a computer, not a person. " +
          "It gives general information about children's services and family courts in England, " +
          "not legal advice.",
      }),
    ]);
    ui.typing = make("p", { class: "acw-typing", role: "status", "data-testid": "typing" });

    ui.notice = buildNotice();
    const composer = buildComposer(ui);

    // On the family page the page has its own heading: the title is there for screen readers only.
    ui.root.appendChild(inline ? title : header);
    ui.root.appendChild(ui.connection);
    ui.root.appendChild(ui.handoff);
    ui.root.appendChild(ui.transcript);
    ui.root.appendChild(ui.typing);
    ui.root.appendChild(ui.notice);
    ui.root.appendChild(composer);
    ui.root.appendChild(ui.alert);
    ui.root.appendChild(ui.politeStatus);

    if (inline) {
      mount.appendChild(ui.root);
    } else {
      ui.badge = make("span", { class: "acw-badge", hidden: true, text: " (new message)" });
      ui.launcher = make("button", {
        type: "button",
        class: "acw-launcher",
        "aria-controls": "acw-root",
        "aria-expanded": "false",
      }, ["Chat with us", ui.badge]);
      ui.launcher.addEventListener("click", function () {
        setOpen(true, true);
      });
      document.body.appendChild(ui.launcher);
      document.body.appendChild(ui.root);
    }

    if (state.accepted) {
      ui.notice.hidden = true;
      setComposerEnabled(ui, true);
    } else {
      ui.transcript.hidden = true;
    }
    return ui;
  }

  function buildNotice() {
    const startButton = make("button", {
      type: "button",
      class: "acw-button acw-start",
      "data-testid": "start-chat",
      text: "Start chat",
    });
    startButton.addEventListener("click", acceptNotice);
    return make("div", { class: "acw-notice", role: "region", "aria-labelledby": "acw-notice-title" }, [
      make("h3", { id: "acw-notice-title", class: "acw-notice-title", text: "Before you start" }),
      make("p", { text: "This chat is confidential. Please don't share names, addresses or phone numbers." }),
      make("p", { text: "We keep a record of the chat to help the adviser and to improve the service." }),
      make("p", { text: "This is general information, not legal advice." }),
      make("p", { text: "To leave this page quickly, use Quick exit or press Esc twice." }),
      make("p", { class: "acw-notice-danger" }, linkify("If a child is in danger now, call 999.")),
      startButton,
    ]);
  }

  function buildComposer(ui) {
    ui.input = make("textarea", {
      id: "acw-input",
      class: "acw-input",
      rows: "2",
      maxlength: String(MAX_CHARS),
      autocomplete: "off",
      autocapitalize: "sentences",
      spellcheck: "true",
      enterkeyhint: "send",
      disabled: true,
      "data-testid": "chat-input",
      "aria-describedby": "acw-input-hint acw-counter",
    });
    ui.counter = make("p", { id: "acw-counter", class: "acw-counter" });
    ui.sendButton = make("button", {
      type: "submit",
      class: "acw-button acw-send",
      "data-testid": "send",
      disabled: true,
      text: "Send",
    });
    const form = make("form", { class: "acw-composer", "aria-label": "Send a message" }, [
      make("label", { for: "acw-input", class: "acw-label", text: "Your message" }),
      make("p", {
        id: "acw-input-hint",
        class: "acw-visually-hidden",
        text: "Press Enter to send. Press Shift and Enter for a new line.",
      }),
      make("div", { class: "acw-composer-row" }, [ui.input, ui.sendButton]),
      ui.counter,
    ]);
    form.setAttribute("novalidate", "");
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      sendTyped();
    });
    ui.input.addEventListener("keydown", onInputKeyDown);
    ui.input.addEventListener("input", onInput);
    return form;
  }

  function setComposerEnabled(ui, enabled) {
    ui.input.disabled = !enabled;
    ui.sendButton.disabled = !enabled;
  }

  function setOpen(open, moveFocus) {
    const ui = state.ui;
    state.open = open;
    if (ui.inline) {
      return;
    }
    ui.root.hidden = !open;
    ui.launcher.hidden = open;
    ui.launcher.setAttribute("aria-expanded", open ? "true" : "false");
    store.set(KEYS.open, open ? "1" : "0");
    if (open) {
      ui.badge.hidden = true;
      scrollToEnd();
    }
    if (moveFocus) {
      if (!open) {
        ui.launcher.focus();
      } else if (state.accepted) {
        ui.input.focus();
      } else {
        ui.notice.querySelector("button").focus();
      }
    }
  }

  function acceptNotice() {
    const ui = state.ui;
    state.accepted = true;
    store.set(KEYS.accepted, "1");
    ui.notice.hidden = true;
    ui.transcript.hidden = false;
    setComposerEnabled(ui, true);
    ui.input.focus();
    connect();
  }

  // ---------------------------------------------------------------------------------------------
  // Quick exit: Esc twice within a second, or the button. Clears what this widget stored,
  // disconnects, and replaces this page in the history so Back does not return to the chat.

  function onKeyDownAnywhere(event) {
    if (event.key !== "Escape" && event.key !== "Esc") {
      return;
    }
    if (event.repeat || event.isComposing) {
      return;
    }
    const now = Date.now();
    if (now - state.lastEscape <= ESC_TWICE_MS) {
      event.preventDefault();
      quickExit();
      return;
    }
    state.lastEscape = now;
    flagEscapeArmed();
  }

  function flagEscapeArmed() {
    const hint = state.ui && state.ui.exitHint;
    if (!hint) {
      return;
    }
    hint.classList.add("acw-armed");
    window.setTimeout(function () {
      hint.classList.remove("acw-armed");
    }, ESC_TWICE_MS);
  }

  function quickExit() {
    if (state.exiting) {
      return;
    }
    state.exiting = true;
    wipeChat();
    window.location.replace(config.exitUrl);
  }

  // Forget the chat here: what this widget stored, its socket, and what is on screen. Each step runs
  // even if an earlier one fails, since the page is left or reloaded straight after.
  function wipeChat() {
    try {
      clearStoredChat();
    } catch (error) {
      // go on
    }
    try {
      if (state.socket) {
        state.socket.disconnect();
      }
    } catch (error) {
      // go on
    }
    try {
      if (state.ui) {
        state.ui.transcript.textContent = "";
        state.ui.input.value = "";
      }
    } catch (error) {
      // go on
    }
  }

  // End chat and clear: two presses (the first only arms the button for a few seconds). The gateway
  // ends the chat and gives up its queue place; everything this widget stored is removed and the
  // page is loaded again, so nothing of the chat is left on screen. Unlike Quick exit, it stays here.

  function onEndChatPressed() {
    const button = state.ui.endButton;
    if (!state.endArmedTimer) {
      button.textContent = END_CONFIRM;
      state.endArmedTimer = window.setTimeout(function () {
        state.endArmedTimer = null;
        button.textContent = END_LABEL;
      }, END_ARMED_MS);
      return;
    }
    window.clearTimeout(state.endArmedTimer);
    state.endArmedTimer = null;
    endChatAndClear();
  }

  function endChatAndClear() {
    if (state.exiting) {
      return;
    }
    state.exiting = true;
    let done = false;
    function clearAndReload() {
      if (done) {
        return;
      }
      done = true;
      wipeChat();
      window.location.reload();
    }
    if (state.socket && state.connected && state.sessionId) {
      // Offline: nothing reaches the gateway, but the id is forgotten here, so the chat can't be resumed.
      state.socket.timeout(END_ACK_MS).emit("end_chat", {}, clearAndReload);
      window.setTimeout(clearAndReload, END_ACK_MS + 500);
    } else {
      clearAndReload();
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Connection

  function connect() {
    if (state.socket || state.loadingClient || state.exiting) {
      return;
    }
    state.loadingClient = true;
    loadSocketIoClient()
      .then(function (io) {
        state.loadingClient = false;
        openSocket(io);
      })
      .catch(function () {
        state.loadingClient = false;
        showBanner();
        refreshPendingStatuses();
        window.setTimeout(connect, RECONNECT_AGAIN_MS);
      });
  }

  // Always our own copy of socket.io-client 4 (a host page may have an older, incompatible one);
  // the page's own `io`, if any, is put back afterwards.
  function loadSocketIoClient() {
    const pageIo = window.io;
    return new Promise(function (resolve, reject) {
      const script = document.createElement("script");
      script.src = config.origin + "/vendor/socket.io.min.js";
      script.async = true;
      script.addEventListener("load", function () {
        const ours = window.io;
        if (pageIo !== undefined) {
          window.io = pageIo;
        }
        if (typeof ours === "function") {
          resolve(ours);
        } else {
          reject(new Error("socket.io client did not define io"));
        }
      });
      script.addEventListener("error", function () {
        script.remove();
        reject(new Error("socket.io client did not load"));
      });
      document.head.appendChild(script);
    });
  }

  // A random id per tab: the load balancer sends every request of this tab's socket.io session
  // (long-polling included) to the same gateway by it (docs/production.md, sticky routing).
  function routeId() {
    let id = store.get(KEY_PREFIX + "route");
    if (!id || !/^[0-9a-f]{32}$/.test(id)) {
      const bytes = new Uint8Array(16);
      if (window.crypto && typeof window.crypto.getRandomValues === "function") {
        window.crypto.getRandomValues(bytes);
      } else {
        for (let i = 0; i < 16; i += 1) {
          bytes[i] = Math.floor(Math.random() * 256);
        }
      }
      id = Array.prototype.map.call(bytes, function (b) {
        return (b + 0x100).toString(16).slice(1);
      }).join("");
      store.set(KEY_PREFIX + "route", id);
    }
    return id;
  }

  function openSocket(io) {
    const socket = io(config.origin, {
      path: "/socket.io/",
      transports: ["websocket", "polling"],
      tryAllTransports: true, // socket.io-client 4.8+: fall back to polling where websockets are blocked
      query: { route: routeId() },
    });
    state.socket = socket;
    socket.on("connect", onConnect);
    socket.on("disconnect", onDisconnect);
    socket.on("connect_error", onConnectError);
    socket.on("session_confirm", onSessionConfirm);
    socket.on("bot_uttered", onBotUttered);
    socket.on("user_echo", onUserEcho);
    socket.on("history", onHistory);
    socket.on("bot_typing", onBotTyping);
    socket.on("handoff", onHandoff);
  }

  function isReady() {
    return Boolean(state.socket && state.connected && state.ready && state.sessionId && !state.exiting);
  }

  function onConnect() {
    state.connected = true;
    state.ready = false;
    hideBanner();
    refreshPendingStatuses();
    state.socket.emit("session_request", { session_id: state.sessionId || null });
  }

  function onDisconnect(reason) {
    state.connected = false;
    state.ready = false;
    window.clearTimeout(state.historyTimer);
    hideTyping();
    stopUserTyping(false);
    if (state.exiting) {
      return;
    }
    scheduleBanner();
    refreshPendingStatuses();
    if (reason === "io server disconnect") {
      // socket.io does not reconnect by itself after the server closed the socket
      window.setTimeout(function () {
        if (!state.exiting && state.socket && !state.socket.connected) {
          state.socket.connect();
        }
      }, RECONNECT_AGAIN_MS);
    }
  }

  function onConnectError() {
    if (state.exiting) {
      return;
    }
    scheduleBanner();
    refreshPendingStatuses();
    if (state.socket && !state.socket.active) {
      // refused by the server (not a network failure): socket.io will not retry by itself
      window.setTimeout(function () {
        if (!state.exiting && state.socket && !state.socket.connected) {
          state.socket.connect();
        }
      }, RECONNECT_AGAIN_MS);
    }
  }

  function onSessionConfirm(data) {
    const id = typeof data === "string" ? data : data && data.session_id;
    if (!id || typeof id !== "string") {
      return;
    }
    const previous = state.sessionId;
    state.sessionId = id;
    store.set(KEYS.session, id);
    if (previous && previous === id) {
      requestHistory();
      return;
    }
    if (previous) {
      startNewChatAfterLoss();
    }
    markReady();
  }

  function requestHistory() {
    state.ready = false;
    state.socket.emit("history_request", { session_id: state.sessionId, after_seq: state.lastSeq });
    window.clearTimeout(state.historyTimer);
    state.historyTimer = window.setTimeout(markReady, HISTORY_WAIT_MS);
  }

  function markReady() {
    window.clearTimeout(state.historyTimer);
    if (!state.connected || !state.sessionId) {
      return;
    }
    state.ready = true;
    flushOutbox();
    flushDeferred();
  }

  function flushOutbox() {
    state.outbox.forEach(emitUtterance);
  }

  function flushDeferred() {
    const queued = state.deferred;
    state.deferred = [];
    queued.forEach(function (entry) {
      state.socket.emit(entry[0], entry[1]);
    });
  }

  function emitWhenReady(event, data) {
    if (isReady()) {
      state.socket.emit(event, data);
    } else {
      state.deferred.push([event, data]);
    }
  }

  function emitUtterance(item) {
    if (!isReady()) {
      return;
    }
    state.socket.emit("user_uttered", {
      message: item.message,
      session_id: state.sessionId,
      client_id: item.client_id,
      customData: {},
    });
  }

  // The gateway did not know our stored session (expired or lost) and gave us a new one.
  function startNewChatAfterLoss() {
    state.lastSeq = 0;
    const earlier = state.ui.transcript.querySelectorAll(".msg[data-seq]");
    earlier.forEach(function (node) {
      node.removeAttribute("data-seq");
      node.classList.add("acw-earlier");
    });
    if (earlier.length > 0) {
      insertBeforePending(make("p", {
        class: "acw-divider",
        text: "We couldn't find your earlier chat, so we've started a new one.",
      }));
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Connection banner

  function scheduleBanner() {
    if (state.bannerTimer || state.bannerShown) {
      return;
    }
    state.bannerTimer = window.setTimeout(function () {
      state.bannerTimer = null;
      if (!state.connected && !state.exiting) {
        showBanner();
      }
    }, BANNER_DELAY_MS);
  }

  function showBanner() {
    if (state.bannerShown || state.exiting || !state.ui) {
      return;
    }
    state.bannerShown = true;
    const box = state.ui.connection;
    box.textContent = "";
    box.classList.add("acw-connection-lost");
    box.appendChild(make("strong", { text: "Reconnecting\u2026 " }));
    box.appendChild(document.createTextNode("Your messages are saved and will be sent when we're back. "));
    linkify(ADVICE_LINE_TEXT).forEach(function (node) {
      box.appendChild(node);
    });
  }

  function hideBanner() {
    window.clearTimeout(state.bannerTimer);
    state.bannerTimer = null;
    if (!state.bannerShown) {
      return;
    }
    state.bannerShown = false;
    const box = state.ui.connection;
    box.classList.remove("acw-connection-lost");
    box.textContent = "Connected again.";
    window.setTimeout(function () {
      if (!state.bannerShown) {
        box.textContent = "";
      }
    }, 4000);
  }

  // ---------------------------------------------------------------------------------------------
  // Incoming events

  function onBotUttered(data) {
    if (!data || typeof data !== "object") {
      return;
    }
    const metadata = data.metadata && typeof data.metadata === "object" ? data.metadata : {};
    const rejected = metadata.rejected_client_id || data.rejected_client_id;
    if (typeof rejected === "string") {
      markNotSent(rejected);
    }
    const message = messageFromBotUttered(data, metadata.message);
    if (!message.text && message.buttons.length === 0) {
      return;
    }
    hideTyping();
    showServerMessage(message, { live: true });
  }

  function onUserEcho(data) {
    const raw = data && data.message;
    if (!raw || typeof raw !== "object") {
      return;
    }
    const message = normaliseMessage(raw);
    if (!message.client_id && typeof data.client_id === "string") {
      message.client_id = data.client_id;
    }
    message.sender = "family";
    showServerMessage(message, { live: true });
  }

  function onHistory(data) {
    const list = data && Array.isArray(data.messages) ? data.messages : [];
    list
      .filter(function (raw) {
        return raw && typeof raw === "object";
      })
      .map(normaliseMessage)
      .sort(function (a, b) {
        return (a.seq === null ? Infinity : a.seq) - (b.seq === null ? Infinity : b.seq);
      })
      .forEach(function (message) {
        showServerMessage(message, { live: false });
      });
    const handoff = handoffFromHistoryState(data && data.state);
    if (handoff) {
      applyHandoff(handoff, false);
    }
    scrollToEnd();
    markReady();
  }

  function onBotTyping(data) {
    if (data && data.typing) {
      showTyping();
    } else {
      hideTyping();
    }
  }

  function onHandoff(data) {
    if (data && typeof data.state === "string") {
      applyHandoff(data, true);
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Messages

  function normaliseMessage(raw) {
    return {
      id: typeof raw.id === "string" && raw.id ? raw.id : null,
      seq: typeof raw.seq === "number" && isFinite(raw.seq) ? raw.seq : null,
      sender: ["family", "bot", "adviser", "system"].indexOf(raw.sender) >= 0 ? raw.sender : "bot",
      text: typeof raw.text === "string" ? raw.text : "",
      buttons: normaliseButtons(raw.buttons),
      adviser: typeof raw.adviser === "string" && raw.adviser ? raw.adviser : null,
      urgent: raw.urgent === true,
      ask_feedback: raw.ask_feedback === true,
      client_id: typeof raw.client_id === "string" ? raw.client_id : null,
    };
  }

  function messageFromBotUttered(data, raw) {
    const message = normaliseMessage(raw && typeof raw === "object" ? raw : {});
    if (!raw || typeof raw !== "object") {
      message.sender = "bot";
    }
    if (typeof data.text === "string" && data.text) {
      message.text = data.text;
    }
    const buttons = normaliseButtons(data.quick_replies || data.buttons);
    if (buttons.length > 0) {
      message.buttons = buttons;
    }
    return message;
  }

  function normaliseButtons(list) {
    if (!Array.isArray(list)) {
      return [];
    }
    return list
      .filter(function (button) {
        return button && typeof button.payload === "string" && button.payload;
      })
      .map(function (button) {
        const title = typeof button.title === "string" && button.title ? button.title : button.payload;
        return { title: title, payload: button.payload };
      });
  }

  function noteSeq(seq) {
    if (typeof seq === "number" && seq > state.lastSeq) {
      state.lastSeq = seq;
    }
  }

  function showServerMessage(message, options) {
    noteSeq(message.seq);
    if (message.id && state.shown.has(message.id)) {
      return; // already on the page (history after a reconnect, or an echo of a resend)
    }
    if (message.sender === "family") {
      showFamilyMessage(message, options);
      return;
    }
    const stick = isNearEnd();
    const node = buildMessage(message);
    placeBySeq(node, message.seq, !options.live);
    if (message.id) {
      state.shown.set(message.id, node);
    }
    if (options.live) {
      if (message.urgent || message.sender === "system") {
        announceUrgent(message);
      }
      if (!state.open && state.ui.badge) {
        state.ui.badge.hidden = false;
      }
    }
    if (stick) {
      scrollToEnd();
    }
  }

  // A family message from the server: confirms one of ours from the outbox, or (after a reload)
  // is shown for the first time.
  function showFamilyMessage(message, options) {
    const item = takeFromOutbox(message);
    const pendingNode = item ? state.pending.get(item.client_id) : null;
    if (item) {
      state.pending.delete(item.client_id);
    }
    if (pendingNode) {
      confirmPending(pendingNode, message);
      return;
    }
    const stick = isNearEnd();
    const shownText = titleForPayload(message.text);
    const node = buildMessage({ sender: "family", text: shownText, id: message.id, seq: message.seq });
    setStatus(node, "Sent");
    placeBySeq(node, message.seq, !options.live);
    if (message.id) {
      state.shown.set(message.id, node);
    }
    markReplyUsed(message.text);
    if (stick) {
      scrollToEnd();
    }
  }

  // The outbox entry a server family message confirms: by client_id when the server sends it,
  // otherwise the oldest unconfirmed message with the same text.
  function takeFromOutbox(message) {
    let index = -1;
    if (message.client_id) {
      index = state.outbox.findIndex(function (item) {
        return item.client_id === message.client_id;
      });
    } else {
      const text = (message.text || "").trim();
      index = state.outbox.findIndex(function (item) {
        return item.message === text;
      });
    }
    if (index < 0) {
      return null;
    }
    const item = state.outbox.splice(index, 1)[0];
    saveOutbox();
    return item;
  }

  function confirmPending(node, message) {
    node.classList.remove("acw-pending", "acw-failed");
    node.setAttribute("data-message-id", message.id || "");
    if (message.seq !== null) {
      node.setAttribute("data-seq", String(message.seq));
    }
    setStatus(node, "Sent");
    if (message.id) {
      state.shown.set(message.id, node);
    }
    placeBySeq(node, message.seq, true);
  }

  function markNotSent(clientId) {
    const index = state.outbox.findIndex(function (item) {
      return item.client_id === clientId;
    });
    if (index >= 0) {
      state.outbox.splice(index, 1);
      saveOutbox();
    }
    const node = state.pending.get(clientId);
    if (node) {
      state.pending.delete(clientId);
      node.classList.remove("acw-pending");
      node.classList.add("acw-failed");
      setStatus(node, "Not sent");
    }
  }

  function kindOf(sender) {
    return ["family", "bot", "adviser", "system"].indexOf(sender) >= 0 ? sender : "bot";
  }

  function senderLabel(message) {
    switch (kindOf(message.sender)) {
      case "family":
        return "You";
      case "adviser":
        return message.adviser ? "Adviser " + message.adviser : "Adviser";
      case "system":
        return "Chat service";
      default:
        return "Assistant";
    }
  }

  function buildMessage(message) {
    const kind = kindOf(message.sender);
    const important = message.urgent || kind === "system";
    const node = make("div", {
      class: "msg msg-" + kind + (message.urgent ? " msg-urgent" : ""),
      "data-message-id": message.id || "",
    });
    if (typeof message.seq === "number") {
      node.setAttribute("data-seq", String(message.seq));
    }
    const sender = make("p", { class: "msg-sender" }, [senderLabel(message)]);
    if (important) {
      sender.appendChild(make("span", { class: "msg-flag" }, [
        make("span", { class: "msg-icon", "aria-hidden": "true", text: "!" }),
        message.urgent ? "Important" : "Notice",
      ]));
    }
    node.appendChild(sender);
    node.appendChild(make("p", { class: "msg-text" }, linkify(message.text || "")));
    if (kind === "family") {
      node.appendChild(make("p", { class: "msg-status", "aria-hidden": "true" }));
    } else {
      if (message.buttons && message.buttons.length > 0) {
        node.appendChild(buildReplies(message.buttons));
      }
      if (message.ask_feedback && message.id) {
        node.appendChild(buildFeedback(message.id));
      }
    }
    return node;
  }

  function setStatus(node, text) {
    const status = node.querySelector(".msg-status");
    if (status) {
      status.textContent = text;
    }
  }

  function renderOutbox() {
    state.outbox.forEach(function (item) {
      state.ui.transcript.appendChild(buildPending(item));
    });
    refreshPendingStatuses();
    scrollToEnd();
  }

  function buildPending(item) {
    const node = buildMessage({ sender: "family", text: item.display || item.message });
    node.classList.add("acw-pending");
    node.setAttribute("data-client-id", item.client_id);
    state.pending.set(item.client_id, node);
    return node;
  }

  function refreshPendingStatuses() {
    const text = state.connected ? "Sending\u2026" : "Waiting to send";
    state.pending.forEach(function (node) {
      setStatus(node, text);
    });
  }

  // Server messages go in seq order among confirmed messages. Live messages go after messages
  // still being sent; history goes before them (it is older).
  function placeBySeq(node, seq, beforePending) {
    const transcript = state.ui.transcript;
    let reference = null;
    const children = transcript.children;
    for (let i = 0; i < children.length; i += 1) {
      const child = children[i];
      if (child === node || !child.classList.contains("msg")) {
        continue;
      }
      if (child.classList.contains("acw-pending")) {
        if (beforePending) {
          reference = child;
          break;
        }
        continue;
      }
      const childSeq = child.getAttribute("data-seq");
      if (seq !== null && childSeq !== null && Number(childSeq) > seq) {
        reference = child;
        break;
      }
    }
    if (node.parentNode === transcript && node.nextElementSibling === reference) {
      return; // already in place: moving it would make screen readers read it again
    }
    transcript.insertBefore(node, reference);
  }

  function insertBeforePending(node) {
    const first = state.ui.transcript.querySelector(".msg.acw-pending");
    state.ui.transcript.insertBefore(node, first);
  }

  function announceUrgent(message) {
    const alert = state.ui.alert;
    alert.textContent = "";
    window.setTimeout(function () {
      alert.textContent = "Important message: " + (message.text || "");
    }, 50);
  }

  function isNearEnd() {
    const t = state.ui.transcript;
    return t.scrollHeight - t.scrollTop - t.clientHeight < 80;
  }

  function scrollToEnd() {
    const t = state.ui && state.ui.transcript;
    if (t) {
      t.scrollTop = t.scrollHeight;
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Text: plain text nodes, with web addresses and phone numbers made into links.

  function linkify(text) {
    const nodes = [];
    let last = 0;
    LINK_PATTERN.lastIndex = 0;
    let match = LINK_PATTERN.exec(text);
    while (match !== null) {
      let found = match[0];
      let link = null;
      if (match[1]) {
        found = found.replace(/[.,;:!?)\]]+$/, "");
        link = webLink(found);
      } else {
        link = phoneLink(found);
      }
      if (link) {
        if (match.index > last) {
          nodes.push(document.createTextNode(text.slice(last, match.index)));
        }
        nodes.push(link);
        last = match.index + found.length;
      }
      LINK_PATTERN.lastIndex = match.index + Math.max(found.length, 1);
      match = LINK_PATTERN.exec(text);
    }
    if (last < text.length) {
      nodes.push(document.createTextNode(text.slice(last)));
    }
    return nodes;
  }

  function webLink(address) {
    const href = httpUrl(address);
    if (!href) {
      return null;
    }
    return make("a", { href: href, target: "_blank", rel: "noopener noreferrer", class: "acw-link" }, [
      address,
      make("span", { class: "acw-visually-hidden", text: " (opens in a new tab)" }),
    ]);
  }

  function phoneLink(number) {
    const digits = number.replace(/\D/g, "");
    const shortNumber = digits === "999" || digits === "116123";
    if (!shortNumber && (digits.length < 8 || digits.length > 11)) {
      return null;
    }
    return make("a", { href: "tel:" + digits, class: "acw-link", text: number });
  }

  // ---------------------------------------------------------------------------------------------
  // Suggested replies (quick_replies / buttons)

  function buildReplies(buttons) {
    const group = make("div", { class: "msg-buttons", role: "group", "aria-label": "Suggested replies" });
    const entry = { group: group, buttons: new Map(), used: false };
    buttons.forEach(function (reply) {
      const button = make("button", { type: "button", class: "acw-reply", text: reply.title });
      button.addEventListener("click", function () {
        chooseReply(entry, button, reply);
      });
      group.appendChild(button);
      if (!entry.buttons.has(reply.payload)) {
        entry.buttons.set(reply.payload, { button: button, title: reply.title });
      }
    });
    state.replyGroups.push(entry);
    return group;
  }

  function chooseReply(entry, button, reply) {
    if (entry.used || !state.accepted) {
      return;
    }
    useReplyGroup(entry, button);
    sendMessage(reply.payload, reply.title);
    state.ui.input.focus(); // the pressed button is now disabled: keep keyboard users in the chat
  }

  function useReplyGroup(entry, chosen) {
    entry.used = true;
    entry.group.classList.add("acw-used");
    entry.group.querySelectorAll("button").forEach(function (button) {
      button.disabled = true;
    });
    if (chosen) {
      chosen.classList.add("acw-chosen");
      chosen.appendChild(make("span", { class: "acw-visually-hidden", text: " (chosen)" }));
    }
  }

  // A family message from history that was a button payload: disable that group.
  function markReplyUsed(payload) {
    for (let i = state.replyGroups.length - 1; i >= 0; i -= 1) {
      const entry = state.replyGroups[i];
      if (!entry.used && entry.buttons.has(payload)) {
        useReplyGroup(entry, entry.buttons.get(payload).button);
        return;
      }
    }
  }

  function titleForPayload(text) {
    for (let i = state.replyGroups.length - 1; i >= 0; i -= 1) {
      const found = state.replyGroups[i].buttons.get(text);
      if (found) {
        return found.title;
      }
    }
    return text;
  }

  // ---------------------------------------------------------------------------------------------
  // "Was this helpful?"

  function buildFeedback(messageId) {
    state.feedbackCount += 1;
    const labelId = "acw-feedback-" + state.feedbackCount;
    const yes = make("button", {
      type: "button",
      class: "acw-feedback-button",
      "aria-pressed": "false",
      "data-testid": "feedback-yes",
      text: "Yes",
    });
    const no = make("button", {
      type: "button",
      class: "acw-feedback-button",
      "aria-pressed": "false",
      "data-testid": "feedback-no",
      text: "No",
    });
    const thanks = make("p", { class: "acw-feedback-thanks" });
    const parts = { messageId: messageId, yes: yes, no: no, thanks: thanks };
    yes.addEventListener("click", function () {
      giveFeedback(parts, true);
    });
    no.addEventListener("click", function () {
      giveFeedback(parts, false);
    });
    if (typeof state.feedback[messageId] === "boolean") {
      showFeedbackGiven(parts, state.feedback[messageId]);
    }
    return make("div", { class: "acw-feedback", role: "group", "aria-labelledby": labelId }, [
      make("span", { id: labelId, class: "acw-feedback-question", text: "Was this helpful?" }),
      yes,
      no,
      thanks,
    ]);
  }

  function giveFeedback(parts, helpful) {
    state.feedback[parts.messageId] = helpful;
    writeJson(KEYS.feedback, state.feedback);
    showFeedbackGiven(parts, helpful);
    emitWhenReady("feedback", { message_id: parts.messageId, helpful: helpful });
  }

  function showFeedbackGiven(parts, helpful) {
    parts.yes.setAttribute("aria-pressed", helpful ? "true" : "false");
    parts.no.setAttribute("aria-pressed", helpful ? "false" : "true");
    parts.thanks.textContent = "Thanks for telling us.";
  }

  // ---------------------------------------------------------------------------------------------
  // Handoff status

  function handoffFromHistoryState(value) {
    if (!value || typeof value !== "object") {
      return null;
    }
    if (value.handoff && typeof value.handoff === "object" && typeof value.handoff.state === "string") {
      return value.handoff;
    }
    if (typeof value.handoff === "string") {
      return { state: value.handoff, position: value.position, adviser: value.adviser };
    }
    if (typeof value.state === "string") {
      return value;
    }
    return null;
  }

  function applyHandoff(data, live) {
    const previous = state.handoff;
    state.handoff = data.state;
    state.adviser = typeof data.adviser === "string" && data.adviser ? data.adviser : null;
    const box = state.ui.handoff;
    const text = handoffText(data, previous, live);
    box.className = "acw-handoff" + (text ? " acw-handoff-" + data.state : "");
    if (box.textContent !== text) {
      box.textContent = text;
    }
    if (data.state !== "bot") {
      hideTyping();
    }
  }

  function handoffText(data, previous, live) {
    const position = typeof data.position === "number" ? data.position : null;
    switch (data.state) {
      case "queued":
        if (position === 1) {
          return "You're next in the queue for an adviser. You can keep typing while you wait.";
        }
        if (position && position > 1) {
          return "You're number " + position + " in the queue for an adviser. You can keep typing while you wait.";
        }
        return "You're in the queue for an adviser. You can keep typing while you wait.";
      case "live":
        return state.adviser ? "You're talking to " + state.adviser + ", an adviser." : "You're talking to an adviser.";
      case "ended":
        return "Your chat with the adviser has ended. You can still ask the assistant questions.";
      case "bot":
        return live && previous !== "bot" ? "You're talking to the automated assistant again." : "";
      default:
        return "";
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Typing indicators

  function showTyping() {
    const label = state.handoff === "live" ? "Adviser is typing\u2026" : "Assistant is typing\u2026";
    const box = state.ui.typing;
    if (box.textContent !== label) {
      box.textContent = label;
    }
    window.clearTimeout(state.typingTimer);
    state.typingTimer = window.setTimeout(hideTyping, BOT_TYPING_TIMEOUT_MS);
  }

  function hideTyping() {
    window.clearTimeout(state.typingTimer);
    state.typingTimer = null;
    if (state.ui && state.ui.typing.textContent) {
      state.ui.typing.textContent = "";
    }
  }

  function noteUserTyping() {
    if (!isReady()) {
      return;
    }
    const typing = state.userTyping;
    const now = Date.now();
    if (!typing.active || now - typing.lastSent >= USER_TYPING_EVERY_MS) {
      state.socket.emit("user_typing", { typing: true });
      typing.active = true;
      typing.lastSent = now;
    }
    window.clearTimeout(typing.idleTimer);
    typing.idleTimer = window.setTimeout(function () {
      stopUserTyping(true);
    }, USER_TYPING_IDLE_MS);
  }

  function stopUserTyping(tellServer) {
    const typing = state.userTyping;
    window.clearTimeout(typing.idleTimer);
    typing.idleTimer = null;
    if (typing.active && tellServer && isReady()) {
      state.socket.emit("user_typing", { typing: false });
    }
    typing.active = false;
  }

  // ---------------------------------------------------------------------------------------------
  // Sending

  function onInputKeyDown(event) {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing && !event.altKey &&
        !event.ctrlKey && !event.metaKey) {
      event.preventDefault();
      sendTyped();
    }
  }

  function onInput() {
    updateCounter();
    if (state.ui.input.value.trim()) {
      noteUserTyping();
    } else {
      stopUserTyping(true);
    }
  }

  function updateCounter() {
    const length = state.ui.input.value.length;
    const counter = state.ui.counter;
    let text = "";
    if (length >= MAX_CHARS) {
      text = "You've reached the limit of 2,000 characters.";
    } else if (length >= COUNTER_FROM) {
      const left = MAX_CHARS - length;
      text = left + (left === 1 ? " character left" : " characters left");
    }
    counter.textContent = text;
    counter.classList.toggle("acw-counter-full", length >= MAX_CHARS);
    window.clearTimeout(state.counterTimer);
    if (text) {
      state.counterTimer = window.setTimeout(function () {
        state.ui.politeStatus.textContent = text;
      }, 1000);
    }
  }

  function sendTyped() {
    const input = state.ui.input;
    if (input.disabled) {
      return;
    }
    const text = input.value.trim();
    if (!text) {
      input.focus();
      return;
    }
    if (text.length > MAX_CHARS) {
      state.ui.politeStatus.textContent = "Your message is too long. Please shorten it to 2,000 characters.";
      return;
    }
    input.value = "";
    updateCounter();
    sendMessage(text, text);
    input.focus();
  }

  function newClientId() {
    const cryptoApi = window.crypto;
    if (cryptoApi && typeof cryptoApi.randomUUID === "function") {
      return cryptoApi.randomUUID();
    }
    const bytes = new Uint8Array(16);
    if (cryptoApi && typeof cryptoApi.getRandomValues === "function") {
      cryptoApi.getRandomValues(bytes);
    } else {
      for (let i = 0; i < 16; i += 1) {
        bytes[i] = Math.floor(Math.random() * 256);
      }
    }
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    const hex = Array.prototype.map.call(bytes, function (b) {
      return (b + 0x100).toString(16).slice(1);
    }).join("");
    return hex.slice(0, 8) + "-" + hex.slice(8, 12) + "-" + hex.slice(12, 16) + "-" +
      hex.slice(16, 20) + "-" + hex.slice(20);
  }

  function sendMessage(message, display) {
    const item = { client_id: newClientId(), message: message, display: display || message, at: Date.now() };
    state.outbox.push(item);
    saveOutbox();
    stopUserTyping(true);
    const node = buildPending(item);
    state.ui.transcript.appendChild(node);
    refreshPendingStatuses();
    scrollToEnd();
    if (isReady()) {
      emitUtterance(item);
      if (state.handoff !== "live" && state.handoff !== "queued") {
        showTyping();
      }
    } else {
      connect(); // no-op when a connection is already being made
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Go (last, so that every declaration above is initialised first)

  document.addEventListener("keydown", onKeyDownAnywhere, true);
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
