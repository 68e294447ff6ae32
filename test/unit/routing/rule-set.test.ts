import { DEFAULT_RULE_SET, RuleSetValidationError, loadRuleSet, parseRuleSet } from '../../../src/routing/rule-set.schema';
import { selectRuleSet } from '../../../src/routing/rule-set.select';
import { rules } from './fixtures';

describe('rule sets as data', () => {
  it('loads YAML with defaults filled in', () => {
    const rs = loadRuleSet(
      [
        'id: peak',
        'version: 3',
        'name: Peak season',
        'status: PUBLISHED',
        'validFrom: 2025-11-20',
        'validTo: 2026-01-01T00:00:00Z',
        'capacityRules:',
        '  - locationTypes: [STORE]',
        '    maxOrdersPerDay: 20',
        'rankers:',
        '  - { type: locationType, weight: 2, order: [WAREHOUSE, THREE_PL] }',
        '  - { type: distance, weight: 1 }',
      ].join('\n'),
      { fileName: 'peak.yaml' },
    );
    expect(rs).toMatchObject({ id: 'peak', version: 3, splitPolicy: 'ALLOW', maxShipments: 3, validFrom: '2025-11-20' });
    expect(rs.capacityRules[0].maxOrdersPerDay).toBe(20);
  });

  it('loads JSON', () => {
    const rs = loadRuleSet(JSON.stringify({ id: 'a', version: 1, name: 'A', status: 'DRAFT', splitPolicy: 'NEVER' }));
    expect(rs.splitPolicy).toBe('NEVER');
  });

  it('names the path of every problem', () => {
    let err: unknown;
    try {
      parseRuleSet({
        id: 'x',
        version: 0,
        name: 'X',
        status: 'LIVE',
        filters: [{ type: 'maxDistance', km: 'far' }],
        rankers: [{ type: 'nearest', weight: 1 }],
        shippingRates: [{ zones: [{ name: 'z1', maxKm: 10 }], rates: [{ zone: 'z2', maxWeightKg: 1, price: 1 }] }],
      });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(RuleSetValidationError);
    const paths = (err as RuleSetValidationError).issues.map((i) => i.path);
    expect(paths).toEqual(expect.arrayContaining(['version', 'status', 'filters[0].km', 'rankers[0].type', 'shippingRates[0].rates[0].zone']));
    expect((err as Error).message).toContain('filters[0].km');
  });

  it('rejects an inverted window and unknown keys', () => {
    expect(() => rules({ validFrom: '2025-02-01', validTo: '2025-01-01' })).toThrow(/validTo: must be after validFrom/);
    expect(() => parseRuleSet({ id: 'x', version: 1, name: 'X', status: 'DRAFT', splitpolicy: 'NEVER' })).toThrow(/splitpolicy/);
  });

  it('reports unparseable text', () => {
    expect(() => loadRuleSet('id: [unclosed', { format: 'yaml' })).toThrow(RuleSetValidationError);
  });

  it('the default rule set is valid and published', () => {
    expect(DEFAULT_RULE_SET.status).toBe('PUBLISHED');
  });
});

describe('selectRuleSet: time windows', () => {
  const everyday = rules({ id: 'everyday', version: 4 });
  const olderEveryday = rules({ id: 'everyday', version: 3 });
  const peak = rules({ id: 'peak', validFrom: '2025-11-20T00:00:00Z', validTo: '2026-01-01T00:00:00Z' });
  const draftPeak = rules({ id: 'draft', status: 'DRAFT', validFrom: '2025-11-01T00:00:00Z' });
  const all = [olderEveryday, everyday, peak, draftPeak];
  const table = [
    { at: '2025-06-01T00:00:00Z', expected: 'everyday:4' },
    { at: '2025-11-19T23:59:59Z', expected: 'everyday:4' },
    { at: '2025-11-20T00:00:00Z', expected: 'peak:1' },
    { at: '2025-12-31T23:59:59Z', expected: 'peak:1' },
    { at: '2026-01-01T00:00:00Z', expected: 'everyday:4' },
  ];
  it.each(table)('at $at uses $expected', ({ at, expected }) => {
    const rs = selectRuleSet(all, new Date(at))!;
    expect(`${rs.id}:${rs.version}`).toBe(expected);
  });
  it('higher priority wins among overlapping windows; none when nothing is published', () => {
    const a = rules({ id: 'a', validFrom: '2025-01-01', priority: 1 });
    const b = rules({ id: 'b', validFrom: '2025-02-01' });
    expect(selectRuleSet([b, a], new Date('2025-03-01'))!.id).toBe('a');
    expect(selectRuleSet([b, rules({ id: 'c', validFrom: '2025-01-01' })], new Date('2025-03-01'))!.id).toBe('b');
    expect(selectRuleSet([draftPeak], new Date('2025-12-01'))).toBeUndefined();
  });
});
