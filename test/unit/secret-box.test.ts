import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { SecretBox } from '../../src/security/secret-box';
import { RateLimiter } from '../../src/security/rate-limiter';
import { redact } from '../../src/security/audit-log';

const K1 = randomBytes(32).toString('base64');
const K2 = randomBytes(32).toString('hex');

describe('SecretBox (AES-256-GCM)', () => {
  it('round-trips any text, with a fresh nonce every time', () => {
    const box = new SecretBox(`k1:${K1}`);
    fc.assert(fc.property(fc.string(), (text) => box.decrypt(box.encrypt(text)) === text));
    expect(box.encrypt('same')).not.toBe(box.encrypt('same'));
  });

  it('rejects 100% of tampered ciphertexts', () => {
    const box = new SecretBox(`k1:${K1}`);
    const sealed = box.encrypt('{"apiKey":"shpat_secret"}');
    const [v, id, nonce, body] = sealed.split('.');
    let rejected = 0;
    const runs = 2000;
    fc.assert(fc.property(fc.nat(), fc.integer({ min: 1, max: 255 }), fc.boolean(), (pos, flip, inNonce) => {
      const bytes = Buffer.from(inNonce ? nonce : body, 'base64url');
      const i = pos % bytes.length;
      bytes[i] ^= flip;
      const tampered = inNonce ? [v, id, bytes.toString('base64url'), body] : [v, id, nonce, bytes.toString('base64url')];
      try {
        box.decrypt(tampered.join('.'));
      } catch (err) {
        expect(String(err)).not.toContain('shpat_secret');
        rejected++;
      }
    }), { numRuns: runs });
    expect(rejected).toBe(runs);
    expect(() => box.decrypt(`${v}.k2.${nonce}.${body}`)).toThrow(/not in SWITCHYARD_MASTER_KEY/);
    expect(() => box.decrypt('garbage')).toThrow(/not a sealed secret/);
  });

  it('rotates without downtime: the new key seals, old ciphertexts still open, then can be re-sealed', () => {
    const old = new SecretBox(`k1:${K1}`);
    const sealedOld = old.encrypt('token-1');
    const rotating = new SecretBox(`k2:${K2},k1:${K1}`);
    expect(rotating.decrypt(sealedOld)).toBe('token-1');
    expect(rotating.needsRotation(sealedOld)).toBe(true);
    const resealed = rotating.encrypt(rotating.decrypt(sealedOld));
    expect(rotating.needsRotation(resealed)).toBe(false);
    const rotated = new SecretBox(`k2:${K2}`);
    expect(rotated.decrypt(resealed)).toBe('token-1');
    expect(() => rotated.decrypt(sealedOld)).toThrow();
  });

  it('refuses weak or malformed keys', () => {
    expect(() => new SecretBox('short')).toThrow(/32 bytes/);
    expect(() => new SecretBox('')).toThrow(/empty/);
    expect(() => new SecretBox(`a:${K1},a:${K2}`)).toThrow(/unique/);
    expect(new SecretBox('a passphrase that is long enough to be a key!').decrypt(new SecretBox('a passphrase that is long enough to be a key!').encrypt('x'))).toBe('x');
  });
});

describe('RateLimiter', () => {
  it('allows the burst, then one request per refill interval, per caller', () => {
    let now = 0;
    const limiter = new RateLimiter(60, 3, () => now); // one a second, burst of 3
    expect([limiter.take('a'), limiter.take('a'), limiter.take('a')]).toEqual([0, 0, 0]);
    expect(limiter.take('a')).toBe(1);
    expect(limiter.take('b')).toBe(0);
    now += 1000;
    expect(limiter.take('a')).toBe(0);
    expect(limiter.take('a')).toBeGreaterThan(0);
  });
});

describe('redact', () => {
  it('hides secret-looking values at any depth and keeps the rest', () => {
    expect(redact({ input: { name: 'x', credentials: { apiKey: 'k' }, nested: [{ password: 'p', sku: 'A' }] }, authorization: 'Bearer x' }))
      .toEqual({ input: { name: 'x', credentials: '[redacted]', nested: [{ password: '[redacted]', sku: 'A' }] }, authorization: '[redacted]' });
  });
});
