import { afterEach, describe, expect, it } from 'vitest';
import { bundleChecksum, fileChecksum, loadMigrations } from '../../src/migrate/index.js';
import { migrationDir, type MigrationDir } from './helpers.js';

let dir: MigrationDir | undefined;
afterEach(async () => {
  await dir?.cleanup();
  dir = undefined;
});

describe('loadMigrations', () => {
  it('returns .sql files sorted by name, ignores other files, and reads the no-transaction marker', async () => {
    dir = await migrationDir({
      '0010_c.sql': 'SELECT 3;',
      '0002_b.sql': '-- pgkit:no-transaction\nCREATE INDEX CONCURRENTLY i ON t (x);',
      '0001_a.sql': 'SELECT 1; -- pgkit:no-transaction (not alone on its line: ignored)',
      'README.md': 'not a migration',
    });
    const files = await loadMigrations(dir.path);
    expect(files.map((f) => [f.name, f.transactional])).toEqual([
      ['0001_a.sql', true],
      ['0002_b.sql', false],
      ['0010_c.sql', true],
    ]);
    expect(files[0].checksum).toBe(fileChecksum('SELECT 1; -- pgkit:no-transaction (not alone on its line: ignored)'));
  });

  it('rejects a badly named .sql file, naming it and the expected pattern', async () => {
    dir = await migrationDir({ '0001_ok.sql': 'SELECT 1;', '2_Bad-Name.sql': 'SELECT 2;' });
    await expect(loadMigrations(dir.path)).rejects.toThrow(/2_Bad-Name\.sql.*NNNN_name\.sql/);
  });

  it('rejects two files sharing a number', async () => {
    dir = await migrationDir({ '0001_a.sql': 'SELECT 1;', '0001_b.sql': 'SELECT 2;' });
    await expect(loadMigrations(dir.path)).rejects.toThrow(/0001_a\.sql and 0001_b\.sql share the number 0001/);
  });
});

describe('checksums', () => {
  it('ignores line endings but not content; the bundle checksum follows names and content', () => {
    expect(fileChecksum('SELECT 1;\r\nSELECT 2;\r\n')).toBe(fileChecksum('SELECT 1;\nSELECT 2;\n'));
    expect(fileChecksum('SELECT 1;')).not.toBe(fileChecksum('SELECT 2;'));
    const a = { name: '0001_a.sql', kind: 'versioned' as const, checksum: fileChecksum('x'), transactional: true, sql: 'x' };
    const b = { ...a, name: '0002_a.sql' };
    expect(bundleChecksum([a])).toMatch(/^[0-9a-f]{64}$/);
    expect(bundleChecksum([a])).not.toBe(bundleChecksum([b]));
    expect(bundleChecksum([a])).not.toBe(bundleChecksum([{ ...a, checksum: fileChecksum('y') }]));
  });
});
