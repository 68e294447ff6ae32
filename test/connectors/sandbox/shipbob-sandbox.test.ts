import { VirtualClock } from '../../../src/connectors/sdk/clock';
import { openConnection } from '../../../src/connectors/sdk/connector';
import type { CanonicalReturn, CanonicalShipment, CanonicalStockLevel, CreateOrderCommand } from '../../../src/connectors/sdk/canonical';
import { shipbobConnector } from '../../../src/connectors/shipbob/shipbob.connector';
import { type ShipBobSandbox, SHIPBOB_REQUESTS_PER_MINUTE, startShipBobSandbox } from '../../../src/connectors/sandbox';

const T0 = Date.parse('2026-03-02T12:00:00Z');
const HOUR = 3_600_000;

describe('ShipBob sandbox with the real ShipBob connector', () => {
  let sb: ShipBobSandbox | undefined;
  afterEach(async () => {
    await sb?.close();
    sb = undefined;
  });

  async function setup(config: Record<string, unknown> = {}) {
    const clock = new VirtualClock(T0);
    sb = await startShipBobSandbox({ seed: 4, clock, skus: 50 });
    const conn = openConnection(shipbobConnector, { config: { ...sb.connection.config, ...config }, credentials: sb.connection.credentials, clock, random: () => 0.5 });
    return { clock, sandbox: sb, conn };
  }
  const order = (ref: string): CreateOrderCommand => ({
    reference: ref, name: `#${ref}`, channel: 'demo-shopify', currency: 'USD', method: 'SHIP', customer: { name: 'Ava Garcia', email: 'ava@example.com' },
    shipTo: { name: 'Ava Garcia', line1: '1 Main St', city: 'Memphis', region: 'TN', postalCode: '38103', country: 'US' },
    lines: [{ lineRef: '101', sku: 'SKU-000001', quantity: 2, unitPrice: '10.00' }], idempotencyKey: `create:${ref}`,
  });

  test('inventory per fulfilment centre through cursor links; a created order commits stock', async () => {
    const { sandbox, conn } = await setup({ pageSize: 4 });
    const { records, batches } = await conn.readAll<CanonicalStockLevel>('inventory');
    expect(batches).toBeGreaterThan(2);
    expect(new Set(records.map((l) => l.externalLocationId))).toEqual(new Set(sandbox.centres.map((c) => String(c.id))));
    const memphis = records.find((l) => l.sku === 'SKU-000001' && l.externalLocationId === '152')!;
    expect(memphis.onHand).toBe(sandbox.quantity('SKU-000001', 152)!.onHand);

    await conn.push('createOrder', order('fo-1'));
    const after = await conn.readAll<CanonicalStockLevel>('inventory');
    expect(after.records.find((l) => l.sku === 'SKU-000001' && l.externalLocationId === '152')!.available).toBe(memphis.available - 2);
  });

  test('orders once per reference_id; the shipment is labelled, leaves and is delivered as time passes', async () => {
    const { clock, sandbox, conn } = await setup();
    const { externalId } = await conn.push('createOrder', order('fo-2'));
    expect((await conn.push('createOrder', order('fo-2'))).externalId).toBe(externalId);
    expect(sandbox.orders()).toHaveLength(1);
    expect(sandbox.orders()[0]).toMatchObject({ reference_id: 'fo-2', status: 'Processing', products: [{ reference_id: 'SKU-000001', quantity: 2, external_line_id: 101 }] });

    clock.advance(10 * 60_000);
    const early = await conn.readAll<CanonicalShipment>('shipments');
    expect(early.records).toEqual([expect.objectContaining({ orderExternalId: externalId, status: 'PENDING' })]);

    clock.advance(3 * HOUR);
    const shipped = await conn.readAll<CanonicalShipment>('shipments', early.state);
    expect(shipped.records).toEqual([expect.objectContaining({ orderExternalId: externalId, status: 'SHIPPED', carrier: 'USPS', trackingNumber: expect.stringMatching(/^9400\d{18}$/), externalLocationId: '152',
      lines: [{ sku: 'SKU-000001', quantity: 2, orderLineExternalId: '101' }] })]);

    clock.advance(50 * HOUR);
    const delivered = await conn.readAll<CanonicalShipment>('shipments', shipped.state);
    expect(delivered.records).toEqual([expect.objectContaining({ status: 'DELIVERED' })]);
  });

  test('a return order is opened once per reference (item found by SKU), its goods arrive, then are restocked as time passes', async () => {
    const { clock, sandbox, conn } = await setup();
    const cmd = { reference: 'RMA-7', externalLocationId: '152', lines: [{ sku: 'SKU-000002', quantity: 2 }], idempotencyKey: 'return-label:7' };
    const { externalId } = await conn.push('createReturn', cmd);
    expect((await conn.push('createReturn', cmd)).externalId).toBe(externalId);
    expect(sandbox.returns()).toHaveLength(1);
    const before = sandbox.quantity('SKU-000002', 152)!.onHand;
    const read = async () => (await conn.readAll<CanonicalReturn>('returns')).records;
    expect(await read()).toEqual([expect.objectContaining({ externalId, reference: 'RMA-7', status: 'IN_TRANSIT', externalLocationId: '152', lines: [{ sku: 'SKU-000002', quantity: 2 }] })]);

    clock.advance(3 * 24 * HOUR);
    expect((await read())[0]).toMatchObject({ status: 'RECEIVED', lines: [{ sku: 'SKU-000002', quantity: 2 }] });
    expect(sandbox.quantity('SKU-000002', 152)!.onHand).toBe(before);
    clock.advance(24 * HOUR);
    expect((await read())[0]).toMatchObject({ status: 'COMPLETED', lines: [{ sku: 'SKU-000002', quantity: 2, restock: true, graded: [{ condition: 'RESELLABLE', quantity: 2 }] }] });
    expect(sandbox.quantity('SKU-000002', 152)!.onHand).toBe(before + 2);

    // Paging parameters it refuses, as ASP.NET problem details naming the parameter.
    const get = async (path: string) => {
      const res = await fetch(`${sandbox.baseUrl}/2026-01${path}`, { headers: { authorization: `Bearer ${sandbox.connection.credentials.accessToken}`, shipbob_channel_id: sandbox.connection.config.channelId } });
      return { status: res.status, body: await res.json() as { errors?: Record<string, string[]> } };
    };
    expect(await get('/return?Limit=251')).toMatchObject({ status: 400, body: { errors: { Limit: ['Limit must be between 1 and 250.'] } } });
    expect(await get('/return?Cursor=bm9wZQ')).toMatchObject({ status: 400, body: { errors: { Cursor: ['Invalid cursor.'] } } });
    expect(await get('/inventory-level/locations?PageSize=0')).toMatchObject({ status: 400, body: { errors: { PageSize: ['PageSize must be between 1 and 250.'] } } });
    expect((await get('/inventory-level?SearchBy=SKU-000002')).body).toMatchObject({ items: [expect.objectContaining({ sku: 'SKU-000002' })] });

    // What ShipBob refuses: an unknown centre, a reference longer than it keeps.
    await expect(conn.push('createReturn', { ...cmd, reference: 'RMA-8', externalLocationId: '999' })).rejects.toMatchObject({ status: 400 });
    await expect(conn.push('createReturn', { ...cmd, reference: 'R'.repeat(51) })).rejects.toMatchObject({ code: 'CONFIG' });
  });

  test('cancel succeeds before the label and fails after it', async () => {
    const { clock, conn } = await setup();
    const a = await conn.push('createOrder', order('fo-3'));
    expect(await conn.push('cancelOrder', { orderExternalId: a.externalId!, idempotencyKey: 'c1' })).toMatchObject({ accepted: true });
    const b = await conn.push('createOrder', order('fo-4'));
    clock.advance(HOUR);
    await expect(conn.push('cancelOrder', { orderExternalId: b.externalId!, idempotencyKey: 'c2' })).rejects.toThrow(/could not cancel order/);
  });

  test('a new address reaches the shipment before its label; after it, the change is refused', async () => {
    const { clock, sandbox, conn } = await setup();
    const a = await conn.push('createOrder', order('fo-5'));
    const update = { orderExternalId: a.externalId!, reference: 'fo-5', shipTo: { name: 'Ava Garcia', line1: '9 Beale St', city: 'Memphis', region: 'TN', postalCode: '38104', country: 'US' }, idempotencyKey: 'u1' };
    expect(await conn.push('updateShipTo', update)).toEqual({ externalId: a.externalId });
    const recipient = () => (sandbox.orders()[0].shipments as Array<{ recipient: unknown }>)[0].recipient;
    expect(recipient()).toMatchObject({ name: 'Ava Garcia', address: { address1: '9 Beale St', city: 'Memphis', zip_code: '38104' } });
    clock.advance(HOUR); // labelled
    await expect(conn.push('updateShipTo', { ...update, shipTo: { ...update.shipTo, line1: '10 Beale St' } })).rejects.toMatchObject({ code: 'VENDOR', retryable: false });
    expect(recipient()).toMatchObject({ address: { address1: '9 Beale St' } });
  });

  test('150 requests a minute: the 151st is answered 429 with x-retry-after, and the connector waits it out', async () => {
    const { clock, sandbox, conn } = await setup();
    const auth = { authorization: `Bearer ${sandbox.connection.credentials.accessToken}` };
    for (let i = 0; i < SHIPBOB_REQUESTS_PER_MINUTE; i++) expect((await fetch(`${sandbox.baseUrl}/2026-01/channel`, { headers: auth })).status).toBe(200);
    const r = await fetch(`${sandbox.baseUrl}/2026-01/channel`, { headers: auth });
    expect(r.status).toBe(429);
    expect(Number(r.headers.get('x-retry-after'))).toBeGreaterThan(0);
    expect((await conn.check()).ok).toBe(true);
    expect(clock.slept).toBeGreaterThan(0);
    expect(sandbox.stats().throttled).toBeGreaterThanOrEqual(1);
  });
});
