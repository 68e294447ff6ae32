// ShipBob return orders (`Returns.PublicReturnDto`, example of GET /2026-01/return/{id} in
// ../shared/fixtures/shipbob/openapi-2026-01.json, placeholders made concrete) → the hub's grades.
import { mapShipBobReturn, mapShipBobWebhook, shipBobActionGrade } from '../../../src/connectors/shipbob/shipbob.mapper';
import { canonicalEventSchema } from '../../../src/connectors/sdk/canonical.schema';
import { responseExample } from './shipbob-fixtures';

function dto(status: string, actions: { action: string; quantity_processed: number }[]) {
  const ex = responseExample('/2026-01/return/{id}', 'get');
  return { ...ex, id: 88, status, reference_id: 'RMA-ABC', inventory: [{ ...ex.inventory[0], sku: 'BOOT', quantity: 4, action_taken: actions }] };
}

test('ShipBob actions map to grades; Default and Quarantine (and unknown actions) are REFURBISH', () => {
  expect(['Restock', 'Dispose', 'Quarantine', 'Default', 'Something new', null].map(shipBobActionGrade)).toEqual(['RESELLABLE', 'DISPOSE', 'REFURBISH', 'REFURBISH', 'REFURBISH', 'REFURBISH']);
});

test('processed quantities are summed per grade; the RMA comes back as reference; the event is canonical', () => {
  const r = mapShipBobReturn(dto('Processing', [{ action: 'Restock', quantity_processed: 2 }, { action: 'Quarantine', quantity_processed: 1 }, { action: 'Default', quantity_processed: 1 }, { action: 'Dispose', quantity_processed: 0 }]));
  expect(r).toMatchObject({ externalId: '88', status: 'RECEIVED', reference: 'RMA-ABC',
    lines: [{ sku: 'BOOT', quantity: 4, restock: true, graded: [{ condition: 'RESELLABLE', quantity: 2 }, { condition: 'REFURBISH', quantity: 2 }] }] });
  const events = mapShipBobWebhook('return.updated', dto('Awaiting Arrival', []));
  expect(events).toEqual([{ type: 'return.upserted', ret: expect.objectContaining({ status: 'IN_TRANSIT', lines: [{ sku: 'BOOT', quantity: 4 }] }) }]);
  for (const e of [...events, { type: 'return.upserted', ret: r }]) expect(canonicalEventSchema.safeParse(e).success).toBe(true);
});
