import { Arg, Args, ArgsType, Ctx, Field, Float, ID, InputType, Int, Mutation, ObjectType, Query, Resolver, Root, Subscription, createUnionType } from 'type-graphql';
import { DomainError } from '../errors';
import { rows } from '../db/sql';
import { TOPIC, type InventoryChangedEvent } from '../events/hub-events';
import { queryAvailability } from '../inventory/availability.query';
import { getChannelPolicy, setChannelAllocation, setChannelSafetyStock } from '../inventory/channel-allocation';
import { inventoryHistory } from '../inventory/ledger.query';
import { FulfillmentMethod, LocationType, StockMovementReason } from '../model/enums';
import type { GraphQLContext } from './context';
import { decodeCursor, pageSize, toPage, PageInfo } from './relay';

@InputType()
class GeoPointInput {
  @Field(() => Float) latitude: number;
  @Field(() => Float) longitude: number;
  @Field(() => Float, { nullable: true, description: 'Only locations within this distance.' }) radiusKm?: number;
}

@ObjectType()
class LocationAvailability {
  @Field() locationCode: string;
  @Field() locationType: string;
  @Field(() => Int) onHand: number;
  @Field(() => Int) reserved: number;
  @Field(() => Int) safetyStock: number;
  @Field(() => Int) available: number;
  @Field(() => Float, { nullable: true }) distanceKm: number | null;
}

@ObjectType()
class SkuAvailability {
  @Field() sku: string;
  @Field(() => Int) available: number;
  @Field(() => [LocationAvailability]) locations: LocationAvailability[];
}

@ObjectType({ description: 'Stock of one SKU at one location.' })
export class StockLevelView {
  @Field() sku: string;
  @Field() locationCode: string;
  @Field(() => Int) onHand: number;
  @Field(() => Int) reserved: number;
  @Field(() => Int) safetyStock: number;
  @Field(() => Int, { description: 'on hand − reserved − safety stock, never below 0.' }) available: number;
  @Field(() => Int, { description: 'Units in transfers on their way to this location (not yet on hand).' }) inTransit: number;
}

@ObjectType('StockLevelEdge') class StockLevelEdge { @Field() cursor: string; @Field(() => StockLevelView) node: StockLevelView; }
@ObjectType('StockLevelConnection') class StockLevelConnection { @Field(() => [StockLevelEdge]) edges: StockLevelEdge[]; @Field(() => PageInfo) pageInfo: PageInfo; }

@ObjectType()
class InventoryChange {
  @Field() sku: string;
  @Field() locationCode: string;
  @Field(() => Int) onHand: number;
  @Field(() => Int) reserved: number;
  @Field(() => Int) available: number;
  @Field() reason: string;
  @Field() at: string;
}

@InputType()
class AdjustInventoryInput {
  @Field() sku: string;
  @Field() locationCode: string;
  @Field(() => Int, { description: 'Units added (positive) or removed (negative).' }) delta: number;
  @Field(() => StockMovementReason) reason: StockMovementReason;
  @Field({ nullable: true }) reference?: string;
  @Field({ nullable: true }) note?: string;
}

@InputType()
class SetInventoryInput {
  @Field() sku: string;
  @Field() locationCode: string;
  @Field(() => Int, { description: 'The counted on-hand quantity.' }) onHand: number;
  @Field(() => Int, { nullable: true, description: 'Compare-and-set: fail with STALE_VALUE unless on hand is still this.' }) expectedOnHand?: number;
  @Field(() => StockMovementReason, { nullable: true, defaultValue: StockMovementReason.CYCLE_COUNT }) reason?: StockMovementReason;
  @Field({ nullable: true }) reference?: string;
  @Field({ nullable: true }) note?: string;
}

@InputType()
class StockLevelFilter {
  @Field(() => [String], { nullable: true }) skus?: string[];
  @Field(() => [String], { nullable: true }) locationCodes?: string[];
  @Field({ nullable: true, description: 'Only rows with nothing available to promise.' }) outOfStock?: boolean;
  @Field(() => Int, { nullable: true, description: 'Only rows with at most this many available (low stock).' }) availableAtMost?: number;
  @Field(() => [LocationType], { nullable: true }) locationTypes?: LocationType[];
  @Field({ nullable: true, description: 'Only rows with units reserved.' }) reservedOnly?: boolean;
  @Field({ nullable: true, description: 'Only rows with units in transit towards the location.' }) inTransitOnly?: boolean;
  @Field({ nullable: true, description: 'Leave out inactive locations.' }) activeLocationsOnly?: boolean;
}

@ArgsType()
class StockLevelsArgs {
  @Field(() => Int, { nullable: true }) first?: number;
  @Field(() => String, { nullable: true }) after?: string;
  @Field(() => StockLevelFilter, { nullable: true }) filter?: StockLevelFilter;
}

@ArgsType()
class InventoryChangedArgs {
  @Field(() => [String], { nullable: true }) skus?: string[];
  @Field(() => [String], { nullable: true }) locationCodes?: string[];
}

@InputType()
class TransferInventoryInput {
  @Field() sku: string;
  @Field() fromLocationCode: string;
  @Field() toLocationCode: string;
  @Field(() => Int) quantity: number;
  @Field({ nullable: true }) reference?: string;
  @Field({ nullable: true }) note?: string;
}

@ObjectType({ description: 'Stock on its way between two locations: left the source (TRANSFER_OUT), not yet received (TRANSFER_IN).' })
class InventoryTransfer {
  @Field(() => ID) id: string;
  @Field() sku: string;
  @Field() fromLocationCode: string;
  @Field() toLocationCode: string;
  @Field(() => Int) quantity: number;
  @Field({ description: 'IN_TRANSIT, RECEIVED or CANCELLED.' }) status: string;
  @Field(() => String, { nullable: true }) reference: string | null;
  @Field() createdAt: string;
  @Field(() => String, { nullable: true }) closedAt: string | null;
}
@ObjectType('InventoryTransferEdge') class InventoryTransferEdge { @Field() cursor: string; @Field(() => InventoryTransfer) node: InventoryTransfer; }
@ObjectType('InventoryTransferConnection') class InventoryTransferConnection { @Field(() => [InventoryTransferEdge]) edges: InventoryTransferEdge[]; @Field(() => PageInfo) pageInfo: PageInfo; }

@InputType()
class TransferFilter {
  @Field({ nullable: true, description: 'IN_TRANSIT, RECEIVED or CANCELLED.' }) status?: string;
  @Field({ nullable: true }) sku?: string;
  @Field({ nullable: true, description: 'Transfers from or to this location.' }) locationCode?: string;
}

@InputType()
class ReserveLineInput {
  @Field() sku: string;
  @Field() locationCode: string;
  @Field(() => Int) quantity: number;
}

@InputType()
class ReserveInventoryInput {
  @Field(() => [ReserveLineInput]) lines: ReserveLineInput[];
  @Field(() => Int, { nullable: true, description: 'Seconds until the reservation expires and releases itself; none: held until released.' }) ttlSeconds?: number;
  @Field({ nullable: true, description: 'Your cart or checkout id; releaseReservation can release by it.' }) reference?: string;
}

@ObjectType()
class InventoryReservation {
  @Field(() => ID) id: string;
  @Field() sku: string;
  @Field() locationCode: string;
  @Field(() => Int) quantity: number;
  @Field() status: string;
  @Field(() => String, { nullable: true }) reference: string | null;
  @Field(() => String, { nullable: true }) expiresAt: string | null;
}

@ObjectType({ description: 'Every line reserved.' })
class ReservedInventory {
  @Field(() => [InventoryReservation]) reservations: InventoryReservation[];
}

@ObjectType({ description: 'Nothing was reserved: a line could not be (code INSUFFICIENT_STOCK, field names the line).' })
class ReserveInventoryError {
  @Field() code: string;
  @Field() message: string;
  @Field(() => String, { nullable: true }) field: string | null;
  @Field(() => String, { nullable: true }) sku: string | null;
  @Field(() => String, { nullable: true }) locationCode: string | null;
}

const ReserveInventoryResult = createUnionType({
  name: 'ReserveInventoryResult',
  types: () => [ReservedInventory, ReserveInventoryError] as const,
  resolveType: (v) => (v instanceof ReserveInventoryError ? ReserveInventoryError : ReservedInventory),
});

@InputType()
class ReleaseReservationInput {
  @Field(() => [ID], { nullable: true }) reservationIds?: string[];
  @Field({ nullable: true, description: 'Release every active reservation made with this reference.' }) reference?: string;
}

@ObjectType()
class ReleaseReservationResult { @Field(() => Int) released: number; }

@ObjectType()
class StockMovementView {
  @Field(() => ID) id: string;
  @Field() sku: string;
  @Field() locationCode: string;
  @Field() reason: string;
  @Field(() => Int) onHandDelta: number;
  @Field(() => Int) reservedDelta: number;
  @Field(() => Int) onHandAfter: number;
  @Field(() => Int) reservedAfter: number;
  @Field(() => String, { nullable: true }) reference: string | null;
  @Field(() => String, { nullable: true }) note: string | null;
  @Field() actor: string;
  @Field() createdAt: Date;
}
@ObjectType('StockMovementEdge') class StockMovementEdge { @Field() cursor: string; @Field(() => StockMovementView) node: StockMovementView; }
@ObjectType('StockMovementConnection') class StockMovementConnection { @Field(() => [StockMovementEdge]) edges: StockMovementEdge[]; @Field(() => PageInfo) pageInfo: PageInfo; }

@ObjectType()
class ChannelAllocation {
  @Field() channel: string;
  @Field() locationCode: string;
  @Field(() => Int, { description: 'Units at this location the channel never sees.' }) buffer: number;
}

@ObjectType({ description: 'Which locations feed a channel (all active ones when none are listed) and what it holds back.' })
class ChannelInventoryPolicy {
  @Field() channel: string;
  @Field(() => Int, { description: 'Held back from the channel\'s network total.' }) safetyStock: number;
  @Field(() => [ChannelAllocation]) allocations: ChannelAllocation[];
}

@InputType()
class ChannelAllocationInput {
  @Field() channel: string;
  @Field() locationCode: string;
  @Field(() => Int, { nullable: true, defaultValue: 0 }) buffer?: number;
  @Field({ nullable: true, description: 'Stop this location feeding the channel.' }) remove?: boolean;
}

@InputType()
class ChannelSafetyStockInput {
  @Field() channel: string;
  @Field(() => Int) safetyStock: number;
}

@Resolver()
export class InventoryResolver {
  @Query(() => [SkuAvailability], { description: 'Available-to-promise per SKU over active locations offering the method; with `near`, sorted by distance (and within `radiusKm`); per channel; or as of a past time.' })
  availability(
    @Arg('skus', () => [String]) skus: string[],
    @Arg('near', () => GeoPointInput, { nullable: true }) near: GeoPointInput | undefined,
    @Arg('channel', () => String, { nullable: true, description: 'Only the locations feeding this channel, minus its buffers and safety stock.' }) channel: string | undefined,
    @Arg('method', () => FulfillmentMethod, { nullable: true }) method: FulfillmentMethod | undefined,
    @Arg('asOf', () => Date, { nullable: true, description: 'Availability as it was at this time, from the ledger.' }) asOf: Date | undefined,
    @Ctx() { services }: GraphQLContext,
  ) {
    return queryAvailability(services.dataSource, { skus, near, method, channel, asOf });
  }

  @Query(() => StockLevelConnection)
  async stockLevels(@Args() { first, after, filter }: StockLevelsArgs, @Ctx() { services }: GraphQLContext) {
    const limit = pageSize(first);
    const [afterSku, afterCode] = (decodeCursor(after, 2) ?? [null, null]) as [string | null, string | null];
    const found = await rows<{ sku: string; code: string; on_hand: number; reserved: number; safety_stock: number; in_transit: number }>(services.dataSource.manager, `
      SELECT p.sku, l.code, s.on_hand, s.reserved, s.safety_stock,
             coalesce((SELECT sum(t.quantity)::int FROM inventory_transfer t
                        WHERE t.status = 'IN_TRANSIT' AND t.to_location_id = s.location_id AND t.product_id = s.product_id), 0) AS in_transit
        FROM stock_level s JOIN product p ON p.id = s.product_id JOIN location l ON l.id = s.location_id
       WHERE ($1::text IS NULL OR (p.sku, l.code) > ($1, $2))
         AND ($3::text[] IS NULL OR p.sku = ANY($3))
         AND ($4::text[] IS NULL OR l.code = ANY($4))
         AND ($5::boolean IS NOT TRUE OR s.on_hand - s.reserved - s.safety_stock <= 0)
         AND ($7::int IS NULL OR greatest(0, s.on_hand - s.reserved - s.safety_stock) <= $7)
         AND ($8::text[] IS NULL OR l.type = ANY($8))
         AND ($9::boolean IS NOT TRUE OR s.reserved > 0)
         AND ($10::boolean IS NOT TRUE OR EXISTS (SELECT 1 FROM inventory_transfer t
                WHERE t.status = 'IN_TRANSIT' AND t.to_location_id = s.location_id AND t.product_id = s.product_id))
         AND ($11::boolean IS NOT TRUE OR l.active)
       ORDER BY p.sku, l.code LIMIT $6`,
      [afterSku, afterCode, filter?.skus?.length ? filter.skus : null, filter?.locationCodes?.length ? filter.locationCodes : null, filter?.outOfStock ?? null, limit + 1,
        filter?.availableAtMost ?? null, filter?.locationTypes?.length ? filter.locationTypes : null, filter?.reservedOnly ?? null, filter?.inTransitOnly ?? null,
        filter?.activeLocationsOnly ?? null]);
    const views: StockLevelView[] = found.map((r) => ({
      sku: r.sku, locationCode: r.code, onHand: r.on_hand, reserved: r.reserved, safetyStock: r.safety_stock,
      available: Math.max(0, r.on_hand - r.reserved - r.safety_stock), inTransit: r.in_transit,
    }));
    return toPage(views, limit, (v) => [v.sku, v.locationCode]);
  }

  @Query(() => StockMovementConnection, { description: 'The stock ledger of a SKU (at one location, or all), oldest first.' })
  async inventoryHistory(
    @Arg('sku') sku: string,
    @Arg('locationCode', () => String, { nullable: true }) locationCode: string | undefined,
    @Arg('since', () => Date, { nullable: true }) since: Date | undefined,
    @Arg('first', () => Int, { nullable: true }) first: number | undefined,
    @Arg('after', () => String, { nullable: true }) after: string | undefined,
    @Ctx() { services }: GraphQLContext,
  ) {
    const limit = pageSize(first);
    const [afterId] = (decodeCursor(after, 1) ?? [null]) as [string | null];
    if (afterId != null && !/^[0-9]{1,19}$/.test(String(afterId))) throw new DomainError('BAD_USER_INPUT', 'after: is not a cursor returned by this API', 'after');
    const found = await inventoryHistory(services.dataSource.manager, { sku, locationCode, since, afterId, limit: limit + 1 });
    return toPage(found, limit, (m) => [m.id]);
  }

  @Query(() => InventoryTransferConnection, { description: 'Transfers between locations, oldest first; filter by status to see what is in transit.' })
  async inventoryTransfers(
    @Arg('first', () => Int, { nullable: true }) first: number | undefined,
    @Arg('after', () => String, { nullable: true }) after: string | undefined,
    @Arg('filter', () => TransferFilter, { nullable: true }) filter: TransferFilter | undefined,
    @Ctx() { services }: GraphQLContext,
  ) {
    const limit = pageSize(first);
    const [afterId] = (decodeCursor(after, 1) ?? [null]) as [string | null];
    if (afterId != null && !/^[0-9a-f-]{36}$/i.test(String(afterId))) throw new DomainError('BAD_USER_INPUT', 'after: is not a cursor returned by this API', 'after');
    const found = await services.inventory.transfers(services.dataSource.manager, { ...filter, afterId, limit: limit + 1 });
    return toPage(found, limit, (t) => [t.id]);
  }

  @Query(() => ChannelInventoryPolicy, { description: 'Which locations feed a sales channel, with buffers and safety stock.' })
  channelInventoryPolicy(@Arg('channel') channel: string, @Ctx() { services }: GraphQLContext) {
    return getChannelPolicy(services.dataSource, channel);
  }

  @Mutation(() => StockLevelView, { description: 'Add or remove units, with a reason, recorded in the ledger.' })
  async adjustInventory(
    @Arg('input', () => AdjustInventoryInput) input: AdjustInventoryInput,
    @Arg('idempotencyKey', () => String, { nullable: true, description: 'The same key again returns the first result and changes nothing.' }) idempotencyKey: string | undefined,
    @Ctx() { services, actor }: GraphQLContext,
  ) {
    return withTransit(services, await services.inventory.adjust(input, actor, { idempotencyKey }));
  }

  @Mutation(() => StockLevelView, { description: 'Set the counted on-hand quantity (physical count, ERP), optionally compare-and-set.' })
  async setInventory(
    @Arg('input', () => SetInventoryInput) input: SetInventoryInput,
    @Arg('idempotencyKey', () => String, { nullable: true }) idempotencyKey: string | undefined,
    @Ctx() { services, actor }: GraphQLContext,
  ) {
    return withTransit(services, await services.inventory.set(input, actor, { idempotencyKey }));
  }

  @Mutation(() => InventoryTransfer, { description: 'Ship stock to another location: it leaves the source now and is in transit until received.' })
  transferInventory(
    @Arg('input', () => TransferInventoryInput) input: TransferInventoryInput,
    @Arg('idempotencyKey', () => String, { nullable: true }) idempotencyKey: string | undefined,
    @Ctx() { services, actor }: GraphQLContext,
  ) {
    return services.inventory.transfer(input, actor, { idempotencyKey });
  }

  @Mutation(() => InventoryTransfer, { description: 'Book an in-transit transfer into its destination.' })
  receiveTransfer(
    @Arg('id', () => ID) id: string,
    @Arg('idempotencyKey', () => String, { nullable: true }) idempotencyKey: string | undefined,
    @Ctx() { services, actor }: GraphQLContext,
  ) {
    return services.inventory.receiveTransfer(id, actor, { idempotencyKey });
  }

  @Mutation(() => InventoryTransfer, { description: 'Cancel an in-transit transfer: the units return to the source.' })
  cancelTransfer(
    @Arg('id', () => ID) id: string,
    @Arg('idempotencyKey', () => String, { nullable: true }) idempotencyKey: string | undefined,
    @Ctx() { services, actor }: GraphQLContext,
  ) {
    return services.inventory.cancelTransfer(id, actor, { idempotencyKey });
  }

  @Mutation(() => ReserveInventoryResult, { description: 'Hold stock for a cart or checkout: every line or none, optionally expiring.' })
  async reserveInventory(
    @Arg('input', () => ReserveInventoryInput) input: ReserveInventoryInput,
    @Arg('idempotencyKey', () => String, { nullable: true }) idempotencyKey: string | undefined,
    @Ctx() { services, actor }: GraphQLContext,
  ): Promise<ReservedInventory | ReserveInventoryError> {
    try {
      return Object.assign(new ReservedInventory(), await services.inventory.reserveStock(input, actor, { idempotencyKey }));
    } catch (err) {
      if (err instanceof DomainError && err.code === 'INSUFFICIENT_STOCK') {
        const d = err.details ?? {};
        return Object.assign(new ReserveInventoryError(), { code: err.code, message: err.message, field: err.field ?? null,
          sku: (d.sku as string) ?? null, locationCode: (d.locationCode as string) ?? null });
      }
      throw err;
    }
  }

  @Mutation(() => ReleaseReservationResult, { description: 'Release reservations by id and/or by the reference they were made with.' })
  releaseReservation(
    @Arg('input', () => ReleaseReservationInput) input: ReleaseReservationInput,
    @Arg('idempotencyKey', () => String, { nullable: true }) idempotencyKey: string | undefined,
    @Ctx() { services, actor }: GraphQLContext,
  ) {
    return services.inventory.releaseReservations(input, actor, { idempotencyKey });
  }

  @Mutation(() => ChannelInventoryPolicy, { description: 'Let a location feed a sales channel, with a buffer the channel never sees (or stop it).' })
  setChannelAllocation(@Arg('input', () => ChannelAllocationInput) input: ChannelAllocationInput, @Ctx() { services }: GraphQLContext) {
    return setChannelAllocation(services.dataSource, input);
  }

  @Mutation(() => ChannelInventoryPolicy, { description: 'Units held back from a channel\'s network total.' })
  setChannelSafetyStock(@Arg('input', () => ChannelSafetyStockInput) input: ChannelSafetyStockInput, @Ctx() { services }: GraphQLContext) {
    return setChannelSafetyStock(services.dataSource, input);
  }

  @Subscription(() => InventoryChange, {
    // Filtered where events are published (EventBus.subscribe): an event only wakes the subscribers that want it.
    subscribe: ({ args, context }: { args: InventoryChangedArgs; context: GraphQLContext }) => {
      const skus = args.skus?.length ? new Set(args.skus) : null;
      const codes = args.locationCodes?.length ? new Set(args.locationCodes) : null;
      return context.services.events.subscribe(TOPIC.inventoryChanged, (e) =>
        e.type === 'inventoryChanged' && (!skus || skus.has(e.sku)) && (!codes || codes.has(e.locationCode)));
    },
    description: 'Stock changes after they commit, filtered by SKU and location.',
  })
  inventoryChanged(@Root() event: InventoryChangedEvent, @Args() _args: InventoryChangedArgs): InventoryChange {
    return event;
  }
}

/** Mutation results carry the in-transit count too (read after the change; a stock change never alters it). */
async function withTransit<T extends { sku: string; locationCode: string }>(services: GraphQLContext['services'], snap: T): Promise<T & { inTransit: number }> {
  const [{ n }] = await rows<{ n: number }>(services.dataSource.manager, `
    SELECT coalesce(sum(t.quantity), 0)::int AS n FROM inventory_transfer t
     WHERE t.status = 'IN_TRANSIT' AND t.product_id = (SELECT id FROM product WHERE sku = $1) AND t.to_location_id = (SELECT id FROM location WHERE code = $2)`,
    [snap.sku, snap.locationCode]);
  return { ...snap, inTransit: n };
}
