import { Location } from './location.entity';
import { Product } from './product.entity';
import { Reservation, StockLevel, StockMovement } from './stock.entity';
import { Order, OrderLine, OrderTransition } from './order.entity';
import { FulfillmentOrder, FulfillmentOrderLine, Shipment, ShipmentLine } from './fulfillment-order.entity';
import { Connection, ExternalRef, OutboxEvent, SyncCursor, WebhookReceipt } from './integration.entity';
import { Return, ReturnLine } from './return.entity';

export const ENTITIES = [
  Location, Product, StockLevel, StockMovement, Reservation, Order, OrderLine, OrderTransition, FulfillmentOrder,
  FulfillmentOrderLine, Shipment, ShipmentLine, Connection, ExternalRef, SyncCursor, OutboxEvent, WebhookReceipt,
  Return, ReturnLine,
];
