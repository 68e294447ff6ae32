import { Arg, Args, ArgsType, Ctx, Field, Float, InputType, Int, Mutation, ObjectType, Query, Resolver } from 'type-graphql';
import { GraphQLJSONObject } from 'graphql-scalars';
import { LocationCapability, LocationType } from '../model/enums';
import { Location } from '../model/location.entity';
import { Product } from '../model/product.entity';
import type { GraphQLContext } from './context';
import { connectionOf, decodeCursor, pageSize, toPage } from './relay';

@ObjectType() class LocationConnection extends connectionOf(Location, 'Location') {}
@ObjectType() class ProductConnection extends connectionOf(Product, 'Product') {}

@ArgsType()
class PageArgs {
  @Field(() => Int, { nullable: true }) first?: number;
  @Field(() => String, { nullable: true }) after?: string;
}

@InputType()
class LocationFilter {
  @Field(() => [LocationType], { nullable: true }) types?: LocationType[];
  @Field(() => LocationCapability, { nullable: true }) capability?: LocationCapability;
  @Field({ nullable: true }) active?: boolean;
}

@InputType()
class ProductFilter {
  @Field(() => [String], { nullable: true }) skus?: string[];
  @Field({ nullable: true, description: 'Products carrying this tag.' }) tag?: string;
  @Field({ nullable: true, description: 'Case-insensitive match on SKU or name.' }) search?: string;
}

@InputType()
export class UpsertLocationInput {
  @Field() code: string;
  @Field() name: string;
  @Field(() => LocationType) type: LocationType;
  @Field({ nullable: true }) addressLine1?: string;
  @Field({ nullable: true }) city?: string;
  @Field({ nullable: true }) region?: string;
  @Field({ nullable: true }) postalCode?: string;
  @Field() country: string;
  @Field(() => Float) latitude: number;
  @Field(() => Float) longitude: number;
  @Field({ nullable: true, description: 'IANA time zone, e.g. "America/Chicago".' }) timeZone?: string;
  @Field(() => [LocationCapability], { nullable: true }) capabilities?: LocationCapability[];
  @Field({ nullable: true }) active?: boolean;
  @Field(() => Int, { nullable: true }) dailyOrderCapacity?: number;
  @Field(() => Int, { nullable: true }) dailyLineCapacity?: number;
  @Field(() => Int, { nullable: true }) processingHours?: number;
  @Field({ nullable: true, description: 'Local time HH:MM.' }) orderCutoff?: string;
  @Field(() => Int, { nullable: true }) priority?: number;
  @Field({ nullable: true, description: 'Decimal string.' }) shipBaseCost?: string;
  @Field({ nullable: true, description: 'Decimal string.' }) shipCostPerKm?: string;
}

@InputType()
export class UpsertProductInput {
  @Field() sku: string;
  @Field() name: string;
  @Field({ nullable: true }) barcode?: string;
  @Field(() => Int, { nullable: true }) weightGrams?: number;
  @Field(() => Int, { nullable: true }) lengthMm?: number;
  @Field(() => Int, { nullable: true }) widthMm?: number;
  @Field(() => Int, { nullable: true }) heightMm?: number;
  @Field(() => GraphQLJSONObject, { nullable: true }) attributes?: Record<string, unknown>;
  @Field(() => [String], { nullable: true }) tags?: string[];
  @Field({ nullable: true }) active?: boolean;
}

@Resolver()
export class CatalogResolver {
  @Query(() => LocationConnection)
  async locations(@Args() { first, after }: PageArgs, @Arg('filter', () => LocationFilter, { nullable: true }) filter: LocationFilter | undefined, @Ctx() { services }: GraphQLContext) {
    const limit = pageSize(first);
    const [afterCode] = decodeCursor(after, 1) ?? [null];
    const qb = services.dataSource.getRepository(Location).createQueryBuilder('l').orderBy('l.code', 'ASC').limit(limit + 1);
    if (afterCode != null) qb.andWhere('l.code > :afterCode', { afterCode });
    if (filter?.types?.length) qb.andWhere('l.type IN (:...types)', { types: filter.types });
    if (filter?.capability) qb.andWhere(':cap = ANY(l.capabilities)', { cap: filter.capability });
    if (filter?.active != null) qb.andWhere('l.active = :active', { active: filter.active });
    return toPage(await qb.getMany(), limit, (l) => [l.code]);
  }

  @Query(() => Location, { nullable: true })
  location(@Arg('code') code: string, @Ctx() { services }: GraphQLContext) {
    return services.dataSource.getRepository(Location).findOne({ where: { code } });
  }

  @Query(() => ProductConnection)
  async products(@Args() { first, after }: PageArgs, @Arg('filter', () => ProductFilter, { nullable: true }) filter: ProductFilter | undefined, @Ctx() { services }: GraphQLContext) {
    const limit = pageSize(first);
    const [afterSku] = decodeCursor(after, 1) ?? [null];
    const qb = services.dataSource.getRepository(Product).createQueryBuilder('p').orderBy('p.sku', 'ASC').limit(limit + 1);
    if (afterSku != null) qb.andWhere('p.sku > :afterSku', { afterSku });
    if (filter?.skus?.length) qb.andWhere('p.sku IN (:...skus)', { skus: filter.skus });
    if (filter?.tag) qb.andWhere(':tag = ANY(p.tags)', { tag: filter.tag });
    if (filter?.search) qb.andWhere('(p.sku ILIKE :q OR p.name ILIKE :q)', { q: `%${filter.search.replace(/[\\%_]/g, (c) => `\\${c}`)}%` });
    return toPage(await qb.getMany(), limit, (p) => [p.sku]);
  }

  @Query(() => Product, { nullable: true })
  product(@Arg('sku') sku: string, @Ctx() { services }: GraphQLContext) {
    return services.dataSource.getRepository(Product).findOne({ where: { sku } });
  }

  @Mutation(() => Location)
  upsertLocation(@Arg('input', () => UpsertLocationInput) input: UpsertLocationInput, @Ctx() { services }: GraphQLContext) {
    return services.locations.upsert(input);
  }

  @Mutation(() => Location, { description: 'Switch a location on or off for routing and availability.' })
  setLocationActive(@Arg('code') code: string, @Arg('active') active: boolean, @Ctx() { services }: GraphQLContext) {
    return services.locations.setActive(code, active);
  }

  @Mutation(() => Product)
  upsertProduct(@Arg('input', () => UpsertProductInput) input: UpsertProductInput, @Ctx() { services }: GraphQLContext) {
    return services.products.upsert(input);
  }
}

