import { Field, ID, Int, ObjectType } from 'type-graphql';
import { Column, CreateDateColumn, Entity, JoinColumn, ManyToOne, OneToMany, PrimaryColumn, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';
import { FulfillmentMethod, FulfillmentOrderStatus } from './enums';
import type { Order } from './order.entity';

@ObjectType({ description: 'The part of an order that one location fulfils.' })
@Entity('fulfillment_order')
export class FulfillmentOrder {
  @Field(() => ID) @PrimaryGeneratedColumn('uuid') id: string;
  @Column({ name: 'order_id', type: 'uuid' }) orderId: string;
  @ManyToOne('Order', 'fulfillmentOrders', { onDelete: 'CASCADE' }) @JoinColumn({ name: 'order_id' }) order: Order;
  @Column({ name: 'location_id', type: 'uuid' }) locationId: string;
  @Field(() => FulfillmentMethod) @Column({ type: 'text' }) method: FulfillmentMethod;
  @Field(() => FulfillmentOrderStatus) @Column({ type: 'text' }) status: FulfillmentOrderStatus;
  @Field(() => String, { nullable: true }) @Column({ name: 'status_reason', type: 'text', nullable: true }) statusReason: string | null;
  @Field() @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;
  @Field() @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' }) updatedAt: Date;
  @Field(() => [FulfillmentOrderLine]) @OneToMany(() => FulfillmentOrderLine, (l) => l.fulfillmentOrder) lines: FulfillmentOrderLine[];
  @Field(() => [Shipment]) @OneToMany(() => Shipment, (s) => s.fulfillmentOrder) shipments: Shipment[];
}

@ObjectType()
@Entity('fulfillment_order_line')
export class FulfillmentOrderLine {
  @Field(() => ID) @PrimaryGeneratedColumn('uuid') id: string;
  @Column({ name: 'fulfillment_order_id', type: 'uuid' }) fulfillmentOrderId: string;
  @ManyToOne(() => FulfillmentOrder, (f) => f.lines, { onDelete: 'CASCADE' }) @JoinColumn({ name: 'fulfillment_order_id' }) fulfillmentOrder: FulfillmentOrder;
  @Column({ name: 'order_line_id', type: 'uuid' }) orderLineId: string;
  @Column({ name: 'product_id', type: 'uuid' }) productId: string;
  @Field() @Column() sku: string;
  @Field(() => Int) @Column({ type: 'int' }) quantity: number;
}

@ObjectType()
@Entity('shipment')
export class Shipment {
  @Field(() => ID) @PrimaryGeneratedColumn('uuid') id: string;
  @Column({ name: 'fulfillment_order_id', type: 'uuid' }) fulfillmentOrderId: string;
  @ManyToOne(() => FulfillmentOrder, (f) => f.shipments) @JoinColumn({ name: 'fulfillment_order_id' }) fulfillmentOrder: FulfillmentOrder;
  @Field(() => String, { nullable: true }) @Column({ type: 'text', nullable: true }) carrier: string | null;
  @Field(() => String, { nullable: true }) @Column({ type: 'text', nullable: true }) service: string | null;
  @Field(() => String, { nullable: true }) @Column({ name: 'tracking_number', type: 'text', nullable: true }) trackingNumber: string | null;
  @Field(() => String, { nullable: true }) @Column({ name: 'tracking_url', type: 'text', nullable: true }) trackingUrl: string | null;
  @Field() @Column({ name: 'shipped_at', type: 'timestamptz' }) shippedAt: Date;
  @Field(() => Date, { nullable: true }) @Column({ name: 'delivered_at', type: 'timestamptz', nullable: true }) deliveredAt: Date | null;
  @Field(() => [ShipmentLine]) @OneToMany(() => ShipmentLine, (l) => l.shipment) lines: ShipmentLine[];
}

@ObjectType()
@Entity('shipment_line')
export class ShipmentLine {
  @PrimaryColumn({ name: 'shipment_id', type: 'uuid' }) shipmentId: string;
  @ManyToOne(() => Shipment, (s) => s.lines, { onDelete: 'CASCADE' }) @JoinColumn({ name: 'shipment_id' }) shipment: Shipment;
  @PrimaryColumn({ name: 'fulfillment_order_line_id', type: 'uuid' }) fulfillmentOrderLineId: string;
  @Field(() => Int) @Column({ type: 'int' }) quantity: number;
}
