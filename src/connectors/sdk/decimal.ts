/** Exact decimal-string arithmetic for money (scaled BigInt; no floats). */
export function addDecimal(a: string, b: string): string {
  const scale = Math.max(frac(a), frac(b));
  const sum = toScaled(a, scale) + toScaled(b, scale);
  return fromScaled(sum, scale);
}

export function sumDecimal(values: string[], zero = '0.00'): string {
  return values.reduce((acc, v) => addDecimal(acc, v), zero);
}

function frac(s: string): number {
  const i = s.indexOf('.');
  return i < 0 ? 0 : s.length - i - 1;
}

function toScaled(s: string, scale: number): bigint {
  if (!/^-?\d+(\.\d+)?$/.test(s)) throw new Error(`not a decimal: ${JSON.stringify(s)}`);
  const neg = s.startsWith('-');
  const [int, f = ''] = (neg ? s.slice(1) : s).split('.');
  const v = BigInt(int + f.padEnd(scale, '0'));
  return neg ? -v : v;
}

function fromScaled(v: bigint, scale: number): string {
  const neg = v < 0n;
  const digits = (neg ? -v : v).toString().padStart(scale + 1, '0');
  const out = scale ? `${digits.slice(0, -scale)}.${digits.slice(-scale)}` : digits;
  return neg ? `-${out}` : out;
}
