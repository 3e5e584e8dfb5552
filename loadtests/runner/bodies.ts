#!/usr/bin/env -S npx tsx
// `npm run loadtest:bodies -- --out FILE [--duration 2m] [--bulk-rate 1] [--data-file PATH]`: the vector-search
// scenario's request bodies (loadtests/lib/vector-bodies.ts), for running it by hand with `-e BODIES_FILE=FILE`
// (`npm run loadtest` makes them itself). Writes FILE and its index FILE.json.
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { fail } from '../../scripts/lib/fail.js';
import { defaultDataFile } from '../lib/local.js';
import { writeVectorBodies } from '../lib/vector-bodies.js';
import { bulkBodiesFor } from '../lib/workload.js';

const { values } = parseArgs({ options: { out: { type: 'string' }, duration: { type: 'string' }, 'bulk-rate': { type: 'string' }, 'data-file': { type: 'string' } } });
try {
  if (!values.out) throw new Error('--out FILE is required');
  const rate = Number(values['bulk-rate'] ?? 1);
  if (!(rate > 0)) throw new Error(`--bulk-rate ${values['bulk-rate']} is not valid: a positive number`);
  const out = resolve(values.out);
  const index = writeVectorBodies({ dataFile: values['data-file'] ?? process.env.DATA_FILE ?? defaultDataFile, out, bulkCount: bulkBodiesFor(rate, values.duration ?? '2m') });
  console.log(`${out}: ${index.search.length} search bodies, ${index.bulk.length} bulk bodies of ${index.bulkSize} vectors (index ${out}.json); k6 run -e BODIES_FILE=${out} ...`);
} catch (e) {
  fail(e);
}
