/**
 * Next-page helpers. A stream's `fetchPage` returns `next` as an opaque string (saved in the stream state, so a
 * sync can resume mid-window); these turn each vendor's pagination style into that string, or `null` at the end.
 */

/** GraphQL connections (`pageInfo { hasNextPage endCursor }`). */
export function graphqlCursorNext(pageInfo: { hasNextPage?: boolean; endCursor?: string | null } | undefined | null): string | null {
  return pageInfo?.hasNextPage && pageInfo.endCursor ? pageInfo.endCursor : null;
}

/** RFC 8288 `Link` header: the URL of `rel="next"`, used as the next request's absolute path. */
export function linkHeaderNext(link: string | undefined): string | null {
  if (!link) return null;
  for (const part of link.split(',')) {
    const m = /<([^>]+)>\s*;(.*)/.exec(part.trim());
    if (m && /rel="?next"?/i.test(m[2])) return m[1];
  }
  return null;
}

/** Token pagination (SP-API `nextToken` / `paginationToken`). Empty strings mean the end. */
export function nextTokenNext(token: string | undefined | null): string | null {
  return token ? token : null;
}

/**
 * Offset pagination with a total count (Magento `searchCriteria[currentPage]` + `total_count`). Stops on the
 * count, not on an empty page: Magento returns the last page again when asked past the end.
 */
export function offsetNext(p: { page: number; pageSize: number; totalCount: number; received: number }): string | null {
  if (p.received === 0) return null;
  return p.page * p.pageSize < p.totalCount ? String(p.page + 1) : null;
}

/**
 * Cursor links in the body (ShipBob `next`: a URL or an absolute path with the cursor in its query). The link is
 * used as the next request's path, as the vendor gave it; empty or missing means the end.
 */
export function bodyLinkNext(next: string | undefined | null): string | null {
  return typeof next === 'string' && next.trim() !== '' ? next.trim() : null;
}
