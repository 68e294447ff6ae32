/**
 * A person's name as vendors that keep first and last apart want it (Shopify's `firstName`/`lastName`, Magento's
 * `firstname`/`lastname`): cut at the last space, so "Bob van Norman" is "Bob van" and "Norman". A single word is a
 * last name only.
 */
export function splitPersonName(name: string | null | undefined): { first?: string; last?: string } {
  const n = (name ?? '').trim();
  if (!n) return {};
  const cut = n.lastIndexOf(' ');
  return cut > 0 ? { first: n.slice(0, cut), last: n.slice(cut + 1) } : { last: n };
}
