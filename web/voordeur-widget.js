/*
 * Voordeur chat widget: one script tag on a municipal page.
 *
 *   <script src="https://chat.example.nl/voordeur-widget.js"
 *           data-rasa-url="https://chat.example.nl" data-channel="web"
 *           data-api-url="https://overdracht.example.nl"
 *           data-municipality="Helmond" data-token-color-primary="#8a1538"></script>
 *
 * - Talks to the Rasa REST channel (POST /webhooks/rest/webhook) with metadata.channel "web".
 * - With an API URL (data-api-url or window.VOORDEUR_API_URL) it asks the handover API every
 *   15 s while the chat is open (and once on opening) for messages a professional wrote to
 *   this chat (GET /api/v1/webchat/messages?sender=..., the same sender id as for Rasa); they
 *   appear as "{organisation} (medewerker):", as text only, and are kept like the others.
 *   Without an API URL it never asks.
 * - Bot text is inserted as text, never as HTML: links (http/https only) are built with DOM
 *   APIs, so markup in a message cannot run.
 * - The styles come from voordeur-widget.css next to this script (no inline styles, so a strict
 *   Content-Security-Policy works); design tokens are documented there and in web/README.md.
 * - The visible conversation, the sender id and the reference number are kept per browser tab
 *   in sessionStorage (capped, text only), so a reload or another page of the same site shows
 *   the same conversation; "Nieuw gesprek" wipes it.
 *
 * Keyboard and screen readers (see web/README.md): the launcher opens a dialog; Escape or the
 * close button closes it and focus goes back to the launcher. Tab order follows the visual
 * order: close, the conversation log (scrollable with the arrow keys), the reply buttons of
 * the latest question (inside the log, right under that question; answered ones are disabled),
 * the input, send, "Nieuw gesprek". After a button press focus goes to the input, so
 * Shift+Tab reaches the buttons again in one step. Every message starts with a visually hidden
 * speaker label ("U zei:", "Assistent:"; a professional's message has a visible one); the log is role=log aria-live=polite and the typing
 * indicator is a polite status.
 */
(function () {
  "use strict";
  if (window.VoordeurChat) return; // included twice: one widget
  var script = document.currentScript;
  var data = (script && script.dataset) || {};
  var rasaUrl = (data.rasaUrl || window.VOORDEUR_RASA_URL || "http://127.0.0.1:5005").replace(/\/+$/, "");
  var channel = data.channel || "web";
  var municipality = data.municipality || "";
  var apiUrl = (data.apiUrl || window.VOORDEUR_API_URL || "").replace(/\/+$/, "");
  var POLL_MS = 15000;
  var POLL_MAX_MS = 120000; // after errors (e.g. 429 from a proxy) it asks less often
  var STORE_KEY = "voordeur-chat";
  var MAX_ITEMS = 60; // stored and shown: the latest messages only
  var MAX_TEXT = 4000; // per stored message
  var REFERENCE = /\bVD-[A-Z0-9]{4}-[0-9]{2}\b/;
  var URL_PATTERN = /https?:\/\/[^\s<>"]+/g;
  var PHONE_QUERY = "(max-width: 30rem), (max-height: 30rem)";
  var SVG_NS = "http://www.w3.org/2000/svg";

  // -- state (sessionStorage, this tab only) --------------------------------------------------
  function newSender() {
    var bytes = new Uint8Array(12);
    (window.crypto || window.msCrypto).getRandomValues(bytes);
    return "web-" + Array.prototype.map.call(bytes, function (b) {
      return ("0" + b.toString(16)).slice(-2);
    }).join("");
  }
  function emptyState() {
    return { v: 1, sender: newSender(), open: false, reference: null, trimmed: false, items: [] };
  }
  function load() {
    try {
      var saved = JSON.parse(sessionStorage.getItem(STORE_KEY) || "null");
      if (saved && saved.v === 1 && typeof saved.sender === "string" && Array.isArray(saved.items)) {
        return saved;
      }
    } catch (e) { /* unreadable or blocked storage: a fresh conversation */ }
    return emptyState();
  }
  var state = load();
  function save() {
    if (state.items.length > MAX_ITEMS) {
      state.items = state.items.slice(-MAX_ITEMS);
      state.trimmed = true;
    }
    try {
      sessionStorage.setItem(STORE_KEY, JSON.stringify(state));
    } catch (e) { /* storage full or blocked: the chat still works, only not after a reload */ }
  }

  // -- DOM helpers ----------------------------------------------------------------------------
  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (name) {
      if (name === "text") node.textContent = attrs[name];
      else if (name === "className") node.className = attrs[name];
      else node.setAttribute(name, attrs[name]);
    });
    (children || []).forEach(function (child) { if (child) node.appendChild(child); });
    return node;
  }
  function icon(paths) {
    var svg = document.createElementNS(SVG_NS, "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
    svg.setAttribute("class", "vd-icon");
    paths.forEach(function (d) {
      var path = document.createElementNS(SVG_NS, "path");
      path.setAttribute("d", d);
      svg.appendChild(path);
    });
    return svg;
  }
  var ICON_CHAT = ["M21 12a8 8 0 0 1-11.6 7.1L4 20l1-4.6A8 8 0 1 1 21 12z"];
  var ICON_CLOSE = ["M6 6l12 12", "M18 6L6 18"];
  var ICON_EXTERNAL = ["M14 4h6v6", "M20 4l-9 9", "M18 14v5a1 1 0 0 1-1 1H5a1 1 0 0 1-1-1V7a1 1 0 0 1 1-1h5"];
  function srOnly(text) { return el("span", { className: "vd-sr", text: text }); }

  /** Text with its http(s) URLs as links that open in a new tab, built node by node. */
  function richText(parent, text) {
    var last = 0;
    text.replace(URL_PATTERN, function (match, offset) {
      var url = match.replace(/[.,;:!?)\]'’]+$/, "");
      var href = null;
      try {
        var parsed = new URL(url);
        if (parsed.protocol === "https:" || parsed.protocol === "http:") href = parsed.href;
      } catch (e) { href = null; }
      if (!href) return match;
      parent.appendChild(document.createTextNode(text.slice(last, offset)));
      var link = el("a", { href: href, target: "_blank", rel: "noopener noreferrer" });
      link.appendChild(document.createTextNode(url));
      link.appendChild(icon(ICON_EXTERNAL));
      link.appendChild(srOnly(" (opent in nieuw tabblad)"));
      parent.appendChild(link);
      last = offset + url.length;
      return match;
    });
    parent.appendChild(document.createTextNode(text.slice(last)));
  }

  // -- the widget -----------------------------------------------------------------------------
  if (!document.querySelector("link[data-voordeur-css]")) {
    var cssHref = data.css || (script && script.src ? new URL("voordeur-widget.css", script.src).href : "voordeur-widget.css");
    document.head.appendChild(el("link", { rel: "stylesheet", href: cssHref, "data-voordeur-css": "" }));
  }

  var root = el("div", { id: "voordeur-chat", lang: "nl" });
  Object.keys(data).forEach(function (key) {
    // data-token-color-primary="#8a1538" -> --vd-color-primary
    if (key.indexOf("token") === 0 && key.length > 5) {
      var token = key.slice(5).replace(/[A-Z]/g, function (c) { return "-" + c.toLowerCase(); });
      root.style.setProperty("--vd" + token, data[key]);
    }
  });

  var launcherBadge = el("span", { className: "vd-badge" });
  var launcher = el("button", {
    type: "button", className: "vd-launcher", "aria-expanded": "false", "aria-controls": "vd-panel"
  }, [icon(ICON_CHAT), el("span", { text: "Stel uw vraag" }), launcherBadge]);

  var titleText = "Digitale assistent";
  var title = el("h2", { id: "vd-title", className: "vd-title" }, [
    document.createTextNode(titleText),
    el("span", { className: "vd-subtitle", text: municipality ? "Gemeente " + municipality : "Werk, inkomen en zorg" })
  ]);
  var closeButton = el("button", { type: "button", className: "vd-close" }, [
    icon(ICON_CLOSE), el("span", { text: "Sluiten" })
  ]);
  var referenceBar = el("p", { className: "vd-reference", hidden: "" });
  var log = el("div", {
    id: "vd-log", className: "vd-log", role: "log", "aria-live": "polite",
    "aria-label": "Gesprek met de digitale assistent", tabindex: "0"
  });
  var typing = el("p", { className: "vd-typing", role: "status", "aria-live": "polite" });
  var input = el("input", {
    id: "vd-input", type: "text", autocomplete: "off", maxlength: "2000",
    placeholder: "Typ uw vraag…", enterkeyhint: "send"
  });
  var form = el("form", { className: "vd-form", "aria-label": "Bericht sturen" }, [
    el("label", { for: "vd-input", className: "vd-sr", text: "Uw bericht aan de assistent" }),
    input,
    el("button", { type: "submit", className: "vd-send", text: "Stuur" })
  ]);
  var newButton = el("button", { type: "button", className: "vd-new", text: "Nieuw gesprek" });
  var confirmBox = el("div", { className: "vd-confirm", hidden: "" });
  var footer = el("div", { className: "vd-footer" }, [newButton, confirmBox]);
  var panel = el("section", {
    id: "vd-panel", className: "vd-panel", role: "dialog", "aria-labelledby": "vd-title", hidden: ""
  }, [el("div", { className: "vd-header" }, [title, closeButton]), referenceBar, log, typing, form, footer]);
  root.appendChild(launcher);
  root.appendChild(panel);
  document.body.appendChild(root);
  document.documentElement.classList.add("vd-has-launcher");

  // -- rendering ------------------------------------------------------------------------------
  var choiceNodes = new WeakMap(); // choices item -> its button group (not stored)
  var LABELS = { user: "U zei: ", bot: "Assistent: ", error: "Melding: ", notice: "" };

  function messageNode(item) {
    var node = el("p", { className: "vd-msg vd-" + item.t });
    if (LABELS[item.t]) node.appendChild(srOnly(LABELS[item.t]));
    if (item.t === "bot") richText(node, item.text);
    else node.appendChild(document.createTextNode(item.text));
    return node;
  }

  function choicesNode(item) {
    var group = el("div", { className: "vd-choices", role: "group", "aria-label": "Antwoordkeuzes" });
    item.buttons.forEach(function (b, i) {
      var button = el("button", { type: "button", text: b.title });
      if (item.answered) {
        button.disabled = true;
        if (item.chosen === i) button.className = "vd-chosen";
      }
      button.addEventListener("click", function () { choose(item, i); });
      group.appendChild(button);
    });
    choiceNodes.set(item, group);
    return group;
  }

  /** A professional's message: a visible speaker label, the text as text (never HTML). */
  function proNode(item) {
    var node = el("div", { className: "vd-msg vd-pro" });
    node.appendChild(el("p", { className: "vd-speaker", text: item.org + " (medewerker):" }));
    node.appendChild(el("p", { className: "vd-pro-text", text: item.text }));
    node.appendChild(el("p", { className: "vd-pro-author", text: "Geschreven door " + item.author + "." }));
    return node;
  }

  function render(item) {
    if (item.t === "choices") return choicesNode(item);
    if (item.t === "pro") return proNode(item);
    return messageNode(item);
  }

  function greeting() {
    var node = el("p", { className: "vd-msg vd-greeting" });
    node.appendChild(srOnly(LABELS.bot));
    node.appendChild(document.createTextNode(
      "Goedendag. Heeft u een vraag over geld, werk, schulden of hulp thuis? " +
      "Typ uw vraag hieronder in een paar woorden. U krijgt antwoord van een digitale assistent."));
    return node;
  }

  function renderAll() {
    log.textContent = "";
    log.appendChild(greeting());
    if (state.trimmed) {
      log.appendChild(messageNode({ t: "notice", text: "Oudere berichten worden niet meer getoond." }));
    }
    state.items.forEach(function (item) { log.appendChild(render(item)); });
    showReference();
    scrollToEnd();
  }

  function showReference() {
    referenceBar.textContent = "";
    launcherBadge.textContent = "";
    if (!state.reference) { referenceBar.hidden = true; return; }
    referenceBar.appendChild(document.createTextNode("Uw kenmerk: "));
    referenceBar.appendChild(el("strong", { text: state.reference }));
    referenceBar.hidden = false;
    launcherBadge.textContent = "(kenmerk " + state.reference + ")";
  }

  function scrollToEnd() {
    log.scrollTop = log.scrollHeight;
  }

  function add(item) {
    if (item.text && item.text.length > MAX_TEXT) item.text = item.text.slice(0, MAX_TEXT);
    state.items.push(item);
    log.appendChild(render(item));
    if (item.t === "bot") {
      var found = REFERENCE.exec(item.text);
      if (found) { state.reference = found[0]; showReference(); }
    }
    save();
    scrollToEnd();
  }

  /** Every open set of reply buttons is answered now (by a button or by typing). */
  function closeChoices(chosenItem, index) {
    state.items.forEach(function (item) {
      if (item.t !== "choices" || item.answered) return;
      item.answered = true;
      if (item === chosenItem) item.chosen = index;
      var group = choiceNodes.get(item);
      if (group) {
        Array.prototype.forEach.call(group.querySelectorAll("button"), function (b, i) {
          b.disabled = true;
          if (item === chosenItem && i === index) b.className = "vd-chosen";
        });
      }
    });
  }

  function choose(item, index) {
    if (item.answered) return; // a stale button: never sends
    var button = item.buttons[index];
    input.focus(); // before the buttons are disabled, so focus never drops to <body>
    closeChoices(item, index);
    send(button.payload, button.title);
  }

  // -- talking to Rasa ------------------------------------------------------------------------
  var waiting = 0;
  var queue = Promise.resolve();

  function setTyping(on) {
    waiting += on ? 1 : -1;
    if (waiting > 0 && !typing.firstChild) {
      typing.appendChild(el("span", { className: "vd-dots", "aria-hidden": "true" },
        [el("span"), el("span"), el("span")]));
      typing.appendChild(document.createTextNode(" De assistent typt…"));
    } else if (waiting <= 0) {
      waiting = 0;
      typing.textContent = "";
    }
  }

  function post(message) {
    return fetch(rasaUrl + "/webhooks/rest/webhook", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ sender: state.sender, message: message, metadata: { channel: channel } })
    }).then(function (response) {
      if (!response.ok) throw new Error("HTTP " + response.status);
      return response.json();
    });
  }

  function send(message, shown) {
    closeChoices(null, -1);
    add({ t: "user", text: shown || message });
    setTyping(true);
    var sender = state.sender;
    // One at a time, in order: a second message typed while waiting goes after the first.
    queue = queue.then(function () { return post(message); }).then(function (messages) {
      if (sender !== state.sender) return; // "Nieuw gesprek" meanwhile
      (messages || []).forEach(function (m) {
        if (typeof m.text === "string" && m.text) add({ t: "bot", text: m.text });
        if (Array.isArray(m.buttons) && m.buttons.length) {
          add({
            t: "choices",
            answered: false,
            buttons: m.buttons.map(function (b) {
              return { title: String(b.title || b.payload), payload: String(b.payload || b.title) };
            })
          });
        }
      });
    }).catch(function () {
      if (sender !== state.sender) return;
      add({ t: "error", text: "Er ging iets mis met de verbinding. Probeer het zo nog eens, of bel uw gemeente." });
    }).then(function () { setTyping(false); });
    return queue;
  }

  // -- a professional's messages (the handover API) ---------------------------------------------
  var pollTimer = null;
  var pollDelay = POLL_MS;
  var polling = false;

  function known(id) {
    return state.items.some(function (item) { return item.t === "pro" && item.id === id; });
  }

  function poll() {
    pollTimer = null;
    if (!apiUrl || !state.open || polling) return;
    polling = true;
    var sender = state.sender;
    fetch(apiUrl + "/api/v1/webchat/messages?sender=" + encodeURIComponent(sender), {
      method: "GET", credentials: "omit", cache: "no-store"
    }).then(function (response) {
      if (!response.ok) throw new Error("HTTP " + response.status);
      return response.json();
    }).then(function (messages) {
      pollDelay = POLL_MS;
      if (sender !== state.sender || !Array.isArray(messages)) return; // "Nieuw gesprek" meanwhile
      messages.forEach(function (m) {
        if (!m || typeof m.body !== "string" || !m.body || known(String(m.id))) return;
        add({
          t: "pro",
          id: String(m.id),
          org: String(m.organisation_name || "De gemeente").slice(0, 200),
          author: String(m.author || "een medewerker").slice(0, 100),
          text: m.body
        });
      });
    }).catch(function () {
      pollDelay = Math.min(pollDelay * 2, POLL_MAX_MS); // quietly: the chat itself still works
    }).then(function () {
      polling = false;
      schedulePoll();
    });
  }

  function schedulePoll() {
    if (pollTimer) clearTimeout(pollTimer);
    pollTimer = null;
    if (apiUrl && state.open) pollTimer = setTimeout(poll, pollDelay);
  }

  function startPolling() {
    if (!apiUrl) return;
    if (pollTimer) clearTimeout(pollTimer);
    pollTimer = null;
    poll();
  }

  function stopPolling() {
    if (pollTimer) clearTimeout(pollTimer);
    pollTimer = null;
  }

  // -- open, close, new conversation ------------------------------------------------------------
  var phone = window.matchMedia ? window.matchMedia(PHONE_QUERY) : { matches: false };

  function applyModal() {
    if (phone.matches) panel.setAttribute("aria-modal", "true");
    else panel.removeAttribute("aria-modal");
  }

  function open(focusInput) {
    panel.hidden = false;
    launcher.hidden = true;
    launcher.setAttribute("aria-expanded", "true");
    document.documentElement.classList.add("vd-chat-open");
    applyModal();
    state.open = true;
    save();
    scrollToEnd();
    if (focusInput !== false) input.focus();
    startPolling();
  }

  function close() {
    panel.hidden = true;
    launcher.hidden = false;
    launcher.setAttribute("aria-expanded", "false");
    document.documentElement.classList.remove("vd-chat-open");
    state.open = false;
    save();
    stopPolling();
    launcher.focus();
  }

  function askNewConversation() {
    confirmBox.textContent = "";
    var yes = el("button", { type: "button", text: "Ja, wis dit gesprek" });
    var no = el("button", { type: "button", text: "Nee, terug" });
    confirmBox.appendChild(el("span", {
      text: state.reference ? "Het gesprek en uw kenmerk verdwijnen uit dit venster. Schrijf uw kenmerk eerst op." : "Het gesprek verdwijnt uit dit venster."
    }));
    confirmBox.appendChild(yes);
    confirmBox.appendChild(no);
    newButton.hidden = true;
    confirmBox.hidden = false;
    yes.addEventListener("click", function () {
      try { sessionStorage.removeItem(STORE_KEY); } catch (e) { /* nothing stored */ }
      state = emptyState();
      state.open = true;
      save();
      hideConfirm();
      renderAll();
      input.focus();
    });
    no.addEventListener("click", function () { hideConfirm(); newButton.focus(); });
    no.focus();
  }
  function hideConfirm() {
    confirmBox.hidden = true;
    confirmBox.textContent = "";
    newButton.hidden = false;
  }

  launcher.addEventListener("click", function () { open(true); });
  closeButton.addEventListener("click", close);
  newButton.addEventListener("click", askNewConversation);
  panel.addEventListener("keydown", function (e) {
    if (e.key === "Escape" || e.key === "Esc") {
      e.preventDefault();
      close();
      return;
    }
    if (e.key === "Tab" && panel.getAttribute("aria-modal") === "true") {
      // Full-screen on a phone: Tab stays inside the dialog.
      var focusable = Array.prototype.filter.call(
        panel.querySelectorAll("button, input, a[href], [tabindex='0']"),
        function (n) { return !n.disabled && n.offsetParent !== null; });
      if (!focusable.length) return;
      var first = focusable[0], last = focusable[focusable.length - 1];
      if (e.shiftKey && document.activeElement === first) { e.preventDefault(); last.focus(); }
      else if (!e.shiftKey && document.activeElement === last) { e.preventDefault(); first.focus(); }
    }
  });
  if (phone.addEventListener) phone.addEventListener("change", applyModal);
  form.addEventListener("submit", function (e) {
    e.preventDefault();
    var text = input.value.trim();
    if (!text) return;
    input.value = "";
    send(text);
  });

  renderAll();
  if (state.open) open(false); // a reload or the next page: as the resident left it, no focus grab

  window.VoordeurChat = { send: send, open: open, close: close };
})();
