import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';

@Entity('returns')
export class Return {
  @PrimaryGeneratedColumn('uuid') id: string;
  @Column({ name: 'order_id', type: 'uuid' }) orderId: string;
  @Column({ type: 'text' }) status: 'REQUESTED' | 'IN_TRANSIT' | 'RECEIVED' | 'COMPLETED' | 'CANCELLED';
  @Column({ type: 'text' }) method: 'MAIL' | 'IN_STORE';
  @Column({ name: 'location_id', type: 'uuid', nullable: true }) locationId: string | null;
  @Column({ type: 'text', nullable: true }) reason: string | null;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;
  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' }) updatedAt: Date;
}

@Entity('return_line')
export class ReturnLine {
  @PrimaryGeneratedColumn('uuid') id: string;
  @Column({ name: 'return_id', type: 'uuid' }) returnId: string;
  @Column({ name: 'order_line_id', type: 'uuid' }) orderLineId: string;
  @Column({ type: 'int' }) quantity: number;
  @Column({ type: 'text', nullable: true }) reason: string | null;
  @Column({ type: 'text', nullable: true }) condition: 'RESELLABLE' | 'REFURBISH' | 'DAMAGED' | 'DISPOSE' | null;
}
