import type { RuleSet } from './rule-set.schema';

export function isInWindow(rs: Pick<RuleSet, 'validFrom' | 'validTo'>, now: Date): boolean {
  const t = now.getTime();
  if (rs.validFrom && t < Date.parse(rs.validFrom)) return false;
  if (rs.validTo && t >= Date.parse(rs.validTo)) return false;
  return true;
}

/**
 * The rule set in force at `now`: among PUBLISHED rule sets whose window [validFrom, validTo) contains `now`,
 * a windowed one beats an open-ended one (a peak rule set overrides the everyday one while it lasts), then higher
 * `priority`, then the later `validFrom`, then the higher version, then the id. Returns undefined when none applies.
 */
export function selectRuleSet(ruleSets: readonly RuleSet[], now: Date): RuleSet | undefined {
  const live = ruleSets.filter((rs) => rs.status === 'PUBLISHED' && isInWindow(rs, now));
  const windowed = (rs: RuleSet) => (rs.validFrom || rs.validTo ? 1 : 0);
  live.sort(
    (a, b) =>
      windowed(b) - windowed(a) ||
      b.priority - a.priority ||
      (b.validFrom ? Date.parse(b.validFrom) : -Infinity) - (a.validFrom ? Date.parse(a.validFrom) : -Infinity) ||
      b.version - a.version ||
      (a.id < b.id ? -1 : a.id > b.id ? 1 : 0),
  );
  return live[0];
}
