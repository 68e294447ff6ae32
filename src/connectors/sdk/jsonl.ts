import { ConnectorError } from './connector-error';

export interface JsonlLine {
  text: string;
  /** Byte offset of the line's first byte in the whole file. */
  offset: number;
  /** Byte offset just past the line's newline: where the next line starts. */
  next: number;
}

/**
 * Splits a byte stream into lines without holding more than one line and one chunk, keeping exact byte offsets so
 * a reader can resume at a line boundary (HTTP Range). `startOffset` is the file offset of the stream's first byte.
 */
export async function* jsonlLines(
  body: AsyncIterable<Buffer | string>,
  opts: { startOffset?: number; maxLineBytes?: number; operation?: string; stream?: string } = {},
): AsyncGenerator<JsonlLine> {
  const maxLine = opts.maxLineBytes ?? 32 * 1024 * 1024;
  let offset = opts.startOffset ?? 0;
  let carry = Buffer.alloc(0);
  for await (const chunk of body) {
    const buf = carry.length ? Buffer.concat([carry, Buffer.from(chunk)]) : Buffer.from(chunk);
    let from = 0;
    for (let nl = buf.indexOf(0x0a, from); nl !== -1; nl = buf.indexOf(0x0a, from)) {
      const end = nl > from && buf[nl - 1] === 0x0d ? nl - 1 : nl;
      yield { text: buf.toString('utf8', from, end), offset: offset + from, next: offset + nl + 1 };
      from = nl + 1;
    }
    offset += from;
    carry = buf.subarray(from);
    if (carry.length > maxLine) {
      throw new ConnectorError({ code: 'MALFORMED_PAYLOAD', message: `line at byte ${offset} is longer than ${maxLine} bytes`, retryable: false, operation: opts.operation, stream: opts.stream });
    }
  }
  if (carry.length) yield { text: carry.toString('utf8'), offset, next: offset + carry.length };
}
