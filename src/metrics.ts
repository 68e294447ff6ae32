import type { DataSource } from 'typeorm';

/**
 * Operational gauges in the Prometheus text format, read from the database on each scrape (so every hub instance
 * reports the same numbers): stock drift per channel, outbox and job backlogs, dead letters, webhook receipts and
 * the age of each stream's last successful sync.
 */
export async function renderMetrics(ds: DataSource): Promise<string> {
  const [drift, outbox, jobs, receipts, syncs] = await Promise.all([
    ds.query(`SELECT c.name AS connection, count(s.sku)::int AS items, coalesce(sum(abs(s.channel_quantity - s.hub_available)), 0)::int AS units
                FROM connection c LEFT JOIN channel_stock s ON s.connection_id = c.id
                 AND s.channel_quantity IS NOT NULL AND s.hub_available IS NOT NULL AND s.channel_quantity <> s.hub_available
               GROUP BY c.name ORDER BY c.name`),
    ds.query(`SELECT topic, status, count(*)::int AS n FROM outbox_event WHERE status <> 'SENT' GROUP BY topic, status ORDER BY topic, status`),
    ds.query(`SELECT kind, status, count(*)::int AS n FROM sync_job WHERE status <> 'DONE' GROUP BY kind, status ORDER BY kind, status`),
    ds.query(`SELECT status, count(*)::int AS n FROM webhook_receipt GROUP BY status ORDER BY status`),
    ds.query(`SELECT c.name AS connection, r.stream, extract(epoch FROM max(r.finished_at))::float8 AS at
                FROM sync_run r JOIN connection c ON c.id = r.connection_id WHERE r.status = 'SUCCEEDED'
               GROUP BY c.name, r.stream ORDER BY c.name, r.stream`),
  ]);
  const out: string[] = [];
  const gauge = (name: string, help: string, samples: Array<[Record<string, string>, number]>) => {
    out.push(`# HELP ${name} ${help}`, `# TYPE ${name} gauge`);
    for (const [labels, value] of samples) out.push(`${name}${formatLabels(labels)} ${value}`);
  };
  gauge('switchyard_stock_drift_items', 'Items whose channel stock differed from the hub ATP at the last reconciliation.',
    drift.map((r: { connection: string; items: number }) => [{ connection: r.connection }, r.items]));
  gauge('switchyard_stock_drift_units', 'Sum of absolute unit differences between channel stock and hub ATP at the last reconciliation.',
    drift.map((r: { connection: string; units: number }) => [{ connection: r.connection }, r.units]));
  gauge('switchyard_outbox_events', 'Outbound events not yet delivered (PENDING) or given up on (DEAD), by topic.',
    outbox.map((r: { topic: string; status: string; n: number }) => [{ topic: r.topic, status: r.status }, r.n]));
  gauge('switchyard_jobs', 'Background jobs queued, running or dead, by kind.',
    jobs.map((r: { kind: string; status: string; n: number }) => [{ kind: r.kind, status: r.status }, r.n]));
  gauge('switchyard_webhook_receipts', 'Webhook deliveries received, by processing status.',
    receipts.map((r: { status: string; n: number }) => [{ status: r.status }, r.n]));
  gauge('switchyard_sync_last_success_timestamp_seconds', 'Unix time of the last successful run per connection and stream.',
    syncs.map((r: { connection: string; stream: string; at: number }) => [{ connection: r.connection, stream: r.stream }, r.at]));
  return out.join('\n') + '\n';
}

function formatLabels(labels: Record<string, string>): string {
  const parts = Object.entries(labels).map(([k, v]) => `${k}="${v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"')}"`);
  return parts.length ? `{${parts.join(',')}}` : '';
}
