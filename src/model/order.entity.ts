import { Field, Float, ID, InputType, Int, ObjectType } from 'type-graphql';
import { GraphQLJSONObject } from 'graphql-scalars';
import { Column, CreateDateColumn, Entity, OneToMany, ManyToOne, JoinColumn, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';
import { FulfillmentMethod, OrderStatus } from './enums';
import { FulfillmentOrder } from './fulfillment-order.entity';

/** The canonical address shape: stored on orders (jsonb), returned as `Address`, accepted as `AddressInput`. */
@ObjectType()
@InputType('AddressInput')
export class Address {
  @Field({ nullable: true }) name?: string;
  @Field({ nullable: true }) line1?: string;
  @Field({ nullable: true }) line2?: string;
  @Field({ nullable: true }) city?: string;
  @Field({ nullable: true }) region?: string;
  @Field({ nullable: true }) postalCode?: string;
  @Field({ description: 'ISO 3166-1 alpha-2.' }) country: string;
  @Field(() => Float, { nullable: true }) latitude?: number;
  @Field(() => Float, { nullable: true }) longitude?: number;
}

@ObjectType({ description: 'A customer order from any channel, in the canonical model.' })
@Entity('orders')
export class Order {
  @Field(() => ID) @PrimaryGeneratedColumn('uuid') id: string;
  @Column({ name: 'connection_id', type: 'uuid', nullable: true }) connectionId: string | null;
  @Field() @Column() channel: string;
  @Field() @Column({ name: 'external_id' }) externalId: string;
  @Field() @Column({ type: 'text' }) status: OrderStatus;
  @Column({ name: 'status_before_hold', type: 'text', nullable: true }) statusBeforeHold: OrderStatus | null;
  @Field(() => String, { nullable: true, description: 'Free status set by operators, beside the lifecycle status.' })
  @Column({ name: 'custom_status', type: 'text', nullable: true }) customStatus: string | null;
  @Field(() => FulfillmentMethod) @Column({ type: 'text' }) method: FulfillmentMethod;
  @Column({ name: 'pickup_location_id', type: 'uuid', nullable: true }) pickupLocationId: string | null;
  @Field(() => String, { nullable: true }) @Column({ name: 'customer_name', type: 'text', nullable: true }) customerName: string | null;
  @Field(() => String, { nullable: true }) @Column({ name: 'customer_email', type: 'text', nullable: true }) customerEmail: string | null;
  @Column({ name: 'customer_phone', type: 'text', nullable: true }) customerPhone: string | null;
  @Field(() => Address, { nullable: true }) @Column({ name: 'ship_to', type: 'jsonb', nullable: true }) shipTo: Address | null;
  @Field(() => [String]) @Column({ type: 'text', array: true }) tags: string[];
  @Field(() => GraphQLJSONObject) @Column({ type: 'jsonb' }) attributes: Record<string, unknown>;
  @Field() @Column({ type: 'char', length: 3 }) currency: string;
  @Field({ description: "Order total as a decimal string in the order currency: each line's unit price × its units not cancelled (goods only; it follows the channel's refunds and edits)." })
  @Column({ name: 'total_amount', type: 'numeric' }) totalAmount: string;
  @Field() @Column({ name: 'placed_at', type: 'timestamptz' }) placedAt: Date;
  @Field() @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;
  @Field() @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' }) updatedAt: Date;
  @Field(() => Int) @Column({ type: 'int' }) version: number;

  @Field(() => [OrderLine]) @OneToMany(() => OrderLine, (l) => l.order) lines: OrderLine[];
  @OneToMany(() => FulfillmentOrder, (f) => f.order) fulfillmentOrders: FulfillmentOrder[];
}

@ObjectType()
@Entity('order_line')
export class OrderLine {
  @Field(() => ID) @PrimaryGeneratedColumn('uuid') id: string;
  @Column({ name: 'order_id', type: 'uuid' }) orderId: string;
  @ManyToOne(() => Order, (o) => o.lines, { onDelete: 'CASCADE' }) @JoinColumn({ name: 'order_id' }) order: Order;
  @Field(() => Int) @Column({ name: 'line_no', type: 'int' }) lineNo: number;
  @Column({ name: 'product_id', type: 'uuid' }) productId: string;
  @Field() @Column() sku: string;
  @Field(() => Int) @Column({ type: 'int' }) quantity: number;
  @Field(() => String, { nullable: true, description: 'Decimal string.' }) @Column({ name: 'unit_price', type: 'numeric', nullable: true }) unitPrice: string | null;
  @Column({ name: 'external_id', type: 'text', nullable: true }) externalId: string | null;
  @Field(() => Int, { description: 'Units shipped or handed over.' }) @Column({ name: 'shipped_quantity', type: 'int', default: 0 }) shippedQuantity: number;
  @Field(() => Int, { description: 'Units the channel cancelled or refunded before they shipped; never fulfilled.' })
  @Column({ name: 'cancelled_quantity', type: 'int', default: 0 }) cancelledQuantity: number;
}

/** Every status change of an order or one of its fulfilment orders, with who and why. */
@ObjectType()
@Entity('order_transition')
export class OrderTransition {
  @PrimaryGeneratedColumn({ type: 'bigint' }) id: string;
  @Column({ name: 'order_id', type: 'uuid' }) orderId: string;
  @Field(() => ID, { nullable: true }) @Column({ name: 'fulfillment_order_id', type: 'uuid', nullable: true }) fulfillmentOrderId: string | null;
  @Field(() => String, { nullable: true }) @Column({ name: 'from_status', type: 'text', nullable: true }) fromStatus: string | null;
  @Field() @Column({ name: 'to_status' }) toStatus: string;
  @Field() @Column() actor: string;
  @Field(() => String, { nullable: true }) @Column({ type: 'text', nullable: true }) reason: string | null;
  @Field() @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;
}
