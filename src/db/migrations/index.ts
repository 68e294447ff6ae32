import { InitialModel1763900000000 } from './1763900000000-initial-model';
import { InventoryIdempotencyTransfersChannels1763900000100 } from './1763900000100-inventory-idempotency-transfers-channels';
import { Routing1763900000200 } from './1763900000200-routing';
import { Security1763900000300 } from './1763900000300-security';
import { SyncEngine1763900000400 } from './1763900000400-sync-engine';
import { ReturnsPromise1763900000500 } from './1763900000500-returns-promise';
import { HubEventOutbox1763900000610 } from './1763900000610-hub-event-outbox';
import { ReturnClosing1763900000720 } from './1763900000720-return-closing';
import { SyncIntakeWriteCost1763900000730 } from './1763900000730-sync-intake-write-cost';
import { ReservationWriteCost1763900000740 } from './1763900000740-reservation-write-cost';
import { ErpBooksEveryOrder1763900000750 } from './1763900000750-erp-books-every-order';
import { CapacityUseByDay1763900000760 } from './1763900000760-capacity-use-by-day';
import { LocationDayUse1763900000770 } from './1763900000770-location-day-use';
import { DecisionCompression1763900000780 } from './1763900000780-decision-compression';
import { DecisionInline1763900000790 } from './1763900000790-decision-inline';
import { StockDirtyByStatement1763900000800 } from './1763900000800-stock-dirty-by-statement';
import { OrderLineCancelled1763900000810 } from './1763900000810-order-line-cancelled';
import { ShipToOutbox1763900000820 } from './1763900000820-ship-to-outbox';
import { OutboxNotify1763900000830 } from './1763900000830-outbox-notify';

/** In order. A migration, once released, is never edited: add a new one. */
export const MIGRATIONS = [InitialModel1763900000000, InventoryIdempotencyTransfersChannels1763900000100, Routing1763900000200, Security1763900000300, SyncEngine1763900000400, ReturnsPromise1763900000500, HubEventOutbox1763900000610, ReturnClosing1763900000720, SyncIntakeWriteCost1763900000730, ReservationWriteCost1763900000740, ErpBooksEveryOrder1763900000750, CapacityUseByDay1763900000760, LocationDayUse1763900000770, DecisionCompression1763900000780, DecisionInline1763900000790, StockDirtyByStatement1763900000800, OrderLineCancelled1763900000810, ShipToOutbox1763900000820, OutboxNotify1763900000830];
