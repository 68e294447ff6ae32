import { apportion, blackFriday, dayWeight, generateHistory, type HistoryOptions } from '../../../src/routing/history-generator';
import { parseHistory } from '../../../src/routing/simulate.history';
import { localDate } from '../../../src/routing/time';

const TZ = 'America/New_York';
const BASE: HistoryOptions = { orders: 8000, seed: 11, from: '2025-11-01', days: 45 };
const lines = (o: HistoryOptions) => [...generateHistory(o)].map((x) => JSON.stringify(x));

// One large history shared by the distribution checks (generating it is the slow part).
const big = [...generateHistory(BASE)];

test('Black Friday is the day after the fourth Thursday of November', () => {
  expect(blackFriday(2024)).toBe('2024-11-29');
  expect(blackFriday(2025)).toBe('2025-11-28');
  expect(blackFriday(2026)).toBe('2026-11-27');
  expect(blackFriday(2027)).toBe('2027-11-26');
});

test('apportion splits a total exactly and in proportion', () => {
  expect(apportion(10, [1, 1, 1])).toEqual([4, 3, 3]);
  expect(apportion(7, [5, 0, 2])).toEqual([5, 0, 2]);
  const c = apportion(1001, [0.3, 1.7, 2.9, 0.1]);
  expect(c.reduce((a, b) => a + b, 0)).toBe(1001);
});

test('the same seed gives the same history; another seed another one', () => {
  const small = { orders: 400, seed: 5, days: 10 };
  const a = lines(small);
  expect(lines(small)).toEqual(a);
  expect(lines({ ...small, seed: 6 })).not.toEqual(a);
  expect(a).toHaveLength(400);
});

test('exactly N valid orders, unique ids, in placedAt order, inside the window', () => {
  expect(big).toHaveLength(BASE.orders);
  // The simulator's own reader accepts it (schema, unique ids, time order).
  const parsed = parseHistory(big.map((o) => JSON.stringify(o)).join('\n'));
  expect(parsed).toHaveLength(BASE.orders);
  const days = new Set(big.map((o) => localDate(new Date(o.placedAt), TZ)));
  expect([...days].sort()[0]).toBe('2025-11-01');
  expect([...days].sort().pop()).toBe('2025-12-15');
  expect(big.filter((o) => new Set(o.lines.map((l) => l.sku)).size !== o.lines.length)).toEqual([]);
  expect(big.filter((o) => o.shipTo?.country !== 'US')).toEqual([]);
});

test('SKU popularity follows Zipf: rank 1 about twice rank 2, log-log slope about −1', () => {
  const count = new Map<string, number>();
  for (const o of big) for (const l of o.lines) count.set(l.sku, (count.get(l.sku) ?? 0) + 1);
  const rank = (k: number) => count.get(`SKU-${String(k).padStart(6, '0')}`) ?? 0;
  expect(rank(1) / rank(2)).toBeGreaterThan(1.6);
  expect(rank(1) / rank(2)).toBeLessThan(2.5);
  // Least-squares slope of log(count) on log(rank) over the head, where counts are large enough to be stable.
  const xs: number[] = [];
  const ys: number[] = [];
  for (let k = 1; k <= 40; k++) {
    xs.push(Math.log(k));
    ys.push(Math.log(rank(k)));
  }
  const mx = xs.reduce((a, b) => a + b) / xs.length;
  const my = ys.reduce((a, b) => a + b) / ys.length;
  const slope = xs.reduce((s, x, i) => s + (x - mx) * (ys[i] - my), 0) / xs.reduce((s, x) => s + (x - mx) ** 2, 0);
  expect(slope).toBeGreaterThan(-1.2);
  expect(slope).toBeLessThan(-0.8);
  // A steeper exponent concentrates demand on the head.
  const steep = [...generateHistory({ orders: 2000, seed: 3, zipf: 1.5 })];
  const top = (hs: typeof big) => hs.flatMap((o) => o.lines).filter((l) => l.sku === 'SKU-000001').length / hs.flatMap((o) => o.lines).length;
  expect(top(steep)).toBeGreaterThan(top(big) * 1.5);
});

test('Black Friday and Cyber Monday peak; without a peak the days are flat', () => {
  const perDay = (hs: typeof big) => {
    const m = new Map<string, number>();
    for (const o of hs) {
      const d = localDate(new Date(o.placedAt), TZ);
      m.set(d, (m.get(d) ?? 0) + 1);
    }
    return m;
  };
  const median = (m: Map<string, number>) => {
    const v = [...m.values()].sort((a, b) => a - b);
    return v[Math.floor(v.length / 2)];
  };
  const days = perDay(big);
  const busiest = [...days].sort((a, b) => b[1] - a[1])[0][0];
  expect(busiest).toBe('2025-11-28');
  expect(days.get('2025-11-28')! / median(days)).toBeGreaterThan(3.5);
  expect(days.get('2025-12-01')! / median(days)).toBeGreaterThan(3);
  expect(days.get('2025-11-27')!).toBeGreaterThan(median(days));
  expect(dayWeight('2025-11-28', 5) / dayWeight('2025-11-14', 5)).toBeCloseTo(5, 5); // both Fridays

  const flat = perDay([...generateHistory({ ...BASE, orders: 4500, peak: 1 })]);
  expect(Math.max(...flat.values()) / median(flat)).toBeLessThan(1.5);
});

test('customers follow population: California leads, and big cities send more orders than small ones', () => {
  const byRegion = new Map<string, number>();
  for (const o of big) byRegion.set(o.shipTo!.region!, (byRegion.get(o.shipTo!.region!) ?? 0) + 1);
  const ranked = [...byRegion].sort((a, b) => b[1] - a[1]);
  expect(ranked[0][0]).toBe('CA');
  expect(ranked[0][1] / big.length).toBeGreaterThan(0.08);
  expect(ranked[0][1] / big.length).toBeLessThan(0.2);
  expect(ranked.slice(0, 5).map(([r]) => r)).toEqual(expect.arrayContaining(['TX', 'NY']));
  // Repeat customers exist, and a customer's address never changes.
  const home = new Map<string, string>();
  const moved: string[] = [];
  for (const o of big) {
    const where = `${o.shipTo!.latitude},${o.shipTo!.longitude}`;
    if ((home.get(o.customerKey!) ?? where) !== where) moved.push(o.customerKey!);
    home.set(o.customerKey!, where);
  }
  expect(moved).toEqual([]);
  expect(home.size).toBeLessThan(big.length * 0.7);
});

test('baskets: about half single-line, some large, mostly one unit per line', () => {
  const single = big.filter((o) => o.lines.length === 1).length / big.length;
  expect(single).toBeGreaterThan(0.47);
  expect(single).toBeLessThan(0.57);
  expect(big.some((o) => o.lines.length >= 5)).toBe(true);
  const units = big.flatMap((o) => o.lines.map((l) => l.quantity));
  expect(units.filter((q) => q === 1).length / units.length).toBeGreaterThan(0.8);
});

test('customers near a store sometimes collect there; others always ship', () => {
  const store = { code: 'ST-CHI', latitude: 41.8781, longitude: -87.6298, capabilities: ['SHIP', 'PICKUP'] as const };
  const hs = [...generateHistory({ orders: 6000, seed: 2, stores: [{ ...store, capabilities: [...store.capabilities] }], pickupShare: 0.5 })];
  const collect = hs.filter((o) => o.method !== 'SHIP');
  expect(collect.length).toBeGreaterThan(20);
  for (const o of collect) {
    expect(o.method).toBe('PICKUP'); // no CURBSIDE capability at this store
    expect(o.pickupLocationCode).toBe('ST-CHI');
    expect(Math.abs(o.shipTo!.latitude - store.latitude)).toBeLessThan(0.5);
  }
});

test('bad options are refused naming the option', () => {
  expect(() => generateHistory({ orders: -1, seed: 1 })).toThrow(/orders/);
  expect(() => generateHistory({ orders: 10, seed: 1, from: '2025-13-01' })).toThrow(/from/);
  expect(() => generateHistory({ orders: 10, seed: 1, peak: 0.5 })).toThrow(/peak/);
  expect(() => generateHistory({ orders: 10, seed: 1, timeZone: 'Mars/Olympus' })).toThrow(/timeZone/);
  expect(() => generateHistory({ orders: 10, seed: 1, skus: [] })).toThrow(/skus/);
});
