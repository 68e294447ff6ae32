// Public surface of the routing domain. Services import from here, not from individual files.
export * from './types';
export { route, reroute, consumeDecision, ownPlanningInputs, takeDecision, RoutingInputError, type RouteOptions } from './route';
export {
  ruleSetSchema,
  parseRuleSet,
  loadRuleSet,
  RuleSetValidationError,
  DEFAULT_RULE_SET,
  type RuleSetInput,
  type RuleSetIssue,
} from './rule-set.schema';
export { selectRuleSet, isInWindow } from './rule-set.select';
export { explainDecision } from './explain';
export { packDecision, expandDecision, candidateCodes, type StoredDecision, type LocationLabel } from './trace-store';
export type { Candidate, LocationFilter, Ranker, RoutingContext, WeightedRanker, FilterVerdict } from './strategy';
export { remainingCapacity } from './capacity';
export { haversineKm } from './geo';
export { localDate } from './time';
export { optimize, type OptimizeOptions, type OptimizeResult, type OptimizeStatus } from './optimize';
export { parseInstance, evaluatePlan, prepare, instanceSchema, InstanceError } from './optimize.instance';
export type { OptimizeInstance, OptimizeInstanceInput, OrderPlan, PlanShipment, PlanLine } from './optimize.instance';
export { runOptimizeCommand } from './optimize.command';
export { mergeOrders, mergeKey, splitMergedDecision, type MergeGroup, type MergeOptions } from './merge';
