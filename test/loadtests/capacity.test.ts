// The capacity search of `npm run loadtest:capacity` (loadtests/runner/capacity.ts), with a stand-in for the k6 runs:
// a scenario "passes" below a known rate. What it cannot show here is a real k6 run (docs/loadtests.md, measured
// figures: a run of the command at small scale with a real k6).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../../src/config.js';
import { findCapacity, mergeCapacityReports, type CapacityReport, type Step } from '../../loadtests/runner/capacity.js';
import { DEFAULT_RATES, parseScenarios, SCENARIOS } from '../../loadtests/runner/k6.js';

const machine = (limit: number) => {
  const rates: number[] = [];
  const tryRate = async (rate: number): Promise<Step> => {
    rates.push(rate);
    const passed = rate <= limit;
    return { rate, passed, failedThresholds: passed ? [] : ['http_req_duration{op:x} p(95)<50'], droppedIterations: 0 };
  };
  return { tryRate, rates };
};

describe('capacity search', () => {
  it.each([
    [137, 100],
    [60, 100],
    [1000, 100],
    [3, 50],
  ])('finds a limit of %i/s from a start of %i/s within the precision, never running a rate twice', async (limit, start) => {
    const m = machine(limit);
    const r = await findCapacity(m.tryRate, { start, min: 1, max: 5000, precision: 0.1 });
    expect(r.capacity).not.toBeNull();
    expect(r.capacity!).toBeLessThanOrEqual(limit);
    expect(r.firstFailing!).toBeGreaterThan(limit);
    expect(r.firstFailing! - r.capacity!).toBeLessThanOrEqual(Math.max(1, r.capacity! * 0.1));
    expect(new Set(m.rates).size).toBe(m.rates.length);
    expect(r.steps.map((s) => s.rate)).toEqual(m.rates);
    expect(m.rates[0]).toBe(start);
  });

  it('says when even the lowest rate fails, and when the highest passes', async () => {
    const none = await findCapacity(machine(0).tryRate, { start: 10, min: 1, max: 100, precision: 0.1 });
    expect(none).toMatchObject({ capacity: null, firstFailing: 1 });
    const all = await findCapacity(machine(1e9).tryRate, { start: 10, min: 1, max: 100, precision: 0.1 });
    expect(all).toMatchObject({ capacity: 100, firstFailing: null });
  });

  it('refuses bounds that cannot hold a search, and a run that is not a measurement stops it', async () => {
    await expect(findCapacity(machine(5).tryRate, { start: 10, min: 20, max: 100, precision: 0.1 })).rejects.toThrow(/0 < min <= start <= max/);
    await expect(findCapacity(async () => { throw new Error('k6 exited with 107'); }, { start: 10, min: 1, max: 100, precision: 0.1 })).rejects.toThrow(/107/);
  });

  it('starts each scenario at its script default and knows every scenario', () => {
    expect(Object.keys(DEFAULT_RATES).sort()).toEqual([...SCENARIOS].sort());
    for (const s of SCENARIOS) {
      const src = readFileSync(join(repoRoot, 'loadtests', 'k6', `${s}.ts`), 'utf8');
      expect(Number(/num\('RATE', (\d+)\)/.exec(src)![1]), s).toBe(DEFAULT_RATES[s]);
    }
    expect(parseScenarios('all')).toEqual([...SCENARIOS]);
    // vector-search writes embeddings: last, so spike and the others never search a graph it grew.
    expect(SCENARIOS.at(-1)).toBe('vector-search');
    expect(parseScenarios('browse,spike')).toEqual(['browse', 'spike']);
    expect(() => parseScenarios('brows')).toThrow(/no scenario 'brows'/);
  });

  it("re-measuring one scenario replaces its row and keeps the day's others, each with its own time and label", () => {
    const row = (scenario: 'browse' | 'spike' | 'vector-search', capacity: number) =>
      ({ scenario, defaultRate: DEFAULT_RATES[scenario], loadBefore: 1, loadAfter: 1, capacity, firstFailing: capacity + 1, steps: [] });
    const report = (date: string, label: string, scenarios: CapacityReport['scenarios']): CapacityReport =>
      ({ date, label, machine: 'm', k6: 'k6 v1.3.0', stepDuration: '30s', precision: 0.1, scenarios, bench: null });
    const morning = report('2026-12-06 09:35', 'quiet', [row('browse', 100), row('vector-search', 0), row('spike', 35)]);
    const later = report('2026-12-06 13:10', 'quiet, fresh graph each step', [row('vector-search', 40)]);
    const m = mergeCapacityReports(morning, later);
    expect(m.scenarios.map((s) => [s.scenario, s.capacity, s.measuredAt, s.label])).toEqual([
      ['browse', 100, '2026-12-06 09:35', 'quiet'],
      ['spike', 35, '2026-12-06 09:35', 'quiet'],
      ['vector-search', 40, '2026-12-06 13:10', 'quiet, fresh graph each step'],
    ]);
    expect(m.date).toBe('2026-12-06 13:10');
    expect(mergeCapacityReports(null, later).scenarios).toHaveLength(1);
  });
});
