// wsrouter chat page: talks to DirectedJsonRouter at /ws/{username}/.
// Plain script, no build step and no external resources. Every piece of text that comes from the
// network or from the user is rendered with textContent, never innerHTML.
(function () {
  "use strict";

  var EVERYONE = "*";

  var CLOSE_CODES = {
    1000: "normal closure",
    1001: "going away (server stopped or page left)",
    1002: "protocol error",
    1003: "unsupported data",
    1005: "no status code",
    1006: "connection lost or refused",
    1007: "invalid message data",
    1008: "policy violation",
    1009: "message too big",
    1011: "server error",
    1012: "service restart",
    1013: "try again later",
    1015: "TLS handshake failed"
  };

  var el = {
    connectForm: document.getElementById("connect-form"),
    username: document.getElementById("username"),
    connect: document.getElementById("connect"),
    disconnect: document.getElementById("disconnect"),
    status: document.getElementById("status"),
    endpoint: document.getElementById("endpoint"),
    sendForm: document.getElementById("send-form"),
    recipient: document.getElementById("recipient"),
    everyone: document.getElementById("everyone"),
    knownUsers: document.getElementById("known-users"),
    message: document.getElementById("message"),
    send: document.getElementById("send"),
    log: document.getElementById("log"),
    logEmpty: document.getElementById("log-empty"),
    clear: document.getElementById("clear")
  };

  var socket = null;
  var myName = "";
  var knownUsers = new Set();

  function randomName() {
    var n;
    if (window.crypto && window.crypto.getRandomValues) {
      var buf = new Uint32Array(1);
      window.crypto.getRandomValues(buf);
      n = 1000 + (buf[0] % 9000);
    } else {
      n = 1000 + Math.floor(Math.random() * 9000);
    }
    return "user-" + n;
  }

  function timeNow() {
    return new Date().toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" });
  }

  function setStatus(kind, text) {
    el.status.className = "status status-" + kind;
    el.status.textContent = text;
  }

  function describeClose(event) {
    var text = "closed (code " + event.code;
    var meaning = CLOSE_CODES[event.code];
    if (meaning) {
      text += ": " + meaning;
    }
    text += ")";
    if (event.reason) {
      text += " \u2014 " + event.reason;
    }
    return text;
  }

  function updateControls() {
    var state = socket ? socket.readyState : WebSocket.CLOSED;
    var open = state === WebSocket.OPEN;
    var idle = state === WebSocket.CLOSED;
    el.connect.disabled = !idle;
    el.username.disabled = !idle;
    el.disconnect.disabled = idle || state === WebSocket.CLOSING;
    el.message.disabled = !open;
    el.send.disabled = !open;
    el.recipient.disabled = el.everyone.checked;
  }

  // ---- the log ----

  function atBottom() {
    var log = el.log;
    return log.scrollHeight - log.scrollTop - log.clientHeight < 40;
  }

  function span(className, text) {
    var s = document.createElement("span");
    s.className = className;
    s.textContent = text;
    return s;
  }

  // kind: "in" | "out" | "error" | "system"; parts: array of [className, text]
  function addEntry(kind, parts) {
    var stick = atBottom();
    var li = document.createElement("li");
    li.className = "entry entry-" + kind;
    var time = document.createElement("time");
    time.className = "time";
    time.dateTime = new Date().toISOString();
    time.textContent = timeNow();
    li.appendChild(time);
    parts.forEach(function (part) {
      li.appendChild(span(part[0], part[1]));
    });
    el.log.appendChild(li);
    el.logEmpty.hidden = true;
    if (stick) {
      el.log.scrollTop = el.log.scrollHeight;
    }
  }

  function messageText(message) {
    if (typeof message === "string") {
      return message;
    }
    try {
      return JSON.stringify(message);
    } catch (e) {
      return String(message);
    }
  }

  function rememberUser(name) {
    if (typeof name !== "string" || name === "" || name === myName || knownUsers.has(name)) {
      return;
    }
    knownUsers.add(name);
    var option = document.createElement("option");
    option.value = name;
    el.knownUsers.appendChild(option);
  }

  function showServerError(obj) {
    var parts = [["label", "Error"], ["code", String(obj.error)]];
    if (obj.field !== undefined) {
      parts.push(["meta", "field: " + String(obj.field)]);
    }
    if (obj.to_user !== undefined) {
      parts.push(["meta", "to: " + String(obj.to_user)]);
    }
    if (obj.detail !== undefined) {
      parts.push(["text", String(obj.detail)]);
    }
    addEntry("error", parts);
  }

  function onText(data) {
    var obj;
    try {
      obj = JSON.parse(data);
    } catch (e) {
      addEntry("system", [["label", "Text"], ["text", data]]);
      return;
    }
    if (obj !== null && typeof obj === "object" && !Array.isArray(obj)) {
      if (typeof obj.error === "string") {
        showServerError(obj);
        return;
      }
      if (Object.prototype.hasOwnProperty.call(obj, "message")) {
        var from = typeof obj.from === "string" ? obj.from : "(unknown)";
        rememberUser(from);
        var toAll = obj.to_user === EVERYONE;
        addEntry("in", [
          ["from", from === myName ? from + " (you)" : from],
          ["meta", toAll ? "to everyone" : "to you"],
          ["text", messageText(obj.message)]
        ]);
        return;
      }
    }
    addEntry("system", [["label", "Data"], ["text", data]]);
  }

  // ---- connection ----

  function connect() {
    var name = el.username.value.trim();
    if (name === "") {
      el.username.focus();
      setStatus("error", "enter a name first");
      return;
    }
    if (!location.host) {
      setStatus("error", "open this page from the wsrouter server (http://host:port/)");
      return;
    }
    var scheme = location.protocol === "https:" ? "wss://" : "ws://";
    var url = scheme + location.host + "/ws/" + encodeURIComponent(name) + "/";
    var ws;
    try {
      ws = new WebSocket(url);
    } catch (e) {
      setStatus("error", "cannot connect: " + e.message);
      return;
    }
    myName = name;
    socket = ws;
    el.endpoint.textContent = url;
    el.endpoint.hidden = false;
    setStatus("connecting", "connecting\u2026");
    updateControls();

    ws.addEventListener("open", function () {
      if (socket !== ws) { return; }
      setStatus("open", "open as " + name);
      addEntry("system", [["label", "Connected"], ["text", "as " + name]]);
      updateControls();
      el.message.focus();
    });
    ws.addEventListener("message", function (event) {
      if (socket !== ws) { return; }
      if (typeof event.data === "string") {
        onText(event.data);
      } else {
        addEntry("system", [["label", "Binary"], ["text", "binary message ignored"]]);
      }
    });
    ws.addEventListener("close", function (event) {
      if (socket !== ws) { return; }
      var text = describeClose(event);
      setStatus("closed", text);
      addEntry("system", [["label", "Disconnected"], ["text", text]]);
      socket = null;
      updateControls();
    });
    // An "error" event is always followed by "close", which reports the code.
  }

  function disconnect() {
    if (socket && (socket.readyState === WebSocket.OPEN || socket.readyState === WebSocket.CONNECTING)) {
      socket.close(1000, "bye");
      setStatus("closing", "closing\u2026");
      updateControls();
    }
  }

  function send() {
    if (!socket || socket.readyState !== WebSocket.OPEN) {
      return;
    }
    var text = el.message.value;
    if (text.trim() === "") {
      el.message.focus();
      return;
    }
    var to = el.everyone.checked ? "" : el.recipient.value.trim();
    if (to === "") {
      to = EVERYONE;
    }
    socket.send(JSON.stringify({ to_user: to, message: text }));
    // Messages to everyone (and to oneself) come back from the server; show the others here.
    if (to !== EVERYONE && to !== myName) {
      addEntry("out", [["from", "you"], ["meta", "to " + to], ["text", text]]);
    }
    el.message.value = "";
    el.message.focus();
  }

  // ---- wiring ----

  el.connectForm.addEventListener("submit", function (event) {
    event.preventDefault();
    connect();
  });
  el.disconnect.addEventListener("click", disconnect);
  el.sendForm.addEventListener("submit", function (event) {
    event.preventDefault();
    send();
  });
  el.everyone.addEventListener("change", updateControls);
  el.clear.addEventListener("click", function () {
    while (el.log.firstChild) {
      el.log.removeChild(el.log.firstChild);
    }
    el.logEmpty.hidden = false;
  });
  window.addEventListener("pagehide", function () {
    if (socket) {
      socket.close(1000, "page left");
    }
  });

  el.username.value = randomName();
  updateControls();
})();
