// Every order is booked in the ERP, whichever path created it: an `order.book` outbox event per booking ERP
// connection, written by the database in the order's own transaction, then pushed as a confirmed sale.order.
import nock from 'nock';
import { HOST, odooServer } from '../connectors/odoo/odoo-fixtures';
import { createTestHub, seedSmallNetwork, type TestHub } from '../support/test-hub';

const MASTER = 'erp-booking-master-key-0123456789abcdef01';
let t: TestHub;
let erp: string;
let n = 0;
const q = (sql: string, params: unknown[] = []) => t.db.dataSource.query(sql, params);
const bookings = (orderId: string) => q(`SELECT connection_id, status FROM outbox_event WHERE topic = 'order.book' AND aggregate_id = $1`, [orderId]);
const place = (extra: Record<string, unknown> = {}) =>
  t.services.orders.placeOrder({ channel: 'web', externalId: `ERP-${++n}`, lines: [{ sku: 'A', quantity: 2, unitPrice: '12.50' }], customer: { name: 'Ada Shopper', email: 'ada@example.com' },
    shipTo: { country: 'US', city: 'Chicago', latitude: 41.9, longitude: -87.6 }, ...extra }, 'storefront');

beforeAll(async () => {
  t = await createTestHub({ config: { masterKey: MASTER } });
  await seedSmallNetwork(t.services);
  await t.services.inventory.set({ sku: 'A', locationCode: 'WH-A', onHand: 100 }, 'test');
  t.services.connections.openOptions = { retry: { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 5, budgetMs: 2000 }, random: () => 0.5 };
  erp = (await t.services.connections.create({ name: 'books', kind: 'odoo', config: { url: HOST, database: 'prod', bookOrders: true, warehouseId: 1 },
    credentials: { apiKey: 'secret-key' } })).id;
});
afterAll(async () => { await t?.close(); });
beforeEach(() => nock.disableNetConnect());
afterEach(() => {
  nock.cleanAll();
  nock.enableNetConnect();
});

describe('order.book', () => {
  it('an order placed through the API is booked once, and reaches the ERP as a confirmed sale order', async () => {
    const { order } = await place();
    expect(await bookings(order.id)).toEqual([{ connection_id: erp, status: 'PENDING' }]);
    await place({ externalId: `ERP-${n}` }); // the same order again: idempotent, no second booking
    expect(await bookings(order.id)).toHaveLength(1);

    const calls = odooServer({
      'sale.order.search_read': [], 'product.product.search_read': [{ id: 7, default_code: 'A' }],
      'res.partner.search_read': [{ id: 14 }], 'sale.order.create': [42], 'sale.order.action_confirm': true,
    });
    await q(`DELETE FROM outbox_event WHERE topic <> 'order.book'`);
    await t.services.sync.outbox.drain();
    expect(await q(`SELECT status, last_error FROM outbox_event WHERE topic = 'order.book' AND aggregate_id = $1`, [order.id])).toEqual([{ status: 'SENT', last_error: null }]);
    const create = calls.find((c) => c.model === 'sale.order' && c.method === 'create')!;
    expect(create.body.vals_list[0]).toMatchObject({ client_order_ref: `order:${order.id}`, order_line: [[0, 0, { product_id: 7, product_uom_qty: 2, price_unit: 12.5 }]] });
    expect(calls.filter((c) => c.method === 'action_confirm')).toHaveLength(1);
  });

  it('is not written for an order that came from the ERP itself, nor for a disabled or non-booking ERP', async () => {
    const own = await place({ connectionId: erp });
    expect(await bookings(own.order.id)).toEqual([]);

    const quiet = (await t.services.connections.create({ name: 'no-books', kind: 'odoo', config: { url: HOST }, credentials: { apiKey: 'k' } })).id;
    await q(`UPDATE connection SET enabled = false WHERE id = $1`, [erp]);
    try {
      const { order } = await place();
      expect(await bookings(order.id)).toEqual([]);
      void quiet;
    } finally {
      await q(`UPDATE connection SET enabled = true WHERE id = $1`, [erp]);
    }
  });

  it('a failed order insert leaves no booking behind', async () => {
    const before = await q(`SELECT count(*)::int AS n FROM outbox_event WHERE topic = 'order.book'`);
    await expect(place({ lines: [{ sku: 'NO-SUCH-SKU', quantity: 1 }] })).rejects.toThrow(/NO-SUCH-SKU|unknown/i);
    expect(await q(`SELECT count(*)::int AS n FROM outbox_event WHERE topic = 'order.book'`)).toEqual(before);
  });
});
