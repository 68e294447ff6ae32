import DataLoader from 'dataloader';
import { In, type DataSource } from 'typeorm';
import { FulfillmentOrder } from '../model/fulfillment-order.entity';
import { Location } from '../model/location.entity';
import { OrderLine } from '../model/order.entity';

function groupBy<T>(items: T[], key: (t: T) => string): Map<string, T[]> {
  const m = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const list = m.get(k);
    if (list) list.push(item); else m.set(k, [item]);
  }
  return m;
}

/** Per-request batching, so a page of orders costs a fixed number of queries rather than one per order. */
export function createLoaders(ds: DataSource) {
  return {
    locationById: new DataLoader<string, Location | null>(async (ids) => {
      const found = await ds.getRepository(Location).findBy({ id: In([...ids]) });
      const byId = new Map(found.map((l) => [l.id, l]));
      return ids.map((id) => byId.get(id) ?? null);
    }),
    orderLines: new DataLoader<string, OrderLine[]>(async (orderIds) => {
      const lines = await ds.getRepository(OrderLine).find({ where: { orderId: In([...orderIds]) }, order: { lineNo: 'ASC' } });
      const byOrder = groupBy(lines, (l) => l.orderId);
      return orderIds.map((id) => byOrder.get(id) ?? []);
    }),
    fulfillmentOrders: new DataLoader<string, FulfillmentOrder[]>(async (orderIds) => {
      const fos = await ds.getRepository(FulfillmentOrder).find({
        where: { orderId: In([...orderIds]) },
        relations: { lines: true, shipments: { lines: true } },
        order: { createdAt: 'ASC', id: 'ASC' },
      });
      const byOrder = groupBy(fos, (f) => f.orderId);
      return orderIds.map((id) => byOrder.get(id) ?? []);
    }),
  };
}

export type Loaders = ReturnType<typeof createLoaders>;
