import { Arg, Ctx, Field, Float, ID, InputType, Int, Mutation, ObjectType, Query, Resolver } from 'type-graphql';
import { FulfillmentMethod } from '../model/enums';
import type { GraphQLContext } from './context';
import { AddressInput, OrderLineInput } from './order.resolver';
import { requireVisibleOrder } from './returns.resolver';

@ObjectType()
class PromisedLine { @Field() sku: string; @Field(() => Int) quantity: number; }

@ObjectType({ description: 'One parcel (or one store hand-over) of a delivery option. For a pickup with a transfer, one per sending location, readyBy when its units are ready at the store.' })
class PromisedShipment {
  @Field() locationCode: string;
  @Field(() => [PromisedLine]) lines: PromisedLine[];
  @Field(() => Float) distanceKm: number;
  @Field({ description: 'ISO time the goods are ready at the location (routing\'s ready-by time).' }) readyBy: string;
  @Field(() => String, { nullable: true, description: 'Local day the carrier collects the parcel (SHIP only).' }) shipDate: string | null;
  @Field() earliestDelivery: string;
  @Field() latestDelivery: string;
}

@ObjectType({ description: 'A way the shopper can get the cart, with its dates and price, as routing would fulfil it now.' })
class DeliveryOption {
  @Field(() => FulfillmentMethod) method: `${FulfillmentMethod}`;
  @Field(() => String, { nullable: true, description: 'SAME_DAY, OVERNIGHT, EXPRESS, STANDARD or ECONOMY (SHIP only).' }) serviceLevel: string | null;
  @Field(() => String, { nullable: true }) carrierServiceCode: string | null;
  @Field(() => String, { nullable: true }) carrier: string | null;
  @Field(() => String, { nullable: true, description: 'The location that fulfils it; null when the cart would ship in several parcels.' }) locationCode: string | null;
  @Field(() => String, { nullable: true }) locationName: string | null;
  @Field(() => Float, { nullable: true }) distanceKm: number | null;
  @Field({ description: 'Local calendar day (YYYY-MM-DD), at the earliest.' }) earliestDelivery: string;
  @Field({ description: 'Local calendar day (YYYY-MM-DD), at the latest.' }) latestDelivery: string;
  @Field({ description: 'ISO time the whole cart is ready (to ship, or for collection).' }) readyBy: string;
  @Field({ description: 'Money as a decimal string.' }) price: string;
  @Field() currency: string;
  @Field(() => Float) co2Kg: number;
  @Field({ description: 'True when the lines would leave from more than one location.' }) split: boolean;
  @Field(() => [PromisedShipment]) shipments: PromisedShipment[];
}

@ObjectType()
class TransitBandView { @Field(() => Float) maxKm: number; @Field(() => Int) minDays: number; @Field(() => Int) maxDays: number; }
@InputType()
class TransitBandInput { @Field(() => Float) maxKm: number; @Field(() => Int) minDays: number; @Field(() => Int) maxDays: number; }
@ObjectType()
class RateBandView { @Field(() => Float) maxKm: number; @Field(() => Float) maxWeightKg: number; @Field(() => Float) price: number; }
@InputType()
class RateBandInput { @Field(() => Float) maxKm: number; @Field(() => Float) maxWeightKg: number; @Field(() => Float) price: number; }

@ObjectType({ description: 'A carrier service level as data: transit days and prices per distance band, emissions factor.' })
class CarrierServiceView {
  @Field() code: string;
  @Field() carrier: string;
  @Field() name: string;
  @Field() serviceLevel: string;
  @Field({ description: 'Local time at the origin after which the carrier collects on the next working day.' }) pickupCutoff: string;
  @Field() saturdayDelivery: boolean;
  @Field(() => [TransitBandView]) transit: TransitBandView[];
  @Field(() => [RateBandView]) rates: RateBandView[];
  @Field(() => Float, { description: 'kg CO₂ per tonne-km.' }) co2KgPerTonneKm: number;
  @Field() currency: string;
  @Field() active: boolean;
}

@InputType()
class CarrierServiceInput {
  @Field() code: string;
  @Field() carrier: string;
  @Field() name: string;
  @Field({ description: 'SAME_DAY, OVERNIGHT, EXPRESS, STANDARD or ECONOMY.' }) serviceLevel: string;
  @Field({ description: 'HH:MM local time at the shipping location.' }) pickupCutoff: string;
  @Field({ defaultValue: false }) saturdayDelivery: boolean;
  @Field(() => [TransitBandInput]) transit: TransitBandInput[];
  @Field(() => [RateBandInput]) rates: RateBandInput[];
  @Field(() => Float, { defaultValue: 0 }) co2KgPerTonneKm: number;
  @Field(() => String, { nullable: true }) currency?: string | null;
  @Field(() => Boolean, { nullable: true }) active?: boolean | null;
}

@ObjectType()
class Holiday { @Field() country: string; @Field() date: string; @Field() name: string; }

@InputType()
class HolidayInput { @Field() country: string; @Field({ description: 'YYYY-MM-DD' }) date: string; @Field() name: string; }

@InputType()
class DeliveryPromiseInput {
  @Field(() => ID) orderId: string;
  @Field(() => String, { nullable: true, description: 'The carrier service of the chosen option (SHIP).' }) carrierServiceCode?: string | null;
  @Field({ description: 'YYYY-MM-DD, as shown to the customer.' }) earliestDelivery: string;
  @Field({ description: 'YYYY-MM-DD, as shown to the customer.' }) latestDelivery: string;
}

@ObjectType({ description: 'What the customer was told, and (after delivery) whether it was kept.' })
class DeliveryPromise {
  @Field(() => ID) orderId: string;
  @Field() method: string;
  @Field(() => String, { nullable: true }) serviceLevel: string | null;
  @Field(() => String, { nullable: true }) carrierServiceCode: string | null;
  @Field() earliestDelivery: string;
  @Field() latestDelivery: string;
  @Field() timeZone: string;
  @Field() promisedAt: Date;
  @Field(() => Date, { nullable: true }) deliveredAt: Date | null;
  @Field(() => String, { nullable: true }) deliveredDate: string | null;
  @Field(() => Boolean, { nullable: true }) kept: boolean | null;
}

@ObjectType()
class PromiseAccuracyByLevel {
  @Field() serviceLevel: string;
  @Field(() => Int) delivered: number;
  @Field(() => Int) kept: number;
  @Field(() => Float, { nullable: true }) keptShare: number | null;
}

@ObjectType({ description: 'Promised versus actual delivery days.' })
class PromiseAccuracy {
  @Field(() => Int) promised: number;
  @Field(() => Int) delivered: number;
  @Field(() => Int) kept: number;
  @Field(() => Int) late: number;
  @Field(() => Float, { nullable: true, description: 'kept ÷ delivered; null before any delivery.' }) keptShare: number | null;
  @Field(() => [PromiseAccuracyByLevel]) byServiceLevel: PromiseAccuracyByLevel[];
}

@Resolver()
export class PromiseResolver {
  @Query(() => [DeliveryOption], { description: 'Every way to get the cart to the destination: each SHIP service level with its dates and price, and PICKUP/CURBSIDE at stores within radiusKm (default 50) that routing would fill, from their own shelf or with a transfer in (readyBy then includes the transfer).' })
  deliveryOptions(
    @Arg('lines', () => [OrderLineInput]) lines: OrderLineInput[],
    @Arg('destination', () => AddressInput) destination: AddressInput,
    @Arg('channel', () => String, { nullable: true }) channel: string | null,
    @Arg('radiusKm', () => Float, { nullable: true }) radiusKm: number | null,
    @Ctx() { services }: GraphQLContext,
  ): Promise<DeliveryOption[]> {
    return services.promise.deliveryOptions({ lines, destination, channel, radiusKm });
  }

  @Query(() => PromiseAccuracy, { description: 'Share of delivered promises kept, over promises delivered (or due) in [from, to).' })
  promiseAccuracy(
    @Arg('from', () => String, { nullable: true, description: 'YYYY-MM-DD' }) from: string | null,
    @Arg('to', () => String, { nullable: true, description: 'YYYY-MM-DD' }) to: string | null,
    @Ctx() { services }: GraphQLContext,
  ): Promise<PromiseAccuracy> {
    return services.promise.accuracy(from, to);
  }

  @Query(() => DeliveryPromise, { nullable: true })
  deliveryPromise(@Arg('orderId', () => ID) orderId: string, @Ctx() { services }: GraphQLContext): Promise<DeliveryPromise | null> {
    return services.promise.promiseFor(orderId);
  }

  @Query(() => [CarrierServiceView])
  carrierServices(@Ctx() { services }: GraphQLContext): Promise<CarrierServiceView[]> {
    return services.promise.carrierServices();
  }

  @Query(() => [Holiday], { description: 'Days carriers neither collect nor deliver, per country.' })
  holidays(
    @Arg('country', () => String, { nullable: true }) country: string | null,
    @Arg('year', () => Int, { nullable: true }) year: number | null,
    @Ctx() { services }: GraphQLContext,
  ): Promise<Holiday[]> {
    return services.promise.holidays(country, year);
  }

  @Mutation(() => CarrierServiceView, { description: 'Create or replace a carrier service by code (set active: false to stop offering it).' })
  upsertCarrierService(@Arg('input', () => CarrierServiceInput) input: CarrierServiceInput, @Ctx() { services }: GraphQLContext): Promise<CarrierServiceView> {
    return services.promise.upsertCarrierService({ ...input, serviceLevel: input.serviceLevel as never });
  }

  @Mutation(() => Holiday)
  upsertHoliday(@Arg('input', () => HolidayInput) input: HolidayInput, @Ctx() { services }: GraphQLContext): Promise<Holiday> {
    return services.promise.upsertHoliday(input.country, input.date, input.name);
  }

  @Mutation(() => Boolean, { description: 'True when the holiday existed.' })
  deleteHoliday(@Arg('country') country: string, @Arg('date') date: string, @Ctx() { services }: GraphQLContext): Promise<boolean> {
    return services.promise.deleteHoliday(country, date);
  }

  @Mutation(() => DeliveryPromise, { description: 'Record what the customer was told for an order; the delivery day is filled in when the order is delivered.' })
  async recordDeliveryPromise(@Arg('input', () => DeliveryPromiseInput) input: DeliveryPromiseInput, @Ctx() { services, principal, actor }: GraphQLContext): Promise<DeliveryPromise> {
    await requireVisibleOrder(services, principal, input.orderId, 'input.orderId');
    return services.promise.recordPromise(input, actor);
  }
}
