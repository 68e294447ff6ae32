import type { DataSource, EntityManager } from 'typeorm';
import { rows } from '../db/sql';
import { DomainError, badInput, notFound } from '../errors';
import { DEFAULT_RULE_SET, RuleSetValidationError, parseRuleSet, selectRuleSet, type RuleSet } from '../routing';

export interface StoredRuleSet { id: string; version: number; name: string; status: 'DRAFT' | 'PUBLISHED' | 'RETIRED'; definition: RuleSet; createdBy: string; createdAt: Date; publishedBy: string | null; publishedAt: Date | null }

interface Row { id: string; version: number; name: string; status: StoredRuleSet['status']; definition: RuleSet; created_by: string; created_at: Date; published_by: string | null; published_at: Date | null }
const toStored = (r: Row): StoredRuleSet => ({ id: r.id, version: r.version, name: r.name, status: r.status, definition: r.definition, createdBy: r.created_by, createdAt: r.created_at, publishedBy: r.published_by, publishedAt: r.published_at });

/**
 * Routing rule sets as versioned data. Saving creates the next DRAFT version; publishing makes one version the
 * published one for its id (the previous published version is retired in the same transaction). Routing uses,
 * at each instant, the published rule set whose time window contains it (highest priority first), else the
 * built-in default.
 */
export class RuleSetService {
  constructor(private readonly ds: DataSource) {}

  async saveDraft(definition: unknown, actor: string): Promise<StoredRuleSet> {
    if (typeof definition !== 'object' || definition === null || Array.isArray(definition)) throw badInput('definition', 'must be a JSON object');
    const { id } = definition as { id?: unknown };
    if (typeof id !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/.test(id)) throw badInput('definition.id', 'must be 1-64 letters, digits, "_", "." or "-"');
    return this.ds.transaction(async (em) => {
      // Serialise versioning per id.
      await rows(em, `SELECT pg_advisory_xact_lock(hashtext('routing_rule_set:' || $1))`, [id]);
      const [{ next }] = await rows<{ next: number }>(em, `SELECT coalesce(max(version), 0) + 1 AS next FROM routing_rule_set WHERE id = $1`, [id]);
      let parsed: RuleSet;
      try {
        parsed = parseRuleSet({ ...(definition as object), version: next, status: 'DRAFT', publishedAt: undefined, publishedBy: undefined });
      } catch (err) {
        if (err instanceof RuleSetValidationError) {
          const first = err.issues[0];
          throw new DomainError('BAD_USER_INPUT', err.message, `definition${first?.path ? `.${first.path}` : ''}`, { issues: err.issues });
        }
        throw err;
      }
      const [row] = await rows<Row>(em, `INSERT INTO routing_rule_set (id, version, name, status, definition, created_by) VALUES ($1, $2, $3, 'DRAFT', $4, $5) RETURNING *`,
        [id, next, parsed.name, JSON.stringify(parsed), actor]);
      return toStored(row);
    });
  }

  async publish(id: string, version: number, actor: string): Promise<StoredRuleSet> {
    return this.ds.transaction(async (em) => {
      await rows(em, `SELECT pg_advisory_xact_lock(hashtext('routing_rule_set:' || $1))`, [id]);
      const [target] = await rows<Row>(em, `SELECT * FROM routing_rule_set WHERE id = $1 AND version = $2 FOR UPDATE`, [id, version]);
      if (!target) throw notFound('Rule set', `${id} v${version}`, 'version');
      if (target.status !== 'DRAFT') throw new DomainError('INVALID_TRANSITION', `rule set ${id} v${version} is ${target.status}; only a DRAFT can be published`, 'version');
      await rows(em, `UPDATE routing_rule_set SET status = 'RETIRED' WHERE id = $1 AND status = 'PUBLISHED'`, [id]);
      const now = new Date();
      const definition = { ...target.definition, status: 'PUBLISHED', publishedAt: now.toISOString(), publishedBy: actor };
      const [row] = await rows<Row>(em, `UPDATE routing_rule_set SET status = 'PUBLISHED', published_by = $3, published_at = $4, definition = $5 WHERE id = $1 AND version = $2 RETURNING *`,
        [id, version, actor, now, JSON.stringify(definition)]);
      return toStored(row);
    });
  }

  async list(): Promise<StoredRuleSet[]> {
    return (await rows<Row>(this.ds.manager, `SELECT * FROM routing_rule_set ORDER BY id, version DESC`)).map(toStored);
  }

  /** The rule set routing applies at `now`. */
  async active(em: EntityManager, now: Date): Promise<RuleSet> {
    const published = await rows<{ definition: RuleSet }>(em, `SELECT definition FROM routing_rule_set WHERE status = 'PUBLISHED'`, [], { prepare: true });
    return selectRuleSet(published.map((p) => p.definition), now) ?? DEFAULT_RULE_SET;
  }
}
