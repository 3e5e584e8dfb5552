// One way for scripts to fail: the message says what went wrong and what to do; the exit code is non-zero.
export function fail(e: unknown): never {
  const msg = e instanceof Error ? e.message : String(e);
  console.error(`\n[pgkit] FAILED: ${msg}`);
  if (process.env.PGKIT_DEBUG && e instanceof Error && e.stack) console.error(e.stack);
  process.exit(1);
}
