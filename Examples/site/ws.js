// Exercises the server's WebSocket endpoints and reports as JSON in #result:
// { done, ok, url, steps: [{ name, ok, detail, ms }] }. The scheme follows the page's own
// (wss: over HTTPS, ws: otherwise). With ?peer=NONCE a test's outside client is also on
// /ws/chat: the page sends "browser:NONCE" and waits for that client's "peer:NONCE".
"use strict";

const base = `${location.protocol === "https:" ? "wss:" : "ws:"}//${location.host}`;
const peer = new URLSearchParams(location.search).get("peer");
const stepTimeoutMs = 15000;
const bigTimeoutMs = 60000;
const bigSize = 4 * 1024 * 1024;

// One socket with a queue of received messages, so no message is lost between awaits.
class Socket {
  constructor(path) {
    this.queue = [];
    this.waiters = [];
    this.live = false;
    this.ws = new WebSocket(base + path);
    this.ws.binaryType = "arraybuffer";
    this.closed = new Promise((resolve) => {
      this.ws.addEventListener("close", (event) => {
        resolve({ code: event.code, reason: event.reason, clean: event.wasClean });
        for (const waiter of this.waiters.splice(0)) waiter.reject(new Error(`closed (${event.code})`));
      });
    });
    this.ws.addEventListener("message", (event) => {
      if (this.live) return; // the chat form shows it instead
      const waiter = this.waiters.shift();
      if (waiter) waiter.resolve(event.data);
      else this.queue.push(event.data);
    });
  }

  opened(timeoutMs = stepTimeoutMs) {
    return within(timeoutMs, `open ${this.ws.url}`, new Promise((resolve, reject) => {
      if (this.ws.readyState === WebSocket.OPEN) return resolve();
      this.ws.addEventListener("open", () => resolve(), { once: true });
      this.ws.addEventListener("error", () => reject(new Error(`could not open ${this.ws.url}`)), { once: true });
    }));
  }

  // Sends, or throws at once when the socket is not open (instead of waiting out an answer).
  send(data) {
    if (this.ws.readyState !== WebSocket.OPEN) throw new Error(`socket not open (state ${this.ws.readyState})`);
    this.ws.send(data);
  }

  next(timeoutMs = stepTimeoutMs) {
    if (this.queue.length > 0) return Promise.resolve(this.queue.shift());
    let waiter;
    const message = new Promise((resolve, reject) => {
      waiter = { resolve, reject };
      this.waiters.push(waiter);
    });
    // A waiter that timed out must not swallow the next message.
    return within(timeoutMs, "message", message).catch((error) => {
      const index = this.waiters.indexOf(waiter);
      if (index >= 0) this.waiters.splice(index, 1);
      throw error;
    });
  }

  // The first message for which `match` holds, dropping others (chat carries everyone's).
  async nextMatching(match, timeoutMs = stepTimeoutMs) {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const left = deadline - performance.now();
      if (left <= 0) throw new Error("no matching message in time");
      const data = await this.next(left);
      if (match(data)) return data;
    }
  }
}

function within(ms, what, promise) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

// Deterministic pseudo-random bytes (xorshift32), so a corrupted echo cannot match by chance.
function pattern(size, seed) {
  const bytes = new Uint8Array(size);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < size; i++) {
    x ^= x << 13; x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5; x >>>= 0;
    bytes[i] = x & 0xff;
  }
  return bytes;
}

function sameBytes(data, expected) {
  if (!(data instanceof ArrayBuffer)) return `got ${typeof data}, expected binary`;
  const got = new Uint8Array(data);
  if (got.length !== expected.length) return `got ${got.length} bytes, expected ${expected.length}`;
  for (let i = 0; i < got.length; i++) {
    if (got[i] !== expected[i]) return `byte ${i} differs`;
  }
  return null;
}

const steps = [];
async function step(name, body) {
  const start = performance.now();
  try {
    const detail = await body();
    steps.push({ name, ok: true, detail: detail ?? "", ms: Math.round(performance.now() - start) });
  } catch (error) {
    steps.push({ name, ok: false, detail: String(error?.message ?? error), ms: Math.round(performance.now() - start) });
  }
}

const nonce = Math.random().toString(36).slice(2, 10);
let chat;

async function run() {
  const echo = new Socket("/ws/echo");
  await step("echo-open", () => echo.opened());
  await step("echo-text", async () => {
    const text = `héllo ε ✓ 👋 ${nonce}`;
    echo.send(text);
    const got = await echo.next();
    if (got !== text) throw new Error(`got ${JSON.stringify(got)?.slice(0, 80)}`);
    return `${text.length} characters`;
  });
  await step("echo-binary", async () => {
    const bytes = Uint8Array.from({ length: 1000 }, (_, i) => i % 256);
    echo.send(bytes);
    const problem = sameBytes(await echo.next(), bytes);
    if (problem) throw new Error(problem);
    return "1000 bytes";
  });
  await step("echo-4mib", async () => {
    const bytes = pattern(bigSize, 0x45505331);
    const start = performance.now();
    echo.send(bytes);
    const problem = sameBytes(await echo.next(bigTimeoutMs), bytes);
    if (problem) throw new Error(problem);
    return `${bigSize} bytes back and equal in ${Math.round(performance.now() - start)} ms`;
  });
  await step("echo-close", async () => {
    echo.ws.close(1000, "done");
    const closed = await within(stepTimeoutMs, "close", echo.closed);
    if (closed.code !== 1000 || !closed.clean) throw new Error(`closed with ${closed.code}, clean ${closed.clean}`);
    return "1000, clean";
  });

  chat = new Socket("/ws/chat");
  const other = new Socket("/ws/chat");
  await step("chat-open", async () => {
    await chat.opened();
    await other.opened();
    return "two members";
  });
  await step("chat-broadcast", async () => {
    // A member may be added to the room just after its handshake: send again (at most 3 times)
    // if the first message finds the other socket not yet a member.
    const text = `page:${nonce}`;
    for (let attempt = 1; attempt <= 3; attempt++) {
      chat.send(text);
      try {
        await other.nextMatching((data) => typeof data === "string" && data.includes(text), 3000);
        return `seen by the second socket (attempt ${attempt})`;
      } catch (error) {
        if (attempt === 3) throw error;
      }
    }
  });
  if (peer) {
    await step("chat-peer", async () => {
      const reply = `peer:${peer}`;
      chat.send(`browser:${peer}`);
      await other.nextMatching((data) => typeof data === "string" && data.includes(reply));
      return "the outside client saw this page's message and its answer came back";
    });
  }
  other.ws.close(1000);

  const ok = steps.every((s) => s.ok);
  const out = document.getElementById("result");
  out.textContent = JSON.stringify({ done: true, ok, url: base, steps }, null, 1);
  out.className = ok ? "pass" : "fail";
  out.dataset.done = "1";
}

// The chat form: what anyone types goes to every member of /ws/chat, this page included.
function startChatForm() {
  chat.live = true;
  chat.queue.length = 0;
  const log = document.getElementById("log");
  const show = (text) => {
    const item = document.createElement("li");
    item.textContent = text;
    log.append(item);
  };
  chat.ws.addEventListener("message", (event) => {
    if (typeof event.data === "string") show(event.data);
  });
  document.getElementById("chat").addEventListener("submit", (event) => {
    event.preventDefault();
    const input = document.getElementById("say");
    if (input.value && chat.ws.readyState === WebSocket.OPEN) chat.ws.send(input.value);
    input.value = "";
  });
}

run().then(startChatForm);
