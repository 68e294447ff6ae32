import { Arg, Ctx, Field, Float, ID, InputType, Int, Mutation, ObjectType, Query, Resolver, registerEnumType } from 'type-graphql';
import { notFound } from '../errors';
import type { ReturnCondition as Condition, ReturnMethod as Method } from '../returns/return.service';
import { Role, type Principal } from '../security/roles';
import type { Services } from '../services';
import type { GraphQLContext } from './context';

export enum ReturnMethod { MAIL = 'MAIL', IN_STORE = 'IN_STORE' }
export enum ReturnCondition { RESELLABLE = 'RESELLABLE', REFURBISH = 'REFURBISH', DAMAGED = 'DAMAGED', DISPOSE = 'DISPOSE' }
registerEnumType(ReturnMethod, { name: 'ReturnMethod', description: 'MAIL: the customer ships it back with a label; IN_STORE: handed over at any store that accepts returns.' });
registerEnumType(ReturnCondition, { name: 'ReturnCondition', description: 'Grade of a returned unit; only RESELLABLE goes back into available stock.' });

@InputType()
class ReturnLineInput {
  @Field() sku: string;
  @Field(() => Int) quantity: number;
  @Field(() => String, { nullable: true }) reason?: string | null;
  @Field(() => String, { nullable: true, description: 'Send this SKU instead of refunding (an exchange).' }) exchangeSku?: string | null;
}

@InputType()
class CreateReturnInput {
  @Field(() => ID) orderId: string;
  @Field(() => [ReturnLineInput]) lines: ReturnLineInput[];
  @Field(() => String, { nullable: true }) reason?: string | null;
  @Field(() => ReturnMethod) method: ReturnMethod;
  @Field(() => String, { nullable: true, description: 'IN_STORE: the store taking it back (required). MAIL: send it here instead of the routed location.' }) locationCode?: string | null;
}

@InputType()
class GradedUnitsInput {
  @Field() sku: string;
  @Field(() => ReturnCondition) condition: ReturnCondition;
  @Field(() => Int) quantity: number;
}

@InputType()
class ReceiveReturnInput {
  @Field(() => ID) returnId: string;
  @Field(() => String, { nullable: true, description: 'Where it is received; defaults to the return\'s location.' }) locationCode?: string | null;
  @Field(() => [GradedUnitsInput]) units: GradedUnitsInput[];
}

@InputType()
class ReturnInTransitInput {
  @Field(() => ID) returnId: string;
  @Field(() => String, { nullable: true }) carrier?: string | null;
  @Field(() => String, { nullable: true }) trackingNumber?: string | null;
}

@ObjectType()
class ReturnLineView {
  @Field(() => ID) id: string;
  @Field() sku: string;
  @Field(() => Int) quantity: number;
  @Field(() => Int) receivedQuantity: number;
  @Field(() => Int, { description: 'Units the return was closed without (closeReturn); returnable again on the order.' }) notReceivedQuantity: number;
  @Field(() => String, { nullable: true, description: 'Why they were not received (the closing reason).' }) notReceivedReason: string | null;
  @Field(() => String, { nullable: true }) unitPrice: string | null;
  @Field(() => String, { nullable: true }) reason: string | null;
  @Field(() => String, { nullable: true }) exchangeSku: string | null;
}

@ObjectType()
class ReturnedUnits {
  @Field() sku: string;
  @Field(() => ReturnCondition) condition: Condition;
  @Field(() => Int) quantity: number;
  @Field() locationCode: string;
  @Field() receivedAt: Date;
  @Field({ description: 'RESELLABLE units: back in available stock.' }) restocked: boolean;
}

@ObjectType()
class ReturnRoutingCandidate {
  @Field() code: string;
  @Field(() => Float, { nullable: true }) distanceKm: number | null;
  @Field(() => Float, { description: 'How short the location is of the returned SKUs, 0..1.' }) need: number;
  @Field(() => Float, { description: 'Open returns ÷ capacity, 0..1.' }) load: number;
  @Field(() => Float, { nullable: true }) score?: number;
  @Field(() => String, { nullable: true }) excluded?: string;
}

@ObjectType()
class ReturnRouting {
  @Field() locationCode: string;
  @Field(() => [ReturnRoutingCandidate]) candidates: ReturnRoutingCandidate[];
}

@ObjectType({ description: 'A status change of a return.' })
class ReturnEvent {
  @Field(() => String, { nullable: true }) fromStatus: string | null;
  @Field() toStatus: string;
  @Field() actor: string;
  @Field(() => String, { nullable: true }) reason: string | null;
  @Field() at: Date;
}

@ObjectType({ description: 'A return (RMA) against an order.' })
class Return {
  @Field(() => ID) id: string;
  @Field() rma: string;
  @Field(() => ID) orderId: string;
  @Field({ description: 'REQUESTED, IN_TRANSIT, RECEIVED (partly), COMPLETED or CANCELLED.' }) status: string;
  @Field(() => ReturnMethod) method: Method;
  @Field(() => String, { nullable: true, description: 'Where the goods go (the store, or the routed location for mail).' }) locationCode: string | null;
  @Field(() => String, { nullable: true }) reason: string | null;
  @Field(() => ReturnRouting, { nullable: true, description: 'How a mailed return\'s location was chosen.' }) routing: ReturnRouting | null;
  @Field(() => ID, { nullable: true }) exchangeOrderId: string | null;
  @Field() currency: string;
  @Field(() => String, { nullable: true, description: 'Refunded so far: each receipt refunds the units it brought in (exchanged lines excepted), pushed to the origin channel.' }) refundAmount: string | null;
  @Field(() => Date, { nullable: true, description: 'When the latest refund was recorded.' }) refundedAt: Date | null;
  @Field(() => Date, { nullable: true }) receivedAt: Date | null;
  @Field(() => Date, { nullable: true }) completedAt: Date | null;
  @Field() createdAt: Date;
  @Field(() => [ReturnLineView]) lines: ReturnLineView[];
  @Field(() => [ReturnedUnits]) units: ReturnedUnits[];
  @Field(() => String, { nullable: true, description: 'Set when an operator closed the return with what had been received (closeReturn).' }) closedReason: string | null;
  @Field(() => String, { nullable: true, description: 'Carrier of a mailed return, from the first scan or the 3PL.' }) carrier: string | null;
  @Field(() => String, { nullable: true }) trackingNumber: string | null;
  @Field(() => [ReturnEvent], { description: 'Every status change, oldest first.' }) history: ReturnEvent[];
}

/** INTEGRATION keys act only on orders of the connection they are bound to (as for `order`). */
export async function requireVisibleOrder(services: Services, principal: Principal, orderId: string, field: string): Promise<void> {
  if (principal.role !== Role.INTEGRATION) return;
  const order = await services.orders.get(orderId);
  if (!order || !principal.connectionId || order.connectionId !== principal.connectionId) throw notFound('Order', orderId, field);
}

@Resolver()
export class ReturnsResolver {
  @Query(() => Return, { nullable: true })
  async return(@Arg('id', () => ID) id: string, @Ctx() { services }: GraphQLContext): Promise<Return | null> {
    return services.returns.get(id);
  }

  @Query(() => [Return], { description: 'The returns of an order, oldest first.' })
  returns(@Arg('orderId', () => ID) orderId: string, @Ctx() { services }: GraphQLContext): Promise<Return[]> {
    return services.returns.forOrder(orderId);
  }

  @Mutation(() => Return, { description: 'Return shipped units by mail or at any store that accepts returns; never more than shipped minus already returned.' })
  async createReturn(@Arg('input', () => CreateReturnInput) input: CreateReturnInput, @Ctx() { services, principal, actor }: GraphQLContext): Promise<Return> {
    await requireVisibleOrder(services, principal, input.orderId, 'input.orderId');
    return services.returns.create(input, actor);
  }

  @Mutation(() => Return, { description: 'Receive and grade returned units; RESELLABLE ones go back into stock at the receiving location. Completing the return records the refund.' })
  receiveReturn(@Arg('input', () => ReceiveReturnInput) input: ReceiveReturnInput, @Ctx() { services, actor }: GraphQLContext): Promise<Return> {
    return services.returns.receive(input, actor);
  }

  @Mutation(() => Return, { description: 'Cancel a return nothing of which has been received; its quantities become returnable again.' })
  cancelReturn(@Arg('id', () => ID) id: string, @Ctx() { services, actor }: GraphQLContext): Promise<Return> {
    return services.returns.cancel(id, actor);
  }

  @Mutation(() => Return, { description: 'A mailed return is on its way (the carrier scanned its label): REQUESTED → IN_TRANSIT, keeping carrier and tracking number. Idempotent; a late scan after receipt changes nothing.' })
  async markReturnInTransit(@Arg('input', () => ReturnInTransitInput) input: ReturnInTransitInput, @Ctx() { services, principal, actor }: GraphQLContext): Promise<Return> {
    const ret = await services.returns.get(input.returnId);
    if (ret) await requireVisibleOrder(services, principal, ret.orderId, 'input.returnId');
    return services.returns.markInTransit(input, actor);
  }

  @Mutation(() => Return, { description: 'Close a return whose goods will not all arrive, with what has been received: the rest is marked not received (with the reason) and becomes returnable again; refunds stay those of the receipts. Idempotent; only a RECEIVED return can be closed.' })
  closeReturn(@Arg('returnId', () => ID) returnId: string, @Arg('reason') reason: string, @Ctx() { services, actor }: GraphQLContext): Promise<Return> {
    return services.returns.close(returnId, reason, actor);
  }
}
