// wsrouter chat page: DirectedJsonRouter (with presence) at /ws/{username}/, rooms at /rooms/{room}/.
// Plain script, no build step and no external resources. Every piece of text that comes from the
// network or from the user is rendered with textContent, never innerHTML.
(function () {
  "use strict";

  var EVERYONE = "*";

  // Reconnection: after an unexpected close, wait 0.5 s, then 1, 2, 4, and 5 s at most between tries.
  var RECONNECT_MIN_MS = 500;
  var RECONNECT_MAX_MS = 5000;

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

  /** The wait before reconnection attempt n (1, 2, ...), in milliseconds. */
  function reconnectDelay(attempt) {
    var n = Math.max(1, Math.floor(attempt));
    return Math.min(RECONNECT_MAX_MS, RECONNECT_MIN_MS * Math.pow(2, Math.min(n - 1, 16)));
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

  // Keeps one WebSocket open to a URL while it is wanted: after a close it was not asked for, it
  // tries again with exponential backoff (RECONNECT_MIN_MS doubling up to RECONNECT_MAX_MS).
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
  }

  function logChat(kind, from, parts) {
    addEntry(el.log, kind, from, parts);
  }

  // ---- the directed chat ----

  var myName = "";
  var online = [];

  var chat = new ReconnectingSocket({
    state: function (state, text) {
      setStatus(el.status, state, text);
      updateControls();
    },
    open: function () {
      logChat("system", "", [["label", "Connected"], ["text", "as " + myName]]);
      focusIfIdle(el.message);
    },
    text: onChatText,
    binary: function () {
      logChat("system", "", [["label", "Binary"], ["text", "binary message ignored"]]);
    },
    closed: function (text, retry, wasOpen) {
      if (wasOpen) {
        logChat("system", "", [["label", "Disconnected"], ["text", text + (retry ? "; reconnecting" : "")]]);
      }
      setOnline([]);
    }
  });

  function updateControls() {
    var active = chat.isActive();
    var open = chat.isOpen();
    el.connect.disabled = active;
    el.username.disabled = active;
    el.disconnect.disabled = !active;
    el.message.disabled = !open;
    el.send.disabled = !open;
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

  function onPresence(obj) {
    if (obj.presence === "online" && Array.isArray(obj.users)) {
      setOnline(obj.users);
    } else if (obj.presence === "join" && typeof obj.user === "string") {
      setOnline(online.concat([obj.user]));
      logChat("system", "", [["label", "Joined"], ["text", obj.user]]);
    } else if (obj.presence === "leave" && typeof obj.user === "string") {
      setOnline(online.filter(function (u) { return u !== obj.user; }));
      logChat("system", "", [["label", "Left"], ["text", obj.user]]);
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

  function onChatText(data) {
    var obj;
    try {
      obj = JSON.parse(data);
    } catch (e) {
      logChat("system", "", [["label", "Text"], ["text", data]]);
      return;
    }
    if (obj !== null && typeof obj === "object" && !Array.isArray(obj)) {
      if (typeof obj.presence === "string") {
        onPresence(obj);
        return;
      }
      if (typeof obj.error === "string") {
        showServerError(obj);
        return;
      }
      if (Object.prototype.hasOwnProperty.call(obj, "message")) {
        var from = typeof obj.from === "string" ? obj.from : "(unknown)";
        logChat("in", from, [
          ["from", from === myName ? from + " (you)" : from],
          ["meta", obj.to_user === EVERYONE ? "to everyone" : "to you"],
          ["text", messageText(obj.message)]
        ]);
        return;
      }
    }
    logChat("system", "", [["label", "Data"], ["text", data]]);
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
    // A server started with --require-token admits only signed tokens: ask for one first.
    // Without it, /token answers {"token": null} and the page connects as it is.
    fetch("/token", {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: "user=" + encodeURIComponent(name)
    }).then(function (response) {
      return response.ok ? response.json() : null;
    }).catch(function () {
      return null;
    }).then(function (answer) {
      // The token travels in Sec-WebSocket-Protocol, not in the URL (URLs end up in logs).
      var protocols = answer && answer.token ? [CHAT_PROTOCOL, TOKEN_PROTOCOL_PREFIX + answer.token] : [];
      chat.start(wsUrl(path), "as " + name, protocols);
    });
  }

  function send() {
    var text = el.message.value;
    if (text.trim() === "") {
      el.message.focus();
      return;
    }
    var to = currentRecipient();
    if (!chat.send(JSON.stringify({ to_user: to, message: text }))) {
      return;
    }
    // Messages to everyone and to oneself come back from the server; show the others here.
    if (to !== EVERYONE && to !== myName) {
      logChat("out", myName, [["from", "you"], ["meta", "to " + to], ["text", text]]);
    }
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
    chat.stop("bye");
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
    chat.stop("page left");
    room.stop("page left");
  });

  // For the curious and for tests: the reconnection schedule.
  window.wsrouterChat = Object.freeze({ reconnectDelay: reconnectDelay });

  el.username.value = randomName();
  setOnline([]);
  updateControls();
})();
