import { registerEnumType } from 'type-graphql';

export enum LocationType { WAREHOUSE = 'WAREHOUSE', STORE = 'STORE', THREE_PL = 'THREE_PL', DROPSHIP_VENDOR = 'DROPSHIP_VENDOR', MICRO_HUB = 'MICRO_HUB' }
export enum LocationCapability { SHIP = 'SHIP', PICKUP = 'PICKUP', CURBSIDE = 'CURBSIDE', RETURNS = 'RETURNS' }
export enum FulfillmentMethod { SHIP = 'SHIP', PICKUP = 'PICKUP', CURBSIDE = 'CURBSIDE' }

export enum OrderStatus {
  CREATED = 'CREATED', ALLOCATED = 'ALLOCATED', BACKORDERED = 'BACKORDERED', ON_HOLD = 'ON_HOLD',
  PARTIALLY_SHIPPED = 'PARTIALLY_SHIPPED', SHIPPED = 'SHIPPED', READY_FOR_PICKUP = 'READY_FOR_PICKUP',
  DELIVERED = 'DELIVERED', CANCELLED = 'CANCELLED', PARTIALLY_RETURNED = 'PARTIALLY_RETURNED', RETURNED = 'RETURNED',
}

export enum FulfillmentOrderStatus {
  PENDING = 'PENDING', ACCEPTED = 'ACCEPTED', PICKED = 'PICKED', PACKED = 'PACKED', SHIPPED = 'SHIPPED',
  DELIVERED = 'DELIVERED', READY_FOR_PICKUP = 'READY_FOR_PICKUP', PICKED_UP = 'PICKED_UP', REJECTED = 'REJECTED',
  CANCELLED = 'CANCELLED',
}

/** Why stock moved; every ledger row carries one. */
export enum StockMovementReason {
  RECEIPT = 'RECEIPT', SALE = 'SALE', DAMAGE = 'DAMAGE', CYCLE_COUNT = 'CYCLE_COUNT', RETURN = 'RETURN',
  CORRECTION = 'CORRECTION', TRANSFER_OUT = 'TRANSFER_OUT', TRANSFER_IN = 'TRANSFER_IN', RESERVE = 'RESERVE',
  RELEASE = 'RELEASE', EXPIRE = 'EXPIRE', CONSUME = 'CONSUME',
}

export enum ReservationStatus { ACTIVE = 'ACTIVE', CONSUMED = 'CONSUMED', RELEASED = 'RELEASED', EXPIRED = 'EXPIRED' }

registerEnumType(LocationType, { name: 'LocationType' });
registerEnumType(LocationCapability, { name: 'LocationCapability' });
registerEnumType(FulfillmentMethod, { name: 'FulfillmentMethod' });
registerEnumType(OrderStatus, { name: 'OrderStatus' });
registerEnumType(FulfillmentOrderStatus, { name: 'FulfillmentOrderStatus' });
registerEnumType(StockMovementReason, { name: 'StockMovementReason' });
