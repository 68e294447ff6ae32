import type { DataSource } from 'typeorm';
import { badInput } from '../errors';
import { Product } from '../model/product.entity';

export interface ProductData {
  sku: string; name: string; barcode?: string | null; weightGrams?: number | null; lengthMm?: number | null;
  widthMm?: number | null; heightMm?: number | null; attributes?: Record<string, unknown> | null; tags?: string[] | null; active?: boolean | null;
}

export function validateProduct(d: ProductData): void {
  if (typeof d.sku !== 'string' || !d.sku.trim() || d.sku.length > 100 || /\s/.test(d.sku)) throw badInput('input.sku', 'must be 1 to 100 characters without spaces');
  if (!d.name?.trim() || d.name.length > 500) throw badInput('input.name', 'must be 1 to 500 characters');
  for (const k of ['weightGrams', 'lengthMm', 'widthMm', 'heightMm'] as const) {
    const v = d[k];
    if (v != null && !(Number.isInteger(v) && v >= 0 && v <= 100_000_000)) throw badInput(`input.${k}`, 'must be a non-negative whole number');
  }
  if (d.attributes != null && (typeof d.attributes !== 'object' || Array.isArray(d.attributes))) throw badInput('input.attributes', 'must be a JSON object');
  (d.tags ?? []).forEach((t, i) => {
    if (!t.trim() || t.length > 64) throw badInput(`input.tags[${i}]`, 'must be 1 to 64 characters');
  });
}

export class ProductService {
  constructor(private readonly ds: DataSource) {}

  async upsert(d: ProductData): Promise<Product> {
    validateProduct(d);
    const repo = this.ds.getRepository(Product);
    const current = await repo.findOne({ where: { sku: d.sku } });
    const next = repo.create({
      ...(current ?? { attributes: {}, tags: [], active: true }),
      ...Object.fromEntries(Object.entries(d).filter(([, v]) => v !== undefined)),
      attributes: d.attributes ?? current?.attributes ?? {},
      tags: [...new Set(d.tags ?? current?.tags ?? [])],
      active: d.active ?? current?.active ?? true,
    });
    await repo.upsert(next as never, { conflictPaths: ['sku'] });
    return repo.findOneOrFail({ where: { sku: d.sku } });
  }
}
