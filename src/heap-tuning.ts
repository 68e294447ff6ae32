import { setFlagsFromString } from 'node:v8';

/**
 * V8 heap settings for a long-running hub, applied on import: import this module first in an entry point.
 *
 * Allocation-site pretenuring is off. V8 watches the object literals of hot code, and when nearly all that one site
 * made survived a young-generation collection it allocates that site's objects straight into the old generation from
 * then on, with no way back. A hub's start-up (module loading, the schema, the first pool connections), or an idle
 * spell while a bulk load runs in the database, can make a request path's sites look long-lived. From then on every
 * request's short-lived rows went to the old generation: each scavenge promoted ~13 MB, mark-compacts ran every
 * ~1 s, and the freshly mapped pages faulted (~10 µs a page on a VM). Measured on the availability bench: in about
 * half of the runs, scavenges averaged 35–40 ms instead of 2 ms, and p99 rose from ~4 to 20–35 ms at the service.
 * With pretenuring off, that never happened in 11 runs, and the hub's steady state was otherwise unchanged. Request
 * objects die young; the rare long-lived ones (caches, the schema) are copied once more, which costs nothing
 * measurable.
 *
 * This flag is read when V8 makes each pretenuring decision, so setting it at start-up takes effect. Heap sizes are
 * fixed when the isolate is created, so they stay command-line flags (see `npm start`).
 */
setFlagsFromString('--no-allocation-site-pretenuring');
