// The kit's one process runner, built on zx. Every program the kit starts (initdb, pg_ctl, PgBouncer, pgBackRest,
// pg_dump, pgbench, curl, vitest, node) goes through here, so every call behaves the same way:
// - as the stack's OS user through `runuser -u USER --` when one is set (PostgreSQL refuses to run as root, and
//   CI runs as root);
// - output captured (quiet: nothing reaches the terminal) and kept, so a failure can show it;
// - stdin closed from the start, or fed `input` and then closed: a child that exits early must not leave an
//   open pipe behind or raise EPIPE as an uncaught error;
// - in `/` unless told otherwise (a folder every OS user can enter), with the caller's env added to ours;
// - a non-zero exit of a named step (runStep) is a StepError naming the step and showing its last output lines.
// zx quotes every argument (`${argv}` expands an array into quoted words), so nothing is interpreted by the shell.
// Not through here: infra/databaseObjects/sqlBundle.ts, a Pulumi dynamic provider whose serialized code may
// capture only Node built-ins.
import { spawnSync } from 'node:child_process';
import { $, type Options, type ProcessOutput, type ProcessPromise } from 'zx';

export interface RunOptions {
  /** Run as this OS user (through runuser); null or absent: as the current user. */
  osUser?: string | null;
  /** Added to this process's environment; a key set to undefined is left out. */
  env?: NodeJS.ProcessEnv;
  /** Working directory; default `/`. */
  cwd?: string;
  /** Written to the program's stdin, which is then closed. Without it stdin is closed from the start. */
  input?: string;
  /** Ends the program (SIGTERM to it and its children) after this many milliseconds. */
  timeoutMs?: number;
  /** Secrets among the arguments (keys, tokens): a failure's message shows `***` in their place. */
  secrets?: readonly string[];
}

export interface RunResult {
  /** The exit code; 1 when the program was ended by a signal. */
  code: number;
  /** The signal that ended the program, if one did (a timeout sends SIGTERM). */
  signal: NodeJS.Signals | null;
  /** The program was ended because it ran past `timeoutMs`. */
  timedOut: boolean;
  stdout: string;
  stderr: string;
}

export class StepError extends Error {
  constructor(
    readonly step: string,
    message: string,
  ) {
    super(`${step}: ${message}`);
    this.name = 'StepError';
  }
}

/** Lines of output a StepError shows. */
export const ERROR_TAIL_LINES = 30;
/** Largest output a synchronous run keeps (spawnSync's own default is 1 MiB). */
const SYNC_MAX_BUFFER = 64 * 1024 * 1024;

/** The words actually executed: the program and its arguments, behind `runuser -u USER --` for an OS user. */
export function commandLine(cmd: string, args: readonly string[], osUser?: string | null): string[] {
  return osUser ? ['runuser', '-u', osUser, '--', cmd, ...args] : [cmd, ...args];
}

/** The zx options for a run: quiet, never throwing (the caller decides), stdin as described above. */
export function zxOptions(opts: RunOptions): Partial<Options> {
  const o: Partial<Options> = {
    quiet: true,
    verbose: false,
    nothrow: true,
    // The shell execs the program: no shell process stays between us and it (signals reach it, its pid is ours).
    prefix: 'exec ',
    cwd: opts.cwd ?? '/',
    env: { ...process.env, ...opts.env },
    stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
  };
  if (opts.input !== undefined) o.input = opts.input;
  if (opts.timeoutMs !== undefined) o.timeout = opts.timeoutMs;
  return o;
}

function toResult(out: ProcessOutput, opts: RunOptions): RunResult {
  // The shell could not be started at all (a missing cwd, say): that is not an exit code to report. (A
  // synchronous run past its time limit also has a cause, ETIMEDOUT, and the signal that ended it.)
  if (out.cause && !out.signal) throw out.cause;
  const code = out.exitCode ?? 1;
  // Ended by the time limit: by the signal itself, or by the shell reporting its child's death (128 + n).
  const timedOut = opts.timeoutMs !== undefined && out.duration >= opts.timeoutMs && (out.signal !== null || code > 128);
  return { code, signal: out.signal, timedOut, stdout: out.stdout, stderr: out.stderr };
}

function start(cmd: string, args: readonly string[], opts: RunOptions): ProcessPromise {
  const p = $(zxOptions(opts))`${commandLine(cmd, args, opts.osUser)}`;
  // Input written to a child that already exited fails with EPIPE on this stream; the exit code tells the story.
  p.child?.stdin?.on('error', () => {});
  return p;
}

/** Runs a program and resolves with its exit code and output, whatever the code. */
export async function run(cmd: string, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  return toResult(await start(cmd, args, opts), opts);
}

/** What a failed step says: the command, how it ended, and the last lines of its output. */
export function stepFailure(step: string, cmd: string, args: readonly string[], r: RunResult, opts: RunOptions = {}): StepError {
  const how = r.timedOut
    ? `ran past its time limit of ${(opts.timeoutMs ?? 0) / 1000} s and was ended`
    : r.signal
      ? `was ended by ${r.signal}`
      : `exited with ${r.code}`;
  const out = [r.stdout.trimEnd(), r.stderr.trimEnd()].filter(Boolean).join('\n').split('\n').slice(-ERROR_TAIL_LINES).join('\n');
  const hide = (s: string) => (opts.secrets ?? []).filter(Boolean).reduce((t, x) => t.split(x).join('***'), s);
  return new StepError(step, hide(`\`${[cmd, ...args].join(' ')}\` ${how}:\n${out}`));
}

/** Like run, but anything other than exit code 0 throws a StepError naming the step and showing the output. */
export async function runStep(step: string, cmd: string, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  const r = await run(cmd, args, opts);
  if (r.code !== 0 || r.signal) throw stepFailure(step, cmd, args, r, opts);
  return r;
}

/**
 * run, synchronously: only for callers that must block (the k6 stand-in's synchronous HTTP, and test
 * collection at describe time). The time limit is spawnSync's own.
 */
export function runSync(cmd: string, args: readonly string[], opts: RunOptions = {}): RunResult {
  const { timeout: _ignored, ...o } = zxOptions(opts);
  const out = $({
    ...o,
    sync: true,
    spawnSync: ((file: string, argv: readonly string[], spawnOpts: object) =>
      spawnSync(file, argv, { ...spawnOpts, maxBuffer: SYNC_MAX_BUFFER, timeout: opts.timeoutMs })) as unknown as typeof spawnSync,
  })`${commandLine(cmd, args, opts.osUser)}`;
  return toResult(out, opts);
}

/** A program left running (a server a test talks to): its output so far, a wait for a line of it, and a stop. */
export interface Background {
  readonly pid: number | undefined;
  /** stdout and stderr so far, in the order they came. */
  output(): string;
  /**
   * Resolves with the first match of `pattern` in the output; rejects, with the output, when the program
   * exits first or `timeoutMs` passes.
   */
  waitFor(pattern: RegExp, timeoutMs: number): Promise<RegExpMatchArray>;
  /** Ends the program and its children (SIGTERM) if still running, and resolves with how it ended. */
  stop(): Promise<RunResult>;
}

export function runInBackground(cmd: string, args: readonly string[], opts: RunOptions = {}): Background {
  const p = start(cmd, args, opts);
  let all = '';
  const listeners = new Set<() => void>();
  const onData = (d: Buffer | string) => {
    all += d.toString();
    for (const l of listeners) l();
  };
  p.stdout.on('data', onData);
  p.stderr.on('data', onData);
  const ended = (async () => toResult(await p, opts))();
  let exited = false;
  const onExit = () => {
    exited = true;
    for (const l of listeners) l();
  };
  ended.then(onExit, onExit);
  const what = [cmd, ...args].join(' ');
  return {
    pid: p.pid,
    output: () => all,
    waitFor(pattern, timeoutMs) {
      return new Promise((resolve, reject) => {
        const done = () => {
          clearTimeout(timer);
          listeners.delete(check);
        };
        const check = () => {
          const m = pattern.exec(all);
          if (m) {
            done();
            resolve(m);
          } else if (exited) {
            done();
            reject(new Error(`\`${what}\` exited before printing ${pattern}:\n${all.slice(-4000)}`));
          }
        };
        const timer = setTimeout(() => {
          done();
          reject(new Error(`\`${what}\` did not print ${pattern} within ${timeoutMs / 1000} s:\n${all.slice(-4000)}`));
        }, timeoutMs);
        listeners.add(check);
        check();
      });
    },
    async stop() {
      try {
        if (!exited) await p.kill('SIGTERM');
      } catch {
        // it exited meanwhile
      }
      return ended;
    },
  };
}
