/* Checks a receipt (c2sp.org/tlog-proof) in the browser, sending nothing anywhere.
 *
 * The same checks as `coop receipt verify` (ledger/receipts.py), in the same order: the file
 * is read strictly; the checkpoint must be of the log whose verifier key the page carries and
 * signed by that key (Ed25519 over the note's text); the leaf SHA-256(0x00 || extra) with the
 * inclusion proof must lead to the checkpoint's root (RFC 9162 2.1.3.2); and the event bytes
 * must be an event of this ledger whose number is its index + 1. Then, for each witness whose
 * cosigner key (type 0x04) the page carries, whether its cosignature/v1 line (c2sp.org/
 * tlog-cosignature: key id || 8-byte big-endian time || Ed25519 signature over
 * "cosignature/v1\ntime <t>\n" and the checkpoint's text) is there and verifies.
 * Uses only Web Crypto. */
"use strict";

(() => {
  const HEADER = "c2sp.org/tlog-proof@v1";
  const NOTE_ED25519 = 1;
  const COSIGNATURE_V1 = 4;
  const MAX_TIMESTAMP = 2n ** 63n - 1n;
  const HASH_SIZE = 32;
  const EVENT_FIELDS = ["actor", "payload", "seq", "subject", "time", "type"];

  class Refusal extends Error {
    constructor(code, detail) {
      super(detail);
      this.code = code;
    }
  }

  const concat = (...parts) => {
    const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const p of parts) {
      out.set(p, at);
      at += p.length;
    }
    return out;
  };
  const equal = (a, b) => a.length === b.length && a.every((x, i) => x === b[i]);
  const utf8 = (text) => new TextEncoder().encode(text);
  const sha256 = async (...parts) => new Uint8Array(await crypto.subtle.digest("SHA-256", concat(...parts)));

  function base64(text, what) {
    let binary;
    try {
      binary = atob(text);
    } catch {
      throw new Refusal("malformed", `${what} is not base64`);
    }
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text) || btoa(binary) !== text) {
      throw new Refusal("malformed", `${what} is not standard base64`);
    }
    return Uint8Array.from(binary, (c) => c.charCodeAt(0));
  }

  function decimal(text, what) {
    if (!/^(0|[1-9][0-9]{0,14})$/.test(text)) {
      throw new Refusal("malformed", `${what} is not a decimal number without leading zeroes`);
    }
    return BigInt(text);
  }

  async function verifierKey(text, type = NOTE_ED25519) {
    const m = /^([^+\s]+)\+([^+]*)\+(.*)$/.exec(text.trim());
    if (!m) throw new Refusal("bad-key", "the page's verifier key is not name+id+key");
    const [, name, id, blob] = m;
    const raw = base64(blob, "the verifier key");
    if (!name || !/^[0-9a-f]{8}$/.test(id) || raw.length !== 33 || raw[0] !== type) {
      throw new Refusal("bad-key", "the page's verifier key is not an Ed25519 key of its type");
    }
    const keyId = Uint8Array.from(id.match(/../g), (h) => parseInt(h, 16));
    if (!equal((await sha256(utf8(`${name}\n`), raw)).slice(0, 4), keyId)) {
      throw new Refusal("bad-key", "the page's verifier key has a wrong key id");
    }
    return { name, keyId, publicKey: raw.slice(1) };
  }

  function parseCheckpoint(note) {
    const cut = note.lastIndexOf("\n\n");
    const body = note.slice(0, cut);
    const signed = note.slice(cut + 2);
    if (cut < 0 || !body || !signed.endsWith("\n")) {
      throw new Refusal("malformed", "the checkpoint is not a signed note");
    }
    const lines = body.split("\n");
    if (lines.length < 3 || lines.some((l) => !l)) {
      throw new Refusal("malformed", "a checkpoint has an origin, a tree size and a root hash");
    }
    const root = base64(lines[2], "the root hash");
    if (root.length !== HASH_SIZE) throw new Refusal("malformed", "the root is not a SHA-256 hash");
    const signatures = signed
      .slice(0, -1)
      .split("\n")
      .map((line) => {
        const m = /^\u2014 ([^ +\s]+) ([A-Za-z0-9+/]+={0,2})$/.exec(line);
        if (!m) throw new Refusal("malformed", "not a signature line");
        const blob = base64(m[2], "a signature");
        if (blob.length < 5) throw new Refusal("malformed", "a signature is too short");
        return { name: m[1], keyId: blob.slice(0, 4), signature: blob.slice(4) };
      });
    const keys = new Set(signatures.map((s) => `${s.name} ${s.keyId.join()}`));
    if (keys.size !== signatures.length || signatures.length > 100) {
      throw new Refusal("malformed", "at most 100 signature lines, one of each key");
    }
    return {
      body: `${body}\n`,
      origin: lines[0],
      treeSize: decimal(lines[1], "the tree size"),
      root,
      signatures,
    };
  }

  function parseReceipt(text) {
    if (/[\u0000-\u0009\u000b-\u001f]/.test(text)) {
      throw new Refusal("malformed", "a receipt holds no control characters but newlines");
    }
    const cut = text.indexOf("\n\n");
    if (cut < 0) throw new Refusal("malformed", "no blank line before the checkpoint");
    const lines = text.slice(0, cut).split("\n");
    if (lines.shift() !== HEADER) throw new Refusal("malformed", `the first line is not ${HEADER}`);
    let extra = null;
    if (lines.length && lines[0].startsWith("extra ")) extra = base64(lines.shift().slice(6), "extra");
    if (!lines.length || !lines[0].startsWith("index ")) throw new Refusal("malformed", "no index line");
    const index = decimal(lines.shift().slice(6), "the index");
    const proof = lines.map((line) => {
      const h = base64(line, "a proof line");
      if (h.length !== HASH_SIZE) throw new Refusal("malformed", "a proof line is not a SHA-256 hash");
      return h;
    });
    return { extra, index, proof, checkpoint: parseCheckpoint(text.slice(cut + 2)) };
  }

  async function ed25519(publicKey, signature, message) {
    const key = await crypto.subtle.importKey("raw", publicKey, { name: "Ed25519" }, false, ["verify"]);
    return crypto.subtle.verify({ name: "Ed25519" }, key, signature, message);
  }

  async function logSignature(checkpoint, key) {
    if (checkpoint.origin !== key.name) {
      throw new Refusal("wrong-log", `the checkpoint is of the log ${checkpoint.origin}, not ${key.name}`);
    }
    const line = checkpoint.signatures.find((s) => s.name === key.name && equal(s.keyId, key.keyId));
    if (!line) throw new Refusal("unsigned", "no signature by the log's key");
    if (!(await ed25519(key.publicKey, line.signature, utf8(checkpoint.body)))) {
      throw new Refusal("bad-signature", "the log's signature does not verify");
    }
  }

  // RFC 9162 2.1.3.2, with BigInt so that the bit operations hold past 2^31 events.
  async function rootFromProof(leaf, index, size, proof) {
    if (index >= size) throw new Refusal("not-included", "the index is beyond the tree");
    let fn = index;
    let sn = size - 1n;
    let r = leaf;
    for (const p of proof) {
      if (sn === 0n) throw new Refusal("not-included", "the proof is longer than the tree is deep");
      if (fn & 1n || fn === sn) {
        r = await sha256(Uint8Array.of(1), p, r);
        if (!(fn & 1n)) {
          while (!(fn & 1n) && fn !== 0n) {
            fn >>= 1n;
            sn >>= 1n;
          }
        }
      } else {
        r = await sha256(Uint8Array.of(1), r, p);
      }
      fn >>= 1n;
      sn >>= 1n;
    }
    if (sn !== 0n) throw new Refusal("not-included", "the proof is shorter than the tree is deep");
    return r;
  }

  function readEvent(bytes, index) {
    let event;
    try {
      event = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
    } catch {
      throw new Refusal("bad-event", "the event bytes are not JSON");
    }
    const fields = event && typeof event === "object" ? Object.keys(event).sort() : [];
    if (fields.join() !== EVENT_FIELDS.join() || !Number.isSafeInteger(event.seq)) {
      throw new Refusal("bad-event", "the event bytes are not an event of this ledger");
    }
    if (BigInt(event.seq) !== index + 1n) throw new Refusal("bad-event", "the event's number is not its index + 1");
    return event;
  }

  async function verify(text, key) {
    const receipt = parseReceipt(text);
    await logSignature(receipt.checkpoint, key);
    if (receipt.extra === null) throw new Refusal("no-event", "the receipt carries no event bytes");
    const leaf = await sha256(Uint8Array.of(0), receipt.extra);
    const root = await rootFromProof(leaf, receipt.index, receipt.checkpoint.treeSize, receipt.proof);
    if (!equal(root, receipt.checkpoint.root)) throw new Refusal("not-included", "the proof does not lead to the root");
    return { event: readEvent(receipt.extra, receipt.index), checkpoint: receipt.checkpoint };
  }

  // Whether the witness with this cosigner key cosigned the checkpoint (cosignature/v1).
  async function cosigned(checkpoint, text) {
    let key;
    try {
      key = await verifierKey(text, COSIGNATURE_V1);
    } catch {
      return false;
    }
    const line = checkpoint.signatures.find((s) => s.name === key.name && equal(s.keyId, key.keyId));
    if (!line || line.signature.length !== 8 + 64) return false;
    const time = new DataView(line.signature.buffer, line.signature.byteOffset, 8).getBigUint64(0);
    if (time > MAX_TIMESTAMP) return false;
    const message = utf8(`cosignature/v1\ntime ${time}\n${checkpoint.body}`);
    return ed25519(key.publicKey, line.signature.slice(8), message);
  }

  function show(result, outcome, reason, found) {
    const parts = "[data-outcome], [data-reason], [data-summary], [data-witnesses], [data-cosigned]";
    for (const el of result.querySelectorAll(parts)) el.hidden = true;
    result.querySelector(`[data-outcome="${outcome}"]`).hidden = false;
    if (reason) {
      const why = result.querySelector(`[data-reason="${reason}"]`) || result.querySelector('[data-reason="malformed"]');
      why.hidden = false;
    }
    if (found) {
      const summary = result.querySelector("[data-summary]");
      const fill = { seq: found.event.seq, type: found.event.type, time: found.event.time, subject: found.event.subject };
      fill.log = `${found.checkpoint.origin} (${found.checkpoint.treeSize})`;
      for (const [name, value] of Object.entries(fill)) summary.querySelector(`[data-field="${name}"]`).textContent = value;
      summary.hidden = false;
      const witnesses = result.querySelector("[data-witnesses]");
      for (const [item, yes] of found.witnesses) {
        item.querySelector(`[data-cosigned="${yes ? "yes" : "no"}"]`).hidden = false;
        item.dataset.state = yes ? "cosigned" : "not-cosigned";
      }
      if (witnesses) witnesses.hidden = false;
    }
    result.dataset.state = outcome;
  }

  async function check(file, page) {
    const result = page.querySelector("#receipt-result");
    let text;
    try {
      text = new TextDecoder("utf-8", { fatal: true }).decode(await file.arrayBuffer());
    } catch {
      show(result, "invalid", "malformed");
      return;
    }
    try {
      if (!crypto.subtle) throw new Refusal("no-crypto", "Web Crypto is not available");
      const key = await verifierKey(page.dataset.logKey);
      const found = await verify(text, key);
      found.witnesses = [];
      for (const item of result.querySelectorAll("[data-witness-key]")) {
        found.witnesses.push([item, await cosigned(found.checkpoint, item.dataset.witnessKey)]);
      }
      show(result, "valid", null, found);
    } catch (error) {
      const reason = error instanceof Refusal ? error.code : "no-crypto"; // e.g. no Ed25519 in this browser
      show(result, "invalid", reason);
    }
  }

  document.addEventListener("DOMContentLoaded", () => {
    const page = document.getElementById("receipt-check");
    const input = document.getElementById("receipt-file");
    input.addEventListener("change", () => {
      if (input.files.length) check(input.files[0], page);
    });
  });
})();
