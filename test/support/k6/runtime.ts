// A stand-in for the k6 runtime, for running the real k6 scripts (loadtests/k6) against the real workload
// service in tests: k6 itself cannot be installed on these machines (its installer downloads a binary).
// It implements only what the scripts use, with k6's semantics: synchronous HTTP (made with curl, so the
// service must run in another process), checks, SharedArray, the execution context, __ENV and open().
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { runSync, stepFailure } from '../../../src/proc/run.js';

export interface RecordedRequest {
  method: string;
  url: string;
  tags: Record<string, string>;
  status: number;
  /** As k6 decides it for http_req_failed: the responseCallback's statuses, else 200-399. */
  expected: boolean;
  ms: number;
}
export interface RecordedCheck {
  name: string;
  ok: boolean;
}

export const recorded = { requests: [] as RecordedRequest[], checks: [] as RecordedCheck[] };
export const execution = { iterationInTest: 0, vuIdInTest: 1 };

/** Globals k6 gives every script; call before importing a script. */
export function installGlobals(env: Record<string, string>) {
  const g = globalThis as unknown as { __ENV: Record<string, string>; open: (p: string) => string };
  g.__ENV = env;
  g.open = (p: string) => readFileSync(p.startsWith('file://') ? fileURLToPath(p) : p, 'utf8');
}

export interface ExpectedStatuses {
  statuses: number[];
}

interface Params {
  timeout?: string;
  headers?: Record<string, string>;
  tags?: Record<string, string>;
  responseCallback?: ExpectedStatuses;
}

export class Response {
  constructor(
    readonly status: number,
    readonly body: string,
    /** As k6: set when no HTTP answer came (status 0), e.g. a refused connection. */
    readonly error = '',
  ) {}
  /** k6's json(selector): the parsed body, or the value at a dotted path of it. */
  json(selector?: string): unknown {
    const v: unknown = JSON.parse(this.body);
    if (!selector) return v;
    return selector.split('.').reduce<unknown>((o, k) => (o as Record<string, unknown> | undefined)?.[k], v);
  }
}

export function request(method: string, url: string, body: string | ArrayBuffer | null, params: Params = {}): Response {
  const args = ['-sS', '-X', method, '-o', '-', '-w', '\n%{http_code}', '--max-time', '30'];
  for (const [k, v] of Object.entries(params.headers ?? {})) args.push('-H', `${k}: ${v}`);
  if (body !== null) args.push('--data-binary', '@-');
  args.push(url);
  const t0 = performance.now();
  const r = runSync('curl', args, body === null ? {} : { input: typeof body === 'string' ? body : Buffer.from(body).toString('utf8') });
  // curl 7: could not connect. k6 answers that with status 0 and `error`, not an exception.
  if (r.code === 7) {
    recorded.requests.push({ method, url, tags: params.tags ?? {}, status: 0, expected: false, ms: performance.now() - t0 });
    return new Response(0, '', 'dial: connection refused');
  }
  if (r.code !== 0) throw stepFailure(`${method} ${url}`, 'curl', args, r);
  const out = r.stdout;
  const ms = performance.now() - t0;
  const cut = out.lastIndexOf('\n');
  const status = Number(out.slice(cut + 1));
  const expected = params.responseCallback ? params.responseCallback.statuses.includes(status) : status >= 200 && status < 400;
  recorded.requests.push({ method, url, tags: params.tags ?? {}, status, expected, ms });
  return new Response(status, out.slice(0, cut));
}

export function check<T>(value: T, sets: Record<string, (v: T) => boolean>): boolean {
  let all = true;
  for (const [name, fn] of Object.entries(sets)) {
    const ok = fn(value);
    recorded.checks.push({ name, ok });
    all &&= ok;
  }
  return all;
}
