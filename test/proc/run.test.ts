// The one process runner (src/proc/run.ts): how it runs a program, what a failed step says, and that the stack's
// OS user is reached through runuser.
import { describe, expect, it } from 'vitest';
import { commandLine, run, runInBackground, runStep, runSync, StepError, ERROR_TAIL_LINES } from '../../src/proc/run.js';
import { osUserIds } from '../../src/proc/system.js';

const sh = (script: string) => ['-c', script] as const;

describe('run', () => {
  it('resolves with the exit code and both outputs, whatever the code', async () => {
    const r = await run('sh', sh('echo out; echo err >&2; exit 3'));
    expect(r).toEqual({ code: 3, signal: null, timedOut: false, stdout: 'out\n', stderr: 'err\n' });
  });

  it('passes every argument as it is (no shell interpretation)', async () => {
    const args = ['a b', '$HOME', "it's", '`id`', '; echo no', '*', '"q"', ''];
    const r = await run('printf', ['%s|', ...args]);
    expect(r.stdout).toBe(args.map((a) => `${a}|`).join(''));
  });

  it('closes stdin from the start: a program that reads it sees end of input at once', async () => {
    const r = await run('sh', sh('readlink /proc/self/fd/0; cat; read x; echo "read exit $?"'));
    expect(r.stdout).toBe('/dev/null\nread exit 1\n');
  });

  it('feeds input text and then closes stdin', async () => {
    expect((await run('cat', [], { input: 'line 1\nline 2\n' })).stdout).toBe('line 1\nline 2\n');
  });

  it('a program that exits without reading its input is no error (no EPIPE)', async () => {
    const r = await run('true', [], { input: 'x'.repeat(8 * 1024 * 1024) });
    expect(r.code).toBe(0);
  });

  it("adds env to this process's environment; a key set to undefined is left out", async () => {
    process.env.PGKIT_RUN_TEST_OUTER = 'outer';
    try {
      const both = await run('sh', sh('echo "$PGKIT_RUN_TEST_OUTER $PGKIT_RUN_TEST_ADDED"'), { env: { PGKIT_RUN_TEST_ADDED: 'added' } });
      expect(both.stdout).toBe('outer added\n');
      const without = await run('sh', sh('echo "[${PGKIT_RUN_TEST_OUTER-unset}]"'), { env: { PGKIT_RUN_TEST_OUTER: undefined } });
      expect(without.stdout).toBe('[unset]\n');
    } finally {
      delete process.env.PGKIT_RUN_TEST_OUTER;
    }
  });

  it('runs in / unless given a cwd', async () => {
    expect((await run('pwd', [])).stdout).toBe('/\n');
    expect((await run('pwd', [], { cwd: '/tmp' })).stdout).toBe('/tmp\n');
  });

  it('a missing program is exit code 127 with what the shell said', async () => {
    const r = await run('pgkit-no-such-program', ['x']);
    expect(r.code).toBe(127);
    expect(r.stderr).toMatch(/pgkit-no-such-program: (command )?not found/);
  });
});

describe('runStep', () => {
  it('a failing step with secrets among its arguments shows *** in their place, in the command and its output', async () => {
    const key = 'c2VjcmV0LWtleS1tYXRlcmlhbA==';
    const e = (await runStep('use a key', 'sh', ['-c', 'echo "got $0"; exit 3', `runkey=${key}`], { secrets: [key] }).catch((x: unknown) => x)) as StepError;
    expect(e).toBeInstanceOf(StepError);
    expect(e.message).not.toContain(key);
    expect(e.message).toContain('runkey=***');
    expect(e.message).toContain('got runkey=***');
  });

  it('returns the result of a step that succeeds', async () => {
    expect((await runStep('say hello', 'echo', ['hello'])).stdout).toBe('hello\n');
  });

  it('a failing step throws a StepError naming the step, the command, the exit code and the last output lines', async () => {
    const script = 'for i in $(seq 1 50); do echo "line $i"; done; echo "it broke" >&2; exit 4';
    const e = (await runStep('build the thing', 'sh', sh(script)).catch((x: unknown) => x)) as StepError;
    expect(e).toBeInstanceOf(StepError);
    expect(e.step).toBe('build the thing');
    expect(e.message).toMatch(/^build the thing: `sh -c for i in .*` exited with 4:\n/);
    const shown = e.message.split('\n').slice(1);
    expect(shown).toHaveLength(ERROR_TAIL_LINES);
    expect(shown.at(-1)).toBe('it broke');
    expect(shown[0]).toBe(`line ${50 - ERROR_TAIL_LINES + 2}`);
  });

  it('a step past its time limit is ended and says so', async () => {
    const t0 = Date.now();
    await expect(runStep('wait', 'sleep', ['30'], { timeoutMs: 300 })).rejects.toThrow(/^wait: `sleep 30` ran past its time limit of 0\.3 s and was ended/);
    expect(Date.now() - t0).toBeLessThan(10_000);
  });
});

describe('as the stack OS user', () => {
  it('goes through runuser -u USER -- when an OS user is set, and runs the program itself otherwise', () => {
    expect(commandLine('pg_ctl', ['-D', '/d', 'start'], 'pgkit')).toEqual(['runuser', '-u', 'pgkit', '--', 'pg_ctl', '-D', '/d', 'start']);
    expect(commandLine('pg_ctl', ['-D', '/d', 'start'], null)).toEqual(['pg_ctl', '-D', '/d', 'start']);
    expect(commandLine('pg_ctl', [], undefined)).toEqual(['pg_ctl']);
  });

  const hasStackUser = process.getuid?.() === 0 && (() => {
    try {
      return osUserIds('pgkit') !== null;
    } catch {
      return false;
    }
  })();

  it.skipIf(!hasStackUser)('as root, the program runs as that user (the stack user pgkit), with our env and input', async () => {
    const r = await run('sh', sh('id -un; echo "$PGKIT_RUN_TEST_VAR"; cat'), { osUser: 'pgkit', env: { PGKIT_RUN_TEST_VAR: 'passed' }, input: 'fed' });
    expect(r).toMatchObject({ code: 0, stdout: 'pgkit\npassed\nfed' });
    const fail = await runStep('as pgkit', 'sh', sh('exit 5'), { osUser: 'pgkit' }).catch((e: Error) => e.message);
    expect(fail).toMatch(/^as pgkit: `sh -c exit 5` exited with 5/);
  });
});

describe('runSync', () => {
  it('runs synchronously with the same options and result', () => {
    expect(runSync('sh', sh('cat; echo "$PGKIT_RUN_TEST_SYNC"; exit 2'), { input: 'in\n', env: { PGKIT_RUN_TEST_SYNC: 'env' } })).toEqual({
      code: 2,
      signal: null,
      timedOut: false,
      stdout: 'in\nenv\n',
      stderr: '',
    });
    expect(runSync('readlink', ['/proc/self/fd/0']).stdout).toBe('/dev/null\n');
  });

  it('keeps output larger than spawnSync’s 1 MiB default', () => {
    expect(runSync('head', ['-c', String(3 * 1024 * 1024), '/dev/zero']).stdout).toHaveLength(3 * 1024 * 1024);
  });
});

describe('runInBackground', () => {
  it('waits for a line of output, then stops the program', async () => {
    const bg = runInBackground('sh', sh('echo starting >&2; sleep 0.2; echo "listening on 1234"; sleep 30'));
    const m = await bg.waitFor(/listening on (\d+)/, 10_000);
    expect(m[1]).toBe('1234');
    const r = await bg.stop();
    // Ended by SIGTERM (sent to the program and its children: the shell script may report its child's death, 128 + 15).
    expect(r.signal === 'SIGTERM' || r.code === 143).toBe(true);
    expect(bg.output()).toContain('starting');
  });

  it('a program that exits before saying the line fails the wait, with its output', async () => {
    const bg = runInBackground('sh', sh('echo "cannot start" >&2; exit 1'));
    await expect(bg.waitFor(/listening/, 10_000)).rejects.toThrow(/exited before printing \/listening\/:\ncannot start/);
    expect((await bg.stop()).code).toBe(1);
  });

  it('a program that never says the line fails the wait after the time limit', async () => {
    const bg = runInBackground('sleep', ['30']);
    await expect(bg.waitFor(/never/, 200)).rejects.toThrow(/did not print \/never\/ within 0\.2 s/);
    await bg.stop();
  });
});
