import { Column, CreateDateColumn, Entity, PrimaryColumn, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';
import { ReservationStatus, StockMovementReason } from './enums';

/** Balance per (product, location). Written only by the inventory service, with conditional UPDATEs. */
@Entity('stock_level')
export class StockLevel {
  @PrimaryColumn({ name: 'product_id', type: 'uuid' }) productId: string;
  @PrimaryColumn({ name: 'location_id', type: 'uuid' }) locationId: string;
  @Column({ name: 'on_hand', type: 'int' }) onHand: number;
  @Column({ type: 'int' }) reserved: number;
  @Column({ name: 'safety_stock', type: 'int' }) safetyStock: number;
  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' }) updatedAt: Date;
}

/** Append-only ledger row (a trigger rejects UPDATE and DELETE). */
@Entity('stock_movement')
export class StockMovement {
  @PrimaryGeneratedColumn({ type: 'bigint' }) id: string;
  @Column({ name: 'product_id', type: 'uuid' }) productId: string;
  @Column({ name: 'location_id', type: 'uuid' }) locationId: string;
  @Column({ type: 'text' }) reason: StockMovementReason;
  @Column({ name: 'on_hand_delta', type: 'int' }) onHandDelta: number;
  @Column({ name: 'reserved_delta', type: 'int' }) reservedDelta: number;
  @Column({ name: 'on_hand_after', type: 'int' }) onHandAfter: number;
  @Column({ name: 'reserved_after', type: 'int' }) reservedAfter: number;
  @Column({ type: 'text', nullable: true }) reference: string | null;
  @Column({ type: 'text', nullable: true }) note: string | null;
  @Column() actor: string;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;
}

@Entity('reservation')
export class Reservation {
  @PrimaryGeneratedColumn('uuid') id: string;
  @Column({ name: 'product_id', type: 'uuid' }) productId: string;
  @Column({ name: 'location_id', type: 'uuid' }) locationId: string;
  @Column({ type: 'int' }) quantity: number;
  @Column({ type: 'text' }) status: ReservationStatus;
  @Column({ name: 'order_id', type: 'uuid', nullable: true }) orderId: string | null;
  @Column({ name: 'fulfillment_order_line_id', type: 'uuid', nullable: true }) fulfillmentOrderLineId: string | null;
  @Column({ type: 'text', nullable: true }) reference: string | null;
  @Column({ name: 'expires_at', type: 'timestamptz', nullable: true }) expiresAt: Date | null;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;
  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' }) updatedAt: Date;
}
