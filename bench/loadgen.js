#!/usr/bin/env node
// Load generator for `make bench`: many socket.io-client connections in one Node process.
//
//   node bench/loadgen.js config.json
//
// The config (written by bench/run.py) names the server, the clients (a session cookie, a meeting and a
// role each, from `flask bench-setup`) and the phases to run. Each client is a browser-like Socket.IO
// connection: websocket transport, its session cookie, an Origin equal to the server's URL (the same-origin
// check), and the browser's reconnection settings (reconnectionDelayMax 5000, see static/js/chat.js).
// After every (re)connect a client sends `join` with `after` = the highest message id it has seen.
//
// Sending never waits for replies: each phase sends on a fixed schedule (a constant total rate, the
// senders taking turns in a fixed shuffled order, so each sender also keeps a fixed period). For every
// message the generator knows its send time (monotonic clock, this process), its acknowledgement time and
// which sockets were in its room when it was sent; it measures per recipient the delivery latency (receipt
// minus send), the ack latency, and what was lost (acked, but not received by a socket that was in the room).
//
// Progress goes to stderr. Marks go to stdout as JSON lines ({"mark": name, "wait": bool}); when `wait` is
// true the generator waits for one line on stdin (the orchestrator samples CPU and memory at marks).
// The result is written as JSON to config.result_path.
"use strict";

const fs = require("fs");
const readline = require("readline");
const { performance, monitorEventLoopDelay } = require("perf_hooks");
const { io } = require("socket.io-client");

const cfg = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
const REPLAY_LIMIT = cfg.replay_limit || 1000;
const now = () => performance.now();
const log = (...args) => process.stderr.write(`[loadgen ${(now() / 1000).toFixed(1)}s] ${args.join(" ")}\n`);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// ---- marks: a line protocol with the orchestrator --------------------------------------------------------

const stdinLines = [];
let stdinWaiter = null;
readline.createInterface({ input: process.stdin }).on("line", (line) => {
  if (stdinWaiter) { const w = stdinWaiter; stdinWaiter = null; w(line); } else { stdinLines.push(line); }
});

// Returns the orchestrator's reply: a JSON object (e.g. the CPU that other work used during a step), or {}.
async function mark(name, wait = false, extra = {}) {
  process.stdout.write(JSON.stringify({ mark: name, wait, t: now(), ...extra }) + "\n");
  if (!wait || !cfg.interactive) { return {}; }
  const line = stdinLines.length ? stdinLines.shift() : await new Promise((resolve) => { stdinWaiter = resolve; });
  try { return JSON.parse(line); } catch (err) { return {}; }
}

// ---- statistics ------------------------------------------------------------------------------------------

class Samples {
  constructor() { this.buf = new Float64Array(1024); this.n = 0; }
  push(v) {
    if (this.n === this.buf.length) { const b = new Float64Array(this.buf.length * 2); b.set(this.buf); this.buf = b; }
    this.buf[this.n++] = v;
  }
  summary() {
    if (this.n === 0) { return { count: 0 }; }
    const s = this.buf.slice(0, this.n).sort();
    const at = (q) => s[Math.min(s.length - 1, Math.floor(q * s.length))];
    let sum = 0; for (let i = 0; i < s.length; i++) { sum += s[i]; }
    const r = (v) => Math.round(v * 1000) / 1000;
    return { count: s.length, mean: r(sum / s.length), p50: r(at(0.5)), p90: r(at(0.9)), p99: r(at(0.99)),
             p999: r(at(0.999)), max: r(s[s.length - 1]) };
  }
}

// ---- clients ---------------------------------------------------------------------------------------------

const clients = cfg.clients.map((spec, idx) => ({
  idx, spec, role: spec.role, meetingId: spec.meeting_id, socket: null, joined: false,
  seen: new Set(), maxSeen: 0, onJoined: null, joinedAt: 0, connects: 0,
}));
const rooms = new Map();          // meeting id -> Set of clients joined there now
const maxAcked = new Map();       // meeting id -> highest server id acknowledged to a sender
const ackedAt = new Map();        // "meeting:id" -> when its ack arrived (for the storm's diagnostics)
const inflight = new Map();       // client_id -> record of a message being tracked
let phase = null;                 // the phase that owns new sends and receipts
let clientSeq = 0;
// Client ids are unique per author and meeting in the database, which outlives this process: a run token.
const RUN = require("crypto").randomBytes(6).toString("hex");
const counters = { disconnects: {}, connect_errors: {}, join_errors: {}, unknown_messages: 0, duplicates: 0 };

function roomOf(meetingId) {
  let set = rooms.get(meetingId);
  if (!set) { set = new Set(); rooms.set(meetingId, set); }
  return set;
}

function bump(table, key) { table[key] = (table[key] || 0) + 1; }

function onMessage(c, m) {
  const t = now();
  if (!m || m.meeting_id !== c.meetingId) { return; }
  if (c.seen.has(m.id)) { counters.duplicates++; } else { c.seen.add(m.id); }
  // As chat.js does: a live message that arrives while a join is under way does not move the replay point.
  if (c.joined && m.id > c.maxSeen) { c.maxSeen = m.id; }
  const rec = inflight.get(m.client_id);
  if (!rec) { counters.unknown_messages++; return; }
  rec.recv++;
  if (rec.expected.has(c)) { rec.expected.delete(c); }
  if (rec.phase && rec.measured) { rec.phase.delivery.push(t - rec.t0); }
  if (rec.phase && rec.phase.onReceipt) { rec.phase.onReceipt(c, m); }
}

// As chat.js does: an ack timeout of 10 s (2 × ACK_TIMEOUT_MS), then `join` again 3 s later while still
// connected and not joined; a refusal is final.
const JOIN_TIMEOUT_MS = 10000;
const JOIN_RETRY_MS = 3000;

function join(c, after) {
  const payload = { meeting_id: c.meetingId };
  if (after !== null && after !== undefined && after > 0) { payload.after = after; }
  const socket = c.socket;
  socket.timeout(JOIN_TIMEOUT_MS).emit("join", payload, (err, ack) => {
    if (socket !== c.socket) { return; }  // an answer for a socket this client has closed since
    if (err) {
      bump(counters.join_errors, "timeout");
      setTimeout(() => { if (c.socket === socket && socket.connected && !c.joined) { join(c, c.maxSeen); } }, JOIN_RETRY_MS);
      return;
    }
    if (!ack || !ack.ok) {
      bump(counters.join_errors, ack && ack.error ? ack.error.code : "bad_ack");
      if (c.onJoined) { const cb = c.onJoined; c.onJoined = null; cb(new Error(JSON.stringify(ack))); }
      return;
    }
    if (c.joined) { return; }  // a late answer to a join that was sent again meanwhile
    for (const m of ack.messages || []) {
      if (m.meeting_id === c.meetingId) { c.seen.add(m.id); if (m.id > c.maxSeen) { c.maxSeen = m.id; } }
    }
    if (payload.after !== undefined && (ack.messages || []).length >= REPLAY_LIMIT) {
      join(c, ack.messages[ack.messages.length - 1].id);  // a full page: there may be more (as chat.js does)
      return;
    }
    c.joined = true;
    c.joinedAt = now();
    roomOf(c.meetingId).add(c);
    if (phase && phase.onJoin) { phase.onJoin(c); }
    if (c.onJoined) { const cb = c.onJoined; c.onJoined = null; cb(null); }
  });
}

function open(c) {
  return new Promise((resolve, reject) => {
    const socket = io(cfg.url, {
      transports: ["websocket"], forceNew: true, reconnection: true, reconnectionDelayMax: 5000,
      timeout: 30000, extraHeaders: { Cookie: c.spec.cookie, Origin: cfg.url, "User-Agent": cfg.user_agent },
      // Browsers offer permessage-deflate and the server accepts it; `per_message_deflate: false` to compare.
      perMessageDeflate: cfg.per_message_deflate === false ? false : { threshold: 1024 },
    });
    c.socket = socket;
    c.onJoined = (err) => (err ? reject(err) : resolve(c));
    socket.on("connect", () => { c.connects++; if (phase && phase.onConnect) { phase.onConnect(c); } join(c, c.maxSeen); });
    socket.on("message", (m) => onMessage(c, m));
    // A peer expert's presence counts only while its client answers the server's proof of life (as chat.js does).
    socket.on("alive", (_data, ack) => { if (typeof ack === "function") { ack({ ok: true }); } });
    socket.on("disconnect", (reason) => {
      c.joined = false;
      roomOf(c.meetingId).delete(c);
      bump(counters.disconnects, reason);
      if (phase && phase.onDisconnect) { phase.onDisconnect(c, reason); }
    });
    socket.on("connect_error", (err) => {
      bump(counters.connect_errors, String(err && err.message));
      if (c.onJoined && !socket.active) { const cb = c.onJoined; c.onJoined = null; cb(err); }
    });
  });
}

async function openAll(list, concurrency) {
  const started = now();
  let next = 0, failed = 0;
  async function worker() {
    while (next < list.length) {
      const c = list[next++];
      try { await open(c); } catch (err) { failed++; log(`client ${c.spec.user} failed: ${err.message}`); }
    }
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, list.length) }, worker));
  return { clients: list.length, failed, seconds: round((now() - started) / 1000) };
}

function closeAll(list) {
  for (const c of list) { if (c.socket) { c.socket.io.opts.reconnection = false; c.socket.disconnect(); c.socket = null; } }
}

const round = (v, digits = 3) => Math.round(v * 10 ** digits) / 10 ** digits;

// ---- sending on a fixed schedule ---------------------------------------------------------------------------

function shuffled(list, seed) {
  const out = list.slice();
  let s = seed >>> 0 || 1;
  for (let i = out.length - 1; i > 0; i--) {
    s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0;
    const j = s % (i + 1);
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

function newPhase(name) {
  return { name, delivery: new Samples(), ack: new Samples(), lag: new Samples(), sent: 0, measuredSent: 0,
           acked: 0, ackErrors: {}, records: [], loopDelay: monitorEventLoopDelay({ resolution: 5 }) };
}

function sendOne(ph, c, measured) {
  const clientId = `b${RUN}${(clientSeq++).toString(36).padStart(6, "0")}`;
  const rec = { t0: 0, phase: ph, measured, recv: 0, expected: new Set(roomOf(c.meetingId)), acked: false,
                ok: false, id: null, meetingId: c.meetingId, sender: c, expectedCount: 0 };
  rec.expectedCount = rec.expected.size;
  inflight.set(clientId, rec);
  ph.records.push(clientId);
  ph.sent++;
  if (measured) { ph.measuredSent++; }
  rec.t0 = now();
  c.socket.emit("send", { meeting_id: c.meetingId, client_id: clientId, text: `bench message ${clientId}` }, (ack) => {
    const t = now();
    rec.acked = true;
    if (ack && ack.ok && ack.duplicate) {
      bump(ph.ackErrors, "duplicate");  // a client id used before: nothing was broadcast
    } else if (ack && ack.ok) {
      rec.ok = true; rec.id = ack.id; ph.acked++;
      if (!(maxAcked.get(rec.meetingId) >= ack.id)) { maxAcked.set(rec.meetingId, ack.id); }
      if (ph.trackAcks) { ackedAt.set(`${rec.meetingId}:${ack.id}`, t); }
      if (measured) { ph.ack.push(t - rec.t0); }
    } else {
      bump(ph.ackErrors, ack && ack.error ? ack.error.code : "bad_ack");
    }
  });
}

// Send `rate` messages per second in total for `seconds`, the senders taking turns; the first `warmup`
// seconds are not measured. Resolves when the last one is sent.
function schedule(ph, senders, rate, seconds, warmup = 0) {
  const order = shuffled(senders, 12345);
  const total = Math.floor(rate * seconds);
  const gap = 1000 / rate;
  const start = now() + 20;
  let g = 0;
  return new Promise((resolve) => {
    function tick() {
      const t = now();
      while (g < total && start + g * gap <= t) {
        const due = start + g * gap;
        const c = order[g % order.length];
        const measured = due >= start + warmup * 1000;
        if (measured) { ph.lag.push(t - due); }
        if (c.joined) { sendOne(ph, c, measured); } else { ph.skipped = (ph.skipped || 0) + 1; }
        g++;
      }
      if (g >= total) {
        // The schedule lasts its full duration, also when it ends with a pause (low rates, short chunks).
        setTimeout(resolve, Math.max(0, start + seconds * 1000 - now()));
        return;
      }
      setTimeout(tick, Math.max(0, start + g * gap - now() - 1));
    }
    setTimeout(tick, 20);
  });
}

// Wait until every message of the phase is acknowledged and received by everyone expected, or `seconds` pass.
async function drain(ph, seconds, acksOnly = false) {
  const deadline = now() + seconds * 1000;
  while (now() < deadline) {
    let pending = false;
    for (const id of ph.records) {
      const rec = inflight.get(id);
      if (!rec.acked || (!acksOnly && rec.ok && rec.expected.size > 0)) { pending = true; break; }
    }
    if (!pending) { return true; }
    await sleep(50);
  }
  return false;
}

// Close the books on a phase: latencies, loss, errors. Forgets its messages.
function finish(ph, extra = {}) {
  let lost = 0, lostMessages = 0, unacked = 0, expectedDeliveries = 0, received = 0;
  for (const id of ph.records) {
    const rec = inflight.get(id);
    if (rec.measured) {
      if (!rec.acked) { unacked++; } else if (rec.ok) {
        expectedDeliveries += rec.expectedCount;
        received += rec.recv;
        // Only sockets that stayed in the room count as losses: one that dropped meanwhile gets a replay.
        let missing = 0;
        for (const c of rec.expected) { if (c.joined) { missing++; } }
        lost += missing; if (missing) { lostMessages++; }
      }
    }
    inflight.delete(id);
  }
  ph.loopDelay.disable();
  const ld = ph.loopDelay;
  const result = {
    name: ph.name, sent: ph.measuredSent, sent_total: ph.sent, acked: ph.acked, ack_errors: ph.ackErrors,
    unacked, skipped_not_joined: ph.skipped || 0, expected_deliveries: expectedDeliveries, received,
    lost_deliveries: lost, messages_with_loss: lostMessages,
    delivery_ms: ph.delivery.summary(), ack_ms: ph.ack.summary(), schedule_lag_ms: ph.lag.summary(),
    event_loop_delay_ms: { p50: round(ld.percentile(50) / 1e6), p99: round(ld.percentile(99) / 1e6),
                           max: round(ld.max / 1e6) },
    generator_cpu_s: ph.cpu ? round((process.cpuUsage(ph.cpu).user + process.cpuUsage(ph.cpu).system) / 1e6) : null,
    ...extra,
  };
  ph.records = [];
  return result;
}

function begin(ph) { ph.loopDelay.enable(); ph.cpu = process.cpuUsage(); ph.wallStart = now(); phase = ph; }

// ---- phases ----------------------------------------------------------------------------------------------

const participants = () => clients.filter((c) => c.role === "participant");
const moderators = () => clients.filter((c) => c.role === "moderator");

// Every sender sends one message, spread over `seconds`; then wait until all is delivered. The app does
// per-socket work on a socket's first message (it caches what the account may post), so steady-state
// figures are measured after this round; the round's own figures are reported as "first message".
async function warmup(senders, seconds, drainSeconds) {
  const ph = newPhase("first_message");
  begin(ph);
  const rate = senders.length / seconds;
  await schedule(ph, senders, rate, seconds, 0);
  const drained = await drain(ph, drainSeconds);
  const r = finish(ph, { rate_per_s: round(rate), drained });
  phase = null;
  log(`warm-up: every sender sent once (${round(rate, 1)}/s): delivery p50 ${r.delivery_ms.p50} ms, ` +
      `p99 ${r.delivery_ms.p99} ms, ack p99 ${r.ack_ms.p99} ms${drained ? "" : ", NOT drained"}`);
  return r;
}

async function realistic(p) {
  const senders = participants();
  const rate = senders.length / p.interval_s;
  log(`realistic: ${senders.length} senders, one message per ${p.interval_s}s each (${rate.toFixed(1)}/s), ` +
      `a first round, then ${p.duration_s}s measured`);
  const first = await warmup(senders, p.interval_s, p.drain_s);
  const ph = newPhase("realistic");
  begin(ph);
  await mark("realistic_measure_start", true);
  await schedule(ph, senders, rate, p.duration_s, 0);
  await mark("realistic_measure_end", true);
  const drained = await drain(ph, p.drain_s);
  return finish(ph, { rate_per_s: round(rate), senders: senders.length, interval_s: p.interval_s,
                      measured_s: p.duration_s, drained, first_message: first });
}

async function sweepStep(p, senders, rate, label) {
  const ph = newPhase(`sweep_${Math.round(rate)}`);
  begin(ph);
  await mark("sweep_step_start", true, { rate: round(rate) });
  await schedule(ph, senders, rate, p.step_s, p.warmup_s);
  const reply = await mark("sweep_step_end", true, { rate: round(rate) });
  const drained = await drain(ph, p.drain_s);
  const r = finish(ph, { rate_per_s: round(rate), per_sender_per_s: round(rate / senders.length, 4), drained });
  // Other work on the machine during the step (from the orchestrator's /proc figures): a step it disturbed
  // says little about the server.
  r.other_cores = typeof reply.other_cores === "number" ? reply.other_cores : null;
  r.disturbed = r.other_cores !== null && r.other_cores > (p.disturbed_cores || 0.3);
  phase = null;
  const errors = Object.values(r.ack_errors).reduce((a, b) => a + b, 0);
  r.pass = drained && r.lost_deliveries === 0 && r.unacked === 0 && errors === 0 &&
    r.delivery_ms.count > 0 && r.delivery_ms.p99 < p.p99_limit_ms && r.ack_ms.p99 < p.p99_limit_ms;
  log(`sweep ${Math.round(rate)}/s${label}: delivery p99 ${r.delivery_ms.p99} ms, ack p99 ${r.ack_ms.p99} ms, ` +
      `lost ${r.lost_deliveries}, errors ${errors}, lag p99 ${r.schedule_lag_ms.p99} ms, other work ` +
      `${r.other_cores} cores -> ${r.pass ? "pass" : "FAIL"}${!r.pass && r.disturbed ? " (disturbed)" : ""}`);
  if (!drained) { await drain(ph, p.drain_s); }  // let a backlog clear before the next step
  await sleep(p.pause_s * 1000);
  return r;
}

// Raise the total rate by `factor` per step until a step fails (p99 over the limit, or anything lost or
// refused); a failing step is run once more and fails only if it fails again (one stall of the machine
// should not end the sweep), and up to `max_attempts` times while other work on the machine disturbed it.
// If the first rate fails, halve it until one passes. Then one step between the highest passing and the
// lowest failing rate.
async function sweep(p) {
  const senders = participants();
  const steps = [];
  const first = await warmup(senders, p.warmup_round_s, p.drain_s);
  let best = null, failedAt = null;
  const tryRate = async (rate) => {
    let r = await sweepStep(p, senders, rate, "");
    steps.push(r);
    let attempts = 1;
    while (!r.pass && r.lost_deliveries === 0 && r.drained && (attempts === 1 || r.disturbed) &&
           attempts < (p.max_attempts || 4)) {
      r.retried = true;
      r = await sweepStep(p, senders, rate, " (again)");
      steps.push(r);
      attempts++;
    }
    if (r.pass) { best = Math.max(best || 0, rate); } else { failedAt = Math.min(failedAt || Infinity, rate); }
    return r.pass;
  };
  let rate = p.start_rate;
  while (rate <= p.max_rate && await tryRate(rate)) { rate *= p.factor; }
  if (best === null) {
    for (rate = p.start_rate / 2; rate >= (p.min_rate || 1); rate /= 2) { if (await tryRate(rate)) { break; } }
  }
  if (best !== null && failedAt !== null && failedAt / best > 1.08) { await tryRate(Math.sqrt(best * failedAt)); }
  return { name: "sweep", senders: senders.length, p99_limit_ms: p.p99_limit_ms, best_rate_per_s: best && round(best, 1),
           first_failed_rate_per_s: failedAt && round(failedAt, 1), capped: failedAt === null, steps, first_message: first };
}

async function storm(p) {
  const ph = newPhase("storm");
  const parts = participants();
  const mods = moderators();
  const replay = p.replay !== false;
  const state = new Map();  // client -> {dropMax, reconnectedAt, joinedAt, target, completeAt}
  let dropAt = 0;
  const incomplete = new Set();
  const check = (c, t) => {
    const s = state.get(c);
    if (!s || s.completeAt || !s.joinedAt) { return; }
    if (replay) { for (let id = s.dropMax + 1; id <= s.target; id++) { if (!c.seen.has(id)) { return; } } }
    s.completeAt = t - dropAt;
    incomplete.delete(c);
  };
  ph.onConnect = (c) => { const s = state.get(c); if (s && !s.reconnectedAt) { s.reconnectedAt = now() - dropAt; } };
  ph.onJoin = (c) => {
    const s = state.get(c);
    if (!s || s.joinedAt) { return; }
    s.joinedAt = now() - dropAt;
    s.target = maxAcked.get(c.meetingId) || 0;
    check(c, now());
  };
  ph.onReceipt = (c) => { if (incomplete.has(c)) { check(c, now()); } };
  ph.trackAcks = true;
  begin(ph);
  const modRate = mods.length * p.moderator_rate_per_s;
  log(`storm: ${mods.length} moderators keep sending (${modRate}/s); dropping ${parts.length} participants at once`);
  const total = p.pre_s + p.timeout_s + p.post_s;
  let stopSending = false;
  const sending = (async () => {
    // Short chunks, so sending can stop as soon as the storm is over.
    while (!stopSending) { await schedule(ph, mods, modRate, 1, 0); }
  })();
  await sleep(p.pre_s * 1000);
  await mark("storm_drop", true);
  dropAt = now();
  for (const c of parts) {
    state.set(c, { dropMax: c.maxSeen, reconnectedAt: 0, joinedAt: 0, target: 0, completeAt: 0 });
    incomplete.add(c);
    c.socket.io.engine.close();  // the transport drops; the client reconnects as a browser does
  }
  const deadline = dropAt + p.timeout_s * 1000;
  const rejoinedAll = () => parts.every((c) => state.get(c).joinedAt);
  const lastRejoin = () => Math.max(...parts.map((c) => state.get(c).joinedAt));
  // Until everyone is back, or everyone rejoined 5 s ago and some still miss ids (those gaps stay), or time is up.
  while (incomplete.size && now() < deadline && !(rejoinedAll() && now() - dropAt - lastRejoin() > 5000)) {
    await sleep(20);
  }
  const doneAt = now() - dropAt;
  const allRejoinedAt = rejoinedAll() ? lastRejoin() : null;
  await mark("storm_done", true);
  await sleep(p.post_s * 1000);
  stopSending = true;
  await sending;
  await drain(ph, p.drain_s, true);  // replayed messages arrive in join acks, not as events: wait for acks only
  // Loss: ids missing between what each participant had seen before the drop and the last id acked in its meeting.
  let missing = 0, participantsWithGaps = 0;
  const gapSamples = [];
  if (replay) {
    for (const c of parts) {
      const s = state.get(c);
      if (!s.joinedAt) { continue; }  // not back at all: counted as such, its missing ids are no news
      const last = maxAcked.get(c.meetingId) || 0;
      let m = 0;
      for (let id = s.dropMax + 1; id <= last; id++) {
        if (c.seen.has(id)) { continue; }
        m++;
        if (gapSamples.length < 10) {
          // When the missing message was acknowledged, and when this participant's rejoin was (s after the drop).
          const acked = ackedAt.get(`${c.meetingId}:${id}`);
          gapSamples.push({ user: c.spec.user, meeting_id: c.meetingId, id, acked_s: acked ? round((acked - dropAt) / 1000) : null,
                            rejoined_s: round(s.joinedAt / 1000), dropped_at_id: s.dropMax });
        }
      }
      missing += m; if (m) { participantsWithGaps++; }
    }
  }
  const col = (key) => { const x = new Samples(); for (const s of state.values()) { if (s[key]) { x.push(s[key] / 1000); } } return x; };
  const count = (key) => [...state.values()].filter((s) => s[key]).length;
  const base = finish(ph, {});
  phase = null;
  return {
    name: "storm", participants: parts.length, replay, moderator_rate_per_s: modRate,
    all_complete: incomplete.size === 0, seconds_until_all_back: incomplete.size === 0 ? round(doneAt / 1000) : null,
    seconds_until_all_rejoined: allRejoinedAt === null ? null : round(allRejoinedAt / 1000),
    reconnected: count("reconnectedAt"), rejoined: count("joinedAt"), complete: count("completeAt"),
    reconnect_s: col("reconnectedAt").summary(), rejoin_s: col("joinedAt").summary(), complete_s: col("completeAt").summary(),
    missing_after_rejoin: missing, participants_with_gaps: participantsWithGaps, gap_examples: gapSamples,
    not_rejoined: parts.length - count("joinedAt"),
    moderator_messages: { sent: base.sent_total, acked: base.acked, ack_errors: base.ack_errors, ack_ms: base.ack_ms },
    generator_cpu_s: base.generator_cpu_s,
  };
}

async function idle(p) {
  // Warm the server up with a few connections first, so the "before" figure includes what the first
  // connection loads; then open `sockets` connections (accounts cycle, so users have several sockets).
  const pool = clients.filter((c) => c.role !== "coordinator");
  const make = (i) => ({ ...pool[i % pool.length], idx: 100000 + i, socket: null, joined: false, seen: new Set(),
                         maxSeen: 0, onJoined: null, connects: 0 });
  const warm = Array.from({ length: p.warm }, (_, i) => make(i));
  await openAll(warm, 10);
  closeAll(warm);
  await sleep(2000);
  await mark("idle_before", true);
  const extra = Array.from({ length: p.sockets }, (_, i) => make(i));
  const opened = await openAll(extra, p.concurrency || 50);
  log(`idle: ${p.sockets - opened.failed} sockets connected and joined in ${opened.seconds}s`);
  await sleep(p.settle_s * 1000);
  const alive = extra.filter((c) => c.socket && c.socket.connected).length;
  await mark("idle_after", true, { sockets: alive });
  await sleep((p.hold_s || 10) * 1000);  // the server's CPU with every connection idle (heartbeats, pings)
  await mark("idle_hold_end", true);
  closeAll(extra);
  return { name: "idle", sockets: alive, failed: opened.failed, connect_seconds: opened.seconds };
}

// ---- main ------------------------------------------------------------------------------------------------

async function main() {
  const result = { url: cfg.url, kind: cfg.kind, phases: {}, started: new Date().toISOString() };
  const needConnections = cfg.phases.some((p) => p.kind !== "idle");
  if (needConnections) {
    // Moderators first: participants may write only while a peer expert of their group is connected.
    const mods = await openAll(moderators(), cfg.connect_concurrency);
    const parts = await openAll(participants(), cfg.connect_concurrency);
    result.connect = { moderators: mods, participants: parts };
    if (mods.failed || parts.failed) {
      throw new Error(`${mods.failed} moderators and ${parts.failed} participants could not connect and join ` +
                      `(connect errors: ${JSON.stringify(counters.connect_errors)}, join errors: ${JSON.stringify(counters.join_errors)})`);
    }
    log(`connected ${mods.clients - mods.failed} moderators (${mods.seconds}s) and ${parts.clients - parts.failed} participants (${parts.seconds}s)`);
    await sleep((cfg.settle_s || 2) * 1000);
  }
  for (const p of cfg.phases) {
    const fn = { realistic, sweep, storm, idle }[p.kind];
    result.phases[p.kind] = await fn(p);
    phase = null;
    await mark(`${p.kind}_done`, false);
  }
  result.counters = counters;
  closeAll(clients);
  fs.writeFileSync(cfg.result_path, JSON.stringify(result, null, 1));
  await mark("finished", false);
  setTimeout(() => process.exit(0), 200);
}

main().catch((err) => { log(`failed: ${err && err.stack}`); process.exit(1); });
