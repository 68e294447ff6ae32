import fc from 'fast-check';
import { channelAtp, locationAtp, type Balance } from '../../src/inventory/atp';
import { canonicalJson, requestHash } from '../../src/idempotency/idempotency.store';

// Balances the database allows: 0 <= reserved <= on hand, safety stock >= 0.
const balance: fc.Arbitrary<Balance> = fc.record({ onHand: fc.integer({ min: 0, max: 1e6 }), safetyStock: fc.integer({ min: 0, max: 1e4 }), reserved: fc.integer({ min: 0, max: 1e6 }) })
  .map((b) => ({ ...b, reserved: Math.min(b.reserved, b.onHand) }));
const locations = fc.uniqueArray(fc.record({ locationCode: fc.constantFrom('A', 'B', 'C', 'D', 'E', 'F'), b: balance }), { selector: (l) => l.locationCode, maxLength: 6 })
  .map((ls) => ls.map(({ locationCode, b }) => ({ locationCode, ...b })));
const buffer = fc.integer({ min: 0, max: 1e4 });

describe('location ATP', () => {
  it('is never negative and never more than what is unreserved', () => {
    fc.assert(fc.property(balance, buffer, (b, buf) => {
      const atp = locationAtp(b, buf);
      return atp >= 0 && atp <= b.onHand - b.reserved && Number.isInteger(atp);
    }));
  });

  it('equals on hand − reserved − safety stock when that is positive', () => {
    fc.assert(fc.property(balance, (b) => locationAtp(b) === Math.max(0, b.onHand - b.reserved - b.safetyStock)));
  });

  it('reserving what it promises drives it to exactly zero, never below', () => {
    fc.assert(fc.property(balance, (b) => {
      const atp = locationAtp(b);
      return locationAtp({ ...b, reserved: b.reserved + atp }) === 0;
    }));
  });

  it('a bigger buffer never shows more', () => {
    fc.assert(fc.property(balance, buffer, buffer, (b, x, y) => locationAtp(b, Math.max(x, y)) <= locationAtp(b, Math.min(x, y))));
  });
});

describe('channel ATP', () => {
  it('without rules it is the network total', () => {
    fc.assert(fc.property(locations, (ls) => channelAtp(ls).total === ls.reduce((a, l) => a + locationAtp(l), 0)));
  });

  it('never exceeds the network total, is never negative, and only counts allocated locations', () => {
    fc.assert(fc.property(locations, fc.dictionary(fc.constantFrom('A', 'B', 'C', 'G'), buffer), fc.integer({ min: 0, max: 1e5 }), (ls, alloc, safety) => {
      const rules = { allocations: new Map(Object.entries(alloc)), safetyStock: safety };
      const { total, byLocation } = channelAtp(ls, rules);
      const network = channelAtp(ls).total;
      const sum = [...byLocation.values()].reduce((a, b) => a + b, 0);
      return total >= 0 && total <= network && total === Math.max(0, sum - safety)
        && [...byLocation.keys()].every((code) => rules.allocations.has(code))
        && ls.every((l) => !rules.allocations.has(l.locationCode) || byLocation.get(l.locationCode) === locationAtp(l, alloc[l.locationCode]));
    }));
  });

  it('the "sees stock only above N" buffer hides exactly N units where there are more', () => {
    fc.assert(fc.property(balance, fc.integer({ min: 0, max: 100 }), (b, n) => {
      const { total } = channelAtp([{ locationCode: 'S', ...b }], { allocations: new Map([['S', n]]) });
      const plain = locationAtp(b);
      return total === (plain > n ? plain - n : 0);
    }));
  });

  it('more channel safety stock never shows more', () => {
    fc.assert(fc.property(locations, fc.nat(1e5), fc.nat(1e5), (ls, x, y) =>
      channelAtp(ls, { safetyStock: Math.max(x, y) }).total <= channelAtp(ls, { safetyStock: Math.min(x, y) }).total));
  });
});

describe('idempotency request hash', () => {
  it('ignores key order and absent members, and separates different payloads', () => {
    fc.assert(fc.property(fc.dictionary(fc.string({ maxLength: 5 }), fc.jsonValue()), (obj) => {
      const reversed = Object.fromEntries(Object.entries(obj).reverse());
      return requestHash(obj) === requestHash(reversed) && requestHash({ ...obj, extra: undefined }) === requestHash(obj);
    }));
    expect(requestHash({ a: 1 })).not.toBe(requestHash({ a: 2 }));
    expect(canonicalJson({ b: [1, { d: 1, c: 2 }], a: null })).toBe('{"b":[1,{"c":2,"d":1}]}');
  });
});
