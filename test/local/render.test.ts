// The local stack's PgBouncer settings that the request-context design depends on (src/local/render.ts).
import { afterEach, describe, expect, it } from 'vitest';
import { stackConfig } from '../../src/config.js';
import { renderHba, renderPgbouncerIni } from '../../src/local/render.js';

afterEach(() => {
  delete process.env.PGKIT_TEST_BOUNCER_RESET;
});

describe('local PgBouncer configuration', () => {
  it('does not reset server connections between clients by default, and reaches PostgreSQL over its socket', () => {
    const cfg = stackConfig('test');
    const ini = renderPgbouncerIni(cfg);
    expect(ini).toMatch(/^pool_mode = transaction$/m);
    expect(ini).toMatch(/^server_reset_query_always = 0$/m);
    expect(ini).toMatch(new RegExp(`^\\* = host=/\\S+/run port=${cfg.pgPort}$`, 'm'));
    // The socket is SCRAM for every login but the server's own OS user (peer, for pgBackRest).
    expect(renderHba()).toMatch(/^local\s+all\s+all\s+scram-sha-256$/m);
  });

  it('PGKIT_<STACK>_BOUNCER_RESET=1 turns DISCARD ALL after every transaction on; anything but 0 or 1 is refused', () => {
    process.env.PGKIT_TEST_BOUNCER_RESET = '1';
    const ini = renderPgbouncerIni(stackConfig('test'));
    expect(ini).toMatch(/^server_reset_query = DISCARD ALL$/m);
    expect(ini).toMatch(/^server_reset_query_always = 1$/m);
    process.env.PGKIT_TEST_BOUNCER_RESET = 'yes';
    expect(() => stackConfig('test')).toThrow('PGKIT_TEST_BOUNCER_RESET=yes is not valid: expected a whole number from 0 to 1');
  });
});
