import { z } from 'zod';
import * as yaml from 'js-yaml';

const locationType = z.enum(['WAREHOUSE', 'STORE', 'THREE_PL', 'DROPSHIP_VENDOR', 'MICRO_HUB']);
const method = z.enum(['SHIP', 'PICKUP', 'CURBSIDE']);

// YAML turns unquoted timestamps into Date objects; accept both so ops can write `validFrom: 2025-11-20`.
const instant = z.preprocess(
  (v) => (v instanceof Date ? v.toISOString() : v),
  z.string().refine((s) => !Number.isNaN(Date.parse(s)), { message: 'must be an ISO date or date-time' }),
);

const locationSelector = {
  locationTypes: z.array(locationType).optional(),
  locationCodes: z.array(z.string().min(1)).optional(),
};

export const filterSpecSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('maxDistance'), km: z.number().positive() }).strict(),
  z
    .object({
      type: z.literal('productRestriction'),
      productTag: z.string().min(1),
      allowedLocationTypes: z.array(locationType).min(1),
    })
    .strict(),
  z
    .object({
      type: z.literal('locationType'),
      allow: z.array(locationType).optional(),
      deny: z.array(locationType).optional(),
      whenOrderTag: z.string().optional(),
      methods: z.array(method).optional(),
    })
    .strict(),
  z
    .object({
      type: z.literal('tag'),
      whenOrderTag: z.string().optional(),
      requireLocationTags: z.array(z.string()).optional(),
      excludeLocationTags: z.array(z.string()).optional(),
    })
    .strict(),
  z.object({ type: z.literal('excludeLocations'), codes: z.array(z.string().min(1)) }).strict(),
]);

export const rankerSpecSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('distance'), weight: z.number().min(0) }).strict(),
  z.object({ type: z.literal('cost'), weight: z.number().min(0) }).strict(),
  z.object({ type: z.literal('co2'), weight: z.number().min(0) }).strict(),
  z.object({ type: z.literal('priority'), weight: z.number().min(0) }).strict(),
  z
    .object({ type: z.literal('stock'), weight: z.number().min(0), mode: z.enum(['balance', 'clear']).default('balance') })
    .strict(),
  z
    .object({ type: z.literal('locationType'), weight: z.number().min(0), order: z.array(locationType).min(1) })
    .strict(),
]);

export const capacityRuleSchema = z
  .object({
    ...locationSelector,
    maxOrdersPerDay: z.number().int().min(0).optional(),
    maxLinesPerDay: z.number().int().min(0).optional(),
  })
  .strict();

export const shippingRateTableSchema = z
  .object({
    ...locationSelector,
    zones: z.array(z.object({ name: z.string().min(1), maxKm: z.number().positive() }).strict()).min(1),
    rates: z
      .array(z.object({ zone: z.string().min(1), maxWeightKg: z.number().positive(), price: z.number().min(0) }).strict())
      .min(1),
  })
  .strict()
  .superRefine((t, ctx) => {
    const names = new Set(t.zones.map((zn) => zn.name));
    t.rates.forEach((r, i) => {
      if (!names.has(r.zone)) ctx.addIssue({ code: 'custom', path: ['rates', i, 'zone'], message: `unknown zone "${r.zone}"` });
    });
  });

export const ruleSetSchema = z
  .object({
    id: z.string().min(1),
    version: z.number().int().min(1),
    name: z.string().min(1),
    status: z.enum(['DRAFT', 'PUBLISHED']),
    publishedAt: instant.optional(),
    publishedBy: z.string().optional(),
    validFrom: instant.optional(),
    validTo: instant.optional(),
    /** Among several published rule sets valid at the same instant, the highest priority wins. */
    priority: z.number().int().default(0),
    filters: z.array(filterSpecSchema).default([]),
    rankers: z.array(rankerSpecSchema).default([{ type: 'distance', weight: 1 }]),
    splitPolicy: z.enum(['NEVER', 'ALLOW', 'MINIMIZE']).default('ALLOW'),
    maxShipments: z.number().int().min(1).default(3),
    maxDistanceKm: z.number().positive().optional(),
    capacityRules: z.array(capacityRuleSchema).default([]),
    shippingRates: z.array(shippingRateTableSchema).default([]),
    defaultWeightKg: z.number().positive().default(1),
    pickup: z
      .object({
        allowTransfer: z.boolean().default(true),
        transferKmPerDay: z.number().positive().default(500),
        transferHandlingHours: z.number().min(0).default(24),
      })
      .strict()
      .default({ allowTransfer: true, transferKmPerDay: 500, transferHandlingHours: 24 }),
  })
  .strict()
  .superRefine((r, ctx) => {
    if (r.validFrom && r.validTo && Date.parse(r.validFrom) >= Date.parse(r.validTo)) {
      ctx.addIssue({ code: 'custom', path: ['validTo'], message: 'must be after validFrom' });
    }
    if (r.rankers.length > 0 && r.rankers.every((k) => k.weight === 0)) {
      ctx.addIssue({ code: 'custom', path: ['rankers'], message: 'at least one ranker needs a weight above 0' });
    }
  });

export type RuleSet = z.output<typeof ruleSetSchema>;
export type RuleSetInput = z.input<typeof ruleSetSchema>;
export type FilterSpec = z.output<typeof filterSpecSchema>;
export type RankerSpec = z.output<typeof rankerSpecSchema>;
export type CapacityRule = z.output<typeof capacityRuleSchema>;
export type ShippingRateTable = z.output<typeof shippingRateTableSchema>;

export interface RuleSetIssue {
  /** Dotted path with indices, e.g. "filters[2].km"; "" for the root. */
  path: string;
  message: string;
}

export class RuleSetValidationError extends Error {
  constructor(
    readonly issues: RuleSetIssue[],
    readonly source?: string,
  ) {
    super(
      `Invalid rule set${source ? ` in ${source}` : ''}:\n` +
        issues.map((i) => `  - ${i.path || '(root)'}: ${i.message}`).join('\n'),
    );
    this.name = 'RuleSetValidationError';
  }
}

function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) {
    if (typeof p === 'number') out += `[${p}]`;
    else out += out ? `.${String(p)}` : String(p);
  }
  return out;
}

/** Validates an already-parsed object (from GraphQL input, a JSON column, ...) and fills defaults. */
export function parseRuleSet(input: unknown, source?: string): RuleSet {
  const result = ruleSetSchema.safeParse(input);
  if (!result.success) {
    throw new RuleSetValidationError(
      result.error.issues.map((i) => ({ path: formatPath(i.path), message: i.message })),
      source,
    );
  }
  return result.data;
}

/**
 * Parses rule-set text. `format` defaults from the file name (".yaml"/".yml" → YAML) or, without one, tries JSON
 * first; YAML is a superset of JSON so either works for JSON text, but JSON errors are clearer.
 */
export function loadRuleSet(text: string, opts: { format?: 'json' | 'yaml'; fileName?: string } = {}): RuleSet {
  const format =
    opts.format ?? (opts.fileName && /\.ya?ml$/i.test(opts.fileName) ? 'yaml' : opts.fileName ? 'json' : undefined);
  let data: unknown;
  try {
    if (format === 'json') data = JSON.parse(text);
    else if (format === 'yaml') data = yaml.load(text);
    else {
      try {
        data = JSON.parse(text);
      } catch {
        data = yaml.load(text);
      }
    }
  } catch (e) {
    throw new RuleSetValidationError([{ path: '', message: `cannot parse: ${(e as Error).message}` }], opts.fileName);
  }
  return parseRuleSet(data, opts.fileName);
}

/** A sensible default: nearest in-stock location, oversize and hazmat only from warehouses, split when needed. */
export const DEFAULT_RULE_SET: RuleSet = parseRuleSet({
  id: 'default',
  version: 1,
  name: 'Default: nearest in-stock location',
  status: 'PUBLISHED',
  filters: [
    { type: 'productRestriction', productTag: 'oversize', allowedLocationTypes: ['WAREHOUSE'] },
    { type: 'productRestriction', productTag: 'hazmat', allowedLocationTypes: ['WAREHOUSE'] },
  ],
  rankers: [
    { type: 'cost', weight: 2 },
    { type: 'distance', weight: 1 },
    { type: 'priority', weight: 0.5 },
  ],
  splitPolicy: 'MINIMIZE',
  maxShipments: 3,
});
