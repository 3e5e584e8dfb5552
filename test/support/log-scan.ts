// After the suite: the test stack's server log must hold none of the stack's passwords and no keyring (issue 12:
// bind parameters of slow statements once wrote keyrings into the log). Run by the global teardown, so a leak
// anywhere in the suite fails the run. Findings name the kind and line, never the secret itself.
import type { StackSecrets } from '../../src/local/secrets.js';
import { LOGIN_KEYS, passwordOf } from '../../src/local/secrets.js';

/** A keyring as the app sends it: {"<key id>":"<base64 key>", ...}. */
const KEYRING = /"k[a-z0-9_-]*"\s*:\s*"[A-Za-z0-9+/]{20,}={0,2}"/;

export function secretsInLog(log: string, secrets: StackSecrets): string[] {
  const found: string[] = [];
  const lines = log.split('\n');
  lines.forEach((line, i) => {
    for (const k of LOGIN_KEYS) if (line.includes(passwordOf(secrets, k))) found.push(`line ${i + 1}: the ${k} password`);
    if (KEYRING.test(line)) found.push(`line ${i + 1}: a keyring`);
  });
  return found;
}
