import { Arg, Args, ArgsType, Ctx, Field, FieldResolver, Float, ID, InputType, Int, Mutation, ObjectType, Query, Resolver, Root, Subscription, createUnionType } from 'type-graphql';
import { GraphQLJSONObject } from 'graphql-scalars';
import { Brackets } from 'typeorm';
import { DomainError, notFound } from '../errors';
import { TOPIC, type OrderUpdatedEvent } from '../events/hub-events';
import { FulfillmentMethod, FulfillmentOrderStatus, OrderStatus } from '../model/enums';
import { FulfillmentOrder } from '../model/fulfillment-order.entity';
import { Address, Order, OrderLine, OrderTransition } from '../model/order.entity';
import { TransitionRejected } from '../orders/order.service';
import type { GraphQLContext } from './context';
import { Role, type Principal } from '../security/roles';

/** INTEGRATION keys see only the orders of the connection they are bound to. */
const visibleTo = (principal: Principal, order: Order | null) =>
  !!order && (principal.role !== Role.INTEGRATION || (!!principal.connectionId && order.connectionId === principal.connectionId));
import { connectionOf, decodeCursor, pageSize, toPage } from './relay';

export { Address as AddressInput };

@InputType()
export class OrderLineInput {
  @Field() sku: string;
  @Field(() => Int) quantity: number;
  @Field({ nullable: true, description: 'Money as a decimal string, e.g. "19.99".' }) unitPrice?: string;
}

@InputType()
class OrderLineCancelInput {
  @Field(() => ID, { description: 'The order line (OrderLine.id).' }) lineId: string;
  @Field(() => Int) quantity: number;
}

@InputType()
class CustomerInput {
  @Field({ nullable: true }) name?: string;
  @Field({ nullable: true }) email?: string;
  @Field({ nullable: true }) phone?: string;
}

@InputType()
class PlaceOrderInput {
  @Field() channel: string;
  @Field() externalId: string;
  @Field(() => [OrderLineInput]) lines: OrderLineInput[];
  @Field(() => Address, { nullable: true }) shipTo?: Address;
  @Field(() => FulfillmentMethod, { nullable: true, defaultValue: FulfillmentMethod.SHIP }) method?: FulfillmentMethod;
  @Field({ nullable: true }) pickupLocationCode?: string;
  @Field(() => [String], { nullable: true }) tags?: string[];
  @Field(() => CustomerInput, { nullable: true }) customer?: CustomerInput;
  @Field({ nullable: true, description: 'ISO 4217; defaults to USD.' }) currency?: string;
  @Field(() => GraphQLJSONObject, { nullable: true }) attributes?: Record<string, unknown>;
}

@InputType()
class OrderFilter {
  @Field(() => [OrderStatus], { nullable: true }) statuses?: OrderStatus[];
  @Field({ nullable: true }) channel?: string;
  @Field({ nullable: true }) externalId?: string;
  @Field({ nullable: true, description: 'Orders carrying this tag.' }) tag?: string;
  @Field({ nullable: true }) customStatus?: string;
  @Field({ nullable: true }) customerEmail?: string;
  @Field({ nullable: true }) placedAfter?: Date;
  @Field({ nullable: true }) placedBefore?: Date;
}

@ArgsType()
class OrdersArgs {
  @Field(() => Int, { nullable: true }) first?: number;
  @Field(() => String, { nullable: true }) after?: string;
  @Field(() => OrderFilter, { nullable: true }) filter?: OrderFilter;
}

@InputType()
class AllocationLineInput { @Field() sku: string; @Field(() => Int) quantity: number; }

@InputType()
class AllocationInput {
  @Field() locationCode: string;
  @Field(() => [AllocationLineInput]) lines: AllocationLineInput[];
}

@InputType()
class TrackingInput {
  @Field({ nullable: true }) carrier?: string;
  @Field({ nullable: true }) service?: string;
  @Field({ nullable: true }) trackingNumber?: string;
  @Field({ nullable: true }) trackingUrl?: string;
}

@ObjectType({ description: 'A requested change the lifecycle does not allow; nothing was changed.' })
class TransitionError {
  @Field() code: string;
  @Field() message: string;
  @Field() entity: string;
  @Field(() => ID) id: string;
  @Field() currentStatus: string;
  @Field() requestedStatus: string;
}

@ObjectType({ description: 'placeOrder could not accept the order; nothing was written.' })
class PlaceOrderError {
  @Field() code: string;
  @Field() message: string;
  @Field(() => String, { nullable: true }) field: string | null;
}

@ObjectType() class OrderConnection extends connectionOf(Order, 'Order') {}

function transitionError(r: TransitionRejected): TransitionError {
  return Object.assign(new TransitionError(), { code: 'INVALID_TRANSITION', message: r.message, entity: r.entity, id: r.id, currentStatus: r.currentStatus, requestedStatus: r.requestedStatus });
}
const orNotAllowed = <T>(r: T | TransitionRejected) => (r instanceof TransitionRejected ? transitionError(r) : r);

const resolveByClass = (value: unknown) =>
  value instanceof TransitionError ? TransitionError : value instanceof PlaceOrderError ? PlaceOrderError : value instanceof FulfillmentOrder ? FulfillmentOrder : Order;

const PlaceOrderResult = createUnionType({ name: 'PlaceOrderResult', types: () => [Order, PlaceOrderError] as const, resolveType: resolveByClass });
const CancelOrderResult = createUnionType({ name: 'CancelOrderResult', types: () => [Order, TransitionError] as const, resolveType: resolveByClass });
const OrderTransitionResult = createUnionType({ name: 'OrderTransitionResult', types: () => [Order, TransitionError] as const, resolveType: resolveByClass });
const FulfillmentOrderResult = createUnionType({ name: 'FulfillmentOrderResult', types: () => [FulfillmentOrder, TransitionError] as const, resolveType: resolveByClass });

@Resolver(() => Order)
export class OrderResolver {
  @Query(() => Order, { nullable: true })
  async order(@Arg('id', () => ID) id: string, @Ctx() { services, principal }: GraphQLContext) {
    const order = await services.orders.get(id);
    return visibleTo(principal, order) ? order : null;
  }

  @Query(() => OrderConnection, { description: 'Newest first.' })
  async orders(@Args() { first, after, filter }: OrdersArgs, @Ctx() { services, principal }: GraphQLContext) {
    const limit = pageSize(first);
    const cursor = decodeCursor(after, 2) as [string, string] | undefined;
    const qb = services.dataSource.getRepository(Order).createQueryBuilder('o')
      .orderBy('o.placedAt', 'DESC').addOrderBy('o.id', 'DESC').limit(limit + 1);
    if (cursor) {
      qb.andWhere(new Brackets((b) => b.where('o.placedAt < :cAt', { cAt: cursor[0] }).orWhere('o.placedAt = :cAt AND o.id < :cId', { cId: cursor[1] })));
    }
    if (principal.role === Role.INTEGRATION) {
      if (principal.connectionId) qb.andWhere('o.connectionId = :scope', { scope: principal.connectionId });
      else qb.andWhere('false');
    }
    if (filter?.statuses?.length) qb.andWhere('o.status IN (:...statuses)', { statuses: filter.statuses });
    if (filter?.channel) qb.andWhere('o.channel = :channel', { channel: filter.channel });
    if (filter?.externalId) qb.andWhere('o.externalId = :externalId', { externalId: filter.externalId });
    if (filter?.tag) qb.andWhere(':tag = ANY(o.tags)', { tag: filter.tag });
    if (filter?.customStatus) qb.andWhere('o.customStatus = :customStatus', { customStatus: filter.customStatus });
    if (filter?.customerEmail) qb.andWhere('lower(o.customerEmail) = lower(:email)', { email: filter.customerEmail });
    if (filter?.placedAfter) qb.andWhere('o.placedAt >= :after', { after: filter.placedAfter });
    if (filter?.placedBefore) qb.andWhere('o.placedAt < :before', { before: filter.placedBefore });
    return toPage(await qb.getMany(), limit, (o) => [o.placedAt.toISOString(), o.id]);
  }

  @FieldResolver(() => [OrderLine])
  lines(@Root() order: Order, @Ctx() { loaders }: GraphQLContext) {
    return order.lines ?? loaders.orderLines.load(order.id);
  }

  @FieldResolver(() => [FulfillmentOrder])
  fulfillmentOrders(@Root() order: Order, @Ctx() { loaders }: GraphQLContext) {
    return loaders.fulfillmentOrders.load(order.id);
  }

  @FieldResolver(() => String, { nullable: true })
  async pickupLocationCode(@Root() order: Order, @Ctx() { loaders }: GraphQLContext) {
    return order.pickupLocationId ? (await loaders.locationById.load(order.pickupLocationId))?.code ?? null : null;
  }

  @FieldResolver(() => [OrderTransition], { description: 'Every status change, oldest first, with who and why.' })
  transitions(@Root() order: Order, @Ctx() { services }: GraphQLContext) {
    return services.dataSource.getRepository(OrderTransition).find({ where: { orderId: order.id }, order: { id: 'ASC' } });
  }

  @Mutation(() => PlaceOrderResult, { description: 'Idempotent on (channel, externalId): placing the same order again returns the existing one.' })
  async placeOrder(
    @Arg('input', () => PlaceOrderInput) input: PlaceOrderInput,
    @Arg('idempotencyKey', () => String, { nullable: true, description: 'Same key and input → the same order; same key, other input → IDEMPOTENCY_KEY_REUSED.' }) idempotencyKey: string | undefined,
    @Ctx() { services, actor, principal }: GraphQLContext,
  ) {
    try {
      const connectionId = principal.role === Role.INTEGRATION ? principal.connectionId ?? null : null;
      const data = { ...input, connectionId };
      const order = idempotencyKey
        ? await services.orders.require((await services.idempotency.execute(`placeOrder:${actor}`, idempotencyKey, input, (em) => services.orders.placeOrderIn(em, data, actor))).orderId)
        : (await services.orders.placeOrder(data, actor)).order;
      if (!visibleTo(principal, order)) throw new DomainError('CONFLICT', `external id "${input.externalId}" on channel "${input.channel}" belongs to another connection's order`, 'input.externalId');
      return order;
    } catch (err) {
      if (err instanceof DomainError && err.code === 'NOT_ORDERABLE') {
        return Object.assign(new PlaceOrderError(), { code: err.code, message: err.message, field: err.field ?? null });
      }
      throw err;
    }
  }

  @Mutation(() => CancelOrderResult)
  async cancelOrder(@Arg('id', () => ID) id: string, @Arg('reason', () => String, { nullable: true }) reason: string | undefined, @Ctx() { services, actor, principal }: GraphQLContext) {
    if (!visibleTo(principal, await services.orders.get(id))) throw notFound('Order', id, 'id');
    return orNotAllowed(await services.orders.cancel(id, reason, actor));
  }

  @Mutation(() => OrderTransitionResult)
  async holdOrder(@Arg('id', () => ID) id: string, @Arg('reason', () => String, { nullable: true }) reason: string | undefined, @Ctx() { services, actor }: GraphQLContext) {
    return orNotAllowed(await services.orders.hold(id, reason, actor));
  }

  @Mutation(() => OrderTransitionResult)
  async releaseOrderHold(@Arg('id', () => ID) id: string, @Ctx() { services, actor }: GraphQLContext) {
    return orNotAllowed(await services.orders.releaseHold(id, actor));
  }

  @Mutation(() => OrderTransitionResult, { description: 'Allocate by hand (operator override): reserves stock and creates fulfilment orders.' })
  async allocateOrder(@Arg('id', () => ID) id: string, @Arg('shipments', () => [AllocationInput]) shipments: AllocationInput[], @Ctx() { services, actor }: GraphQLContext) {
    return orNotAllowed(await services.orders.allocate(id, shipments, actor));
  }

  @Mutation(() => OrderTransitionResult, { description: 'Cancel units of some lines that will not be fulfilled; the rest of the order goes on, and the channel is told (it refunds them).' })
  async cancelOrderLines(@Arg('id', () => ID) id: string, @Arg('lines', () => [OrderLineCancelInput]) lines: OrderLineCancelInput[],
    @Arg('reason', () => String, { nullable: true }) reason: string | undefined, @Ctx() { services, actor }: GraphQLContext) {
    return orNotAllowed(await services.orders.cancelLines(id, lines, reason, actor));
  }

  @Mutation(() => OrderTransitionResult, { description: 'Ship the units not shipped yet to another address; open fulfilment orders already at a 3PL or ERP are sent it. Allocation is kept.' })
  async changeOrderShipTo(@Arg('id', () => ID) id: string, @Arg('shipTo', () => Address) shipTo: Address, @Ctx() { services, actor }: GraphQLContext) {
    return orNotAllowed(await services.orders.changeShipTo(id, shipTo, actor));
  }

  @Mutation(() => Order)
  tagOrder(@Arg('id', () => ID) id: string, @Arg('tags', () => [String]) tags: string[], @Ctx() { services, actor }: GraphQLContext) {
    return services.orders.tag(id, tags, true, actor);
  }

  @Mutation(() => Order)
  untagOrder(@Arg('id', () => ID) id: string, @Arg('tags', () => [String]) tags: string[], @Ctx() { services, actor }: GraphQLContext) {
    return services.orders.tag(id, tags, false, actor);
  }

  @Mutation(() => Order, { description: 'Set (or clear with null) the retailer-defined status shown beside the lifecycle status.' })
  setOrderCustomStatus(@Arg('id', () => ID) id: string, @Arg('customStatus', () => String, { nullable: true }) customStatus: string | null, @Ctx() { services, actor }: GraphQLContext) {
    return services.orders.setCustomStatus(id, customStatus ?? null, actor);
  }

  @Mutation(() => Order, { description: 'Merge attributes into the order; a null value removes that key.' })
  setOrderAttributes(@Arg('id', () => ID) id: string, @Arg('attributes', () => GraphQLJSONObject) attributes: Record<string, unknown>, @Ctx() { services, actor }: GraphQLContext) {
    return services.orders.setAttributes(id, attributes, actor);
  }

  @Subscription(() => Order, {
    topics: TOPIC.orderUpdated,
    filter: ({ payload, args }: { payload: OrderUpdatedEvent; args: { orderId?: string } }) => !args.orderId || args.orderId === payload.orderId,
    description: 'An order after each committed change (all orders, or one).',
  })
  orderUpdated(@Root() event: OrderUpdatedEvent, @Arg('orderId', () => ID, { nullable: true }) _orderId: string | undefined, @Ctx() { services }: GraphQLContext) {
    return services.orders.require(event.orderId);
  }
}

@Resolver(() => FulfillmentOrder)
export class FulfillmentOrderResolver {
  @FieldResolver(() => String)
  async locationCode(@Root() fo: FulfillmentOrder, @Ctx() { loaders }: GraphQLContext) {
    return (await loaders.locationById.load(fo.locationId))!.code;
  }

  @FieldResolver(() => ID)
  orderId(@Root() fo: FulfillmentOrder) {
    return fo.orderId;
  }

  private async move(id: string, to: FulfillmentOrderStatus, ctx: GraphQLContext, opts: { reason?: string | null; tracking?: TrackingInput } = {}) {
    return orNotAllowed(await ctx.services.orders.transitionFulfillment(id, to, ctx.actor, opts));
  }

  @Mutation(() => FulfillmentOrderResult)
  acceptFulfillmentOrder(@Arg('id', () => ID) id: string, @Ctx() ctx: GraphQLContext) {
    return this.move(id, FulfillmentOrderStatus.ACCEPTED, ctx);
  }

  @Mutation(() => FulfillmentOrderResult, { description: 'The location cannot fulfil it: its stock is released and the remainder re-routed.' })
  rejectFulfillmentOrder(@Arg('id', () => ID) id: string, @Arg('reason', () => String, { nullable: true }) reason: string | undefined, @Ctx() ctx: GraphQLContext) {
    return this.move(id, FulfillmentOrderStatus.REJECTED, ctx, { reason });
  }

  @Mutation(() => FulfillmentOrderResult)
  pickFulfillmentOrder(@Arg('id', () => ID) id: string, @Ctx() ctx: GraphQLContext) {
    return this.move(id, FulfillmentOrderStatus.PICKED, ctx);
  }

  @Mutation(() => FulfillmentOrderResult)
  packFulfillmentOrder(@Arg('id', () => ID) id: string, @Ctx() ctx: GraphQLContext) {
    return this.move(id, FulfillmentOrderStatus.PACKED, ctx);
  }

  @Mutation(() => FulfillmentOrderResult, { description: 'Ship with tracking: the reserved stock becomes a sale and a shipment is recorded.' })
  shipFulfillmentOrder(@Arg('id', () => ID) id: string, @Arg('tracking', () => TrackingInput, { nullable: true }) tracking: TrackingInput | undefined, @Ctx() ctx: GraphQLContext) {
    return this.move(id, FulfillmentOrderStatus.SHIPPED, ctx, { tracking });
  }

  @Mutation(() => FulfillmentOrderResult)
  markFulfillmentOrderReadyForPickup(@Arg('id', () => ID) id: string, @Ctx() ctx: GraphQLContext) {
    return this.move(id, FulfillmentOrderStatus.READY_FOR_PICKUP, ctx);
  }

  @Mutation(() => FulfillmentOrderResult, { description: 'The customer collected the goods (pickup or curbside).' })
  confirmFulfillmentOrderPickedUp(@Arg('id', () => ID) id: string, @Ctx() ctx: GraphQLContext) {
    return this.move(id, FulfillmentOrderStatus.PICKED_UP, ctx);
  }

  @Mutation(() => FulfillmentOrderResult)
  confirmFulfillmentOrderDelivered(@Arg('id', () => ID) id: string, @Ctx() ctx: GraphQLContext) {
    return this.move(id, FulfillmentOrderStatus.DELIVERED, ctx);
  }

  @Mutation(() => FulfillmentOrderResult)
  cancelFulfillmentOrder(@Arg('id', () => ID) id: string, @Arg('reason', () => String, { nullable: true }) reason: string | undefined, @Ctx() ctx: GraphQLContext) {
    return this.move(id, FulfillmentOrderStatus.CANCELLED, ctx, { reason });
  }
}
