// Ports outside the ephemeral range (src/proc/ports.ts): the free-port chooser, and a guard that no fixed port
// inside the range comes back into the repository's code and config.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { extname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULT_PORTS, repoRoot } from '../../src/config.js';
import {
  ephemeralPortRange,
  inRange,
  LINUX_EPHEMERAL_DEFAULT,
  reservePorts,
  THROWAWAY_BAND,
  type PortRange,
} from '../../src/proc/ports.js';
import { run } from '../../src/proc/run.js';

const scratch = mkdtempSync(join(tmpdir(), 'pgkit-ports-test-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
let n = 0;
/** A lock folder of its own per test, so these tests never meet real choosers. */
const lockDir = () => join(scratch, `locks-${n++}`);
const band = (low: number, high = low): PortRange => ({ low, high });
// A pid that cannot be running (above the kernel's pid_max).
const DEAD_PID = 2 ** 30;

describe('ephemeralPortRange', () => {
  it("reads the kernel's range, and falls back to Linux's default", () => {
    const f = join(scratch, 'range');
    writeFileSync(f, '40000\t50000\n');
    expect(ephemeralPortRange(f)).toEqual({ low: 40000, high: 50000 });
    expect(ephemeralPortRange(join(scratch, 'missing'))).toEqual(LINUX_EPHEMERAL_DEFAULT);
    const live = ephemeralPortRange();
    expect(live.low).toBeLessThanOrEqual(live.high);
  });
});

describe('reservePorts', () => {
  it('chooses distinct free ports in the band, outside the ephemeral range, locked for this process until release', async () => {
    const dir = lockDir();
    const lease = await reservePorts(4, { lockDir: dir });
    expect(new Set(lease.ports).size).toBe(4);
    for (const p of lease.ports) {
      expect(inRange(p, THROWAWAY_BAND)).toBe(true);
      expect(inRange(p, ephemeralPortRange())).toBe(false);
      expect(readFileSync(join(dir, String(p)), 'utf8')).toBe(String(process.pid));
    }
    lease.release();
    lease.release();
    for (const p of lease.ports) expect(() => readFileSync(join(dir, String(p)))).toThrow(/ENOENT/);
  });

  it('never hands the same port out twice while it is held, in one process or in parallel ones', async () => {
    const dir = lockDir();
    const narrow = band(THROWAWAY_BAND.low, THROWAWAY_BAND.low + 11);
    const [a, b] = await Promise.all([reservePorts(3, { lockDir: dir, band: narrow }), reservePorts(3, { lockDir: dir, band: narrow })]);
    expect(new Set([...a.ports, ...b.ports]).size).toBe(6);
    // Two other processes at once (as two vitest workers would), each holding what it got for a moment.
    const child = `import { reservePorts } from ${JSON.stringify(join(repoRoot, 'src/proc/ports.ts'))};
      const l = await reservePorts(3, { lockDir: ${JSON.stringify(dir)}, band: ${JSON.stringify(narrow)} });
      console.log(JSON.stringify(l.ports)); await new Promise((r) => setTimeout(r, 1000));`;
    const runs = await Promise.all([1, 2].map(() => run(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', child], { cwd: repoRoot })));
    const got = runs.map((r) => JSON.parse(r.stdout) as number[]);
    expect(new Set([...a.ports, ...b.ports, ...got.flat()]).size).toBe(12);
    a.release();
    b.release();
  });

  it('skips a port something listens on', async () => {
    const busy = (await reservePorts(1, { lockDir: lockDir() })).ports[0];
    const server: Server = createServer();
    await new Promise<void>((r) => server.listen(busy, '127.0.0.1', r));
    try {
      const lease = await reservePorts(1, { lockDir: lockDir(), band: band(busy, busy + 1) });
      expect(lease.ports).toEqual([busy + 1]);
      lease.release();
    } finally {
      await new Promise((r) => server.close(r));
    }
  });

  it("takes over the lock of an owner that is gone, and respects a live owner's", async () => {
    const dir = lockDir();
    const port = (await reservePorts(1, { lockDir: lockDir() })).ports[0];
    await reservePorts(0, { lockDir: dir }); // creates the folder
    writeFileSync(join(dir, String(port)), String(DEAD_PID));
    const lease = await reservePorts(1, { lockDir: dir, band: band(port) });
    expect(lease.ports).toEqual([port]);
    lease.release();
    writeFileSync(join(dir, String(port)), String(process.ppid));
    await expect(reservePorts(1, { lockDir: dir, band: band(port) })).rejects.toThrow(/free port: found 0 of 1 free port\(s\)/);
    expect(readFileSync(join(dir, String(port)), 'utf8')).toBe(String(process.ppid));
  });

  it('refuses a band that lies inside the ephemeral range', async () => {
    const e = LINUX_EPHEMERAL_DEFAULT;
    const inside = band(e.low + 100, e.low + 110);
    await expect(reservePorts(1, { lockDir: lockDir(), band: inside, ephemeral: e })).rejects.toThrow(
      `found 0 of 1 free port(s) in ${inside.low}-${inside.high} outside the ephemeral range ${e.low}-${e.high}`,
    );
  });
});

// ---- the guard: no fixed port inside the ephemeral range in code or config ----

/** Linux's default range too: a port that passes on this machine must not fail on a default one. */
const forbidden = [ephemeralPortRange(), LINUX_EPHEMERAL_DEFAULT];
const isForbidden = (port: number) => forbidden.some((r) => inRange(port, r));

/** pgPort, localPoolerPort, PGKIT_PG_PORT, listen_port, --restore-port: a name one of whose words is "port". */
const words = (name: string) => name.split(/[^A-Za-z0-9]+|(?<=[a-z0-9])(?=[A-Z])/).map((w) => w.toLowerCase());
const namesA = (name: string, kinds: string[]) => words(name).some((w) => kinds.includes(w));
const PORT_WORDS = ['port', 'ports'];
/** Calls that take ports as plain arguments: drillStackConfig(name, PG, BOUNCER), scratchCluster(..., PORT), listen(PORT). */
const CALL_WORDS = [...PORT_WORDS, 'stack', 'cluster', 'listen'];

const PATTERNS: Array<{ re: RegExp; name?: (m: RegExpExecArray) => string; kinds?: string[] }> = [
  // (P: a port number) key: P, key = P, KEY=P, "key": "P", pgkit:localPort: "P"
  { re: /([\w.:-]+)["']?\s*[:=]\s*["']?(\d{4,5})\b/g, name: (m) => m[1], kinds: PORT_WORDS },
  // --restore-port P, --port=P
  { re: /(--[\w-]+)[=\s]+(\d{4,5})\b/g, name: (m) => m[1], kinds: PORT_WORDS },
  // -p P (psql, pgbench, pg_dump)
  { re: /(?:^|[\s'"])-p['"]?[\s,'"]+(\d{4,5})\b/g },
  // 127.0.0.1:P (also as 127\.0\.0\.1:P in a regular expression), localhost:P, [::1]:P, ${host}:P, @db:P
  { re: /(?:localhost|\d{1,3}(?:\\?\.\d{1,3}){3}|\]|\}|@[\w.-]+)\\?:(\d{4,5})\b/g },
];

/**
 * drillStackConfig('pitr', P, P), expect(await portIsFree(host, P)), r.int("localPort", 1, 65535, P): the arguments
 * of a call whose name, or whose first argument (a string), speaks of ports.
 */
function callArguments(text: string): Array<{ index: number; args: string }> {
  const calls: Array<{ index: number; args: string }> = [];
  for (const m of text.matchAll(/\b([A-Za-z_]\w*)\((?:\s*["'`]([\w.:-]+)["'`])?/g)) {
    if (!namesA(m[1], CALL_WORDS) && !(m[2] && namesA(m[2], PORT_WORDS))) continue;
    const open = m.index + m[0].indexOf('(') + 1;
    let depth = 0;
    let end = open;
    for (; end < text.length && end < open + 300; end++) {
      if (text[end] === '(') depth++;
      else if (text[end] === ')' && depth-- === 0) break;
    }
    // Only a call that closes soon: describe('…Port…', () => { … }) is not one.
    if (text[end] === ')') calls.push({ index: m.index, args: text.slice(open, end) });
  }
  return calls;
}

function fixedPorts(text: string): Array<{ line: number; port: number; text: string }> {
  const found = new Map<string, { line: number; port: number; text: string }>();
  const note = (index: number, numbers: string) => {
    for (const port of [...numbers.matchAll(/\b\d{4,5}\b/g)].map((x) => Number(x[0])).filter(isForbidden)) {
      const line = text.slice(0, index).split('\n').length;
      found.set(`${line}:${port}`, { line, port, text: text.split('\n')[line - 1].trim().slice(0, 160) });
    }
  };
  for (const { re, name, kinds } of PATTERNS) {
    for (const m of text.matchAll(re)) {
      if (!name || !kinds || namesA(name(m as RegExpExecArray), kinds)) note(m.index, m[m.length - 1]);
    }
  }
  for (const c of callArguments(text)) note(c.index, c.args);
  return [...found.values()];
}

const SCANNED = new Set(['.ts', '.mts', '.cts', '.js', '.mjs', '.cjs', '.json', '.yaml', '.yml', '.sh', '.toml', '.ini', '.conf', '']);

async function scannedFiles(root: string): Promise<string[]> {
  // Tracked files and new ones not ignored: a port added in a file not yet committed is caught as well.
  const r = await run('git', ['ls-files', '--cached', '--others', '--exclude-standard'], { cwd: root });
  if (r.code !== 0) throw new Error(`git ls-files: ${r.stderr}`);
  return r.stdout
    .split('\n')
    .filter(Boolean)
    .filter((f) => !f.startsWith('reports/') && !f.endsWith('package-lock.json') && !f.startsWith('node_modules/'))
    .filter((f) => SCANNED.has(extname(f)))
    .filter((f) => {
      if (extname(f)) return true;
      try {
        return readFileSync(join(root, f), 'utf8').startsWith('#!'); // extension-less scripts (.ci/run)
      } catch {
        return false; // deleted in the working tree
      }
    });
}

function scan(root: string, files: string[]): string[] {
  const problems: string[] = [];
  for (const f of files) {
    let text: string;
    try {
      text = readFileSync(join(root, f), 'utf8');
    } catch {
      continue;
    }
    for (const p of fixedPorts(text)) problems.push(`${f}:${p.line}: port ${p.port}: ${p.text}`);
  }
  return problems;
}

describe('no fixed port inside the ephemeral range', () => {
  // Ports like the ones the suite once had (kept out of this file's text, which the scan reads too).
  const A = LINUX_EPHEMERAL_DEFAULT.low + 22_684;
  const B = A + 1000;

  it('the stacks’ default ports lie outside it, apart from each other and from the throwaway band', () => {
    const all = Object.values(DEFAULT_PORTS).flatMap((d) => [d.pgPort, d.bouncerPort, d.replicaPort]);
    expect(all.filter(isForbidden)).toEqual([]);
    expect(all.filter((p) => inRange(p, THROWAWAY_BAND))).toEqual([]);
    expect(new Set(all).size).toBe(all.length);
    expect(forbidden.filter((r) => r.low <= THROWAWAY_BAND.high && THROWAWAY_BAND.low <= r.high)).toEqual([]);
  });

  it('the detector finds a port written in each way ports are written, and not other numbers', () => {
    const bad = [
      `const cfg = { ...stackConfig('test'), pgPort: ${A}, bouncerPort: ${B} };`,
      `  pgkit:localPort: "${A}"`,
      `{ "port": ${A} }`,
      `PGKIT_PG_PORT=${A} PGKIT_BOUNCER_PORT=${B} npx tsx scripts/drill.ts`,
      `listen_port = ${B}`,
      `npm run drill -- --restore-port ${A}`,
      `psql -h 127.0.0.1 -p ${A} -U postgres`,
      `await expect(start()).rejects.toThrow(/127\\.0\\.0\\.1:${A} is already in use/);`,
      `postgresql://postgres:pw@localhost:${A}/pgkit`,
      `const url = \`postgresql://u@\${host}:${A}/db\`;`,
      `const cfg = drillStackConfig('pitr', ${A}, ${B});`,
      `const scratch = scratchCluster(cfg, pw, join(dir, 'x'), ${A});`,
      `expect(await portIsFree('127.0.0.1', ${A})).toBe(true);`,
      `server.listen(${A});`,
      `port: r.int("localPort", 1, 65535, ${A}),`,
    ];
    for (const text of bad) expect(fixedPorts(text).map((p) => p.port), text).not.toEqual([]);
    const fine = [
      'setTimeout(resolve, 60000);',
      "const slowQueryMs = r.int('slowQueryMs', 50, 60000, 500);",
      "const created = this.now - r.int(0, 59999);",
      "rejects.toMatchObject({ code: '42501' })",
      "reportTimeoutMs: 45000",
      'arn:aws:mock:eu-west-1:123456789012:kms/key/pgkit-key',
      '{ Address: "tmp.example.internal", Port: 5432 }',
      "pgPort: 25432, bouncerPort: 26432",
      'await writeReport(report, 45000);',
      'import(`../x-${40000}.ts`)',
    ];
    for (const text of fine) expect(fixedPorts(text), text).toEqual([]);
  });

  it('a test file that brings such a port back fails the scan', () => {
    const root = join(scratch, 'repo');
    const file = 'test/local/stack.test.ts';
    mkdirSync(join(root, 'test', 'local'), { recursive: true });
    writeFileSync(join(root, file), `const cfg: StackConfig = { ...stackConfig('test'), pgPort: ${A}, bouncerPort: ${B} };\n`);
    expect(scan(root, [file])).toEqual([
      `${file}:1: port ${A}: const cfg: StackConfig = { ...stackConfig('test'), pgPort: ${A}, bouncerPort: ${B} };`,
      `${file}:1: port ${B}: const cfg: StackConfig = { ...stackConfig('test'), pgPort: ${A}, bouncerPort: ${B} };`,
    ]);
  });

  it('no code or config file of the repository holds one', async () => {
    const files = await scannedFiles(repoRoot);
    expect(files).toContain('src/config.ts');
    expect(files).toContain('Pulumi.local.yaml');
    expect(files).toContain('.ci/run');
    expect(scan(repoRoot, files).join('\n')).toBe('');
  });
});
