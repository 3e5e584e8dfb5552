// The PostgreSQL major the kit runs (issue 14): chosen by PGKIT_PG_MAJOR in one place (src/config.ts), only
// majors with a local test target accepted, each major's programs where scripts/setup.sh installs them.
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { PG_INSTALL, PG_MAJOR, pgInstall, pgMajorFromEnv, stackConfig, TESTED_PG_MAJORS } from '../src/config.js';
import { renderPostgresConf } from '../src/local/render.js';
import { runSync } from '../src/proc/run.js';

describe('PGKIT_PG_MAJOR', () => {
  it('is 15 when unset, 15 or 17 when set, and anything else is refused naming the tested majors', () => {
    expect(pgMajorFromEnv(undefined)).toBe(15);
    expect(pgMajorFromEnv('')).toBe(15);
    expect(pgMajorFromEnv('15')).toBe(15);
    expect(pgMajorFromEnv('17')).toBe(17);
    for (const bad of ['16', '18', '17.2', 'seventeen']) {
      expect(() => pgMajorFromEnv(bad)).toThrow(`PGKIT_PG_MAJOR=${bad} is not valid: the kit has a local test target for PostgreSQL 15 and 17 only`);
    }
    expect([...TESTED_PG_MAJORS]).toEqual([15, 17]);
  });

  it("each major's programs: Debian 12's packages for 15, the kit-owned prefix (pgBackRest included) for 17", () => {
    expect(pgInstall(15)).toMatchObject({ binDir: '/usr/lib/postgresql/15/bin', libDir: '/usr/lib/postgresql/15/lib', pgbackrest: '/usr/bin/pgbackrest' });
    // Debian 13's own layout under the prefix (scripts/setup.sh install_pg17).
    expect(pgInstall(17)).toMatchObject({ binDir: '/opt/pgkit/postgresql-17/usr/lib/postgresql/17/bin', libDir: '/opt/pgkit/postgresql-17/usr/lib/postgresql/17/lib', pgbackrest: '/opt/pgkit/postgresql-17/usr/bin/pgbackrest' });
    expect(pgInstall(17).setupHint).toContain('PGKIT_PG_MAJOR=17');
  });

  it('the installed server of the chosen major is the one the stack runs, and archiving uses its pgBackRest', () => {
    const v = runSync(`${PG_INSTALL.binDir}/postgres`, ['--version']).stdout;
    expect(v).toMatch(new RegExp(`\\(PostgreSQL\\) ${PG_MAJOR}\\.\\d+`));
    expect(existsSync(PG_INSTALL.pgbackrest)).toBe(true);
    expect(renderPostgresConf(stackConfig('test'))).toContain(`archive_command = '${PG_INSTALL.pgbackrest} --config=`);
  });

  it('a 17 stack keeps its data apart from a 15 one', () => {
    const home = stackConfig('test').home;
    if (process.env.PGKIT_TEST_HOME) expect(home).toBe(process.env.PGKIT_TEST_HOME);
    else expect(home.endsWith(PG_MAJOR === 15 ? '/.pgkit/test' : `/.pgkit/test-pg${PG_MAJOR}`)).toBe(true);
  });
});

describe('the scale stack (npm run scale)', () => {
  it('is a cluster of its own on its own ports that archives no WAL; the local and test stacks archive theirs', () => {
    const scale = stackConfig('scale');
    expect(scale.archive).toBe(false);
    expect([scale.pgPort, scale.bouncerPort]).not.toContain(stackConfig('local').pgPort);
    expect(scale.home).not.toBe(stackConfig('local').home);
    const conf = renderPostgresConf(scale);
    expect(conf).toMatch(/^archive_mode = off$/m);
    expect(conf).toMatch(/^archive_command = ''$/m);
    for (const name of ['local', 'test'] as const) {
      expect(stackConfig(name).archive).toBe(true);
      expect(renderPostgresConf(stackConfig(name))).toMatch(/^archive_mode = on$/m);
    }
    expect(() => stackConfig('other' as 'local')).toThrow(/expected one of local, test, scale/);
  });
});
