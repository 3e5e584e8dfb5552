// The local stack's PgBouncer settings that the request-context design depends on (src/local/render.ts).
import { afterEach, describe, expect, it } from 'vitest';
import { stackConfig } from '../../src/config.js';
import { renderHba, renderIdent, renderPgbouncerIni } from '../../src/local/render.js';
import { renderReplicaConf } from '../../src/local/replica.js';

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

  it('with a replica (issue 19), <db>_readonly entries reach it over its own socket; without, there are none', () => {
    const cfg = { ...stackConfig('test'), replica: true };
    const ini = renderPgbouncerIni(cfg);
    for (const db of ['pgkit', 'pgkit_load']) {
      expect(ini).toMatch(new RegExp(`^${db}_readonly = host=/\\S+/replica/run port=${cfg.replicaPort} dbname=${db}$`, 'm'));
    }
    expect(renderPgbouncerIni({ ...cfg, replica: false })).not.toMatch(/_readonly/);
  });

  it('the replica streams as a replication-only login over the socket (peer), and its settings make it a streaming hot standby', () => {
    expect(renderHba()).toMatch(/^local\s+replication\s+pgkit_replicator\s+peer map=pgkit$/m);
    expect(renderIdent('someone')).toMatch(/^pgkit\s+someone\s+pgkit_replicator$/m);
    const cfg = { ...stackConfig('test'), replica: true };
    const conf = renderReplicaConf(cfg, { sharedBuffers: '128MB' });
    expect(conf).toMatch(new RegExp(`^port = ${cfg.replicaPort}$`, 'm'));
    expect(conf).toMatch(/^unix_socket_directories = '\S+\/replica\/run' /m);
    expect(conf).toMatch(new RegExp(`^primary_conninfo = 'host=\\S+/run port=${cfg.pgPort} user=pgkit_replicator application_name=pgkit_replica'$`, 'm'));
    expect(conf).toMatch(/^primary_slot_name = 'pgkit_replica'$/m);
    expect(conf).toMatch(/^archive_mode = off$/m);
    // The last setting wins: the replica's own settings follow the primary's.
    expect(conf.lastIndexOf('shared_buffers = 128MB')).toBeGreaterThan(conf.indexOf('shared_buffers ='));
  });
});
