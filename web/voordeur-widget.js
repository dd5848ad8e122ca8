/*
 * Voordeur chat widget: one script tag on a municipal page.
 *   <script src="voordeur-widget.js" data-rasa-url="https://chat.example.nl"></script>
 * It talks to the Rasa REST channel (POST /webhooks/rest/webhook) with metadata.channel = "web".
 * Bot text is inserted as text, never as HTML, so markup in a message cannot run.
 */
(function () {
  "use strict";
  var script = document.currentScript;
  var rasaUrl = (script && script.dataset.rasaUrl) || window.VOORDEUR_RASA_URL || "http://127.0.0.1:5005";
  var key = "voordeur-sender";
  var sender = sessionStorage.getItem(key);
  if (!sender) {
    sender = "web-" + Math.random().toString(36).slice(2) + Date.now().toString(36);
    sessionStorage.setItem(key, sender);
  }
  var css = "#vd-chat{position:fixed;right:1rem;bottom:1rem;width:22rem;max-width:95vw;font-family:system-ui,sans-serif;" +
    "box-shadow:0 4px 16px rgba(0,0,0,.25);border-radius:.5rem;background:#fff;display:flex;flex-direction:column;max-height:80vh}" +
    "#vd-chat header{background:#00567a;color:#fff;padding:.6rem .8rem;border-radius:.5rem .5rem 0 0;font-weight:600}" +
    "#vd-log{overflow-y:auto;padding:.6rem;flex:1;min-height:14rem}" +
    ".vd-msg{margin:.3rem 0;padding:.45rem .65rem;border-radius:.6rem;max-width:85%;white-space:pre-wrap;word-wrap:break-word}" +
    ".vd-bot{background:#eef3f6}.vd-user{background:#00567a;color:#fff;margin-left:auto}" +
    ".vd-buttons button{margin:.2rem .3rem .2rem 0;padding:.35rem .8rem;border:1px solid #00567a;background:#fff;color:#00567a;border-radius:1rem;cursor:pointer}" +
    "#vd-form{display:flex;border-top:1px solid #ddd}#vd-form input{flex:1;border:0;padding:.7rem;font-size:1rem}" +
    "#vd-form button{border:0;background:#00567a;color:#fff;padding:0 1rem;font-size:1rem}";
  var style = document.createElement("style");
  style.textContent = css;
  document.head.appendChild(style);
  var box = document.createElement("section");
  box.id = "vd-chat";
  box.setAttribute("aria-label", "Chat met de digitale assistent");
  box.innerHTML = '<header>Voordeur — digitale assistent</header><div id="vd-log" role="log" aria-live="polite"></div>' +
    '<form id="vd-form"><label for="vd-input" style="position:absolute;left:-9999px">Uw bericht</label>' +
    '<input id="vd-input" autocomplete="off" maxlength="2000" placeholder="Typ uw vraag..."><button>Stuur</button></form>';
  document.body.appendChild(box);
  var log = box.querySelector("#vd-log");
  var input = box.querySelector("#vd-input");

  function add(text, who) {
    var div = document.createElement("div");
    div.className = "vd-msg vd-" + who;
    div.textContent = text;
    log.appendChild(div);
    log.scrollTop = log.scrollHeight;
    return div;
  }
  function addButtons(buttons) {
    var wrap = document.createElement("div");
    wrap.className = "vd-buttons";
    buttons.forEach(function (b) {
      var btn = document.createElement("button");
      btn.type = "button";
      btn.textContent = b.title;
      btn.onclick = function () { wrap.remove(); send(b.payload, b.title); };
      wrap.appendChild(btn);
    });
    log.appendChild(wrap);
  }
  function send(message, shown) {
    add(shown || message, "user");
    return fetch(rasaUrl + "/webhooks/rest/webhook", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ sender: sender, message: message, metadata: { channel: "web" } })
    }).then(function (r) { return r.json(); }).then(function (msgs) {
      msgs.forEach(function (m) {
        if (m.text) add(m.text, "bot");
        if (m.buttons && m.buttons.length) addButtons(m.buttons);
      });
    }).catch(function () {
      add("Er ging iets mis met de verbinding. Probeer het zo nog eens, of bel uw gemeente.", "bot");
    });
  }
  box.querySelector("#vd-form").addEventListener("submit", function (e) {
    e.preventDefault();
    var text = input.value.trim();
    if (!text) return;
    input.value = "";
    send(text);
  });
  window.VoordeurChat = { send: send };
})();
