// wsrouter chat page: DirectedJsonRouter (with presence, history and rooms) at /ws/{username}/ through
// the wsrouter.js client; the room panel joins rooms over that same connection. An ES module, no
// build step and no external resources.
// Every piece of text that comes from the network or from the user is rendered with textContent,
// never innerHTML.
import { backoff, connect as connectClient } from "./wsrouter.js";

var EVERYONE = "*";

// Reconnection: after an unexpected close, wait a random time up to 0.5 s, then up to 1, 2, 4, 8
// and at most 10 s between tries (exponential backoff with full jitter, as wsrouter.js does).
var RECONNECT_BASE_MS = 500;
var RECONNECT_MAX_MS = 10000;

// The user names the server accepts (DirectedJsonRouter's default pattern); room names are the same.
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
  roomLog: byId("room-log"),
  roomMembers: byId("room-members")
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
  // Rooms go through the chat's connection: joined while it is active, and not before.
  el.roomJoin.disabled = !active || room.state !== "idle";
  el.roomName.disabled = room.state !== "idle";
  el.roomLeave.disabled = !active || room.state === "idle";
  el.roomMessage.disabled = !active || room.state !== "in";
  el.roomSend.disabled = !active || room.state !== "in";
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
  } else if (detail.presence === "changes") {
    if (detail.joined && detail.joined.length) {
      logChat("system", "", [["label", "Joined"], ["text", detail.joined.join(", ")]]);
    }
    if (detail.left && detail.left.length) {
      logChat("system", "", [["label", "Left"], ["text", detail.left.join(", ")]]);
    }
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
  if (obj.room !== undefined) {
    parts.push(["meta", "room: " + String(obj.room)]);
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
    if (d.reconnected) {
      roomReconnected();
    }
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
    roomConnectionClosed(d.reconnect);
    updateControls();
  });
  chat.on("reconnecting", function (d) {
    setStatus(el.status, "waiting", describeClose(d) + " \u2014 reconnecting in " + seconds(d.delay) + " (attempt " + d.attempt + ")");
  });
  chat.on("message", onChatMessage);
  chat.on("room", onRoomMessage);
  chat.on("roompresence", onRoomPresence);
  chat.on("presence", onPresence);
  chat.on("recovery", function (d) {
    if (!d.recovered) {
      logChat("system", "", [["label", "Missed"], ["text", "some messages could not be recovered (" + d.reason + ")"]]);
    }
  });
  chat.on("gap", function (d) {
    if (typeof d.room === "string") {
      if (room.state !== "idle" && d.room === room.name) {
        addEntry(el.roomLog, "system", "", [["label", "Missed"], ["text", "room messages from another server were lost (" + d.reason + ")"]]);
      }
      return;
    }
    logChat("system", "", [["label", "Missed"], ["text", "messages from another server were lost (" + d.reason + ")"]]);
  });
  chat.on("error", onServerError);
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

// The room panel goes through the chat's connection: wsrouter.js's join, leave and sendToRoom, and
// its "room" event. The server stamps every room message with the sender's verified name ("from"),
// whatever the sender put in it. One room at a time on this page; wsrouter.js joins it again after
// a reconnect. state: idle (not in a room), joining, or in.
var room = { name: "", state: "idle", members: [] };

// The room's members on every server: from the join's answer, then the server's room presence.
function showRoomMembers() {
  el.roomMembers.textContent = room.state === "idle" ? "\u2014"
    : typeof room.count === "number" ? room.count + " (names not shown in this room)"
    : room.members.join(", ");
}

function onRoomPresence(d) {
  if (room.state === "idle" || d.room !== room.name) {
    return;
  }
  var members = room.members.slice();
  if (d.presence === "count") {
    room.count = d.count;
  } else if (d.presence === "join" && members.indexOf(d.user) < 0) {
    members.push(d.user);
  } else if (d.presence === "leave") {
    members = members.filter(function (u) { return u !== d.user; });
  } else if (d.presence === "changes") {
    (d.joined || []).forEach(function (u) { if (members.indexOf(u) < 0) members.push(u); });
    members = members.filter(function (u) { return (d.left || []).indexOf(u) < 0; });
  }
  room.members = members.sort();
  showRoomMembers();
}

function roomEntry(kind, from, parts) {
  return addEntry(el.roomLog, kind, from, parts);
}

function roomError(error) {
  var reply = error.reply || error;
  roomEntry("error", "", [["label", "Error"], ["code", String(reply.error)], ["text", String(reply.detail || error.message || "")]]);
}

function notInARoom(state, text) {
  room.name = "";
  room.state = "idle";
  room.members = [];
  room.count = undefined;
  showRoomMembers();
  setStatus(el.roomStatus, state, text);
  updateControls();
}

function onRoomMessage(obj) {
  if (room.state === "idle" || obj.room !== room.name) {
    return; // from a room this page has just left
  }
  roomEntry("in", obj.from, [
    ["from", obj.from === myName ? obj.from + " (you)" : obj.from],
    ["text", messageText(obj.message)]
  ]);
}

// The chat's connection dropped (reconnect: it comes back) or closed for good.
function roomConnectionClosed(reconnect) {
  if (room.state === "idle") {
    return;
  }
  if (reconnect) {
    setStatus(el.roomStatus, "waiting", "in room " + room.name + " \u2014 waiting for the connection");
    return;
  }
  roomEntry("system", "", [["label", "Left"], ["text", "room " + room.name + " (disconnected)"]]);
  notInARoom("idle", "not in a room");
}

// Back after a drop: wsrouter.js has sent the join again, before anything else on the new connection.
function roomReconnected() {
  if (room.state !== "in") {
    return;
  }
  setStatus(el.roomStatus, "open", "in room " + room.name);
  roomEntry("system", "", [["label", "Rejoined"], ["text", "room " + room.name + " (what was said meanwhile is not replayed)"]]);
}

// Errors that answer none of the page's pending messages; a failed join after a reconnect names the room.
function onServerError(obj) {
  if (typeof obj.room === "string" && room.state === "in" && obj.room === room.name) {
    roomError(obj);
    notInARoom("closed", "could not join " + obj.room + " again (" + obj.error + ")");
    return;
  }
  showServerError(obj);
}

function joinRoom() {
  var name = el.roomName.value.trim();
  if (!chatActive()) {
    setStatus(el.roomStatus, "closed", "connect first: rooms go through the chat connection");
    return;
  }
  if (name === "") {
    el.roomName.focus();
    setStatus(el.roomStatus, "closed", "enter a room name first");
    return;
  }
  if (!USER_NAME.test(name)) {
    el.roomName.focus();
    setStatus(el.roomStatus, "closed", "a room name is 1 to 64 letters, digits, '.', '_' or '-'");
    return;
  }
  var client = chat;
  room.name = name;
  room.state = "joining";
  el.roomName.value = name;
  setStatus(el.roomStatus, "connecting", "joining " + name + "\u2026");
  updateControls();
  client.join(name).then(function (answer) {
    if (chat !== client || room.name !== name || room.state !== "joining") {
      return; // left, or disconnected, meanwhile
    }
    room.state = "in";
    room.members = Array.isArray(answer && answer.members) ? answer.members.slice().sort() : [];
    room.count = answer && typeof answer.count === "number" ? answer.count : undefined;
    showRoomMembers();
    setStatus(el.roomStatus, "open", "in room " + name);
    roomEntry("system", "", [["label", "Joined"], ["text", "room " + name]]);
    updateControls();
    focusIfIdle(el.roomMessage);
  }, function (error) {
    if (chat !== client || room.name !== name) {
      return;
    }
    if (error.code !== "closed") {
      roomError(error);
    }
    notInARoom("closed", "could not join " + name + " (" + error.code + ")");
  });
}

function leaveRoom() {
  if (room.state === "idle" || !chat) {
    return;
  }
  var name = room.name;
  chat.leave(name).catch(function (error) {
    if (error.code !== "closed") {
      roomError(error);
    }
  });
  roomEntry("system", "", [["label", "Left"], ["text", "room " + name]]);
  notInARoom("idle", "not in a room");
}

function sendToRoom() {
  var text = el.roomMessage.value;
  if (text.trim() === "" || room.state !== "in" || !chatActive()) {
    el.roomMessage.focus();
    return;
  }
  // The message comes back from the server, with this page's verified name, like everyone's.
  chat.sendToRoom(room.name, text).catch(function (error) {
    if (error.code !== "closed") {
      roomError(error);
    }
  });
  el.roomMessage.value = "";
  el.roomMessage.focus();
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
  leaveRoom();
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
});

// For the curious and for tests: the reconnection schedule (random in [0, 1) picks the wait
// below its ceiling), a way to lose the connection on purpose: dropAndHold() closes the
// socket with 4000, as if the network had gone, and holds reconnection until release(), and
// sendObject(object), which sends a whole JSON object through the chat's wsrouter.js client (its
// send, with an id and "ack": true) as one could from the console, and returns the promise.
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
  },
  sendObject: function (object) {
    return chat ? chat.send(object) : Promise.reject(new Error("not connected"));
  }
});

el.username.value = randomName();
setOnline([]);
updateControls();
