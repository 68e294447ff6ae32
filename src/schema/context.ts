import type { Services } from '../services';
import { createLoaders, type Loaders } from './loaders';
import type { Principal } from '../security/roles';

export interface GraphQLContext {
  services: Services;
  principal: Principal;
  /** Who is acting, recorded on every change: `key:<id>`, `jwt:<sub>`, `admin:bootstrap`. */
  actor: string;
  loaders: Loaders;
}

export function createContext(services: Services, principal: Principal): GraphQLContext {
  return { services, principal, actor: principal.actor, loaders: createLoaders(services.dataSource) };
}
