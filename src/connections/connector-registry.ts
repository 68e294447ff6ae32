import type { ConnectorDefinition } from '../connectors/sdk/connector';
import { amazonConnector } from '../connectors/amazon/amazon.connector';
import { magentoConnector } from '../connectors/magento/magento.connector';
import { odooConnector } from '../connectors/odoo/odoo.connector';
import { shipbobConnector } from '../connectors/shipbob/shipbob.connector';
import { shopifyConnector } from '../connectors/shopify/shopify.connector';
import { squareConnector } from '../connectors/square/square.connector';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyConnector = ConnectorDefinition<any, any>;

/** Where each connector keeps its webhook signing secret inside its credentials. */
const WEBHOOK_SECRET_FIELD: Record<string, string> = { shopify: 'webhookSecret', shipbob: 'webhookSecret', square: 'webhookSignatureKey' };

/** kind → connector definition. The hub knows these six; tests and plugins may register more. */
export class ConnectorRegistry {
  private readonly defs = new Map<string, AnyConnector>();

  constructor(defs: AnyConnector[] = [shopifyConnector, amazonConnector, magentoConnector, odooConnector, squareConnector, shipbobConnector]) {
    for (const d of defs) this.register(d);
  }

  register(def: AnyConnector, webhookSecretField?: string): void {
    this.defs.set(def.kind, def);
    if (webhookSecretField) WEBHOOK_SECRET_FIELD[def.kind] = webhookSecretField;
  }

  get(kind: string): AnyConnector | undefined {
    return this.defs.get(kind);
  }

  kinds(): string[] {
    return [...this.defs.keys()].sort();
  }

  webhookSecret(kind: string, credentials: Record<string, unknown>): string | undefined {
    const v = credentials[WEBHOOK_SECRET_FIELD[kind] ?? 'webhookSecret'];
    return typeof v === 'string' && v ? v : undefined;
  }
}
