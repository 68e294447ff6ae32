// Refunds through the Shopify sandbox with the real connector (src/connectors/shopify/refund.ts): suggestedRefund,
// then refundCreate with @idempotent(key:), shaped like the Admin API (../shared/fixtures/shopify/admin_schema_2025-01.json.gz;
// shopify-sandbox.schema.test.ts checks the sandbox's types against it).
import { VirtualClock } from '../../../src/connectors/sdk/clock';
import { openConnection } from '../../../src/connectors/sdk/connector';
import { ConnectorError } from '../../../src/connectors/sdk/connector-error';
import type { RefundCommand } from '../../../src/connectors/sdk/returns';
import { shopifyConnector } from '../../../src/connectors/shopify/shopify.connector';
import { startShopifySandbox, type ShopifySandbox } from '../../../src/connectors/sandbox';

const T0 = Date.parse('2026-03-02T12:00:00Z');
let sb: ShopifySandbox;
const open = (clock: VirtualClock) => openConnection(shopifyConnector, { ...sb.connection, clock, random: () => 0.5 });
let conn: ReturnType<typeof open>;

beforeAll(async () => {
  const clock = new VirtualClock(T0);
  sb = await startShopifySandbox({ seed: 11, clock, backlog: 5, ordersPerHour: 0 });
  conn = open(clock);
});
afterAll(async () => { await sb?.close(); });

function refundOf(seq: number, quantity: number, key: string): RefundCommand {
  const o = sb.orders().find((x) => x.gen.seq === seq)!;
  const line = o.gen.lines[0];
  return {
    orderExternalId: sb.orderId(seq), reference: `RMA-${seq}`, amount: (Number(line.unitPrice) * quantity).toFixed(2), currency: 'USD', note: `Return RMA-${seq}`, idempotencyKey: key,
    lines: [{ orderLineExternalId: String((5_100_000_000 + seq) * 10 + line.index), quantity, sku: line.sku }],
  };
}

test('a refund is created once per idempotency key: a resend returns the first refund', async () => {
  const cmd = refundOf(1, 1, 'refund:r1:1');
  const unit = sb.orders()[0].gen.lines[0].unitPrice;
  const first = await conn.push('refund', cmd);
  expect(first.externalId).toMatch(/^\d+$/);
  expect(first.warnings).toBeUndefined();
  const again = await conn.push('refund', cmd);
  expect(again.externalId).toBe(first.externalId);
  expect(sb.refunds).toEqual([expect.objectContaining({
    id: first.externalId, orderId: sb.orderId(1), amount: Number(unit).toFixed(2), idempotencyKey: 'refundCreate:refund:r1:1', note: 'Return RMA-1',
    lines: [expect.objectContaining({ sku: sb.orders()[0].gen.lines[0].sku, quantity: 1, restockType: 'NO_RESTOCK' })],
  })]);
});

test('a second receipt is refunded under its own key; refunding more units than were bought is refused with Shopify userErrors', async () => {
  const o = sb.orders().find((x) => x.gen.seq === 2)!;
  const bought = o.gen.lines[0].quantity;
  await conn.push('refund', refundOf(2, 1, 'refund:r2:1'));
  const before = sb.refunds.length;
  const err = await conn.push('refund', refundOf(2, bought, 'refund:r2:2')).catch((e) => e);
  expect(err).toBeInstanceOf(ConnectorError);
  expect(err.message).toMatch(/refundCreate rejected: input.refundLineItems.0.quantity Quantity cannot refund more items than were purchased/);
  // Nothing was recorded.
  expect(sb.refunds.length).toBe(before);
  if (bought > 1) {
    await conn.push('refund', refundOf(2, bought - 1, 'refund:r2:3'));
    expect(sb.refunds.filter((r) => r.orderSeq === 2).reduce((a, r) => a + r.lines[0].quantity, 0)).toBe(bought);
  }
});

test('refundCreate without @idempotent is refused, as by Shopify from 2026-04', async () => {
  const res = await fetch(`${sb.baseUrl}/admin/api/2026-07/graphql.json`, {
    method: 'POST', headers: { 'content-type': 'application/json', 'x-shopify-access-token': sb.connection.credentials.accessToken },
    body: JSON.stringify({ query: `mutation($input: RefundInput!) { refundCreate(input: $input) { refund { id } userErrors { field message } } }`,
      variables: { input: { orderId: `gid://shopify/Order/${sb.orderId(3)}`, refundLineItems: [] } } }),
  });
  const body = await res.json() as { errors?: Array<{ message: string }> };
  expect(body.errors?.[0].message).toBe('refundCreate requires the @idempotent directive (API 2026-04 and later)');
});

test('cancelLines: a refund whose items are CANCELled takes them off the order (current quantity drops) and pays them back once; more than is unfulfilled is refused', async () => {
  const o = sb.orders().find((x) => x.gen.seq === 3)!;
  const line = o.gen.lines[0];
  const lineItem = String((5_100_000_000 + 3) * 10 + line.index);
  const cmd = { orderExternalId: sb.orderId(3), reference: 'order-3', lines: [{ orderLineExternalId: lineItem, quantity: 1, sku: line.sku }], reason: 'out for good', idempotencyKey: 'cancel-lines:3' };
  const done = await conn.push('cancelLines', cmd);
  expect((await conn.push('cancelLines', cmd)).externalId).toBe(done.externalId);
  expect(sb.refunds.filter((r) => r.orderId === sb.orderId(3))).toEqual([expect.objectContaining({ amount: Number(line.unitPrice).toFixed(2), note: 'out for good',
    lines: [expect.objectContaining({ quantity: 1, restockType: 'CANCEL' })] })]);
  expect(o.cancelled[0]).toBe(1);
  const tooMany = { ...cmd, lines: [{ ...cmd.lines[0], quantity: line.quantity }], idempotencyKey: 'cancel-lines:3b' };
  await expect(conn.push('cancelLines', tooMany)).rejects.toThrow(ConnectorError);
});
