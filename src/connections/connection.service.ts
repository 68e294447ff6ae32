import cron from 'node-cron';
import type { DataSource } from 'typeorm';
import { z } from 'zod';
import { openConnection, type Connection as VendorConnection, type OpenOptions } from '../connectors/sdk/connector';
import { ConnectorError } from '../connectors/sdk/connector-error';
import { rows } from '../db/sql';
import { DomainError, badInput, notFound, pgCode, PG } from '../errors';
import { SecretBox } from '../security/secret-box';
import { isUuid } from '../orders/order.service';
import { ConnectorRegistry } from './connector-registry';

/** The schedule key that runs the stock reconciliation (channel stock vs hub ATP) instead of a stream. */
export const RECONCILE_SCHEDULE = 'reconcile';

/** Hub-side settings of a connection: how its vendor's world maps onto the hub's. */
export const connectionSettingsSchema = z.object({
  /** Channel name stamped on orders from this connection (default: the connection's name). */
  channel: z.string().min(1).max(100).optional(),
  /** Vendor location id → hub location code (stock streams, pickup orders, shipments). */
  locations: z.record(z.string(), z.string()).optional(),
  /** Hub location codes whose fulfilment orders are sent to this connection (3PL, ERP warehouse, store POS). */
  fulfilsLocations: z.array(z.string()).optional(),
  /** Stock pushed to this channel: each vendor location gets the summed ATP of these hub locations (all when omitted). */
  pushStock: z.array(z.object({ externalLocationId: z.string().min(1), locationCodes: z.array(z.string()).optional() })).optional(),
  /** sku → vendor item id, for vendors whose stock writes need one (Shopify inventory items). */
  itemIds: z.record(z.string(), z.string()).optional(),
  /** How old a webhook delivery may be (vendors redeliver for hours). */
  webhookToleranceMs: z.number().int().positive().optional(),
}).strict();
export type ConnectionSettings = z.infer<typeof connectionSettingsSchema>;

export interface ConnectionView {
  id: string;
  kind: string;
  name: string;
  config: Record<string, unknown>;
  settings: ConnectionSettings;
  schedules: Record<string, string>;
  enabled: boolean;
  hasCredentials: boolean;
  createdAt: Date;
  updatedAt: Date;
}

export interface ConnectionInput {
  name?: string;
  kind?: string;
  config?: Record<string, unknown>;
  /** Write-only: sealed with the SecretBox, never returned. */
  credentials?: Record<string, unknown>;
  settings?: Record<string, unknown>;
  schedules?: Record<string, string>;
  enabled?: boolean;
}

/** An opened connection: the stored row and a live vendor client with decrypted credentials (never logged). */
export interface OpenedConnection {
  row: ConnectionView;
  vendor: VendorConnection<{ baseUrl?: string; timeoutMs?: number }, unknown>;
  credentials: Record<string, unknown>;
  channel: string;
}

const COLUMNS = `id, kind, name, config, settings, schedules, enabled, credentials_ciphertext IS NOT NULL AS "hasCredentials",
  created_at AS "createdAt", updated_at AS "updatedAt"`;

/** The only writer of connections. Credentials are sealed with SWITCHYARD_MASTER_KEY and decrypted only to open a vendor client. */
export class ConnectionService {
  /** Extra options for every vendor client (tests: fast retries, a virtual clock). */
  openOptions: Omit<OpenOptions, 'config' | 'credentials'> = {};
  private box?: SecretBox;

  constructor(private readonly ds: DataSource, masterKey: string | undefined, readonly registry = new ConnectorRegistry()) {
    if (masterKey) this.box = new SecretBox(masterKey);
  }

  async list(): Promise<ConnectionView[]> {
    return rows<ConnectionView>(this.ds.manager, `SELECT ${COLUMNS} FROM connection ORDER BY name`);
  }

  /** By id or by name. */
  async find(ref: string): Promise<ConnectionView | null> {
    const [row] = await rows<ConnectionView>(this.ds.manager, `SELECT ${COLUMNS} FROM connection WHERE ${isUuid(ref) ? 'id = $1' : 'name = $1'}`, [ref]);
    return row ?? null;
  }

  async require(ref: string, field = 'id'): Promise<ConnectionView> {
    const row = await this.find(ref);
    if (!row) throw notFound('Connection', ref, field);
    return row;
  }

  async create(input: ConnectionInput): Promise<ConnectionView> {
    if (!input.name || !/^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$/.test(input.name)) throw badInput('input.name', 'must be 1-100 letters, digits, ".", "_" or "-"');
    if (!input.kind || !this.registry.get(input.kind)) throw badInput('input.kind', `must be one of ${this.registry.kinds().join(', ')}`);
    const config = input.config ?? {};
    const credentials = input.credentials ?? {};
    this.validateVendor(input.kind, config, credentials);
    const settings = parseSettings(input.settings ?? {});
    const schedules = this.validateSchedules(input.kind, input.schedules ?? {});
    try {
      const [row] = await rows<{ id: string }>(this.ds.manager,
        `INSERT INTO connection (kind, name, config, credentials_ciphertext, settings, schedules, enabled) VALUES ($1,$2,$3,$4,$5,$6,$7) RETURNING id`,
        [input.kind, input.name, JSON.stringify(config), this.seal(credentials), JSON.stringify(settings), JSON.stringify(schedules), input.enabled ?? true]);
      return this.require(row.id);
    } catch (err) {
      if (pgCode(err) === PG.uniqueViolation) throw new DomainError('CONFLICT', `a connection named "${input.name}" already exists`, 'input.name');
      throw err;
    }
  }

  /** Replaces the given parts; credentials, when given, replace the stored ones whole. */
  async update(ref: string, input: ConnectionInput): Promise<ConnectionView> {
    const current = await this.require(ref);
    if (input.kind && input.kind !== current.kind) throw badInput('input.kind', 'cannot change; create a new connection');
    const config = input.config ?? current.config;
    const credentials = input.credentials ?? (await this.credentialsOf(current.id));
    this.validateVendor(current.kind, config, credentials);
    const settings = input.settings ? parseSettings(input.settings) : current.settings;
    const schedules = input.schedules ? this.validateSchedules(current.kind, input.schedules) : current.schedules;
    await rows(this.ds.manager,
      `UPDATE connection SET config = $2, settings = $3, schedules = $4, enabled = coalesce($5, enabled),
              credentials_ciphertext = coalesce($6, credentials_ciphertext), updated_at = now() WHERE id = $1 RETURNING id`,
      [current.id, JSON.stringify(config), JSON.stringify(settings), JSON.stringify(schedules), input.enabled ?? null,
        input.credentials ? this.seal(input.credentials) : null]);
    return this.require(current.id);
  }

  async setEnabled(ref: string, enabled: boolean): Promise<ConnectionView> {
    const current = await this.require(ref);
    await rows(this.ds.manager, `UPDATE connection SET enabled = $2, updated_at = now() WHERE id = $1 RETURNING id`, [current.id, enabled]);
    return this.require(current.id);
  }

  /** Re-seals every stored credential under the first key of SWITCHYARD_MASTER_KEY; returns how many changed. */
  async rotateCredentials(): Promise<number> {
    const box = this.requireBox();
    const all = await rows<{ id: string; sealed: string }>(this.ds.manager, `SELECT id, credentials_ciphertext AS sealed FROM connection WHERE credentials_ciphertext IS NOT NULL`);
    let n = 0;
    for (const r of all) {
      if (!box.needsRotation(r.sealed)) continue;
      await rows(this.ds.manager, `UPDATE connection SET credentials_ciphertext = $2 WHERE id = $1 AND credentials_ciphertext = $3 RETURNING id`, [r.id, box.encrypt(box.decrypt(r.sealed)), r.sealed]);
      n++;
    }
    return n;
  }

  /** Opens a live vendor client. */
  async open(ref: string): Promise<OpenedConnection> {
    const row = await this.require(ref);
    const def = this.registry.get(row.kind);
    if (!def) throw new DomainError('CONFLICT', `connection ${row.name}: no connector of kind "${row.kind}" is installed`);
    const credentials = await this.credentialsOf(row.id);
    const vendor = openConnection(def, { ...this.openOptions, config: row.config, credentials });
    return { row, vendor, credentials, channel: row.settings.channel ?? row.name };
  }

  /**
   * open() for the paths that open a connection again and again (each webhook delivery needs its verifier; each
   * outbox round its vendor client): one statement reads the row with its sealed credentials, and the vendor client
   * opened before is reused while what it is built from (config, sealed credentials) is unchanged, so its rate
   * limiter keeps its state. The row itself is always current: a disabled connection is seen at once. Null when
   * there is no such connection.
   */
  async openCurrent(ref: string): Promise<OpenedConnection | null> {
    const [row] = await rows<ConnectionView & { sealed: string | null; stamp: string }>(this.ds.manager,
      `SELECT ${COLUMNS}, credentials_ciphertext AS sealed, md5(config::text || coalesce(credentials_ciphertext, '')) AS stamp
         FROM connection WHERE ${isUuid(ref) ? 'id = $1' : 'name = $1'}`, [ref], { prepare: true });
    if (!row) return null;
    const { sealed, stamp, ...view } = row;
    const cached = this.opened.get(view.id);
    if (cached && cached.stamp === stamp && cached.options === this.openOptions) return { ...cached.opened, row: view };
    const def = this.registry.get(view.kind);
    if (!def) throw new DomainError('CONFLICT', `connection ${view.name}: no connector of kind "${view.kind}" is installed`);
    const credentials = sealed ? JSON.parse(this.requireBox().decrypt(sealed)) as Record<string, unknown> : {};
    const opened = { row: view, vendor: openConnection(def, { ...this.openOptions, config: view.config, credentials }), credentials, channel: view.settings.channel ?? view.name };
    this.opened.set(view.id, { stamp, options: this.openOptions, opened });
    return opened;
  }

  private readonly opened = new Map<string, { stamp: string; options: ConnectionService['openOptions']; opened: OpenedConnection }>();

  /** One cheap authenticated call; the error message never carries credentials (the SDK redacts auth). */
  async test(ref: string): Promise<{ ok: boolean; error?: string; code?: string }> {
    let opened: OpenedConnection;
    try {
      opened = await this.open(ref);
    } catch (err) {
      if (err instanceof ConnectorError) return { ok: false, error: err.message, code: err.code };
      throw err;
    }
    const r = await opened.vendor.check();
    return r.ok ? { ok: true } : { ok: false, error: r.error.message, code: r.error.code };
  }

  private async credentialsOf(id: string): Promise<Record<string, unknown>> {
    const [r] = await rows<{ sealed: string | null }>(this.ds.manager, `SELECT credentials_ciphertext AS sealed FROM connection WHERE id = $1`, [id]);
    if (!r?.sealed) return {};
    return JSON.parse(this.requireBox().decrypt(r.sealed)) as Record<string, unknown>;
  }

  private seal(credentials: Record<string, unknown>): string | null {
    if (!Object.keys(credentials).length) return null;
    return this.requireBox().encrypt(JSON.stringify(credentials));
  }

  private requireBox(): SecretBox {
    if (!this.box) throw new DomainError('CONFLICT', 'SWITCHYARD_MASTER_KEY is not set: connector credentials cannot be stored or read');
    return this.box;
  }

  /** Opening validates config and credentials against the connector's own schemas (messages name fields, not values). */
  private validateVendor(kind: string, config: Record<string, unknown>, credentials: Record<string, unknown>): void {
    try {
      openConnection(this.registry.get(kind)!, { config, credentials });
    } catch (err) {
      if (err instanceof ConnectorError) throw badInput(/credentials/.test(err.message) ? 'input.credentials' : 'input.config', err.message);
      throw err;
    }
  }

  private validateSchedules(kind: string, schedules: Record<string, string>): Record<string, string> {
    const streams = Object.keys(this.registry.get(kind)!.streams);
    // Besides its streams, a connection that can report its stock may schedule the drift check against the hub's ATP.
    const schedulable = streams.includes('inventory') ? [...streams, RECONCILE_SCHEDULE] : streams;
    for (const [stream, expr] of Object.entries(schedules)) {
      if (!schedulable.includes(stream)) throw badInput(`input.schedules.${stream}`, `${kind} has no stream "${stream}" (schedulable: ${schedulable.join(', ')})`);
      if (typeof expr !== 'string' || !cron.validate(expr)) throw badInput(`input.schedules.${stream}`, `"${expr}" is not a cron expression`);
    }
    return schedules;
  }
}

function parseSettings(raw: Record<string, unknown>): ConnectionSettings {
  const r = connectionSettingsSchema.safeParse(raw);
  if (!r.success) throw badInput('input.settings', r.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; '));
  return r.data;
}
