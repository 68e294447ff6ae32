import { VirtualClock } from '../../../src/connectors/sdk/clock';
import { openConnection } from '../../../src/connectors/sdk/connector';
import type { CanonicalOrder, CanonicalStockLevel } from '../../../src/connectors/sdk/canonical';
import { squareConnector } from '../../../src/connectors/square/square.connector';
import { type SquareSandbox, startSquareSandbox } from '../../../src/connectors/sandbox';

const T0 = Date.parse('2026-03-02T12:00:00Z');
const HOUR = 3_600_000;

describe('Square POS sandbox with the real Square connector', () => {
  let sb: SquareSandbox | undefined;
  afterEach(async () => {
    await sb?.close();
    sb = undefined;
  });

  async function setup(extra: Partial<Parameters<typeof startSquareSandbox>[0]> = {}) {
    const clock = new VirtualClock(T0);
    sb = await startSquareSandbox({ seed: 3, clock, skus: 50, salesPerHour: 12, ...extra });
    const conn = openConnection(squareConnector, { ...sb.connection, clock, random: () => 0.5 });
    return { clock, sandbox: sb, conn };
  }

  test('counter sales rung up over time: each read once, as FULFILLED POS sales with skus, lowering Square counts', async () => {
    const { clock, sandbox, conn } = await setup();
    const code = Object.values(sandbox.locations)[0];
    const counts0 = new Map((await conn.readAll<CanonicalStockLevel>('inventory')).records.map((l) => [`${l.sku}@${l.externalLocationId}`, l.onHand]));
    clock.advance(3 * HOUR);
    const first = await conn.readAll<CanonicalOrder>('orders');
    const rung = sandbox.sales().filter((o) => Date.parse(o.updated_at) < clock.now() - 5_000);
    expect(rung.length).toBeGreaterThan(20);
    expect(first.records.map((o) => o.externalId).sort()).toEqual(rung.map((o) => o.id).sort());
    for (const o of first.records) {
      expect(o).toMatchObject({ status: 'FULFILLED', method: 'PICKUP', currency: 'USD' });
      expect(o.tags?.[0]).toMatch(/^pos-location:L[A-Z2-7]{12}$/);
      for (const l of o.lines) expect(l.sku).toMatch(/^SKU-\d{6}$/);
    }
    // Square's counts moved by exactly what was sold.
    const sold = new Map<string, number>();
    for (const o of first.records) for (const l of o.lines) sold.set(`${l.sku}@${o.tags![0].slice('pos-location:'.length)}`, (sold.get(`${l.sku}@${o.tags![0].slice('pos-location:'.length)}`) ?? 0) + l.quantity);
    const [key, n] = [...sold.entries()][0];
    const [sku, location] = key.split('@');
    expect(sandbox.count(sku, sandbox.locations[location])).toBe((counts0.get(key) ?? 0) - n);
    expect(code).toMatch(/^ST-/);

    // The 72 h overlap re-reads them; the SDK drops versions already emitted.
    clock.advance(HOUR);
    const next = await conn.readAll<CanonicalOrder>('orders', first.state);
    expect(next.records.filter((o) => first.records.some((f) => f.externalId === o.externalId))).toEqual([]);
  });

  test('physical counts and adjustments with idempotency keys; a reused key with another body is refused', async () => {
    const { sandbox, conn } = await setup({ salesPerHour: 0 });
    const code = Object.values(sandbox.locations)[1];
    const location = sandbox.locationId(code);
    await conn.push('setStock', { sku: 'SKU-000002', externalLocationId: location, quantity: 11, idempotencyKey: 'k-1' });
    expect(sandbox.count('SKU-000002', code)).toBe(11);
    await conn.push('adjustStock', { sku: 'SKU-000002', externalLocationId: location, delta: -3, idempotencyKey: 'k-2' });
    await conn.push('adjustStock', { sku: 'SKU-000002', externalLocationId: location, delta: -3, idempotencyKey: 'k-2' }); // a resend
    expect(sandbox.count('SKU-000002', code)).toBe(8);
    await expect(conn.push('setStock', { sku: 'SKU-000002', externalLocationId: location, quantity: 5, expectedQuantity: 2, idempotencyKey: 'k-3' })).rejects.toThrow(/holds 8 of SKU-000002/);

    const raw = await fetch(`${sandbox.baseUrl}/v2/inventory/changes/batch-create`, {
      method: 'POST', headers: { authorization: `Bearer ${sandbox.connection.credentials.accessToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ idempotency_key: 'k-1', changes: [{ type: 'PHYSICAL_COUNT', physical_count: { catalog_object_id: sandbox.variationId('SKU-000002'), location_id: location, state: 'IN_STOCK', quantity: '99', occurred_at: new Date(T0).toISOString() } }] }),
    });
    expect(raw.status).toBe(400);
    expect(((await raw.json()) as { errors: { code: string }[] }).errors[0].code).toBe('IDEMPOTENCY_KEY_REUSED');
    expect(sandbox.count('SKU-000002', code)).toBe(8);
  });

  test('a pickup order pushed to a store appears on its POS once, moves to PREPARED, and can be cancelled', async () => {
    const { clock, sandbox, conn } = await setup({ salesPerHour: 0 });
    const code = Object.values(sandbox.locations)[2];
    const cmd = { reference: 'fo-pickup-1', name: '#1001', channel: 'web', currency: 'USD', method: 'PICKUP' as const, externalLocationId: sandbox.locationId(code),
      customer: { name: 'Ava Garcia', email: 'ava@example.com' }, lines: [{ lineRef: 'l1', sku: 'SKU-000003', quantity: 2, unitPrice: '19.99' }], idempotencyKey: 'fo-create:1' };
    const { externalId } = await conn.push('createOrder', cmd);
    expect((await conn.push('createOrder', cmd)).externalId).toBe(externalId);
    expect(sandbox.pushedOrders()).toHaveLength(1);
    expect(sandbox.pushedOrders()[0]).toMatchObject({ reference_id: 'fo-pickup-1', fulfillments: [{ type: 'PICKUP', state: 'PROPOSED' }], line_items: [{ quantity: '2', base_price_money: { amount: 1999 } }] });

    clock.advance(25 * 60_000);
    expect((await conn.lookupOrder(externalId!))?.tags).toContain('square-fulfillment:PREPARED');

    const other = await conn.push('createOrder', { ...cmd, reference: 'fo-pickup-2', idempotencyKey: 'fo-create:2' });
    await conn.push('cancelOrder', { orderExternalId: other.externalId!, reason: 'cancelled in the hub', idempotencyKey: 'c1' });
    expect((await conn.lookupOrder(other.externalId!))?.status).toBe('CANCELLED');

    // Ship-from-store goes to the POS as a SHIPMENT fulfilment to the buyer's address.
    await conn.push('createOrder', { ...cmd, reference: 'fo-ship-1', method: 'SHIP', shipTo: { name: 'Ava Garcia', line1: '1 Main St', city: 'Chicago', region: 'IL', country: 'US' }, idempotencyKey: 'fo-create:3' });
    expect(sandbox.pushedOrders()[2]).toMatchObject({ reference_id: 'fo-ship-1', fulfillments: [{ type: 'SHIPMENT', state: 'PROPOSED', shipment_details: { recipient: { address: { locality: 'Chicago' } } } }] });
  });

  test('beyond the request window Square answers 429 RATE_LIMITED; a wrong token is UNAUTHORIZED', async () => {
    const { sandbox } = await setup({ requestsPerMinute: 3, salesPerHour: 0 });
    const get = (token = sandbox.connection.credentials.accessToken) => fetch(`${sandbox.baseUrl}/v2/locations`, { headers: { authorization: `Bearer ${token}` } });
    expect((await get('nope')).status).toBe(401);
    for (let i = 0; i < 3; i++) expect((await get()).status).toBe(200);
    const r = await get();
    expect(r.status).toBe(429);
    expect(((await r.json()) as { errors: { code: string }[] }).errors[0].code).toBe('RATE_LIMITED');
  });
});
