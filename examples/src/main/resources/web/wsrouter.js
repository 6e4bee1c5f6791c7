// wsrouter.js: a small client for wsrouter's DirectedJsonRouter (docs/routers.md).
// A plain ES module: no build step, no dependency. See docs/javascript-client.md.
//
//   import { connect } from "/wsrouter.js";
//   const client = connect("ws://host/ws/alice/");
//   client.on("message", (m) => console.log(m.from, m.message));
//   await client.send("bob", "hi"); // resolves with the ack, rejects with a WsRouterError
//   client.on("room", (m) => console.log(m.room, m.from, m.message));
//   await client.join("lobby");     // resolves with {joined}; the client joins again after a reconnect
//   await client.sendToRoom("lobby", "hi all");

/** The connection states, as in {@link WsRouterClient#state}. */
export const STATES = Object.freeze(["connecting", "open", "reconnecting", "closed"]);

/**
 * An error reply of the server to a message this client sent, or the reason a message was given up.
 * `code` is the server's `error` (`unknown_recipient`, `not_in_room`, `rate_limited`, ...) or `closed`
 * when the client was closed before an answer came; `reply` is the whole error object.
 */
export class WsRouterError extends Error {
  /** @param {object} reply the server's error object, e.g. {error, id, to_user, detail} or {error, id, room, detail} */
  constructor(reply) {
    super(reply.detail || reply.error);
    this.name = "WsRouterError";
    this.code = reply.error;
    this.id = reply.id;
    this.reply = reply;
  }
}

/**
 * The wait before reconnection attempt `attempt` (1, 2, ...): exponential backoff with full jitter,
 * a random time between 0 and min(max, base * 2^(attempt - 1)) milliseconds.
 * @param {number} attempt @param {number} base @param {number} max
 * @param {() => number} [random] a number in [0, 1), Math.random by default
 */
export function backoff(attempt, base, max, random = Math.random) {
  const ceiling = Math.min(max, base * 2 ** Math.min(Math.max(attempt, 1) - 1, 30));
  return Math.floor(random() * ceiling);
}

/**
 * Opens a client to a DirectedJsonRouter route, e.g. `ws://host/ws/alice/`.
 * @param {string} url the route's WebSocket URL, the user included
 * @param {object} [options]
 * @param {string} [options.everyone="*"] the router's everyone address: messages to it belong to the `everyone` stream
 * @param {number} [options.backoffBase=500] first reconnection wait's upper bound, in ms
 * @param {number} [options.backoffMax=10000] upper bound of every wait, in ms
 * @param {string[] | (() => string[] | Promise<string[]>)} [options.protocols] subprotocols to offer,
 *   or a function called before each attempt (to fetch a fresh token, for example)
 * @param {number[]} [options.finalCloseCodes=[1000, 1008]] server close codes after which it does not reconnect
 * @param {typeof WebSocket} [options.WebSocket] the WebSocket class (the global one by default)
 * @param {() => number} [options.random=Math.random] the jitter's source of numbers in [0, 1)
 * @returns {WsRouterClient}
 */
export function connect(url, options = {}) {
  return new WsRouterClient(url, options);
}

/**
 * A connection that reconnects, resumes its streams, acknowledges what it sends, and stays in the
 * chat rooms it joined (on a route with rooms). Events (all `CustomEvent`s whose `detail` is given
 * here; `on(type, fn)` passes the detail to `fn`):
 * `connecting` {attempt, url}, `open` {reconnected}, `close` {code, reason, reconnect}, `reconnecting` {attempt, delay, code, reason},
 * `message` (a direct or everyone message object), `room` (a room message {room, from, message, id?}:
 * `from` stamped by the server), `presence` {presence, user, users, online},
 * `recovery` (the server's {recovered, stream, reason?, position?}), `gap` (the server's {stream, reason, position?}
 * or {room, reason}: messages from other servers that this connection will never get), `error` (an error
 * object without a pending id, such as a failed join again after a reconnect, which names the room).
 * A close with 4010 (missed messages) reconnects and resumes like any other drop.
 */
export class WsRouterClient extends EventTarget {
  #url; #options; #socket = null; #timer = null; #attempt = 0; #opened = false;
  #state = "connecting";
  #positions = {}; // stream -> {epoch, offset}: the last message seen
  #heads = {}; // stream -> {epoch, offset}: where the server said it stood when this connection opened
  #resuming = new Set(); // streams named in the current connection's resume parameter
  #pending = new Map(); // id -> {frame, resolve, reject, join?, leave?}, in the order sent
  #rooms = new Set(); // the rooms joined (the server said "joined"), joined again after a reconnect
  #rejoining = new Map(); // id -> room: the joins sent again by this connection on its own
  #idPrefix; #counter = 0;
  #online = [];

  constructor(url, options = {}) {
    super();
    this.#url = url;
    this.#options = {
      everyone: "*", backoffBase: 500, backoffMax: 10000, protocols: [],
      finalCloseCodes: [1000, 1008], WebSocket: globalThis.WebSocket, random: Math.random, ...options,
    };
    const bytes = new Uint8Array(6);
    globalThis.crypto.getRandomValues(bytes);
    this.#idPrefix = Array.from(bytes, (b) => b.toString(36).padStart(2, "0")).join("");
    this.#open();
  }

  /** `connecting`, `open`, `reconnecting` (waiting, or connecting again) or `closed`. */
  get state() { return this.#state; }

  /** Where each stream stands: {user: {epoch, offset}, everyone: {...}}; empty on a route without history. */
  get positions() { return structuredClone(this.#positions); }

  /** The users online, sorted, from the presence objects (empty while not connected). */
  get online() { return this.#online.slice(); }

  /** How many sent messages have no answer yet (queued while disconnected, or in flight). */
  get pending() { return this.#pending.size; }

  /** The rooms this client is in, sorted: joined, and not left since (kept across reconnects). */
  get rooms() { return [...this.#rooms].sort(); }

  /** Listens to `type` with `listener(detail)`; returns a function that stops listening. */
  on(type, listener) {
    const handler = (event) => listener(event.detail);
    this.addEventListener(type, handler);
    return () => this.removeEventListener(type, handler);
  }

  /**
   * Sends `message` to `toUser` (the everyone address for everyone), or sends the object given, with
   * a fresh `id` and `"ack": true`. While disconnected it is queued; if the connection drops before
   * the answer, it is sent again, under the same id, after the reconnection.
   * @param {string | object} toUser a recipient, or a whole message object such as {to_user, message}
   * @param {*} [message] any JSON value
   * @returns {Promise<object>} the ack ({ack, delivered, nodes, offset?, duplicate?}); rejects with a {@link WsRouterError}
   */
  send(toUser, message) {
    const object = typeof toUser === "object" && toUser !== null ? { ...toUser } : { to_user: toUser, message };
    object.ack = true;
    return this.#request(object);
  }

  /**
   * Sends `message` to the chat room `room`, which this client must have joined, with a fresh `id`
   * and `"ack": true`, queued and sent again as {@link WsRouterClient#send} does. Every member
   * (this client included) gets it as a `room` event, with `from` stamped by the server.
   * @param {string} room a room name
   * @param {*} message any JSON value
   * @returns {Promise<object>} the ack ({ack, delivered, nodes}); rejects with a {@link WsRouterError}
   *   (`not_in_room`, `forbidden`, `invalid_room`, ...)
   */
  sendToRoom(room, message) {
    return this.#request({ to_room: room, message, ack: true });
  }

  /**
   * Joins the chat room `room` (`{"join": room}` with a fresh `id`). Once joined, the client joins
   * it again by itself after every reconnect, until {@link WsRouterClient#leave}.
   * @param {string} room a room name (letters, digits, `.`, `_` or `-`, at most 64)
   * @returns {Promise<object>} the server's `{joined, id}`; rejects with a {@link WsRouterError}
   *   (`forbidden`, `invalid_room`, `too_many_rooms`, `closed`)
   */
  join(room) {
    return this.#request({ join: room }, { join: room });
  }

  /**
   * Leaves the chat room `room` (`{"leave": room}` with a fresh `id`): it is not joined again after
   * a reconnect. If the connection drops before the answer, the new connection is not in the room
   * and the promise resolves without asking.
   * @param {string} room a room name
   * @returns {Promise<object>} the server's `{left, id}`; rejects with a {@link WsRouterError} (`not_in_room`, `closed`)
   */
  leave(room) {
    this.#rooms.delete(room);
    return this.#request({ leave: room }, { leave: room });
  }

  /** Sends an object with a fresh id (unless it has one), queued while disconnected; settles on its answer. */
  #request(object, kind = {}) {
    if (this.#state === "closed") {
      return Promise.reject(new WsRouterError({ error: "closed", detail: "the client is closed" }));
    }
    object.id ??= this.#nextId();
    return new Promise((resolve, reject) => {
      this.#pending.set(object.id, { frame: JSON.stringify(object), resolve, reject, ...kind });
      if (this.#socket?.readyState === 1) {
        this.#socket.send(this.#pending.get(object.id).frame);
      }
    });
  }

  #nextId() {
    return `${this.#idPrefix}-${++this.#counter}`;
  }

  /** Closes for good: no reconnection follows, and the messages without an answer are rejected with code `closed`. */
  close(code = 1000, reason = "bye") {
    if (this.#state === "closed") return;
    clearTimeout(this.#timer);
    const socket = this.#socket;
    this.#socket = null;
    if (socket && socket.readyState <= 1) socket.close(code, reason);
    this.#finish({ code, reason });
  }

  #emit(type, detail) {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }

  async #open() {
    let protocols = this.#options.protocols;
    try {
      if (typeof protocols === "function") protocols = await protocols();
    } catch (error) {
      protocols = [];
    }
    if (this.#state === "closed") return;
    const resume = Object.entries(this.#positions)
      .map(([stream, p]) => `${stream}:${encodeURIComponent(p.epoch)}:${p.offset}`);
    this.#resuming = new Set(Object.keys(this.#positions));
    const url = resume.length ? `${this.#url}${this.#url.includes("?") ? "&" : "?"}resume=${resume.join(",")}` : this.#url;
    this.#emit("connecting", { attempt: this.#attempt, url });
    let socket;
    try {
      socket = protocols?.length ? new this.#options.WebSocket(url, protocols) : new this.#options.WebSocket(url);
    } catch (error) {
      this.#finish({ code: 0, reason: error.message });
      return;
    }
    this.#socket = socket;
    socket.addEventListener("open", () => {
      if (this.#socket !== socket) return;
      const reconnected = this.#opened;
      this.#opened = true;
      this.#attempt = 0;
      this.#state = "open";
      this.#emit("open", { reconnected });
      this.#resend(socket);
    });
    socket.addEventListener("message", (event) => {
      if (this.#socket === socket && typeof event.data === "string") this.#receive(event.data);
    });
    socket.addEventListener("close", (event) => {
      if (this.#socket !== socket) return;
      this.#socket = null;
      this.#online = [];
      if (this.#options.finalCloseCodes.includes(event.code)) {
        this.#finish(event);
        return;
      }
      this.#attempt += 1;
      const delay = backoff(this.#attempt, this.#options.backoffBase, this.#options.backoffMax, this.#options.random);
      this.#state = "reconnecting";
      this.#emit("close", { code: event.code, reason: event.reason, reconnect: true });
      this.#emit("reconnecting", { attempt: this.#attempt, delay, code: event.code, reason: event.reason });
      this.#timer = setTimeout(() => this.#open(), delay);
    });
  }

  /**
   * On a new connection: joins again the rooms this client was in, then sends what was queued and
   * what was in flight when the last connection dropped, in the order sent. A leave whose room this
   * connection is not in settles at once: the server would answer not_in_room.
   */
  #resend(socket) {
    this.#rejoining.clear();
    const joined = new Set(this.#rooms);
    for (const room of joined) {
      const id = this.#nextId();
      this.#rejoining.set(id, room);
      socket.send(JSON.stringify({ join: room, id }));
    }
    for (const [id, p] of [...this.#pending]) {
      if (p.join !== undefined) {
        joined.add(p.join);
      } else if (p.leave !== undefined) {
        if (!joined.has(p.leave)) {
          this.#pending.delete(id);
          p.resolve({ left: p.leave, id });
          continue;
        }
        joined.delete(p.leave);
      }
      socket.send(p.frame);
    }
  }

  #finish({ code, reason }) {
    this.#state = "closed";
    this.#online = [];
    this.#rooms.clear();
    this.#rejoining.clear();
    const pending = [...this.#pending.values()];
    this.#pending.clear();
    for (const p of pending) p.reject(new WsRouterError({ error: "closed", detail: "the client is closed" }));
    this.#emit("close", { code, reason, reconnect: false });
  }

  #receive(text) {
    let obj;
    try {
      obj = JSON.parse(text);
    } catch {
      return;
    }
    if (obj === null || typeof obj !== "object" || Array.isArray(obj)) return;
    if (obj.streams) {
      for (const [stream, position] of Object.entries(obj.streams)) {
        this.#heads[stream] = { epoch: position.epoch, offset: position.offset };
        // A stream being resumed keeps its offset: the replay follows, then "recovered".
        if (!this.#resuming.has(stream)) this.#positions[stream] = { ...this.#heads[stream] };
      }
    } else if ("recovered" in obj) {
      this.#resuming.delete(obj.stream);
      const head = obj.position ?? this.#heads[obj.stream];
      if (!obj.recovered) {
        if (head) this.#positions[obj.stream] = { epoch: head.epoch, offset: head.offset };
        else delete this.#positions[obj.stream];
      }
      this.#emit("recovery", obj);
    } else if (obj.gap !== null && typeof obj.gap === "object") {
      // Messages from other servers were lost to this connection; with a position the stream goes on from it.
      const p = obj.gap.position;
      if (p && typeof p.offset === "number") this.#positions[obj.gap.stream] = { epoch: p.epoch, offset: p.offset };
      this.#emit("gap", obj.gap);
    } else if (typeof obj.presence === "string") {
      this.#presence(obj);
    } else if (typeof obj.error === "string") {
      const pending = obj.id !== undefined && this.#pending.get(obj.id);
      if (pending) {
        this.#pending.delete(obj.id);
        pending.reject(new WsRouterError(obj));
      } else {
        // a join sent again after a reconnect that the server refused: no longer in that room
        if (obj.id !== undefined && this.#rejoining.has(obj.id)) this.#rooms.delete(this.#rejoining.get(obj.id));
        this.#rejoining.delete(obj.id);
        this.#emit("error", obj);
      }
    } else if (isAnswer(obj, "joined") || isAnswer(obj, "left")) {
      const joined = isAnswer(obj, "joined");
      const pending = this.#pending.get(obj.id);
      this.#pending.delete(obj.id);
      this.#rejoining.delete(obj.id);
      if (joined && pending) this.#rooms.add(obj.joined);
      else if (!joined) this.#rooms.delete(obj.left);
      pending?.resolve(obj);
    } else if ("ack" in obj && !("message" in obj)) {
      const pending = this.#pending.get(obj.ack);
      this.#pending.delete(obj.ack);
      pending?.resolve(obj);
    } else if (typeof obj.room === "string" && typeof obj.from === "string" && "message" in obj && !("to_user" in obj)) {
      // A room message: a new object the server made, with the verified sender. A direct message
      // always has to_user, and any "room" field in it is the sender's own.
      this.#emit("room", obj);
    } else if ("message" in obj) {
      if (typeof obj.offset === "number") {
        const stream = obj.to_user === this.#options.everyone ? "everyone" : "user";
        const position = this.#positions[stream];
        if (position && obj.offset <= position.offset) return; // seen already
        if (position) position.offset = obj.offset;
      }
      this.#emit("message", obj);
    }
  }

  #presence(obj) {
    if (typeof obj.room === "string") {
      // who is in a room (or how many): not the route's online list
      this.#emit("roompresence", obj);
      return;
    }
    if (obj.presence === "online" && Array.isArray(obj.users)) {
      this.#online = [...new Set(obj.users)].sort();
    } else if (obj.presence === "join" && !this.#online.includes(obj.user)) {
      this.#online = [...this.#online, obj.user].sort();
    } else if (obj.presence === "leave") {
      this.#online = this.#online.filter((u) => u !== obj.user);
    } else if (obj.presence === "changes") {
      // several servers: the joins and leaves of a short window at once
      const left = new Set(Array.isArray(obj.left) ? obj.left : []);
      const joined = Array.isArray(obj.joined) ? obj.joined : [];
      this.#online = [...new Set([...this.#online, ...joined])].filter((u) => !left.has(u)).sort();
    }
    this.#emit("presence", { ...obj, online: this.online });
  }
}

/** Whether `obj` is the server's answer to a join or a leave: {"joined": room} or {"left": room}, never a message. */
function isAnswer(obj, field) {
  return typeof obj[field] === "string" && !("message" in obj) && !("to_user" in obj);
}
