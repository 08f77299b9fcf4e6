/*
 * Staff review page (/console/review): the review inbox and labelling, retraining with progress, the
 * evaluation of the candidate against the live model, putting it live or rolling back, which model is
 * live, and deleting a conversation on request. Speaks the JSON API under /console/api/review
 * (bot/gateway/review_views.py). Plain DOM, no framework, no build step.
 *
 * Every piece of data is rendered with textContent or text nodes, never as HTML.
 *
 * Also loaded by the console page, where it only shows staff-only links ([data-staff-only], hidden in
 * the HTML) to staff and removes them for everyone else, as console.js does with the canned editor.
 */
(function () {
  "use strict";
  const { h, elementsById, meta, safeToken } = window.AdviceDom; // static/dom.js

  const API = "/console/api/review";
  const POLL_MS = 2000; // while a training runs
  const IDLE_POLL_MS = 30000; // otherwise
  const NOTICE_CLEAR_MS = 20000;
  const RUNNING = ["starting", "running", "evaluating"];
  const STATE_TEXT = {
    idle: "No training has run yet.",
    starting: "Starting the training",
    running: "Training",
    evaluating: "Testing the candidate on the held-out sets",
    done: "Finished",
    failed: "The training failed",
  };

  const app = {
    role: "adviser",
    items: [],
    intents: [],
    status: null,
    report: null,
    live: null,
    pollTimer: 0,
    announced: "",
    deploying: false,
    noticeTimers: {},
    els: {},
  };

  /* ------------------------------------------------------------------ DOM helpers */





  function setNotice(node, text, keep) {
    if (!node) return;
    const key = node.id;
    window.clearTimeout(app.noticeTimers[key]);
    node.textContent = text || "";
    if (text && !keep) {
      app.noticeTimers[key] = window.setTimeout(function () {
        node.textContent = "";
      }, NOTICE_CLEAR_MS);
    }
  }

  function errorText(error) {
    return typeof error === "string" ? error : error && error.message ? error.message : "Something went wrong.";
  }

  function when(iso) {
    if (!iso) return "";
    const date = new Date(iso);
    if (isNaN(date.getTime())) return String(iso);
    return date.toLocaleString("en-GB", {
      timeZone: "Europe/London",
      day: "numeric",
      month: "short",
      year: "numeric",
      hour: "2-digit",
      minute: "2-digit",
    });
  }

  function score(value) {
    return typeof value === "number" ? value.toFixed(3) : "none";
  }

  function percent(value) {
    return typeof value === "number" ? Math.round(value * 100) + "%" : "";
  }

  /* ------------------------------------------------------------------ staff-only elements (any page) */

  function applyRole() {
    app.role = meta("role") === "staff" ? "staff" : "adviser";
    document.querySelectorAll("[data-staff-only]").forEach(function (node) {
      if (app.role !== "staff") node.remove();
      else node.hidden = false;
    });
  }

  /* ------------------------------------------------------------------ API */

  function api(method, path, body) {
    return window.AdviceDom.request(method, API + path, body); // static/dom.js
  }

  function setBusy(buttons, busy) {
    buttons.forEach(function (button) {
      if (!button) return;
      if (busy) {
        button.dataset.wasDisabled = button.disabled ? "1" : "";
        button.disabled = true;
        button.setAttribute("aria-busy", "true");
      } else {
        button.disabled = button.dataset.wasDisabled === "1";
        button.removeAttribute("aria-busy");
      }
    });
  }

  /* ------------------------------------------------------------------ 1. inbox */

  async function loadInbox(announceResult) {
    const els = app.els;
    setNotice(els.inboxError, "");
    els.inboxReload.disabled = true;
    try {
      const data = await api("GET", "/inbox");
      app.items = Array.isArray(data.items) ? data.items : [];
      app.intents = Array.isArray(data.intents) ? data.intents : [];
      if (data.days) els.inboxDays.textContent = String(data.days);
      renderInbox();
      if (announceResult) {
        setNotice(els.inboxStatus, countText(app.items.length) + " to review.");
      }
    } catch (error) {
      els.inboxLoading.hidden = true;
      setNotice(els.inboxError, "The messages could not be loaded: " + errorText(error), true);
    } finally {
      els.inboxReload.disabled = false;
    }
  }

  function countText(count) {
    return count === 1 ? "1 message" : count + " messages";
  }

  function renderCount() {
    app.els.inboxCount.textContent = "(" + countText(app.items.length) + ")";
    app.els.inboxEmpty.hidden = app.items.length > 0;
  }

  function renderInbox() {
    const list = app.els.inboxList;
    app.els.inboxLoading.hidden = true;
    list.replaceChildren.apply(
      list,
      app.items.map(function (item, index) {
        return itemNode(item, index);
      })
    );
    renderCount();
  }

  function intentSelect(id, describedBy) {
    const select = h("select", { id: id, "aria-describedby": describedBy, "data-testid": "intent-select" }, [
      h("option", { value: "", text: "Choose an intent" }),
    ]);
    app.intents.forEach(function (intent) {
      select.appendChild(h("option", { value: intent, text: intent }));
    });
    return select;
  }

  function itemNode(item, index) {
    const key = safeToken(item.id) + "-" + index;
    const textId = "item-text-" + key;
    const errorNode = h("p", { className: "item-error", "data-testid": "item-error" });
    const controls = [];
    const node = h("li", { className: "inbox-item", "data-item-id": item.id, "data-testid": "inbox-item" });

    const heading = h("h3", { className: "item-heading", id: textId, tabindex: "-1" }, [
      h("span", { className: "visually-hidden", text: "Message: " }),
      h("q", { className: "item-text", "data-testid": "item-text", text: item.text }),
    ]);

    const facts = h("ul", { className: "item-facts" }, [
      h("li", { text: item.count === 1 ? "Seen once" : "Seen " + item.count + " times" }),
      h("li", { "data-testid": "item-reasons" }, [
        h("span", { className: "fact-name", text: "Why it is here: " }),
        (item.reason_text || []).join("; "),
      ]),
      item.intent
        ? h("li", {}, [
            h("span", { className: "fact-name", text: "The assistant took it as: " }),
            item.intent + " (" + percent(item.confidence) + " sure)",
          ])
        : null,
      item.last_seen ? h("li", { text: "Last seen " + when(item.last_seen) }) : null,
    ]);

    let variants = null;
    if (item.variants && item.variants.length) {
      variants = h("div", { className: "item-variants" }, [
        h("p", { className: "small-label", text: "Other wordings grouped with it:" }),
        h(
          "ul",
          {},
          item.variants.map(function (variant) {
            return h("li", { text: variant });
          })
        ),
      ]);
    }

    function decideWith(body) {
      return function () {
        decide(item, body, node, controls, errorNode);
      };
    }

    let labelling = null;
    if (item.in_test_set) {
      labelling = h("p", {
        className: "item-warning",
        "data-testid": "item-in-test-set",
        text:
          "This message is in a held-out set, which must stay unseen by training, so it cannot be added to " +
          "the training data. Mark it not useful or suggest a new intent.",
      });
    } else {
      const suggestions = (item.suggestions || []).map(function (suggestion) {
        const button = h(
          "button",
          {
            type: "button",
            className: "suggestion",
            "aria-describedby": textId,
            "data-testid": "suggestion",
            "data-intent": suggestion.intent,
            onclick: decideWith({ id: item.id, intent: suggestion.intent }),
          },
          ["Label as " + suggestion.intent + " ", h("span", { className: "sure", text: "(" + percent(suggestion.confidence) + ")" })]
        );
        controls.push(button);
        return button;
      });
      const selectId = "intent-" + key;
      const select = intentSelect(selectId, textId);
      const save = h("button", {
        type: "button",
        className: "button-primary",
        "aria-describedby": textId,
        "data-testid": "save-label",
        text: "Save label",
        onclick: function () {
          if (!select.value) {
            errorNode.textContent = "Choose an intent first.";
            setNotice(app.els.inboxError, "Choose an intent first.");
            select.focus();
            return;
          }
          decideWith({ id: item.id, intent: select.value })();
        },
      });
      controls.push(select, save);
      labelling = h("div", { className: "item-labelling" }, [
        suggestions.length
          ? h("div", { className: "suggestions", role: "group", "aria-labelledby": "sugg-" + key }, [
              h("p", { className: "small-label", id: "sugg-" + key, text: "The assistant's top suggestions" }),
              h("div", { className: "row" }, suggestions),
            ])
          : null,
        h("div", { className: "label-row" }, [
          h("label", { for: selectId, text: "Intent" }),
          h("div", { className: "row" }, [select, save]),
        ]),
      ]);
    }

    const notUseful = h("button", {
      type: "button",
      "aria-describedby": textId,
      "data-testid": "not-useful",
      text: "Not useful",
      onclick: decideWith({ id: item.id, not_useful: true }),
    });
    const newId = "new-intent-" + key;
    const newInput = h("input", {
      id: newId,
      type: "text",
      autocomplete: "off",
      spellcheck: "false",
      maxlength: "64",
      "aria-describedby": newId + "-hint",
      "data-testid": "new-intent-input",
    });
    const suggestNew = h("button", {
      type: "button",
      "aria-describedby": textId,
      "data-testid": "suggest-new-intent",
      text: "Suggest new intent",
      onclick: function () {
        const name = newInput.value.trim();
        if (!name) {
          errorNode.textContent = "Type a name for the new intent first.";
          setNotice(app.els.inboxError, "Type a name for the new intent first.");
          newInput.focus();
          return;
        }
        decideWith({ id: item.id, new_intent: name })();
      },
    });
    controls.push(notUseful, newInput, suggestNew);
    const personal = personalDetailNode(item, key, textId);

    [heading, facts, variants, labelling].forEach(function (part) {
      if (part) node.appendChild(part);
    });
    node.append(
      h("div", { className: "item-other" }, [
        h("div", { className: "row" }, [notUseful]),
        h("div", { className: "new-intent" }, [
          h("label", { for: newId, text: "New intent name" }),
          h("p", {
            className: "hint",
            id: newId + "-hint",
            text: "When none of the intents fits. Lower case letters, digits and _, for example school_admissions.",
          }),
          h("div", { className: "row" }, [newInput, suggestNew]),
        ]),
      ]),
      personal,
      errorNode
    );
    return node;
  }

  /* "Personal detail left in": the reviewer ticks the words the redactor missed and says what they are;
     the server replaces them with a placeholder in the stored messages at once (review_views.py,
     bot/retrain/misses.py). Offsets are in code points, as the server counts them. */
  const DETAIL_LABELS = [
    ["name", "A name"],
    ["address", "An address or place where someone lives"],
    ["school", "A school or nursery"],
    ["date", "A date (of birth or other)"],
    ["reference", "A case number or reference"],
    ["phone", "A phone number"],
    ["email", "An email address"],
    ["postcode", "A postcode"],
    ["other", "Something else that identifies someone"],
  ];

  function words(text) {
    const chars = Array.from(text || "");
    const found = [];
    let start = -1;
    chars.forEach(function (char, index) {
      const space = /\s/.test(char);
      if (!space && start < 0) start = index;
      if (space && start >= 0) {
        found.push({ start: start, end: index, text: chars.slice(start, index).join("") });
        start = -1;
      }
    });
    if (start >= 0) found.push({ start: start, end: chars.length, text: chars.slice(start).join("") });
    return { chars: chars, words: found };
  }

  function personalDetailNode(item, key, textId) {
    const panelId = "detail-" + key;
    const parsed = words(item.text);
    const error = h("p", { className: "item-error", id: panelId + "-error", "data-testid": "detail-error" });
    const toggle = h("button", {
      type: "button",
      "aria-expanded": "false",
      "aria-controls": panelId,
      "aria-describedby": textId,
      "data-testid": "detail-toggle",
      text: "Personal detail left in",
    });
    const boxes = parsed.words.map(function (word, index) {
      const id = panelId + "-w" + index;
      const box = h("input", { type: "checkbox", id: id, "data-testid": "detail-word" });
      box.dataset.index = String(index);
      return { box: box, node: h("span", { className: "detail-word" }, [box, h("label", { for: id, text: word.text })]) };
    });
    const selectId = panelId + "-label";
    const select = h(
      "select",
      { id: selectId, "data-testid": "detail-label" },
      [h("option", { value: "", text: "Choose what it is" })].concat(
        DETAIL_LABELS.map(function (pair) {
          return h("option", { value: pair[0], text: pair[1] });
        })
      )
    );
    const save = h("button", {
      type: "button",
      className: "button-primary",
      "aria-describedby": panelId + "-hint",
      "data-testid": "detail-save",
      text: "Replace with a placeholder",
    });
    const panel = h("div", { className: "personal-detail", id: panelId, "data-testid": "detail-panel", hidden: true }, [
      h("fieldset", { className: "detail-words", "aria-describedby": panelId + "-hint" }, [
        h("legend", { text: "Which words are personal? Tick each one (one detail at a time)." }),
        h("div", { className: "row" }, boxes.map(function (entry) {
          return entry.node;
        })),
      ]),
      h("p", {
        className: "hint",
        id: panelId + "-hint",
        text:
          "The words are replaced at once by a placeholder such as [NAME] in the stored messages and in " +
          "later exports. The audit log and the developers get only what kind of detail it was and its shape, " +
          "never the words.",
      }),
      h("div", { className: "label-row" }, [h("label", { for: selectId, text: "What is it?" }), select]),
      h("div", { className: "row" }, [save]),
      error,
    ]);

    toggle.addEventListener("click", function () {
      const open = toggle.getAttribute("aria-expanded") !== "true";
      toggle.setAttribute("aria-expanded", open ? "true" : "false");
      panel.hidden = !open;
      if (open && boxes.length) boxes[0].box.focus();
    });
    panel.addEventListener("keydown", function (event) {
      if (event.key === "Escape") {
        toggle.setAttribute("aria-expanded", "false");
        panel.hidden = true;
        toggle.focus();
      }
    });
    save.addEventListener("click", function () {
      const chosen = boxes.filter(function (entry) {
        return entry.box.checked;
      }).map(function (entry) {
        return Number(entry.box.dataset.index);
      });
      function refuse(text, focus) {
        error.textContent = text;
        setNotice(app.els.inboxError, text);
        if (focus) focus.focus();
      }
      if (!chosen.length) return refuse("Tick the personal words first.", boxes.length ? boxes[0].box : null);
      if (chosen[chosen.length - 1] - chosen[0] !== chosen.length - 1) {
        return refuse("Tick words that stand next to each other: mark one personal detail at a time.", boxes[chosen[0]].box);
      }
      if (!select.value) return refuse("Choose what kind of personal detail it is.", select);
      const start = parsed.words[chosen[0]].start;
      const end = parsed.words[chosen[chosen.length - 1]].end;
      markDetail(item, {
        id: item.id,
        start: start,
        end: end,
        label: select.value,
        shown: parsed.chars.slice(start, end).join(""),
      }, [save, select].concat(boxes.map(function (entry) { return entry.box; })), error);
    });
    return h("div", { className: "item-personal" }, [h("div", { className: "row" }, [toggle]), panel]);
  }

  async function markDetail(item, body, controls, errorNode) {
    errorNode.textContent = "";
    setNotice(app.els.inboxError, "");
    setBusy(controls, true);
    try {
      const result = await api("POST", "/personal-detail", body);
      await loadInbox(false);
      setNotice(app.els.inboxStatus, "Done. " + (result.message || ""));
      const again = Array.from(app.els.inboxList.querySelectorAll(".inbox-item")).find(function (node) {
        return node.getAttribute("data-item-id") === result.new_id;
      });
      const target = again ? again.querySelector(".item-heading") : app.els.inboxHeading;
      (target || app.els.inboxHeading).focus();
    } catch (error) {
      setBusy(controls, false);
      errorNode.textContent = errorText(error);
      setNotice(app.els.inboxError, "Not changed: " + errorText(error), true);
    }
  }

  async function decide(item, body, node, controls, errorNode) {
    errorNode.textContent = "";
    setNotice(app.els.inboxError, "");
    setBusy(controls, true);
    try {
      const result = await api("POST", "/decisions", body);
      const index = app.items.indexOf(item);
      if (index >= 0) app.items.splice(index, 1);
      const next = node.nextElementSibling || node.previousElementSibling;
      node.remove();
      renderCount();
      setNotice(app.els.inboxStatus, "Saved. " + (result.message || ""));
      const target = next ? next.querySelector(".item-heading") : app.els.inboxHeading;
      (target || app.els.inboxHeading).focus();
    } catch (error) {
      setBusy(controls, false);
      errorNode.textContent = errorText(error);
      setNotice(app.els.inboxError, "Not saved: " + errorText(error), true);
    }
  }

  /* ------------------------------------------------------------------ 2. retrain */

  function isRunning(status) {
    return Boolean(status) && RUNNING.indexOf(status.state) >= 0;
  }

  async function loadStatus() {
    let status;
    try {
      status = await api("GET", "/status");
    } catch (error) {
      setNotice(app.els.trainError, "The training progress could not be read: " + errorText(error), true);
      schedulePoll(POLL_MS * 5);
      return;
    }
    const before = app.status;
    app.status = status;
    renderStatus(status);
    if (isRunning(status)) {
      schedulePoll(POLL_MS);
      return;
    }
    schedulePoll(IDLE_POLL_MS); // notice a training someone else starts (another page, the command line)
    if (!before || isRunning(before) || before.candidate !== status.candidate || before.has_report !== status.has_report) {
      // a training just ended (or the page just opened): show its evaluation and the live model
      if (status.has_report && status.candidate) loadReport(status.candidate);
      else renderReport(null);
      if (before) loadLive();
    }
  }

  function schedulePoll(delay) {
    window.clearTimeout(app.pollTimer);
    app.pollTimer = window.setTimeout(loadStatus, delay);
  }

  function statusLine(status) {
    const pct = Math.round(status.percent || 0);
    const base = STATE_TEXT[status.state] || status.state;
    if (isRunning(status)) {
      return (
        base + ": " + pct + "% done" + (status.component ? " (" + status.component + ")" : "") +
        (status.time_left ? ", " + status.time_left : "") + "."
      );
    }
    if (status.state === "done") {
      return (
        "Finished " + when(status.finished) + ": " + (status.candidate || "the candidate") + " was trained and tested" +
        (status.actor ? " (started by " + status.actor + ")" : "") + "."
      );
    }
    if (status.state === "failed") {
      return "The training failed" + (status.finished ? " at " + when(status.finished) : "") + ": " + (status.message || "no reason given") + ".";
    }
    return base;
  }

  function renderStatus(status) {
    const els = app.els;
    const running = isRunning(status);
    const pct = Math.max(0, Math.min(100, Math.round(status.percent || 0)));
    const shown = status.state === "idle" ? 0 : pct;
    els.trainProgress.setAttribute("aria-valuenow", String(shown));
    els.trainProgress.setAttribute(
      "aria-valuetext",
      status.state === "idle" ? "Not started" : shown + "%: " + (STATE_TEXT[status.state] || status.state)
    );
    els.trainProgress.dataset.state = status.state || "idle";
    els.trainFill.style.width = shown + "%"; // CSSOM, allowed by the page's style-src 'self'
    // the live region speaks at each state change and every 10%, not every poll
    const coarse = status.state + ":" + Math.floor(shown / 10) + ":" + (status.candidate || "");
    if (coarse !== app.announced) {
      app.announced = coarse;
      els.trainStatus.textContent = statusLine(status);
    }
    els.trainLog.textContent = (status.log_tail || []).join("\n") || "Nothing yet.";
    els.trainButton.disabled = running || app.deploying;
    els.trainButton.textContent = running ? "Training…" : "Retrain now";
    if (status.state === "failed") setNotice(els.trainError, statusLine(status), true);
    else if (running) setNotice(els.trainError, "");
    renderDeployButtons();
  }

  async function startTraining() {
    const els = app.els;
    setNotice(els.trainError, "");
    els.trainButton.disabled = true;
    try {
      const status = await api("POST", "/train");
      app.status = status;
      renderStatus(status);
      renderReport(null);
      schedulePoll(POLL_MS);
    } catch (error) {
      setNotice(els.trainError, "Not started: " + errorText(error), true);
      els.trainButton.disabled = false;
      loadStatus();
    }
  }

  /* ------------------------------------------------------------------ 3. evaluation */

  async function loadReport(name) {
    try {
      renderReport(await api("GET", "/report/" + encodeURIComponent(name)));
    } catch (error) {
      renderReport(null);
      if (error.status !== 404) setNotice(app.els.deployError, "The evaluation could not be loaded: " + errorText(error), true);
    }
  }

  function change(live, candidate) {
    if (typeof live !== "number" || typeof candidate !== "number") {
      return h("span", { className: "change change-none", text: "not comparable" });
    }
    const delta = candidate - live;
    if (Math.abs(delta) < 0.0005) return h("span", { className: "change change-none", text: "no change" });
    if (delta > 0) return h("span", { className: "change change-better", text: "▲ better by " + delta.toFixed(3) });
    return h("span", { className: "change change-worse", text: "▼ worse by " + (-delta).toFixed(3) });
  }

  // +0.011, −0.004 (a real minus sign), 0.000: as the command line and the report say it
  function signed(value) {
    if (typeof value !== "number") return "";
    const rounded = Math.round(value * 1000) / 1000;
    if (rounded === 0) return "0.000";
    return (rounded > 0 ? "+" : "\u2212") + Math.abs(rounded).toFixed(3);
  }

  function intervalText(row) {
    return row ? signed(row.low) + " to " + signed(row.high) : "";
  }

  // a share of resamples: 63%; near the line with one decimal, rounded down (94.9% is not 95%)
  function share(value) {
    if (typeof value !== "number") return "";
    if (value >= 0.9 && value < 1) return (Math.floor(value * 1000) / 10).toFixed(1) + "%";
    return Math.round(value * 100) + "%";
  }

  function levelText(rules) {
    const confidence = rules && typeof rules.confidence === "number" ? rules.confidence : 0.95;
    return Math.round((2 * confidence - 1) * 100) + "%";
  }

  // "How sure" for one comparison: the interval, and "worse with 95% confidence" when that refused it
  function sureNode(row, rules) {
    if (!row) return h("span", { className: "change change-none", text: "no answer changed" });
    return h("span", { className: row.worse ? "change change-worse change-too-much" : "change" }, [
      levelText(rules) + " interval " + intervalText(row) + "; worse in " + share(row.worse_share) + " of resamples",
      row.worse ? h("strong", { text: " (worse with " + percent(rules && rules.confidence) + " confidence)" }) : null,
    ]);
  }

  const CHANGE_TEXT = { worse: "▼ Now wrong", better: "▲ Now right", "still wrong": "Wrong before and after" };

  function renderDecision(report) {
    const els = app.els;
    const decision = report.decision || {};
    const rules = report.rules || {};
    const labels = decision.labels || {};
    els.evalLabels.textContent = labels.text || "No record of the messages labelled since the live model.";

    const changed = decision.changed || [];
    const counts = { worse: 0, better: 0, "still wrong": 0 };
    changed.forEach(function (entry) {
      counts[entry.change] = (counts[entry.change] || 0) + 1;
    });
    els.evalChangedIntro.textContent = changed.length
      ? changed.length + (changed.length === 1 ? " message gets" : " messages get") + " a different answer: " +
        counts.worse + " now wrong, " + counts.better + " now right, " + counts["still wrong"] + " wrong before and after."
      : "No held-out, crisis-set or labelled message gets a different answer.";
    els.evalChanged.replaceChildren.apply(
      els.evalChanged,
      changed.map(function (entry) {
        return h("tr", { className: entry.change === "worse" ? "row-worse" : entry.change === "better" ? "row-better" : "",
                         "data-change": safeToken(entry.change) }, [
          h("td", { text: CHANGE_TEXT[entry.change] || entry.change }),
          h("td", { text: entry.set }),
          h("th", { scope: "row" }, [h("q", { text: entry.text })]),
          h("td", { text: entry.right }),
          h("td", { text: entry.before + (entry.was_right ? " (right)" : " (wrong)") }),
          h("td", { text: entry.after + (entry.now_right ? " (right)" : " (wrong)") }),
        ]);
      })
    );

    els.evalConfidence.textContent = percent(rules.confidence);
    els.evalIntervalHeading.textContent = levelText(rules) + " interval";
    const rows = [];
    if (decision.overall && typeof decision.overall.live === "number") rows.push(["All held-out messages", decision.overall]);
    (decision.sets || []).forEach(function (row) {
      rows.push([row.name + " set (" + row.source + ")", row]);
    });
    els.evalEvidence.replaceChildren.apply(
      els.evalEvidence,
      rows.map(function (pair) {
        const row = pair[1];
        return h("tr", { className: row.worse ? "row-worse" : "", "data-set": safeToken(row.name || "all") }, [
          h("th", { scope: "row", text: pair[0] }),
          h("td", { className: "num", text: String(row.messages) }),
          h("td", { className: "num", text: score(row.live) }),
          h("td", { className: "num", text: score(row.candidate) }),
          h("td", { className: "num", text: signed(row.difference) }),
          h("td", { className: "num", text: intervalText(row) }),
          h("td", { className: "num" }, [
            share(row.worse_share),
            row.worse ? h("strong", { text: " (worse with " + percent(rules.confidence) + " confidence)" }) : null,
          ]),
        ]);
      })
    );

    const crisis = decision.crisis || {};
    els.evalCrisis.textContent = crisis.checked
      ? "Safety net on " + crisis.source + ": the candidate catches " + crisis.candidate_caught + " of " +
        crisis.crisis_messages + " crisis messages, the live model " + crisis.live_caught + " (it may not catch fewer). " +
        "False alarms: " + crisis.candidate_false_alarms + " of " + crisis.other_messages + " (live: " +
        crisis.live_false_alarms + ")."
      : crisis.reason || "";
  }

  function scoreCells(scores) {
    scores = scores || {};
    return ["precision", "recall", "f1"].map(function (key) {
      return h("td", { className: "num", text: score(scores[key]) });
    });
  }

  function renderReport(report) {
    const els = app.els;
    app.report = report;
    if (!report) {
      els.evalBody.hidden = true;
      els.evalEmpty.hidden = false;
      els.evalEmpty.textContent =
        app.status && isRunning(app.status)
          ? "The candidate will be shown here once it has been trained and tested."
          : "No candidate has been evaluated yet. Retrain to make one.";
      renderDeployButtons();
      return;
    }
    els.evalEmpty.hidden = true;
    els.evalBody.hidden = false;
    els.evalIntro.textContent =
      "Candidate " + report.candidate + " against the live model " + (report.live.model || "") + ", on " +
      (report.messages || "the") + " held-out messages (" + report.test_set + ") that are never used for training. " +
      "Tested " + when(report.evaluated_at) + ".";

    const rules = report.rules || {};
    const cand = report.candidate_scores || {};
    els.evalSummary.replaceChildren(
      h("tr", {}, [
        h("th", { scope: "row", text: "Accuracy" }),
        h("td", { className: "num", "data-testid": "live-accuracy", text: score(report.live.accuracy) }),
        h("td", { className: "num", "data-testid": "candidate-accuracy", text: score(cand.accuracy) }),
        h("td", {}, [change(report.live.accuracy, cand.accuracy)]),
      ]),
      h("tr", {}, [
        h("th", { scope: "row", text: "Macro-F1" }),
        h("td", { className: "num", "data-testid": "live-macro-f1", text: score(report.live.macro_f1) }),
        h("td", { className: "num", "data-testid": "candidate-macro-f1", text: score(cand.macro_f1) }),
        h("td", {}, [change(report.live.macro_f1, cand.macro_f1)]),
      ])
    );
    renderDecision(report);
    const sure = {};
    ((report.decision || {}).intents || []).forEach(function (row) {
      sure[row.intent] = row;
    });

    const rows = Object.keys(report.per_intent || {}).map(function (intent) {
      const pair = report.per_intent[intent] || {};
      const live = pair.live || {};
      const candidate = pair.candidate || {};
      const delta = change(live.f1, candidate.f1);
      const rowClass = delta.classList.contains("change-worse")
        ? "row-worse"
        : delta.classList.contains("change-better")
        ? "row-better"
        : "";
      return h("tr", { className: rowClass, "data-intent": intent }, [
        h("th", { scope: "row", text: intent }),
        h("td", { className: "num", text: String(candidate.support != null ? candidate.support : live.support != null ? live.support : "") }),
      ].concat(scoreCells(live), scoreCells(candidate), [h("td", {}, [delta]), h("td", {}, [sureNode(sure[intent], rules)])]));
    });
    els.evalIntents.replaceChildren.apply(els.evalIntents, rows);

    const verdict = report.verdict || { ok: false, reasons: [] };
    const verdictNodes = [];
    if (verdict.ok) {
      verdictNodes.push(
        h("p", { className: "verdict-ok", "data-testid": "verdict-ok" }, [
          h("strong", { text: "Can be put live. " }),
          "There is no evidence that the candidate is worse than the live model.",
        ])
      );
      if (report.decision && report.decision.verdict) {
        verdictNodes.push(h("p", { className: "verdict-detail", "data-testid": "gate-verdict", text: report.decision.verdict }));
      }
    } else {
      verdictNodes.push(
        h("p", { className: "verdict-refused", "data-testid": "verdict-refused" }, [
          h("strong", { text: "Cannot be put live" }),
          verdict.reasons && verdict.reasons.length ? ", because:" : ".",
        ])
      );
      if (verdict.reasons && verdict.reasons.length) {
        verdictNodes.push(
          h(
            "ul",
            { className: "verdict-reasons", "data-testid": "verdict-reasons" },
            verdict.reasons.map(function (reason) {
              return h("li", { text: reason });
            })
          )
        );
      }
    }
    els.evalVerdict.replaceChildren.apply(els.evalVerdict, verdictNodes);
    els.evalVerdict.className = "verdict " + (verdict.ok ? "verdict-is-ok" : "verdict-is-refused");

    const figures = (report.images || []).map(function (image) {
      const captionId = "figure-" + safeToken(image.name);
      return h("figure", { className: "chart", "aria-labelledby": captionId }, [
        h("img", { src: image.url, alt: image.alt, loading: "lazy", "data-testid": "chart-" + safeToken(image.name) }),
        h("figcaption", {
          id: captionId,
          text: image.name === "confusion" ? "Confusion matrix of the candidate" : "F1 for each intent: live model and candidate",
        }),
      ]);
    });
    els.evalImages.replaceChildren.apply(els.evalImages, figures);
    renderDeployButtons();
  }

  function renderDeployButtons() {
    const els = app.els;
    const running = isRunning(app.status);
    const report = app.report;
    const canPromote =
      Boolean(report && report.verdict && report.verdict.ok) &&
      !running &&
      !app.deploying &&
      Boolean(app.status && app.status.candidate === report.candidate);
    els.promoteButton.disabled = !canPromote;
    els.rollbackButton.disabled = !(app.live && app.live.can_roll_back) || app.deploying || running;
  }

  async function promote() {
    const els = app.els;
    if (!app.report) return;
    setNotice(els.deployError, "");
    app.deploying = true;
    renderDeployButtons();
    els.promoteButton.setAttribute("aria-busy", "true");
    setNotice(els.deployStatus, "Putting " + app.report.candidate + " live…", true);
    try {
      const result = await api("POST", "/promote", { candidate: app.report.candidate });
      setNotice(els.deployStatus, result.message || "Done.", true);
      renderLive(result);
    } catch (error) {
      setNotice(els.deployStatus, "");
      showDeployError(error);
    } finally {
      app.deploying = false;
      els.promoteButton.removeAttribute("aria-busy");
      if (app.report) await loadReport(app.report.candidate);
      await loadLive();
      renderDeployButtons();
    }
  }

  function showDeployError(error) {
    const reasons = error && error.data && Array.isArray(error.data.reasons) ? error.data.reasons : [];
    const nodes = [h("p", { text: errorText(error) })];
    if (reasons.length > 1) {
      nodes.push(
        h(
          "ul",
          {},
          reasons.map(function (reason) {
            return h("li", { text: reason });
          })
        )
      );
    }
    window.clearTimeout(app.noticeTimers["deploy-error"]);
    app.els.deployError.replaceChildren.apply(app.els.deployError, nodes);
  }

  // A confirmation panel: its question is shown and focused; closing it returns focus.
  function showConfirm(panel, question, text) {
    question.textContent = text;
    panel.hidden = false;
    question.focus();
  }

  function hideConfirm(panel, focusAfter) {
    panel.hidden = true;
    focusAfter.focus();
  }

  function askRollback() {
    const els = app.els;
    const live = app.live || {};
    showConfirm(els.rollbackConfirm, els.rollbackConfirmText,
      "Put the previous model, " + (live.previous || "") + ", back live instead of " + (live.live || "the live model") +
      "? Families will be answered by it from now on.");
  }

  function cancelRollback() {
    hideConfirm(app.els.rollbackConfirm, app.els.rollbackButton);
  }

  async function rollback() {
    const els = app.els;
    els.rollbackConfirm.hidden = true;
    setNotice(els.deployError, "");
    app.deploying = true;
    renderDeployButtons();
    setNotice(els.deployStatus, "Rolling back…", true);
    try {
      const result = await api("POST", "/rollback", {});
      setNotice(els.deployStatus, result.message || "Rolled back.", true);
      renderLive(result);
    } catch (error) {
      setNotice(els.deployStatus, "");
      showDeployError(error);
    } finally {
      app.deploying = false;
      await loadLive();
      if (app.report) await loadReport(app.report.candidate);
      renderDeployButtons();
      if (els.rollbackButton.disabled) els.modelsHeading.focus();
      else els.rollbackButton.focus();
    }
  }

  /* ------------------------------------------------------------------ 4. live model */

  async function loadLive() {
    try {
      renderLive(await api("GET", "/live"));
    } catch (error) {
      app.els.modelLive.textContent = "Could not be read: " + errorText(error);
    }
  }

  function renderLive(live) {
    const els = app.els;
    app.live = live;
    els.modelLive.textContent = live.live || "No model found";
    els.modelPrevious.textContent = live.previous || "None recorded (nothing has been put live from this page yet)";
    els.modelChanged.textContent = live.changed_at
      ? (live.action === "rollback" ? "Rolled back" : "Put live") + " " + when(live.changed_at) + (live.by ? " by " + live.by : "")
      : "No change recorded";
    if ("serving" in live) {
      els.modelServing.textContent = live.serving
        ? "The assistant reports that it is answering with " + live.serving + "."
        : "The assistant could not be asked which model it is answering with just now.";
    }
    renderDeployButtons();
  }

  /* ------------------------------------------------------------------ 5. delete a conversation */

  function askDelete(event) {
    event.preventDefault();
    const els = app.els;
    setNotice(els.deleteError, "");
    const id = els.deleteId.value.trim();
    if (!id) {
      setNotice(els.deleteError, "Type the conversation id first.", true);
      els.deleteId.setAttribute("aria-invalid", "true");
      els.deleteId.focus();
      return;
    }
    els.deleteId.removeAttribute("aria-invalid");
    els.deleteConfirm.dataset.conversationId = id;
    showConfirm(els.deleteConfirm, els.deleteConfirmText,
      "Delete everything kept about conversation " + id + "? This cannot be undone.");
  }

  function cancelDelete() {
    hideConfirm(app.els.deleteConfirm, app.els.deleteId);
  }

  async function deleteConversation() {
    const els = app.els;
    const id = els.deleteConfirm.dataset.conversationId || "";
    els.deleteConfirm.hidden = true;
    setBusy([els.deleteButton], true);
    try {
      const result = await api("POST", "/delete-conversation", { conversation_id: id });
      setNotice(els.deleteStatus, result.message || "Deleted.", true);
      if (result.found) {
        els.deleteId.value = "";
        loadInbox(false); // its messages leave the inbox too
      }
    } catch (error) {
      setNotice(els.deleteError, "Not deleted: " + errorText(error), true);
    } finally {
      setBusy([els.deleteButton], false);
      els.deleteId.focus();
    }
  }

  /* ------------------------------------------------------------------ start */

  function cacheElements() {
    const ids = {
      inboxHeading: "inbox-heading",
      inboxCount: "inbox-count",
      inboxDays: "inbox-days",
      inboxReload: "inbox-reload",
      inboxStatus: "inbox-status",
      inboxError: "inbox-error",
      inboxLoading: "inbox-loading",
      inboxEmpty: "inbox-empty",
      inboxList: "inbox-list",
      trainButton: "train-button",
      trainProgress: "train-progress",
      trainFill: "train-progress-fill",
      trainStatus: "train-status",
      trainError: "train-error",
      trainLog: "train-log",
      evalEmpty: "eval-empty",
      evalBody: "eval-body",
      evalIntro: "eval-intro",
      evalLabels: "eval-labels",
      evalChangedIntro: "eval-changed-intro",
      evalChanged: "eval-changed",
      evalConfidence: "eval-confidence",
      evalIntervalHeading: "eval-interval-heading",
      evalEvidence: "eval-evidence",
      evalCrisis: "eval-crisis",
      evalSummary: "eval-summary",
      evalVerdict: "eval-verdict",
      evalIntents: "eval-intents",
      evalImages: "eval-images",
      promoteButton: "promote-button",
      rollbackButton: "rollback-button",
      rollbackConfirm: "rollback-confirm",
      rollbackConfirmText: "rollback-confirm-text",
      rollbackYes: "rollback-yes",
      rollbackNo: "rollback-no",
      deployStatus: "deploy-status",
      deployError: "deploy-error",
      modelsHeading: "models-heading",
      modelLive: "model-live",
      modelPrevious: "model-previous",
      modelChanged: "model-changed",
      modelServing: "model-serving",
      deleteForm: "delete-form",
      deleteId: "delete-id",
      deleteButton: "delete-button",
      deleteConfirm: "delete-confirm",
      deleteConfirmText: "delete-confirm-text",
      deleteYes: "delete-yes",
      deleteNo: "delete-no",
      deleteStatus: "delete-status",
      deleteError: "delete-error",
    };
    Object.assign(app.els, elementsById(ids));
  }

  function init() {
    applyRole();
    cacheElements();
    if (!app.els.inboxList) return; // not the review page
    const els = app.els;
    els.inboxReload.addEventListener("click", function () {
      loadInbox(true);
    });
    els.trainButton.addEventListener("click", startTraining);
    els.promoteButton.addEventListener("click", promote);
    els.rollbackButton.addEventListener("click", askRollback);
    els.rollbackYes.addEventListener("click", rollback);
    els.rollbackNo.addEventListener("click", cancelRollback);
    els.deleteForm.addEventListener("submit", askDelete);
    els.deleteYes.addEventListener("click", deleteConversation);
    els.deleteNo.addEventListener("click", cancelDelete);
    [els.rollbackConfirm, els.deleteConfirm].forEach(function (panel) {
      panel.addEventListener("keydown", function (event) {
        if (event.key === "Escape") (panel === els.rollbackConfirm ? cancelRollback : cancelDelete)();
      });
    });
    loadInbox(false);
    loadStatus();
    loadLive();
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
