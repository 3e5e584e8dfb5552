// The bulk insert's request body (POST /v1/blocks/:id/embeddings), read off the service's event loop: a body of 100
// vectors of 1536 numbers is ~1.4 MB of JSON, and parsing, checking and printing it took ~35-40 ms of the one thread
// that serves every request, so each search that arrived meanwhile waited that long (docs/loadtests.md, "The bulk
// insert held the event loop"). The service runs this module in worker threads (bulk-body-pool.ts); it is plain
// JavaScript so a worker can load it wherever the service runs (tsx, vitest, node) without a TypeScript loader.
// Its checks and messages are the route's contract: a refused body is a 400 invalid_request with the message below.
// vectorText, the check of one vector, also serves the search route (app.ts).
import { isMainThread, parentPort, workerData } from 'node:worker_threads';

/** Largest finite float32: pgvector stores float4, so anything beyond becomes Infinity and is refused. */
export const FLOAT32_MAX = 3.4028234663852886e38;

/** A refused body: the message is the client's. */
export class BodyRefused extends Error {}

/**
 * A vector the database can store and compare, as pgvector's text form; both vector routes use it (the search route
 * on its event loop: one vector). Numbers only, each within the float32 range, not all zeros after rounding to
 * float32 (cosine distance undefined). pgvector's text form is a JSON array: the numbers are printed by JSON.stringify
 * (V8's shortest round-trip form) and pgvector rounds each to float32 itself (strtof); printing each with toPrecision
 * was 9% of the service's busy CPU at 100 searches/s + 1 bulk/s (docs/loadtests.md). Throws BodyRefused.
 * @param {unknown[]} v the vector (its length is the caller's to check)
 * @param {string} what where it is in the body, for the message
 * @returns {string}
 */
export function vectorText(v, what) {
  let nonZero = false;
  for (const x of v) {
    if (typeof x !== 'number') throw new BodyRefused(`${what} must hold only numbers`);
    if (x > FLOAT32_MAX || x < -FLOAT32_MAX) throw new BodyRefused(`${what} holds a number beyond the float32 range`);
    if (Math.fround(x) !== 0) nonZero = true;
  }
  if (!nonZero) throw new BodyRefused(`${what} must not be all zeros (its cosine distance is undefined)`);
  return JSON.stringify(v);
}

/**
 * Parses and checks a bulk-insert body; returns PostgreSQL's array literal of the vectors' text forms
 * ('{"[1,2]","[3,4]"}': the elements hold only numbers, commas and brackets, so they need no escaping), the number of
 * vectors and the first chunk index. Throws BodyRefused with what was wrong.
 * @param {string} text the body
 * @param {number} dim the vectors' dimension
 * @param {number} maxFirstChunk the largest firstChunk accepted
 * @returns {{ literal: string, count: number, firstChunk: number }}
 */
export function parseBulkBody(text, dim, maxFirstChunk) {
  let body;
  try {
    body = JSON.parse(text);
  } catch {
    throw new BodyRefused('body must be valid JSON');
  }
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw new BodyRefused('body must be object');
  const vectors = body.vectors;
  if (vectors === undefined) throw new BodyRefused("body must have required property 'vectors'");
  if (!Array.isArray(vectors)) throw new BodyRefused('body/vectors must be array');
  if (vectors.length < 1 || vectors.length > 100) throw new BodyRefused(`body/vectors must hold 1 to 100 vectors, got ${vectors.length}`);
  let firstChunk = 0;
  if (body.firstChunk !== undefined) {
    const f = body.firstChunk;
    if (typeof f !== 'number' || !Number.isInteger(f) || f < 0 || f > maxFirstChunk) {
      throw new BodyRefused(`body/firstChunk must be a whole number from 0 to ${maxFirstChunk}`);
    }
    firstChunk = f;
  }
  const literals = new Array(vectors.length);
  for (let i = 0; i < vectors.length; i++) {
    const v = vectors[i];
    const what = `body/vectors/${i}`;
    if (!Array.isArray(v) || v.length !== dim) throw new BodyRefused(`${what} must be an array of ${dim} numbers`);
    literals[i] = vectorText(v, what);
  }
  return { literal: `{"${literals.join('","')}"}`, count: vectors.length, firstChunk };
}

// As a worker (bulk-body-pool.ts): one message per body, { id, body: Uint8Array }, answered with { id, ok } or
// { id, refused } (the client's message) or { id, error } (a fault of this code, not of the body).
if (!isMainThread && workerData?.role === 'pgkit-bulk-body') {
  const { dim, maxFirstChunk } = workerData;
  const decoder = new TextDecoder('utf-8', { fatal: true });
  parentPort.on('message', ({ id, body }) => {
    try {
      let text;
      try {
        text = decoder.decode(body);
      } catch {
        throw new BodyRefused('body must be UTF-8 text');
      }
      parentPort.postMessage({ id, ok: parseBulkBody(text, dim, maxFirstChunk) });
    } catch (e) {
      parentPort.postMessage(e instanceof BodyRefused ? { id, refused: e.message } : { id, error: String(e?.stack ?? e) });
    }
  });
}
