import http from 'node:http';
import { ApolloServer, type ApolloServerPlugin, type GraphQLRequestContext } from '@apollo/server';
import { ApolloServerPluginCacheControlDisabled } from '@apollo/server/plugin/disabled';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { expressMiddleware } from '@as-integrations/express5';
import cors from 'cors';
import express, { type NextFunction, type Request, type Response } from 'express';
import { GraphQLError, parse, validate, type GraphQLSchema } from 'graphql';
import { CloseCode } from 'graphql-ws';
import { useServer } from 'graphql-ws/use/ws';
import WebSocket, { WebSocketServer } from 'ws';
import { migrationsApplied } from './db/data-source';
import { renderMetrics } from './metrics';
import { DomainError } from './errors';
import type { Services } from './services';
import { createContext, type GraphQLContext } from './schema/context';
import { buildHubSchema } from './schema/build-schema';
import { formatError, formatGraphQLErrors } from './schema/format-error';
import { createSharedSubscribe, deliverFramesTo } from './schema/shared-subscribe';
import { guardOperation, type GuardResult } from './security/guard';
import { RateLimiter } from './security/rate-limiter';
import { redact } from './security/audit-log';
import type { Principal } from './security/roles';

export interface Hub {
  url: string;
  port: number;
  schema: GraphQLSchema;
  close(): Promise<void>;
}

const MAX_SUBSCRIPTIONS_PER_SOCKET = 50;
/** Bytes a socket may have waiting to be written before its subscriptions are ended as too slow (~10,000 events). */
const MAX_BUFFERED_BYTES = 2 * 1024 * 1024;
/** How long a socket's API key counts as live before a delivery re-checks it (the authenticator caches 30 s). */
const KEY_RECHECK_MS = 5_000;

const rateLimited = (retryAfter: number) => new GraphQLError(`rate limit exceeded; retry in ${retryAfter} s`, {
  extensions: { code: 'RATE_LIMITED', retryAfter, http: { status: 429, headers: new Map([['retry-after', String(retryAfter)]]) } },
});

/**
 * Checks every operation before any resolver runs (limits, then the permission table), writes every mutation
 * to the audit log, and honours an `Idempotency-Key` header on mutations (same key and body → the stored response).
 */
function securityPlugin(services: Services): ApolloServerPlugin<GraphQLContext> {
  const { config } = services;
  return {
    async requestDidStart() {
      const started = Date.now();
      let guarded: GuardResult | undefined;
      let idempotency: { scope: string; key: string } | undefined;
      const audit = async (ctx: GraphQLRequestContext<GraphQLContext>, outcome: 'OK' | 'ERROR' | 'REJECTED', errors: readonly GraphQLError[] = []) => {
        if (!guarded || guarded.type !== 'Mutation') return;
        await ctx.contextValue.services.audit.record({
          principal: ctx.contextValue.principal, operationName: ctx.operationName, fields: guarded.fields,
          variables: ctx.request.variables, outcome, errorCodes: errors.map((e) => String(e.extensions?.code ?? 'INTERNAL_SERVER_ERROR')),
        });
      };
      return {
        async didResolveOperation(ctx) {
          const operation = ctx.operation!; // always set once the operation is resolved
          const mutation = operation.operation === 'mutation';
          try {
            guarded = guardOperation(ctx.schema, ctx.document, ctx.operationName, ctx.request.variables, ctx.contextValue.principal,
              { limits: config.limits, anonymousAvailability: config.anonymousAvailability });
          } catch (err) {
            if (mutation) {
              guarded = { operation, type: 'Mutation', fields: operation.selectionSet.selections.map((s) => ('name' in s && s.name ? s.name.value : '?')) };
              await audit(ctx, 'REJECTED', [err as GraphQLError]);
            }
            throw err;
          }
        },
        async responseForOperation(ctx) {
          const key = ctx.request.http?.headers.get('idempotency-key');
          if (!key || ctx.operation?.operation !== 'mutation') return null;
          const scope = `api:${ctx.contextValue.principal.actor}`;
          let claim;
          try {
            claim = await ctx.contextValue.services.idempotency.claim<{ data?: Record<string, unknown> | null }>(scope, key, { query: ctx.request.query, variables: ctx.request.variables ?? {} });
          } catch (err) {
            if (!(err instanceof DomainError)) throw err;
            // Reused with another body, or still running: answered here, nothing executes.
            ctx.response.http.status = err.code === 'CONFLICT' ? 409 : 422;
            return { http: ctx.response.http, body: { kind: 'single', singleResult: { errors: [{ message: err.message, extensions: { code: err.code } }] } } };
          }
          if (claim.claimed) {
            idempotency = { scope, key };
            return null;
          }
          ctx.response.http.headers.set('idempotent-replayed', 'true');
          return { http: ctx.response.http, body: { kind: 'single', singleResult: { data: claim.result.data ?? null } } };
        },
        async willSendResponse(ctx) {
          const result = ctx.response.body.kind === 'single' ? ctx.response.body.singleResult : undefined;
          const errors = (ctx.errors ?? []) as GraphQLError[];
          services.log.info({
            operation: ctx.operationName ?? undefined, fields: guarded?.fields, actor: ctx.contextValue.principal?.actor,
            ms: Date.now() - started, errors: errors.length ? errors.map((e) => e.extensions?.code ?? 'INTERNAL_SERVER_ERROR') : undefined,
          }, 'graphql');
          services.log.debug({ variables: redact(ctx.request.variables ?? {}) }, 'graphql variables');
          if (idempotency) {
            // Store what the caller saw; an internal error frees the key so that a retry runs again.
            if (errors.some((e) => !e.extensions?.code || e.extensions.code === 'INTERNAL_SERVER_ERROR')) await ctx.contextValue.services.idempotency.abandon(idempotency.scope, idempotency.key);
            else await ctx.contextValue.services.idempotency.complete(idempotency.scope, idempotency.key, { data: result?.data ?? null });
          }
          if (guarded?.type === 'Mutation') await audit(ctx, errors.length ? 'ERROR' : 'OK', errors);
        },
      };
    },
  };
}

/** express + Apollo (HTTP) and graphql-ws (WebSocket) on one http.Server, same port and path. */
export async function startHub(services: Services, opts: { port: number; host?: string }): Promise<Hub> {
  const { log, config, auth } = services;
  await services.events.start();
  const schema = await buildHubSchema(services.events.pubSub);
  const limiter = new RateLimiter(config.rateLimitPerMinute);
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', 'loopback');
  const httpServer = http.createServer(app);

  const wsServer = new WebSocketServer({ server: httpServer, path: '/graphql', maxPayload: config.maxBodyBytes });
  type Extra = { principal?: Principal; bearer?: string; subscriptions: number; keyLiveUntil?: number; held?: string[] };
  // One check at a time per API key, however many sockets use it.
  const keyChecks = new Map<string, Promise<boolean>>();
  const recheckKey = (principal: Principal, bearer: string): Promise<boolean> => {
    const keyId = principal.keyId!;
    let check = keyChecks.get(keyId);
    if (!check) {
      check = auth.stillValid(principal, bearer).finally(() => keyChecks.delete(keyId));
      keyChecks.set(keyId, check);
    }
    return check;
  };
  /**
   * Writes a subscription event to its socket as a graphql-ws `next` frame around the payload serialised once for
   * every subscriber of the same shape (shared-subscribe.ts). A key revoked while its socket is open gets no further
   * events: when the socket's key is due for a re-check, its frames wait (in order) for the answer.
   */
  const sendNext = (extra: Partial<Extra> & { socket: WebSocket }, id: string, payloadJson: string): void => {
    const { socket } = extra;
    if (socket.readyState !== WebSocket.OPEN) return; // closing: graphql-ws ends its subscriptions
    if (socket.bufferedAmount > MAX_BUFFERED_BYTES) throw new Error('subscriber fell too far behind; subscribe again');
    const frame = `{"id":${JSON.stringify(id)},"type":"next","payload":${payloadJson}}`;
    if (extra.held) { extra.held.push(frame); return; }
    const principal = extra.principal!;
    if (!principal.keyId || Date.now() < (extra.keyLiveUntil ?? 0)) { socket.send(frame); return; }
    extra.held = [frame];
    recheckKey(principal, extra.bearer ?? '').then((live) => {
      const held = extra.held ?? [];
      extra.held = undefined;
      if (!live) { socket.close(CloseCode.Forbidden, 'Forbidden'); return; }
      extra.keyLiveUntil = Date.now() + KEY_RECHECK_MS;
      for (const f of held) if (socket.readyState === WebSocket.OPEN) socket.send(f);
    }, (err) => {
      log.warn({ err }, 'could not re-check a subscriber\'s key; closing its socket');
      socket.close(CloseCode.InternalServerError, 'Internal server error');
    });
  };
  const wsCleanup = useServer<Record<string, unknown>, Extra>({
    schema,
    subscribe: createSharedSubscribe({
      serialize: (result) => JSON.stringify(result.errors?.length ? { ...result, errors: formatGraphQLErrors(result.errors as never, log) } : result),
    }),
    onConnect: async (ctx) => {
      ctx.extra.subscriptions = 0;
      try {
        const bearer = ctx.connectionParams?.authorization ?? ctx.connectionParams?.Authorization;
        const principal = await auth.fromAuthorization(bearer);
        if (!principal.role) return false; // graphql-ws closes with 4403 Forbidden
        ctx.extra.principal = principal;
        ctx.extra.bearer = String(bearer).replace(/^Bearer\s+/i, '');
        return true;
      } catch {
        return false;
      }
    },
    onSubscribe: async (ctx, id, payload) => {
      const principal = ctx.extra.principal!;
      const wait = limiter.take(principal.actor);
      if (wait) return [rateLimited(wait)];
      if ((ctx.extra.subscriptions ?? 0) >= MAX_SUBSCRIPTIONS_PER_SOCKET) {
        return [new GraphQLError(`at most ${MAX_SUBSCRIPTIONS_PER_SOCKET} operations per socket`, { extensions: { code: 'RATE_LIMITED' } })];
      }
      let document;
      try {
        document = parse(payload.query, { maxTokens: config.limits.maxTokens });
      } catch (err) {
        return [err instanceof GraphQLError ? new GraphQLError(err.message, { extensions: { code: 'GRAPHQL_PARSE_FAILED' } }) : new GraphQLError('unparseable query')];
      }
      const invalid = validate(schema, document);
      if (invalid.length) return invalid.map((e) => new GraphQLError(e.message, { nodes: e.nodes, extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } }));
      try {
        guardOperation(schema, document, payload.operationName, payload.variables ?? undefined, principal, { limits: config.limits, anonymousAvailability: false });
      } catch (err) {
        return [err as GraphQLError];
      }
      ctx.extra.subscriptions = (ctx.extra.subscriptions ?? 0) + 1;
      if (principal.keyId && ctx.extra.keyLiveUntil === undefined) ctx.extra.keyLiveUntil = Date.now() + KEY_RECHECK_MS; // just authenticated
      const contextValue = deliverFramesTo(createContext(services, principal), (json) => sendNext(ctx.extra, id, json));
      return { schema, document, operationName: payload.operationName, variableValues: payload.variables, contextValue };
    },
    onComplete: (ctx) => { ctx.extra.subscriptions = Math.max(0, (ctx.extra.subscriptions ?? 1) - 1); },
    onNext: async (ctx, _id, _payload, _args, result) => {
      // Results that do not go as direct frames (sendNext). A key revoked while its socket is open gets no further events.
      if (ctx.extra.principal && !(await auth.stillValid(ctx.extra.principal, ctx.extra.bearer ?? ''))) {
        ctx.extra.socket.close(CloseCode.Forbidden, 'Forbidden');
        return { data: null, errors: [{ message: 'credential revoked', extensions: { code: 'UNAUTHENTICATED' } }] };
      }
      if ('errors' in result && result.errors?.length) return { ...result, errors: formatGraphQLErrors(result.errors as never, log) as never };
      return result;
    },
    onError: (_ctx, _id, _payload, errors) => formatGraphQLErrors(errors, log) as never,
  }, wsServer);

  const apollo = new ApolloServer<GraphQLContext>({
    schema,
    introspection: config.introspection,
    includeStacktraceInErrorResponses: process.env.NODE_ENV === 'development',
    stopOnTerminationSignals: false, // main.ts owns shutdown: HTTP drain, then the pool, then Postgres
    csrfPrevention: true,
    allowBatchedHttpRequests: false,
    parseOptions: { maxTokens: config.limits.maxTokens },
    formatError: (formatted, error) => formatError(formatted, error, log),
    plugins: [
      ApolloServerPluginDrainHttpServer({ httpServer }),
      // No cache hints are used; Apollo's default cache-control plugin would wrap every field's resolver and run a
      // hook per resolved field (~2 ms of CPU for a 1,000-object availability answer).
      ApolloServerPluginCacheControlDisabled(),
      { async serverWillStart() { return { async drainServer() { await wsCleanup.dispose(); } }; } },
      securityPlugin(services),
    ],
  });
  await apollo.start();

  app.use((req, _res, next) => {
    log.debug({ req: { method: req.method, url: req.url, headers: req.headers } }, 'http request'); // authorization is redacted by the logger
    next();
  });
  app.get('/healthz', (_req, res) => { res.json({ status: 'ok' }); });
  // Webhooks need the raw body for their signatures: mounted outside the JSON parser of /graphql.
  app.use(services.sync.webhooks.router());
  // Operational gauges for a Prometheus scraper; any API key (or JWT) may read them, never anonymous callers.
  app.get('/metrics', async (req, res) => {
    try {
      const principal = await auth.fromAuthorization(req.headers.authorization);
      if (!principal.role) { res.status(401).type('text/plain').send('metrics need "Authorization: Bearer <key>"\n'); return; }
      res.type('text/plain; version=0.0.4').send(await renderMetrics(services.dataSource));
    } catch (err) {
      if (err instanceof GraphQLError) { res.status(401).type('text/plain').send(`${err.message}\n`); return; }
      log.warn({ err }, 'metrics scrape failed');
      res.status(503).type('text/plain').send('metrics unavailable\n');
    }
  });
  app.get('/readyz', async (_req, res) => {
    try {
      await services.dataSource.query('SELECT 1');
      const migrated = await migrationsApplied(services.dataSource);
      res.status(migrated ? 200 : 503).json({ status: migrated ? 'ready' : 'migrations pending', database: 'ok' });
    } catch (err) {
      log.warn({ err }, 'readiness check failed');
      res.status(503).json({ status: 'unavailable', database: 'unreachable' });
    }
  });
  app.use('/graphql',
    cors({ origin: config.corsOrigins, credentials: false, maxAge: 600 }),
    express.json({ limit: config.maxBodyBytes }),
    expressMiddleware(apollo, {
      context: async ({ req }) => {
        const principal = await auth.fromAuthorization(req.headers.authorization);
        const wait = limiter.take(principal.role ? principal.actor : `ip:${req.ip}`);
        if (wait) throw rateLimited(wait);
        return createContext(services, principal);
      },
    }));
  // Body-parser failures (oversized or malformed JSON) answer in GraphQL's error shape, not an HTML page.
  app.use((err: { status?: number; type?: string; message?: string }, _req: Request, res: Response, next: NextFunction) => {
    if (res.headersSent) return next(err);
    const status = err.status ?? 500;
    const code = status === 413 ? 'PAYLOAD_TOO_LARGE' : status === 400 ? 'BAD_REQUEST' : 'INTERNAL_SERVER_ERROR';
    if (status >= 500) log.error({ err }, 'HTTP error');
    res.status(status).json({ errors: [{ message: status >= 500 ? 'Internal server error' : err.message ?? 'bad request', extensions: { code } }] });
  });

  await new Promise<void>((resolve, reject) => {
    httpServer.once('error', reject);
    httpServer.listen(opts.port, opts.host ?? '0.0.0.0', () => resolve());
  });
  const port = (httpServer.address() as { port: number }).port;
  const shownHost = !opts.host || opts.host === '0.0.0.0' ? 'localhost' : opts.host;
  return {
    url: `http://${shownHost}:${port}/graphql`,
    port,
    schema,
    async close() {
      await apollo.stop(); // drains HTTP connections and the WebSocket server
      await services.events.stop();
    },
  };
}
