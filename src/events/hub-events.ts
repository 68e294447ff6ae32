/** The Postgres NOTIFY channel every hub process LISTENs on. A payload is one HubEvent or a JSON array of them. */
export const NOTIFY_CHANNEL = 'switchyard_events';

/** Small events published after commit; subscribers re-read anything larger. Kept well under NOTIFY's 8 kB. */
export interface InventoryChangedEvent {
  type: 'inventoryChanged';
  sku: string;
  locationCode: string;
  onHand: number;
  reserved: number;
  available: number;
  reason: string;
  at: string;
}

export interface OrderUpdatedEvent {
  type: 'orderUpdated';
  orderId: string;
  status: string;
  version: number;
}

export type HubEvent = InventoryChangedEvent | OrderUpdatedEvent;

export const TOPIC = { inventoryChanged: 'INVENTORY_CHANGED', orderUpdated: 'ORDER_UPDATED' } as const;
