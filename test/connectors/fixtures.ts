import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { join } from 'node:path';
import { parseJsonSafe } from '../../src/connectors/sdk/json';

/** The shared, read-only vendor fixtures (see ../shared/fixtures/SOURCES.md). */
export const FIXTURES = join(__dirname, '..', '..', '..', 'shared', 'fixtures');

export function fixtureText(rel: string): string {
  const buf = readFileSync(join(FIXTURES, rel));
  return rel.endsWith('.gz') ? gunzipSync(buf).toString('utf8') : buf.toString('utf8');
}

/** Parsed with the connectors' own big-int-safe parser, as vendor responses are. */
export function fixtureJson<T = any>(rel: string): T { // eslint-disable-line @typescript-eslint/no-explicit-any
  return parseJsonSafe(fixtureText(rel)) as T;
}
