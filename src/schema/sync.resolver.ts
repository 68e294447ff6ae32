import { Arg, Ctx, Field, ID, InputType, Int, Mutation, ObjectType, Query, Resolver } from 'type-graphql';
import { GraphQLJSONObject } from 'graphql-scalars';
import { rows } from '../db/sql';
import { badInput } from '../errors';
import type { GraphQLContext } from './context';
import { decodeCursor, pageSize, PageInfo, toPage } from './relay';

@ObjectType('Connection', { description: 'A configured connector instance. Credentials are write-only and never returned.' })
class ConnectionNode {
  @Field(() => ID) id: string;
  @Field() name: string;
  @Field() kind: string;
  @Field(() => GraphQLJSONObject) config: Record<string, unknown>;
  @Field(() => GraphQLJSONObject, { description: 'Hub-side settings: channel, locations, fulfilsLocations, pushStock, itemIds, webhookToleranceMs.' }) settings: Record<string, unknown>;
  @Field(() => GraphQLJSONObject, { description: 'stream → cron expression.' }) schedules: Record<string, string>;
  @Field() enabled: boolean;
  @Field() hasCredentials: boolean;
  @Field() createdAt: Date;
  @Field() updatedAt: Date;
}

@InputType()
class ConnectionInput {
  @Field({ nullable: true }) name?: string;
  @Field({ nullable: true }) kind?: string;
  @Field(() => GraphQLJSONObject, { nullable: true }) config?: Record<string, unknown>;
  @Field(() => GraphQLJSONObject, { nullable: true, description: 'Write-only; encrypted at rest, replaced whole when given.' }) credentials?: Record<string, unknown>;
  @Field(() => GraphQLJSONObject, { nullable: true }) settings?: Record<string, unknown>;
  @Field(() => GraphQLJSONObject, { nullable: true }) schedules?: Record<string, string>;
  @Field({ nullable: true }) enabled?: boolean;
}

@ObjectType()
class ConnectionTestResult {
  @Field() ok: boolean;
  @Field(() => String, { nullable: true }) error?: string;
  @Field(() => String, { nullable: true }) code?: string;
}

@ObjectType()
class SyncRun {
  @Field(() => ID) id: string;
  @Field(() => ID) connectionId: string;
  @Field() connectionName: string;
  @Field() stream: string;
  @Field() trigger: string;
  @Field() status: string;
  @Field(() => Date, { nullable: true }) since: Date | null;
  @Field() startedAt: Date;
  @Field(() => Date, { nullable: true }) finishedAt: Date | null;
  @Field(() => Int) pages: number;
  @Field(() => Int) created: number;
  @Field(() => Int) updated: number;
  @Field(() => Int) skipped: number;
  @Field(() => Int) failed: number;
  @Field(() => [String]) errors: string[];
}
@ObjectType('SyncRunEdge') class SyncRunEdge { @Field() cursor: string; @Field(() => SyncRun) node: SyncRun; }
@ObjectType('SyncRunConnection') class SyncRunConnection { @Field(() => [SyncRunEdge]) edges: SyncRunEdge[]; @Field(() => PageInfo) pageInfo: PageInfo; }

@ObjectType({ description: 'Work that failed for good: a webhook delivery, a queued job or an outbound effect. Replayable.' })
class DeadLetter {
  @Field(() => ID, { description: '<kind>:<id>, for replayDeadLetter.' }) id: string;
  @Field({ description: 'WEBHOOK, JOB or OUTBOX.' }) kind: string;
  @Field(() => String, { nullable: true }) connectionName: string | null;
  @Field() topic: string;
  @Field() status: string;
  @Field(() => Int) attempts: number;
  @Field(() => String, { nullable: true }) lastError: string | null;
  @Field() at: Date;
}
@ObjectType('DeadLetterEdge') class DeadLetterEdge { @Field() cursor: string; @Field(() => DeadLetter) node: DeadLetter; }
@ObjectType('DeadLetterConnection') class DeadLetterConnection { @Field(() => [DeadLetterEdge]) edges: DeadLetterEdge[]; @Field(() => PageInfo) pageInfo: PageInfo; }

@ObjectType({ description: 'A record that could not be mapped or landed, kept whole with the reason.' })
class QuarantinedRecord {
  @Field(() => ID) id: string;
  @Field() connectionName: string;
  @Field() source: string;
  @Field() stream: string;
  @Field(() => String, { nullable: true }) recordId: string | null;
  @Field() reason: string;
  @Field() at: Date;
}

@ObjectType()
class StockDrift {
  @Field() sku: string;
  @Field() externalLocationId: string;
  @Field(() => Int) channelQuantity: number;
  @Field(() => Int) hubAvailable: number;
  @Field(() => Int, { description: 'channelQuantity − hubAvailable.' }) drift: number;
  @Field() seenAt: Date;
}

@ObjectType()
class ReconcileResult { @Field(() => Int) checked: number; @Field(() => Int) drifted: number; }

@ObjectType()
class SyncRequest { @Field(() => ID, { nullable: true, description: 'The queued job; null when the same request is already queued.' }) jobId: string | null; }

@Resolver()
export class SyncResolver {
  @Query(() => [ConnectionNode])
  connections(@Ctx() { services }: GraphQLContext) {
    return services.connections.list();
  }

  @Mutation(() => ConnectionNode)
  createConnection(@Arg('input', () => ConnectionInput) input: ConnectionInput, @Ctx() { services }: GraphQLContext) {
    return services.connections.create(input);
  }

  @Mutation(() => ConnectionNode)
  updateConnection(@Arg('id', () => ID) id: string, @Arg('input', () => ConnectionInput) input: ConnectionInput, @Ctx() { services }: GraphQLContext) {
    return services.connections.update(id, input);
  }

  @Mutation(() => ConnectionNode, { description: 'Stops schedules, webhooks and pushes for the connection (history is kept).' })
  disableConnection(@Arg('id', () => ID) id: string, @Ctx() { services }: GraphQLContext) {
    return services.connections.setEnabled(id, false);
  }

  @Mutation(() => ConnectionTestResult, { description: 'One cheap authenticated call to the vendor.' })
  testConnection(@Arg('id', () => ID) id: string, @Ctx() { services }: GraphQLContext) {
    return services.connections.test(id);
  }

  @Mutation(() => SyncRequest, { description: 'Queues a sync of one stream now; with `since`, a backfill from that date.' })
  async runSync(@Arg('connection', () => ID) connection: string, @Arg('stream') stream: string, @Arg('since', () => Date, { nullable: true }) since: Date | null,
    @Ctx() { services }: GraphQLContext) {
    const conn = await services.connections.require(connection, 'connection');
    const jobId = await services.sync.queue.enqueue(services.dataSource.manager, 'sync.run', { connectionId: conn.id, stream, trigger: 'MANUAL', since: since?.toISOString() ?? null },
      { dedupeKey: `manual:${conn.id}:${stream}:${Math.floor(Date.now() / 1000)}`, maxAttempts: 1 });
    return { jobId };
  }

  @Query(() => SyncRunConnection)
  async syncRuns(@Arg('connection', () => ID, { nullable: true }) connection: string | null, @Arg('stream', () => String, { nullable: true }) stream: string | null,
    @Arg('first', () => Int, { nullable: true }) first: number | null, @Arg('after', () => String, { nullable: true }) after: string | null, @Ctx() { services }: GraphQLContext) {
    const limit = pageSize(first);
    const conn = connection ? await services.connections.require(connection, 'connection') : null;
    const [at, id] = decodeCursor(after, 2) ?? [null, null];
    const found = await rows<SyncRun>(services.dataSource.manager,
      `SELECT r.id, r.connection_id AS "connectionId", c.name AS "connectionName", r.stream, r.trigger, r.status, r.since, r.started_at AS "startedAt",
              r.finished_at AS "finishedAt", r.pages, r.created, r.updated, r.skipped, r.failed, r.errors
         FROM sync_run r JOIN connection c ON c.id = r.connection_id
        WHERE ($1::uuid IS NULL OR r.connection_id = $1) AND ($2::text IS NULL OR r.stream = $2)
          AND ($3::timestamptz IS NULL OR (r.started_at, r.id) < ($3::timestamptz, $4::uuid))
        ORDER BY r.started_at DESC, r.id DESC LIMIT $5`, [conn?.id ?? null, stream, at, id, limit + 1]);
    return toPage(found, limit, (r) => [r.startedAt, r.id]);
  }

  @Query(() => DeadLetterConnection, { description: 'Dead webhook deliveries (and quarantined ones), dead jobs and dead outbound effects, newest first.' })
  async deadLetters(@Arg('first', () => Int, { nullable: true }) first: number | null, @Arg('after', () => String, { nullable: true }) after: string | null, @Ctx() { services }: GraphQLContext) {
    const limit = pageSize(first);
    const [at, id] = decodeCursor(after, 2) ?? [null, null];
    const found = await rows<DeadLetter>(services.dataSource.manager,
      `SELECT * FROM (
         SELECT 'WEBHOOK:' || w.id AS id, 'WEBHOOK' AS kind, c.name AS "connectionName", w.topic, w.status, w.attempts, w.last_error AS "lastError", w.received_at AS at
           FROM webhook_receipt w JOIN connection c ON c.id = w.connection_id WHERE w.status IN ('DEAD','QUARANTINED')
         UNION ALL
         SELECT 'JOB:' || j.id, 'JOB', NULL, j.kind, j.status, j.attempts, j.last_error, j.created_at FROM sync_job j WHERE j.status = 'DEAD'
         UNION ALL
         SELECT 'OUTBOX:' || e.id, 'OUTBOX', c.name, e.topic, e.status, e.attempts, e.last_error, e.created_at
           FROM outbox_event e LEFT JOIN connection c ON c.id = e.connection_id WHERE e.status = 'DEAD') d
        WHERE ($1::timestamptz IS NULL OR (d.at, d.id) < ($1::timestamptz, $2::text))
        ORDER BY d.at DESC, d.id DESC LIMIT $3`, [at, id, limit + 1]);
    return toPage(found, limit, (r) => [r.at, r.id]);
  }

  @Mutation(() => Boolean, { description: 'Queues a dead letter again with fresh attempts; false when it is not dead (any more).' })
  async replayDeadLetter(@Arg('id', () => ID) id: string, @Ctx() { services }: GraphQLContext) {
    const [kind, key] = id.split(':');
    if (!key || !/^\d+$/.test(key)) throw badInput('id', 'is not a dead letter id (WEBHOOK:n, JOB:n or OUTBOX:n)');
    if (kind === 'WEBHOOK') return services.sync.webhooks.replay(key);
    if (kind === 'JOB') return services.sync.queue.retry(key);
    if (kind === 'OUTBOX') return services.sync.outbox.retry(key);
    throw badInput('id', 'is not a dead letter id (WEBHOOK:n, JOB:n or OUTBOX:n)');
  }

  @Query(() => [QuarantinedRecord], { description: 'Newest first, at most `first` (default 50).' })
  quarantinedRecords(@Arg('connection', () => ID, { nullable: true }) connection: string | null, @Arg('first', () => Int, { nullable: true }) first: number | null, @Ctx() { services }: GraphQLContext) {
    return rows<QuarantinedRecord>(services.dataSource.manager,
      `SELECT q.id, c.name AS "connectionName", q.source, q.stream, q.record_id AS "recordId", q.reason, q.created_at AS at
         FROM sync_quarantine q JOIN connection c ON c.id = q.connection_id
        WHERE ($1::text IS NULL OR c.name = $1 OR c.id::text = $1) ORDER BY q.id DESC LIMIT $2`, [connection, pageSize(first)]);
  }

  @Query(() => [StockDrift], { description: 'Items whose stock in the channel differs from the hub\'s ATP, as last reconciled.' })
  stockDrift(@Arg('connection', () => ID) connection: string, @Ctx() { services }: GraphQLContext) {
    return services.sync.reconciler.drift(connection);
  }

  @Mutation(() => ReconcileResult, { description: 'Reads the channel\'s stock now, records drift, and pushes the hub\'s levels where they differ.' })
  reconcileStock(@Arg('connection', () => ID) connection: string, @Ctx() { services }: GraphQLContext) {
    return services.sync.reconciler.reconcile(connection);
  }
}
