// k6/http for tests (see runtime.ts).
import { request, type ExpectedStatuses } from './runtime.js';

type Params = Parameters<typeof request>[3];
export default {
  get: (url: string, params?: Params) => request('GET', url, null, params),
  post: (url: string, body: string | null, params?: Params) => request('POST', url, body, params),
  expectedStatuses: (...statuses: number[]): ExpectedStatuses => ({ statuses }),
};
