import { ClassType, Field, Int, ObjectType } from 'type-graphql';
import { badInput } from '../errors';

@ObjectType()
export class PageInfo {
  @Field() hasNextPage: boolean;
  @Field(() => String, { nullable: true }) endCursor: string | null;
}

export interface Page<T> { edges: { cursor: string; node: T }[]; pageInfo: PageInfo; totalCount?: number }

/** Declares `<Name>Connection` and `<Name>Edge` for a node type (Relay cursor connections). */
export function connectionOf<T extends object>(node: ClassType<T>, name: string) {
  @ObjectType(`${name}Edge`)
  class Edge {
    @Field() cursor: string;
    @Field(() => node) node: T;
  }
  @ObjectType(`${name}Connection`)
  class Connection {
    @Field(() => [Edge]) edges: Edge[];
    @Field(() => PageInfo) pageInfo: PageInfo;
  }
  return Connection;
}

export const MAX_PAGE = 200;

export function pageSize(first: number | null | undefined, fallback = 50): number {
  if (first == null) return fallback;
  if (!Number.isInteger(first) || first < 1 || first > MAX_PAGE) throw badInput('first', `must be between 1 and ${MAX_PAGE}`);
  return first;
}

/** Cursors are opaque to clients: base64url of the keyset values of the last row. */
export function encodeCursor(values: unknown[]): string {
  return Buffer.from(JSON.stringify(values)).toString('base64url');
}

export function decodeCursor(cursor: string | null | undefined, arity: number): unknown[] | undefined {
  if (cursor == null) return undefined;
  try {
    const values = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(values) && values.length === arity) return values;
  } catch {
    // fall through
  }
  throw badInput('after', 'is not a cursor returned by this API');
}

/** Builds a page from `limit + 1` fetched rows. */
export function toPage<T>(fetched: T[], limit: number, cursorOf: (t: T) => unknown[]): Page<T> {
  const nodes = fetched.slice(0, limit);
  const edges = nodes.map((node) => ({ cursor: encodeCursor(cursorOf(node)), node }));
  return { edges, pageInfo: { hasNextPage: fetched.length > limit, endCursor: edges.at(-1)?.cursor ?? null } };
}
