import { Field, Float, ID, Int, ObjectType } from 'type-graphql';
import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';
import { LocationCapability, LocationType } from './enums';

const float = { to: (v: number) => v, from: (v: string | number | null) => (v == null ? v : Number(v)) };

@ObjectType({ description: 'A place that holds stock and fulfils orders: warehouse, store, 3PL node, drop-ship vendor.' })
@Entity('location')
export class Location {
  @Field(() => ID) @PrimaryGeneratedColumn('uuid') id: string;
  @Field() @Column({ unique: true }) code: string;
  @Field() @Column() name: string;
  @Field(() => LocationType) @Column({ type: 'text' }) type: LocationType;
  @Field(() => String, { nullable: true }) @Column({ name: 'address_line1', type: 'text', nullable: true }) addressLine1: string | null;
  @Field(() => String, { nullable: true }) @Column({ type: 'text', nullable: true }) city: string | null;
  @Field(() => String, { nullable: true }) @Column({ type: 'text', nullable: true }) region: string | null;
  @Field(() => String, { nullable: true }) @Column({ name: 'postal_code', type: 'text', nullable: true }) postalCode: string | null;
  @Field() @Column({ type: 'char', length: 2 }) country: string;
  @Field(() => Float) @Column({ type: 'double precision', transformer: float }) latitude: number;
  @Field(() => Float) @Column({ type: 'double precision', transformer: float }) longitude: number;
  @Field() @Column({ name: 'time_zone' }) timeZone: string;
  @Field(() => [LocationCapability]) @Column({ type: 'text', array: true }) capabilities: LocationCapability[];
  @Field() @Column() active: boolean;
  @Field(() => Int, { nullable: true }) @Column({ name: 'daily_order_capacity', type: 'int', nullable: true }) dailyOrderCapacity: number | null;
  @Field(() => Int, { nullable: true }) @Column({ name: 'daily_line_capacity', type: 'int', nullable: true }) dailyLineCapacity: number | null;
  @Field(() => Int) @Column({ name: 'processing_hours', type: 'int' }) processingHours: number;
  @Field({ description: 'Local time (HH:MM) after which orders are processed the next working day.' })
  @Column({ name: 'order_cutoff', type: 'time' }) orderCutoff: string;
  @Field(() => Int, { description: 'Routing preference: lower is preferred.' }) @Column({ type: 'int' }) priority: number;
  @Field({ description: 'Base cost of one parcel from here, decimal string.' }) @Column({ name: 'ship_base_cost', type: 'numeric' }) shipBaseCost: string;
  @Field({ description: 'Added cost per km of distance, decimal string.' }) @Column({ name: 'ship_cost_per_km', type: 'numeric' }) shipCostPerKm: string;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;
  @Field() @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' }) updatedAt: Date;
}
