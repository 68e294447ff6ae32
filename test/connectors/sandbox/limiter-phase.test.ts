// The sandboxes revealed two phase errors in the SDK's client-side limiters (found with the hybrid clock of
// bench/connector-budget.ts, where requests take real time in flight). These pin the fixes.
import { VirtualClock } from '../../../src/connectors/sdk/clock';
import { FixedWindowLimiter, TokenBucketLimiter } from '../../../src/connectors/sdk/rate-limit';
import { FixedWindow, TokenBucket } from '../../../src/connectors/sandbox';

const ok = { status: 200, headers: {}, data: null };

test('token bucket: time in flight is not counted as refill, so the next request finds a token at the vendor', async () => {
  const clock = new VirtualClock(0);
  const client = new TokenBucketLimiter({ op: { rate: 0.5, burst: 1 } });
  const vendor = new TokenBucket(0.5, 1, 0);
  for (let i = 0; i < 5; i++) {
    await client.acquire('op', 1, clock);
    clock.advance(300); // the request reaches the vendor 300 ms after we sent it
    expect(vendor.tryTake(clock.now())).toBe(true);
    clock.advance(300); // and the answer comes back 300 ms later
    client.observe('op', ok, clock);
  }
});

test('fixed window: anchored to the vendor\'s window; after a 429 the vendor\'s Retry-After sets the reset, not a whole window', async () => {
  const clock = new VirtualClock(0);
  const client = new FixedWindowLimiter(3, 60_000);
  const vendor = new FixedWindow(3, 60_000);
  for (let i = 0; i < 9; i++) {
    await client.acquire('op', 1, clock);
    clock.advance(200);
    expect(vendor.tryTake(clock.now())).toBe(true);
    clock.advance(200);
    client.observe('op', ok, clock);
  }
  const c2 = new FixedWindowLimiter(10, 60_000);
  await c2.acquire('op', 1, clock);
  c2.observe('op', { status: 429, headers: { 'retry-after': '5' }, data: null }, clock);
  const before = clock.now();
  await c2.acquire('op', 1, clock);
  expect(clock.now() - before).toBe(5_000);
});
