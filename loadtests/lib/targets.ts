// The one targets file (loadtests/targets.json), typed, for Node-side readers (benchmark, reports).
// k6 reads the same file with open() in loadtests/k6/lib/config.ts.
import { readFileSync } from 'node:fs';
import { targetsFile } from './local.js';

export const OPERATIONS = [
  'list_projects',
  'list_episodes',
  'read_episode',
  'create_highlight',
  'post_chat_message',
  'record_token_usage',
  'claim_queue_item',
  'complete_queue_item',
  'vector_search',
  'template_lookup',
  'session_embedding_lookup',
  'bulk_insert_embeddings',
] as const;
export type Operation = (typeof OPERATIONS)[number];

export interface OperationTarget {
  seed_p95_ms: number;
  goal_p95_ms: number;
  p99_ms: number;
  source: string;
}

export interface Targets {
  operations: Record<Operation, OperationTarget>;
  errors: { max_rate: number; bench_max_errors: number };
  vector: { recall_at_5_min: number; ef_search: number };
  pgbouncer: { min_ratio_vs_direct: number };
}

export function loadTargets(file = targetsFile): Targets {
  const t = JSON.parse(readFileSync(file, 'utf8')) as Targets;
  for (const op of OPERATIONS) {
    const o = t.operations?.[op];
    if (!o || !(o.seed_p95_ms > 0) || !(o.goal_p95_ms > 0) || !(o.p99_ms > 0)) {
      throw new Error(`${file}: operations.${op} needs positive seed_p95_ms, goal_p95_ms and p99_ms`);
    }
  }
  return t;
}
