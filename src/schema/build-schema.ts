import { createPubSub } from '@graphql-yoga/subscription';
import { buildSchema } from 'type-graphql';
import type { GraphQLSchema } from 'graphql';
import type { PubSub } from 'type-graphql';
import { CatalogResolver } from './catalog.resolver';
import { InventoryResolver } from './inventory.resolver';
import { FulfillmentOrderResolver, OrderResolver } from './order.resolver';
import { RoutingResolver } from './routing.resolver';
import { SecurityResolver } from './security.resolver';
import { SyncResolver } from './sync.resolver';
import { PromiseResolver } from './promise.resolver';
import { ReturnsResolver } from './returns.resolver';

export const RESOLVERS = [CatalogResolver, InventoryResolver, OrderResolver, FulfillmentOrderResolver, RoutingResolver, SecurityResolver, SyncResolver, PromiseResolver, ReturnsResolver] as const;

/**
 * The one GraphQL schema. Input is validated by the services (which name the offending field), not by
 * class-validator. Without a pub/sub (printing the schema, tests) subscriptions get a local one.
 */
export function buildHubSchema(pubSub: PubSub = createPubSub()): Promise<GraphQLSchema> {
  return buildSchema({ resolvers: RESOLVERS, pubSub, validate: false });
}
