import { Field, ID, Int, ObjectType } from 'type-graphql';
import { GraphQLJSONObject } from 'graphql-scalars';
import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';

@ObjectType({ description: 'A stock-keeping unit.' })
@Entity('product')
export class Product {
  @Field(() => ID) @PrimaryGeneratedColumn('uuid') id: string;
  @Field() @Column({ unique: true }) sku: string;
  @Field() @Column() name: string;
  @Field(() => String, { nullable: true }) @Column({ type: 'text', nullable: true }) barcode: string | null;
  @Field(() => Int, { nullable: true }) @Column({ name: 'weight_grams', type: 'int', nullable: true }) weightGrams: number | null;
  @Field(() => Int, { nullable: true }) @Column({ name: 'length_mm', type: 'int', nullable: true }) lengthMm: number | null;
  @Field(() => Int, { nullable: true }) @Column({ name: 'width_mm', type: 'int', nullable: true }) widthMm: number | null;
  @Field(() => Int, { nullable: true }) @Column({ name: 'height_mm', type: 'int', nullable: true }) heightMm: number | null;
  @Field(() => GraphQLJSONObject) @Column({ type: 'jsonb' }) attributes: Record<string, unknown>;
  @Field(() => [String]) @Column({ type: 'text', array: true }) tags: string[];
  @Field() @Column() active: boolean;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;
  @Field() @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' }) updatedAt: Date;
}
