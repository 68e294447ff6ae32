import { Column, CreateDateColumn, Entity, PrimaryColumn, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';

/** A configured instance of a connector (e.g. the "shopify-us" Shopify store). Credentials are stored encrypted. */
@Entity('connection')
export class Connection {
  @PrimaryGeneratedColumn('uuid') id: string;
  @Column() kind: string;
  @Column({ unique: true }) name: string;
  @Column({ type: 'jsonb' }) config: Record<string, unknown>;
  @Column({ name: 'credentials_ciphertext', type: 'text', nullable: true, select: false }) credentialsCiphertext: string | null;
  @Column({ type: 'jsonb' }) schedules: Record<string, string>;
  @Column() enabled: boolean;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;
  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' }) updatedAt: Date;
}

/** (connection, entity type, external id) → canonical row: how replays find what they already wrote. */
@Entity('external_ref')
export class ExternalRef {
  @PrimaryColumn({ name: 'connection_id', type: 'uuid' }) connectionId: string;
  @PrimaryColumn({ name: 'entity_type', type: 'text' }) entityType: string;
  @PrimaryColumn({ name: 'external_id', type: 'text' }) externalId: string;
  @Column({ name: 'internal_id', type: 'uuid' }) internalId: string;
  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' }) updatedAt: Date;
}

@Entity('sync_cursor')
export class SyncCursor {
  @PrimaryColumn({ name: 'connection_id', type: 'uuid' }) connectionId: string;
  @PrimaryColumn({ type: 'text' }) stream: string;
  @Column({ type: 'jsonb' }) cursor: unknown;
  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' }) updatedAt: Date;
}

/** An external effect, recorded in the same transaction as the change that causes it, dispatched after commit. */
@Entity('outbox_event')
export class OutboxEvent {
  @PrimaryGeneratedColumn({ type: 'bigint' }) id: string;
  @Column() topic: string;
  @Column({ name: 'aggregate_type' }) aggregateType: string;
  @Column({ name: 'aggregate_id' }) aggregateId: string;
  @Column({ name: 'connection_id', type: 'uuid', nullable: true }) connectionId: string | null;
  @Column({ type: 'jsonb' }) payload: Record<string, unknown>;
  @Column({ name: 'idempotency_key', unique: true }) idempotencyKey: string;
  @Column({ type: 'text' }) status: 'PENDING' | 'SENT' | 'DEAD';
  @Column({ type: 'int' }) attempts: number;
  @Column({ name: 'next_attempt_at', type: 'timestamptz' }) nextAttemptAt: Date;
  @Column({ name: 'last_error', type: 'text', nullable: true }) lastError: string | null;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;
  @Column({ name: 'dispatched_at', type: 'timestamptz', nullable: true }) dispatchedAt: Date | null;
}

@Entity('webhook_receipt')
export class WebhookReceipt {
  @PrimaryGeneratedColumn({ type: 'bigint' }) id: string;
  @Column({ name: 'connection_id', type: 'uuid' }) connectionId: string;
  @Column({ name: 'delivery_id' }) deliveryId: string;
  @Column() topic: string;
  @Column({ type: 'jsonb' }) headers: Record<string, string>;
  @Column({ type: 'text' }) body: string;
  @Column({ type: 'text' }) status: 'RECEIVED' | 'PROCESSED' | 'FAILED' | 'DEAD';
  @Column({ type: 'int' }) attempts: number;
  @Column({ name: 'last_error', type: 'text', nullable: true }) lastError: string | null;
  @CreateDateColumn({ name: 'received_at', type: 'timestamptz' }) receivedAt: Date;
  @Column({ name: 'processed_at', type: 'timestamptz', nullable: true }) processedAt: Date | null;
}
