// k6/http for tests (see runtime.ts).
import { request, type ExpectedStatuses } from './runtime.js';

type Params = Parameters<typeof request>[3];
export default {
  get: (url: string, params?: Params) => request('GET', url, null, params),
  post: (url: string, body: string | ArrayBuffer | null, params?: Params) => request('POST', url, body, params),
  del: (url: string, body?: string | null, params?: Params) => request('DELETE', url, body ?? null, params),
  /** k6 sends a batch in parallel; here one after the other (the answers are the same). */
  batch: (reqs: Array<{ method: string; url: string; body?: string | null; params?: Params }>) =>
    reqs.map((r) => request(r.method, r.url, r.body ?? null, r.params)),
  expectedStatuses: (...statuses: number[]): ExpectedStatuses => ({ statuses }),
};
