#!/usr/bin/env -S npx tsx
// `npm run drill`: the local backup and restore drills (PITR with pgBackRest, logical dump/restore, fault
// drills on a private stack) with one JSON + markdown report in reports/. Exits non-zero if any check fails.
//   --no-pitr --no-logical --no-faults --no-failover   skip a drill (failover: kill -9 of a private primary, its
//                                        replica promoted, with asynchronous then synchronous replication)
//   --stack local|test                   the stack the PITR and logical drills read (default local)
//   --restore-port N --logical-port N --fault-port N --fault-bouncer-port N   scratch ports (default: free ports
//                                        chosen at run time below the ephemeral port range, src/proc/ports.ts)
//   --report-dir DIR                     where the report goes (default reports/)
import { stackConfig, type StackName } from '../src/config.js';
import { defaultReportDir, runDrills } from '../src/drills/run.js';
import { fail } from './lib/fail.js';

const argv = process.argv.slice(2);
const flag = (name: string) => argv.includes(`--${name}`);
function value(name: string): string | undefined {
  const i = argv.indexOf(`--${name}`);
  if (i < 0) return undefined;
  const v = argv[i + 1];
  if (v === undefined || v.startsWith('--')) fail(`--${name} needs a value`);
  return v;
}
function port(name: string): number | undefined {
  const v = value(name);
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1024 || n > 65535) fail(`--${name} ${v} is not a port (1024-65535)`);
  return n;
}
const known = new Set(['no-pitr', 'no-logical', 'no-faults', 'no-failover', 'stack', 'restore-port', 'logical-port', 'fault-port', 'fault-bouncer-port', 'report-dir']);
for (const a of argv) if (a.startsWith('--') && !known.has(a.slice(2))) fail(`unknown option ${a}; see the header of scripts/drill.ts`);

try {
  const { report, files } = await runDrills({
    source: stackConfig((value('stack') as StackName | undefined) ?? 'local'),
    restorePort: port('restore-port'),
    logicalPort: port('logical-port'),
    faultPgPort: port('fault-port'),
    faultBouncerPort: port('fault-bouncer-port'),
    pitr: !flag('no-pitr'),
    logical: !flag('no-logical'),
    faults: !flag('no-faults'),
    failover: !flag('no-failover'),
    reportDir: value('report-dir') ?? defaultReportDir,
    command: ['npm run drill', ...argv].join(' '),
    log: (l) => console.log(`[drill] ${l}`),
  });
  console.log('\n' + report.goals.map((g) => `${g.met === null ? 'n/a ' : g.met ? 'MET ' : 'MISS'}  ${g.goal}: ${g.measured} (target ${g.target})`).join('\n'));
  console.log(`\nReport: ${files.md}\n        ${files.json}`);
  if (!report.ok) {
    console.error(`\n[drill] FAILED:\n${[...report.errors, ...report.failures].map((f) => `  - ${f}`).join('\n')}`);
    process.exit(1);
  }
  console.log('\n[drill] all drills passed');
} catch (e) {
  fail(e);
}
