export * from './order-generator';
export * from './sandbox-store';
export * from './rate-limits';
export * from './shopify/shopify-sandbox';
export * from './amazon/amazon-sandbox';
export * from './magento/magento-sandbox';
