import { Arg, Args, ArgsType, Ctx, Field, ID, InputType, Int, Mutation, ObjectType, Query, Resolver } from 'type-graphql';
import { GraphQLJSONObject } from 'graphql-scalars';
import { rows } from '../db/sql';
import { Role } from '../security/roles';
import type { ApiKeyInfo } from '../security/api-key.service';
import type { GraphQLContext } from './context';
import { decodeCursor, pageSize, PageInfo, toPage } from './relay';

@ObjectType()
class ApiKey {
  @Field(() => ID) id: string;
  @Field() name: string;
  @Field(() => Role) role: Role;
  @Field({ description: 'The first characters of the key, to recognise it.' }) keyPrefix: string;
  @Field(() => ID, { nullable: true }) connectionId: string | null;
  @Field() createdBy: string;
  @Field() createdAt: Date;
  @Field(() => Date, { nullable: true }) revokedAt: Date | null;
  @Field(() => Date, { nullable: true }) lastUsedAt: Date | null;
}

@ObjectType()
class CreatedApiKey {
  @Field({ description: 'The secret key. It is shown only now; Switchyard stores only its hash.' }) key: string;
  @Field(() => ApiKey) apiKey: ApiKeyInfo;
}

@InputType()
class CreateApiKeyInput {
  @Field() name: string;
  @Field(() => Role) role: Role;
  @Field(() => ID, { nullable: true, description: 'INTEGRATION keys only: restrict the key to this connection\'s orders.' }) connectionId?: string;
}

@ObjectType()
class Whoami {
  @Field() actor: string;
  @Field(() => Role, { nullable: true }) role: Role | null;
}

@ObjectType()
class AuditEntry {
  @Field(() => ID) id: string;
  @Field() at: Date;
  @Field() actor: string;
  @Field(() => String, { nullable: true }) role: string | null;
  @Field(() => String, { nullable: true }) operationName: string | null;
  @Field(() => [String]) fields: string[];
  @Field(() => GraphQLJSONObject, { description: 'Variables as sent, with secret-looking values redacted.' }) variables: Record<string, unknown>;
  @Field() outcome: string;
  @Field(() => [String]) errorCodes: string[];
}

@ObjectType('AuditEntryEdge') class AuditEntryEdge { @Field() cursor: string; @Field(() => AuditEntry) node: AuditEntry; }
@ObjectType('AuditEntryConnection') class AuditEntryConnection { @Field(() => [AuditEntryEdge]) edges: AuditEntryEdge[]; @Field(() => PageInfo) pageInfo: PageInfo; }

@ArgsType()
class AuditLogArgs {
  @Field(() => Int, { nullable: true }) first?: number;
  @Field(() => String, { nullable: true }) after?: string;
  @Field(() => String, { nullable: true }) actor?: string;
  @Field(() => String, { nullable: true, description: 'Only entries that touched this root field, e.g. "placeOrder".' }) field?: string;
}

@Resolver()
export class SecurityResolver {
  @Query(() => Whoami, { description: 'The caller as the API sees it.' })
  whoami(@Ctx() { principal }: GraphQLContext): Whoami {
    return { actor: principal.actor, role: principal.role };
  }

  @Query(() => [ApiKey])
  apiKeys(@Ctx() { services }: GraphQLContext) {
    return services.apiKeys.list();
  }

  @Mutation(() => CreatedApiKey)
  async createApiKey(@Arg('input', () => CreateApiKeyInput) input: CreateApiKeyInput, @Ctx() { services, actor }: GraphQLContext) {
    const { key, info } = await services.apiKeys.create(input, actor);
    return { key, apiKey: info };
  }

  @Mutation(() => ApiKey, { description: 'Revoke a key at once (open subscriptions with it stop within 30 s).' })
  revokeApiKey(@Arg('id', () => ID) id: string, @Ctx() { services }: GraphQLContext) {
    return services.apiKeys.revoke(id);
  }

  @Query(() => AuditEntryConnection, { description: 'Every mutation and every refused one, newest first.' })
  async auditLog(@Args() { first, after, actor, field }: AuditLogArgs, @Ctx() { services }: GraphQLContext) {
    const limit = pageSize(first);
    const [afterId] = (decodeCursor(after, 1) ?? [null]) as [string | null];
    const found = await rows<{ id: string; at: Date; actor: string; role: string | null; operation_name: string | null; fields: string[]; variables: Record<string, unknown>; outcome: string; error_codes: string[] }>(services.dataSource.manager, `
      SELECT * FROM audit_log WHERE ($1::bigint IS NULL OR id < $1) AND ($2::text IS NULL OR actor = $2) AND ($3::text IS NULL OR $3 = ANY(fields))
       ORDER BY id DESC LIMIT $4`, [afterId, actor ?? null, field ?? null, limit + 1]);
    const entries: AuditEntry[] = found.map((r) => ({ id: String(r.id), at: r.at, actor: r.actor, role: r.role, operationName: r.operation_name, fields: r.fields, variables: r.variables, outcome: r.outcome, errorCodes: r.error_codes }));
    return toPage(entries, limit, (e) => [e.id]);
  }
}
