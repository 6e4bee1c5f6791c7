// wsrouter.js: a small client for wsrouter's DirectedJsonRouter (docs/routers.md).
// A plain ES module: no build step, no dependency. See docs/javascript-client.md.
//
//   import { connect } from "/wsrouter.js";
//   const client = connect("ws://host/ws/alice/");
//   client.on("message", (m) => console.log(m.from, m.message));
//   await client.send("bob", "hi"); // resolves with the ack, rejects with a WsRouterError

/** The connection states, as in {@link WsRouterClient#state}. */
export const STATES = Object.freeze(["connecting", "open", "reconnecting", "closed"]);

/**
 * An error reply of the server to a message this client sent, or the reason a message was given up.
 * `code` is the server's `error` (`unknown_recipient`, `rate_limited`, ...) or `closed` when the
 * client was closed before an answer came; `reply` is the whole error object.
 */
export class WsRouterError extends Error {
  /** @param {object} reply the server's error object, e.g. {error, id, to_user, detail} */
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
 * A connection that reconnects, resumes its streams, and acknowledges what it sends. Events (all
 * `CustomEvent`s whose `detail` is given here; `on(type, fn)` passes the detail to `fn`):
 * `connecting` {attempt, url}, `open` {reconnected}, `close` {code, reason, reconnect}, `reconnecting` {attempt, delay, code, reason},
 * `message` (the message object), `presence` {presence, user, users, online},
 * `recovery` (the server's {recovered, stream, reason?, position?}), `gap` (the server's {stream, reason, position?}:
 * messages from other servers that this connection will never get), `error` (an error object without a pending id).
 * A close with 4010 (missed messages) reconnects and resumes like any other drop.
 */
export class WsRouterClient extends EventTarget {
  #url; #options; #socket = null; #timer = null; #attempt = 0; #opened = false;
  #state = "connecting";
  #positions = {}; // stream -> {epoch, offset}: the last message seen
  #heads = {}; // stream -> {epoch, offset}: where the server said it stood when this connection opened
  #resuming = new Set(); // streams named in the current connection's resume parameter
  #pending = new Map(); // id -> {frame, resolve, reject}, in the order sent
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
    if (this.#state === "closed") {
      return Promise.reject(new WsRouterError({ error: "closed", detail: "the client is closed" }));
    }
    object.id ??= `${this.#idPrefix}-${++this.#counter}`;
    object.ack = true;
    return new Promise((resolve, reject) => {
      this.#pending.set(object.id, { frame: JSON.stringify(object), resolve, reject });
      if (this.#socket?.readyState === 1) {
        this.#socket.send(this.#pending.get(object.id).frame);
      }
    });
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
      // What was queued, and what was in flight when the last connection dropped, in the order sent.
      for (const { frame } of this.#pending.values()) socket.send(frame);
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

  #finish({ code, reason }) {
    this.#state = "closed";
    this.#online = [];
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
        this.#emit("error", obj);
      }
    } else if ("ack" in obj && !("message" in obj)) {
      const pending = this.#pending.get(obj.ack);
      this.#pending.delete(obj.ack);
      pending?.resolve(obj);
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
    if (obj.presence === "online" && Array.isArray(obj.users)) {
      this.#online = [...new Set(obj.users)].sort();
    } else if (obj.presence === "join" && !this.#online.includes(obj.user)) {
      this.#online = [...this.#online, obj.user].sort();
    } else if (obj.presence === "leave") {
      this.#online = this.#online.filter((u) => u !== obj.user);
    }
    this.#emit("presence", { ...obj, online: this.online });
  }
}
