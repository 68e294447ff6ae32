import type { DataSource } from 'typeorm';
import type { OpenedConnection } from '../connections/connection.service';
import { ConnectorError } from '../connectors/sdk/connector-error';
import type { RefundCommand } from '../connectors/sdk/returns';
import { rows } from '../db/sql';

/** The part of an outbox row the return topics need. */
export interface ReturnOutboxEvent { aggregate_id: string; payload: Record<string, unknown>; idempotency_key: string }

/** Where a merchant issues a refund by hand when the channel's API cannot take it. */
const MANUAL_REFUNDS: Record<string, string> = { amazon: 'Seller Central' };

/**
 * `refund.push`: gives the money for received return units back on the origin channel, once (the connector
 * carries the event's idempotency key to the vendor). A channel without a refund API gets a clear,
 * non-retryable failure naming where to refund by hand, so the event is dead-lettered at once instead of looping.
 */
export async function performRefund(ds: DataSource, opened: OpenedConnection, ev: ReturnOutboxEvent): Promise<string | undefined> {
  const [ret] = await rows<{ rma: string; order_external_id: string }>(ds.manager,
    `SELECT r.rma, o.external_id AS order_external_id FROM returns r JOIN orders o ON o.id = r.order_id WHERE r.id = $1`, [ev.aggregate_id]);
  if (!ret) return 'return no longer exists';
  const p = ev.payload as { amount: string; currency: string; lines: { sku: string; quantity: number; orderLineExternalId: string | null }[] };
  const kind = opened.row.kind;
  if (!opened.vendor.supports('refund')) {
    const where = MANUAL_REFUNDS[kind] ?? `${kind}'s own admin`;
    throw new ConnectorError({
      code: 'VENDOR', retryable: false, operation: 'refund', record: ret.rma,
      message: `refund must be issued in ${where}: ${p.amount} ${p.currency} for return ${ret.rma} of order ${ret.order_external_id} (${kind} offers no refund call the hub can use)`,
    });
  }
  const lines = p.lines.filter((l) => l.orderLineExternalId);
  if (lines.length < p.lines.length) {
    const missing = p.lines.filter((l) => !l.orderLineExternalId).map((l) => l.sku).join(', ');
    throw new ConnectorError({ code: 'CONFIG', retryable: false, operation: 'refund', record: ret.rma, message: `return ${ret.rma}: order lines of ${missing} have no ${kind} line id; refund them in ${kind}'s admin` });
  }
  const cmd: RefundCommand = {
    orderExternalId: ret.order_external_id, reference: ret.rma, amount: p.amount, currency: p.currency,
    lines: lines.map((l) => ({ orderLineExternalId: l.orderLineExternalId!, quantity: l.quantity, sku: l.sku })),
    note: `Return ${ret.rma}`, idempotencyKey: ev.idempotency_key,
  };
  await opened.vendor.push('refund', cmd);
  return undefined;
}

/**
 * `return.label`: a mailed return going to a location a 3PL runs becomes a return order there (ShipBob), which
 * expects the box and issues the label; for any other destination the label request is recorded for the carrier
 * (the hub has no carrier label API), with the service it would use.
 */
export async function performReturnLabel(ds: DataSource, opened: OpenedConnection, ev: ReturnOutboxEvent): Promise<string | undefined> {
  const [ret] = await rows<{ rma: string; status: string; order_external_id: string; code: string }>(ds.manager,
    `SELECT r.rma, r.status, o.external_id AS order_external_id, l.code FROM returns r JOIN orders o ON o.id = r.order_id JOIN location l ON l.id = r.location_id WHERE r.id = $1`, [ev.aggregate_id]);
  if (!ret) return 'return no longer exists';
  if (ret.status === 'CANCELLED') return `return ${ret.rma} was cancelled; no label`;
  const conn = opened.row;
  const lines = (ev.payload.lines ?? []) as { sku: string; quantity: number }[];
  if (opened.vendor.supports('createReturn') && (conn.settings.fulfilsLocations ?? []).includes(ret.code)) {
    const facility = Object.entries(conn.settings.locations ?? {}).find(([, code]) => code === ret.code)?.[0];
    if (!facility) {
      throw new ConnectorError({ code: 'CONFIG', retryable: false, operation: 'createReturn', record: ret.rma, message: `connection ${conn.name} fulfils ${ret.code} but settings.locations maps no ${conn.kind} facility to it` });
    }
    const result = await opened.vendor.push('createReturn', {
      reference: ret.rma, orderExternalId: ret.order_external_id, externalLocationId: facility, idempotencyKey: ev.idempotency_key,
      lines: lines.map((l) => ({ sku: l.sku, quantity: l.quantity, externalItemId: conn.settings.itemIds?.[l.sku] })),
    });
    if (result.externalId) {
      await rows(ds.manager, `INSERT INTO external_ref (connection_id, entity_type, external_id, internal_id) VALUES ($1, 'RETURN', $2, $3) ON CONFLICT DO NOTHING RETURNING internal_id`,
        [conn.id, result.externalId, ev.aggregate_id]);
    }
    return undefined;
  }
  const [service] = await rows<{ code: string; carrier: string }>(ds.manager,
    `SELECT code, carrier FROM carrier_service WHERE active AND service_level IN ('ECONOMY','STANDARD') ORDER BY service_level = 'ECONOMY' DESC, code LIMIT 1`);
  const units = lines.reduce((s, l) => s + l.quantity, 0);
  return service
    ? `label requested for carrier ${service.carrier} (${service.code}): ${units} unit(s) of ${ret.rma} to ${ret.code}; ${conn.kind} issues no return labels`
    : `label request for ${ret.rma} to ${ret.code} recorded; no active ground or economy carrier service to issue it`;
}
