import { Arg, Ctx, Field, Float, ID, Int, Mutation, ObjectType, Query, Resolver } from 'type-graphql';
import { GraphQLJSONObject } from 'graphql-scalars';
import { rows } from '../db/sql';
import { candidateCodes, expandDecision, explainDecision, type LocationLabel, type StoredDecision } from '../routing';
import type { StoredRuleSet } from '../rules/rule-set.service';
import type { GraphQLContext } from './context';

@ObjectType()
class RoutedLine { @Field() sku: string; @Field(() => Int) quantity: number; }

@ObjectType()
class RoutedShipment {
  @Field() locationCode: string;
  @Field() kind: string;
  @Field(() => [RoutedLine]) lines: RoutedLine[];
  @Field(() => Float) distanceKm: number;
  @Field(() => Float) estimatedCost: number;
  @Field(() => Float) co2Kg: number;
  @Field() readyBy: string;
}

@ObjectType()
class UnfilledLineView { @Field() sku: string; @Field(() => Int) quantity: number; @Field() reason: string; }

@ObjectType()
class RoutingCandidate {
  @Field() locationCode: string;
  @Field() locationType: string;
  @Field(() => Float) distanceKm: number;
  @Field(() => String, { nullable: true, description: 'Why the location was excluded (filter code), if it was.' }) excludedBy: string | null;
  @Field(() => Float, { nullable: true }) score: number | null;
  @Field(() => Int, { nullable: true }) rank: number | null;
}

@ObjectType({ description: 'How an order was routed: the plan, every candidate and why, and the same in plain words.' })
class RoutingDecision {
  @Field(() => ID) orderId: string;
  @Field() status: string;
  @Field() ruleSetId: string;
  @Field(() => Int) ruleSetVersion: number;
  @Field() decidedAt: string;
  @Field(() => [String]) excludedLocations: string[];
  @Field(() => [RoutedShipment]) shipments: RoutedShipment[];
  @Field(() => [UnfilledLineView]) unfilled: UnfilledLineView[];
  @Field(() => [RoutingCandidate]) candidates: RoutingCandidate[];
  @Field({ description: 'The decision explained for a store manager.' }) explanation: string;
}

@ObjectType()
class RoutingRuleSet {
  @Field() id: string;
  @Field(() => Int) version: number;
  @Field() name: string;
  @Field() status: string;
  @Field(() => GraphQLJSONObject) definition: Record<string, unknown>;
  @Field() createdBy: string;
  @Field() createdAt: Date;
  @Field(() => String, { nullable: true }) publishedBy: string | null;
  @Field(() => Date, { nullable: true }) publishedAt: Date | null;
}

const ruleSetView = (r: StoredRuleSet): RoutingRuleSet => ({ ...r, definition: r.definition as unknown as Record<string, unknown> });

@Resolver()
export class RoutingResolver {
  @Query(() => RoutingDecision, { nullable: true, description: 'The latest routing decision for an order (null if it was never routed).' })
  async explainRouting(@Arg('orderId', () => ID) orderId: string, @Ctx() { services }: GraphQLContext): Promise<RoutingDecision | null> {
    await services.orders.require(orderId, 'orderId');
    const em = services.dataSource.manager;
    const [row] = await rows<{ decision: StoredDecision; excluded_locations: string[] }>(em,
      `SELECT decision, excluded_locations FROM routing_decision WHERE order_id = $1 ORDER BY id DESC LIMIT 1`, [orderId]);
    if (!row) return null;
    // Stored decisions name their candidate locations by code only; names and types come from the network.
    const labels = await rows<LocationLabel & { code: string }>(em, `SELECT code, name, type FROM location WHERE code = ANY($1)`, [candidateCodes(row.decision)]);
    const d = expandDecision(row.decision, new Map(labels.map((l) => [l.code, l])));
    return {
      orderId, status: d.status, ruleSetId: d.trace.ruleSetId, ruleSetVersion: d.trace.ruleSetVersion, decidedAt: d.trace.decidedAt,
      excludedLocations: row.excluded_locations, shipments: d.shipments, unfilled: d.unfilled,
      candidates: d.trace.candidates.map((c) => ({ locationCode: c.code, locationType: c.type, distanceKm: c.distanceKm, excludedBy: c.excluded?.code ?? null, score: c.score ?? null, rank: c.rank ?? null })),
      explanation: explainDecision(d),
    };
  }

  @Query(() => [RoutingRuleSet], { description: 'Every version of every rule set, newest version first.' })
  async routingRuleSets(@Ctx() { services }: GraphQLContext) {
    return (await services.ruleSets.list()).map(ruleSetView);
  }

  @Mutation(() => RoutingRuleSet, { description: 'Save a rule set definition (JSON, see docs/routing.md) as its next DRAFT version.' })
  async saveRoutingRuleSet(@Arg('definition', () => GraphQLJSONObject) definition: Record<string, unknown>, @Ctx() { services, actor }: GraphQLContext) {
    return ruleSetView(await services.ruleSets.saveDraft(definition, actor));
  }

  @Mutation(() => RoutingRuleSet, { description: 'Publish a DRAFT version; the previously published version of that rule set is retired.' })
  async publishRoutingRuleSet(@Arg('id') id: string, @Arg('version', () => Int) version: number, @Ctx() { services, actor }: GraphQLContext) {
    return ruleSetView(await services.ruleSets.publish(id, version, actor));
  }
}
