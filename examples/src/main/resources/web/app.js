// wsrouter chat page: DirectedJsonRouter (with presence and history) at /ws/{username}/ through the
// wsrouter.js client, rooms at /rooms/{room}/. An ES module, no build step and no external resources.
// Every piece of text that comes from the network or from the user is rendered with textContent,
// never innerHTML.
import { backoff, connect as connectClient } from "./wsrouter.js";

var EVERYONE = "*";

// Reconnection: after an unexpected close, wait a random time up to 0.5 s, then up to 1, 2, 4, 8
// and at most 10 s between tries (exponential backoff with full jitter, as wsrouter.js does).
var RECONNECT_BASE_MS = 500;
var RECONNECT_MAX_MS = 10000;

// Closes after which trying again would not help: a normal close, or the server refusing the name.
var NO_RECONNECT = { 1000: true, 1008: true };
// The user names the server accepts (DirectedJsonRouter's default pattern).
var USER_NAME = /^[A-Za-z0-9._-]{1,64}$/;
// With --require-token the page offers two subprotocols: this one, which the server echoes, and
// TOKEN_PROTOCOL_PREFIX + token, which carries the token.
var CHAT_PROTOCOL = "wsrouter.chat";
var TOKEN_PROTOCOL_PREFIX = "token.";

var CLOSE_CODES = {
  1000: "normal closure",
  1001: "going away",
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

function byId(id) {
  return document.getElementById(id);
}

var el = {
  connectForm: byId("connect-form"),
  username: byId("username"),
  connect: byId("connect"),
  disconnect: byId("disconnect"),
  status: byId("status"),
  online: byId("online"),
  onlineCount: byId("online-count"),
  onlineEmpty: byId("online-empty"),
  onlineHint: byId("online-hint"),
  onlineNames: byId("online-names"),
  sendForm: byId("send-form"),
  recipient: byId("recipient"),
  message: byId("message"),
  send: byId("send"),
  log: byId("log"),
  logEmpty: byId("log-empty"),
  clear: byId("clear"),
  roomForm: byId("room-form"),
  roomName: byId("room-name"),
  roomJoin: byId("room-join"),
  roomLeave: byId("room-leave"),
  roomStatus: byId("room-status"),
  roomSendForm: byId("room-send-form"),
  roomMessage: byId("room-message"),
  roomSend: byId("room-send"),
  roomLog: byId("room-log")
};

// ---- small helpers ----

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

/** The wait before the room's reconnection attempt n (1, 2, ...), in milliseconds. */
function reconnectDelay(attempt) {
  return backoff(attempt, RECONNECT_BASE_MS, RECONNECT_MAX_MS);
}

function seconds(ms) {
  return (ms / 1000).toFixed(1) + " s";
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

function wsUrl(path) {
  var scheme = location.protocol === "https:" ? "wss://" : "ws://";
  return scheme + location.host + path;
}

function setStatus(node, state, text) {
  node.dataset.state = state;
  node.className = "status status-" + state;
  node.textContent = text;
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

// ---- a WebSocket that reconnects ----

// The room's connection (a room is a BroadcastRouter: raw text, so wsrouter.js does not apply).
// Keeps one WebSocket open to a URL while it is wanted: after a close it was not asked for, it
// tries again with exponential backoff and jitter (reconnectDelay).
// stop() closes with 1000 and cancels any pending attempt. Reports every state change through
// handlers.state(state, text) with state one of connecting, open, waiting, closing, closed.
function ReconnectingSocket(handlers) {
  var socket = null;
  var url = null;
  var protocols = [];
  var label = "";
  var wanted = false;
  var failures = 0;
  var opened = false;
  var timer = null;

  function report(state, text) {
    handlers.state(state, text);
  }

  function open() {
    var ws;
    try {
      ws = protocols.length ? new WebSocket(url, protocols) : new WebSocket(url);
    } catch (e) {
      wanted = false;
      report("closed", "cannot connect: " + e.message);
      return;
    }
    socket = ws;
    report("connecting", failures === 0 ? "connecting\u2026" : "reconnecting\u2026 (attempt " + failures + ")");
    ws.addEventListener("open", function () {
      if (socket !== ws) { return; }
      failures = 0;
      opened = true;
      report("open", "open" + label);
      handlers.open();
    });
    ws.addEventListener("message", function (event) {
      if (socket !== ws) { return; }
      if (typeof event.data === "string") {
        handlers.text(event.data);
      } else {
        handlers.binary();
      }
    });
    ws.addEventListener("close", function (event) {
      if (socket !== ws) { return; }
      socket = null;
      var wasOpen = opened;
      opened = false;
      var text = describeClose(event);
      var retry = wanted && !NO_RECONNECT[event.code];
      handlers.closed(text, retry, wasOpen);
      if (retry) {
        failures += 1;
        var delay = reconnectDelay(failures);
        report("waiting", text + " \u2014 reconnecting in " + seconds(delay) + " (attempt " + failures + ")");
        timer = window.setTimeout(function () {
          timer = null;
          if (wanted) {
            open();
          }
        }, delay);
      } else {
        wanted = false;
        failures = 0;
        report("closed", text);
      }
    });
    // An "error" event is always followed by "close", which reports the code.
  }

  // protocols: the subprotocols to offer (a token travels as one: browsers cannot set headers).
  this.start = function (newUrl, newLabel, newProtocols) {
    this.stop();
    url = newUrl;
    protocols = newProtocols || [];
    label = newLabel ? " " + newLabel : "";
    wanted = true;
    failures = 0;
    open();
  };

  // Closes for good: no reconnection follows.
  this.stop = function (reason) {
    wanted = false;
    failures = 0;
    if (timer !== null) {
      window.clearTimeout(timer);
      timer = null;
      report("closed", "disconnected");
    }
    if (socket && (socket.readyState === WebSocket.OPEN || socket.readyState === WebSocket.CONNECTING)) {
      socket.close(1000, reason || "bye");
      report("closing", "closing\u2026");
    }
  };

  this.isOpen = function () {
    return socket !== null && socket.readyState === WebSocket.OPEN;
  };

  // Whether it is connected, connecting, or waiting to reconnect.
  this.isActive = function () {
    return wanted || socket !== null;
  };

  this.send = function (text) {
    if (!this.isOpen()) {
      return false;
    }
    socket.send(text);
    return true;
  };
}

// Moves the focus to a field unless the person is already working somewhere else on the page.
function focusIfIdle(field) {
  var active = document.activeElement;
  if (!active || active === document.body || active.disabled) {
    field.focus();
  }
}

// ---- logs ----

function atBottom(list) {
  return list.scrollHeight - list.scrollTop - list.clientHeight < 40;
}

function span(className, text) {
  var s = document.createElement("span");
  s.className = className;
  s.textContent = text;
  return s;
}

// kind: "in" | "out" | "error" | "system"; from: the sender or ""; parts: [className, text] pairs.
function addEntry(list, kind, from, parts) {
  var stick = atBottom(list);
  var li = document.createElement("li");
  li.className = "entry entry-" + kind;
  li.dataset.kind = kind;
  if (from) {
    li.dataset.from = from;
  }
  var now = new Date();
  var time = document.createElement("time");
  time.className = "time";
  time.dateTime = now.toISOString();
  time.textContent = now.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" });
  li.appendChild(time);
  parts.forEach(function (part) {
    li.appendChild(span(part[0], part[1]));
  });
  list.appendChild(li);
  if (list === el.log) {
    el.logEmpty.hidden = true;
  }
  if (stick) {
    list.scrollTop = list.scrollHeight;
  }
  return li;
}

function logChat(kind, from, parts) {
  return addEntry(el.log, kind, from, parts);
}

// ---- the directed chat ----

var myName = "";
var online = [];
// The wsrouter.js client while connected or reconnecting; null before the first Connect.
var chat = null;

function chatActive() {
  return chat !== null && chat.state !== "closed";
}

function updateControls() {
  // While reconnecting, messages are queued by wsrouter.js and sent once the connection is back.
  var active = chatActive();
  el.connect.disabled = active;
  el.username.disabled = active;
  el.disconnect.disabled = !active;
  el.message.disabled = !active;
  el.send.disabled = !active;
  var roomActive = room.isActive();
  el.roomJoin.disabled = roomActive;
  el.roomName.disabled = roomActive;
  el.roomLeave.disabled = !roomActive;
  el.roomMessage.disabled = !room.isOpen();
  el.roomSend.disabled = !room.isOpen();
  markRecipient();
}

function currentRecipient() {
  var to = el.recipient.value.trim();
  return to === "" ? EVERYONE : to;
}

function markRecipient() {
  var to = currentRecipient();
  Array.prototype.forEach.call(el.online.querySelectorAll("button[data-user]"), function (button) {
    button.setAttribute("aria-pressed", String(button.dataset.user === to));
  });
}

function pickRecipient(user) {
  el.recipient.value = user === EVERYONE ? "" : user;
  markRecipient();
  el.message.focus();
}

function setOnline(users) {
  online = users.filter(function (u, i) {
    return typeof u === "string" && u !== "" && users.indexOf(u) === i;
  }).sort();
  renderOnline();
}

function renderOnline() {
  el.online.replaceChildren();
  el.onlineNames.replaceChildren();
  el.onlineEmpty.hidden = online.length > 0;
  el.onlineHint.hidden = online.length === 0;
  if (online.length === 0) {
    el.onlineCount.textContent = "";
    return;
  }
  el.onlineCount.textContent = "(" + online.length + ")";

  var all = document.createElement("li");
  var allButton = document.createElement("button");
  allButton.type = "button";
  allButton.className = "pick";
  allButton.dataset.user = EVERYONE;
  allButton.textContent = "Everyone";
  allButton.addEventListener("click", function () { pickRecipient(EVERYONE); });
  all.appendChild(allButton);
  el.online.appendChild(all);

  online.forEach(function (user) {
    var li = document.createElement("li");
    li.dataset.user = user;
    if (user === myName) {
      li.className = "me";
      li.appendChild(span("name", user));
      li.appendChild(span("you", "(you)"));
    } else {
      var button = document.createElement("button");
      button.type = "button";
      button.className = "pick";
      button.dataset.user = user;
      button.textContent = user;
      button.setAttribute("aria-label", "Send to " + user);
      button.addEventListener("click", function () { pickRecipient(user); });
      li.appendChild(button);
      var option = document.createElement("option");
      option.value = user;
      el.onlineNames.appendChild(option);
    }
    el.online.appendChild(li);
  });
  markRecipient();
}

// wsrouter.js keeps the list (detail.online); the page shows it and says who came and went.
function onPresence(detail) {
  setOnline(detail.online);
  if (detail.presence === "join") {
    logChat("system", "", [["label", "Joined"], ["text", String(detail.user)]]);
  } else if (detail.presence === "leave") {
    logChat("system", "", [["label", "Left"], ["text", String(detail.user)]]);
  }
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
  logChat("error", "", parts);
}

function onChatMessage(obj) {
  var from = typeof obj.from === "string" ? obj.from : "(unknown)";
  logChat("in", from, [
    ["from", from === myName ? from + " (you)" : from],
    ["meta", obj.to_user === EVERYONE ? "to everyone" : "to you"],
    ["text", messageText(obj.message)]
  ]);
}

// A sent message's marker: sending, delivered (to open connections), kept (the recipient is away
// and gets it when they are back), sent (acknowledged as a repeat after a reconnection) or failed
// (the server's error code).
function markSent(entry, state, text, title) {
  if (!entry) {
    return;
  }
  entry.dataset.ack = state;
  var marker = entry.querySelector(".ack");
  marker.textContent = text;
  marker.title = title;
}

var FAILURES = { unknown_recipient: "unknown user", closed: "not sent", rate_limited: "too fast" };

// Set by the test hook below: a promise that holds reconnection until it is released.
var hold = null;
var releaseHold = null;
var lastSocket = null;
// Whether the server hands out tokens (--require-token): then each attempt asks for a fresh one.
var tokensNeeded = null;

// The subprotocols for one connection attempt: with --require-token the page offers two, this one,
// which the server echoes, and TOKEN_PROTOCOL_PREFIX + a token (browsers cannot set headers).
function protocolsFor(name) {
  return Promise.resolve(hold).then(function () {
    if (tokensNeeded === false) {
      return [];
    }
    return fetch("/token", {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: "user=" + encodeURIComponent(name)
    }).then(function (response) {
      return response.ok ? response.json() : null;
    }).catch(function () {
      return null;
    }).then(function (answer) {
      if (answer && answer.token) {
        tokensNeeded = true;
        return [CHAT_PROTOCOL, TOKEN_PROTOCOL_PREFIX + answer.token];
      }
      if (tokensNeeded === null) {
        tokensNeeded = false;
      }
      return [];
    });
  });
}

// The WebSocket class given to wsrouter.js: the browser's, remembering the last one for the test hook.
function TrackedWebSocket(url, protocols) {
  var ws = protocols ? new WebSocket(url, protocols) : new WebSocket(url);
  lastSocket = ws;
  return ws;
}

function connect() {
  var name = el.username.value.trim();
  if (name === "") {
    el.username.focus();
    setStatus(el.status, "closed", "enter a name first");
    return;
  }
  if (!location.host) {
    setStatus(el.status, "closed", "open this page from the wsrouter server (http://host:port/)");
    return;
  }
  // The server refuses other names with HTTP 400 before the upgrade, which a browser only sees as
  // a failed connection (1006): say why here instead.
  if (!USER_NAME.test(name)) {
    el.username.focus();
    setStatus(el.status, "closed", "a name is 1 to 64 letters, digits, '.', '_' or '-'");
    return;
  }
  myName = name;
  el.username.value = name;
  var path = "/ws/" + encodeURIComponent(name) + "/";
  var wasOpen = false;
  // A server started with --require-token admits only signed tokens; the token travels in
  // Sec-WebSocket-Protocol, not in the URL (URLs end up in logs).
  chat = connectClient(wsUrl(path), {
    everyone: EVERYONE,
    backoffBase: RECONNECT_BASE_MS,
    backoffMax: RECONNECT_MAX_MS,
    protocols: function () { return protocolsFor(name); },
    WebSocket: TrackedWebSocket
  });
  chat.on("connecting", function (d) {
    setStatus(el.status, "connecting", d.attempt === 0 ? "connecting\u2026" : "reconnecting\u2026 (attempt " + d.attempt + ")");
  });
  chat.on("open", function (d) {
    wasOpen = true;
    setStatus(el.status, "open", "open as " + name);
    updateControls();
    logChat("system", "", [["label", d.reconnected ? "Reconnected" : "Connected"], ["text", "as " + name]]);
    focusIfIdle(el.message);
  });
  chat.on("close", function (d) {
    if (wasOpen) {
      logChat("system", "", [["label", "Disconnected"], ["text", describeClose(d) + (d.reconnect ? "; reconnecting" : "")]]);
    }
    wasOpen = false;
    setOnline([]);
    if (!d.reconnect) {
      setStatus(el.status, "closed", describeClose(d));
    }
    updateControls();
  });
  chat.on("reconnecting", function (d) {
    setStatus(el.status, "waiting", describeClose(d) + " \u2014 reconnecting in " + seconds(d.delay) + " (attempt " + d.attempt + ")");
  });
  chat.on("message", onChatMessage);
  chat.on("presence", onPresence);
  chat.on("recovery", function (d) {
    if (!d.recovered) {
      logChat("system", "", [["label", "Missed"], ["text", "some messages could not be recovered (" + d.reason + ")"]]);
    }
  });
  chat.on("gap", function (d) {
    logChat("system", "", [["label", "Missed"], ["text", "messages from another server were lost (" + d.reason + ")"]]);
  });
  chat.on("error", showServerError);
  setStatus(el.status, "connecting", "connecting\u2026");
  updateControls();
}

function send() {
  var text = el.message.value;
  if (text.trim() === "" || !chatActive()) {
    el.message.focus();
    return;
  }
  var to = currentRecipient();
  // Messages to everyone and to oneself come back from the server; show the others here, with a
  // marker that the acknowledgement (or the error) updates.
  var entry = null;
  if (to !== EVERYONE && to !== myName) {
    entry = logChat("out", myName, [["from", "you"], ["meta", "to " + to], ["ack", "\u2026"], ["text", text]]);
    markSent(entry, "pending", "\u2026", "sending");
  }
  chat.send(to, text).then(function (ack) {
    if (ack.duplicate) {
      // sent again after a reconnection: the server had routed it before, and did not route it twice
      markSent(entry, "sent", "\u2713", "sent before the connection dropped");
    } else if (ack.delivered > 0) {
      markSent(entry, "delivered", "\u2713", "delivered");
    } else {
      markSent(entry, "kept", "\u2713 kept", to + " is away: kept until they are back");
    }
  }, function (error) {
    markSent(entry, "failed", "\u2717 " + (FAILURES[error.code] || error.code), error.message);
    if (error.code !== "closed") {
      showServerError(error.reply);
    }
  });
  el.message.value = "";
  el.message.focus();
}

// ---- rooms ----

var roomJoined = "";

var room = new ReconnectingSocket({
  state: function (state, text) {
    setStatus(el.roomStatus, state, text);
    updateControls();
  },
  open: function () {
    addEntry(el.roomLog, "system", "", [["label", "Joined"], ["text", "room " + roomJoined]]);
    focusIfIdle(el.roomMessage);
  },
  text: onRoomText,
  binary: function () {
    addEntry(el.roomLog, "system", "", [["label", "Binary"], ["text", "binary message ignored"]]);
  },
  closed: function (text, retry, wasOpen) {
    if (wasOpen) {
      addEntry(el.roomLog, "system", "", [["label", "Disconnected"], ["text", text + (retry ? "; reconnecting" : "")]]);
    }
  }
});

// Room messages are whatever text someone in the room sent. This page sends {"from", "text"};
// anything else is shown as raw text.
function onRoomText(data) {
  var obj = null;
  try {
    obj = JSON.parse(data);
  } catch (e) {
    obj = null;
  }
  if (obj !== null && typeof obj === "object" && !Array.isArray(obj) && typeof obj.text === "string") {
    var from = typeof obj.from === "string" && obj.from !== "" ? obj.from : "(no name)";
    addEntry(el.roomLog, "in", from, [
      ["from", from],
      ["meta claimed", "(claimed)"],
      ["text", obj.text]
    ]);
  } else {
    addEntry(el.roomLog, "in", "", [["label", "Raw text"], ["text", data]]);
  }
}

function joinRoom() {
  var name = el.roomName.value.trim();
  if (name === "") {
    el.roomName.focus();
    setStatus(el.roomStatus, "closed", "enter a room name first");
    return;
  }
  if (!location.host) {
    setStatus(el.roomStatus, "closed", "open this page from the wsrouter server (http://host:port/)");
    return;
  }
  roomJoined = name;
  el.roomName.value = name;
  room.start(wsUrl("/rooms/" + encodeURIComponent(name) + "/"), "in room " + name);
}

function sendToRoom() {
  var text = el.roomMessage.value;
  if (text.trim() === "") {
    el.roomMessage.focus();
    return;
  }
  var from = myName || el.username.value.trim();
  if (room.send(JSON.stringify({ from: from, text: text }))) {
    el.roomMessage.value = "";
    el.roomMessage.focus();
  }
}

// ---- wiring ----

el.connectForm.addEventListener("submit", function (event) {
  event.preventDefault();
  connect();
});
el.disconnect.addEventListener("click", function () {
  if (chat) {
    chat.close(1000, "bye");
  }
  el.connect.focus();
});
el.sendForm.addEventListener("submit", function (event) {
  event.preventDefault();
  send();
});
el.recipient.addEventListener("input", markRecipient);
el.clear.addEventListener("click", function () {
  el.log.replaceChildren();
  el.logEmpty.hidden = false;
});
el.roomForm.addEventListener("submit", function (event) {
  event.preventDefault();
  joinRoom();
});
el.roomLeave.addEventListener("click", function () {
  room.stop("left the room");
  el.roomJoin.focus();
});
el.roomSendForm.addEventListener("submit", function (event) {
  event.preventDefault();
  sendToRoom();
});
window.addEventListener("pagehide", function () {
  if (chat) {
    chat.close(1000, "page left");
  }
  room.stop("page left");
});

// For the curious and for tests: the reconnection schedule (random in [0, 1) picks the wait
// below its ceiling), and a way to lose the connection on purpose: dropAndHold() closes the
// socket with 4000, as if the network had gone, and holds reconnection until release().
window.wsrouterChat = Object.freeze({
  backoff: function (attempt, random) {
    return backoff(attempt, RECONNECT_BASE_MS, RECONNECT_MAX_MS, function () { return random; });
  },
  dropAndHold: function () {
    hold = new Promise(function (resolve) { releaseHold = resolve; });
    if (lastSocket) {
      lastSocket.close(4000, "dropped on purpose");
    }
  },
  release: function () {
    hold = null;
    if (releaseHold) {
      releaseHold();
    }
  }
});

el.username.value = randomName();
setOnline([]);
updateControls();
