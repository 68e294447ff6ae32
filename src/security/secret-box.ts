import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

/**
 * Encrypts connector credentials at rest with AES-256-GCM (random 96-bit nonce, 128-bit tag; the key id is
 * authenticated as associated data). SWITCHYARD_MASTER_KEY holds one or more keys, `id:secret,id:secret`: the
 * first encrypts, all decrypt, so a new key is rolled out by putting it first, re-encrypting (`rotate`), then
 * removing the old one — with no downtime. A secret is 32 bytes as base64 or hex, or any passphrase of 32+
 * characters (hashed to a key).
 */
export class SecretBox {
  private readonly keys: Map<string, Buffer>;
  private readonly currentId: string;

  constructor(masterKeys: string) {
    const entries = masterKeys.split(',').map((s) => s.trim()).filter(Boolean).map((entry, i) => {
      const at = entry.indexOf(':');
      const [id, secret] = at > 0 ? [entry.slice(0, at), entry.slice(at + 1)] : [`k${i + 1}`, entry];
      if (!/^[A-Za-z0-9_-]{1,32}$/.test(id)) throw new Error(`SWITCHYARD_MASTER_KEY: key id "${id}" must be 1-32 letters, digits, "_" or "-"`);
      return [id, toKey(secret)] as const;
    });
    if (!entries.length) throw new Error('SWITCHYARD_MASTER_KEY is empty');
    this.keys = new Map(entries);
    if (this.keys.size !== entries.length) throw new Error('SWITCHYARD_MASTER_KEY: key ids must be unique');
    this.currentId = entries[0][0];
  }

  encrypt(plaintext: string): string {
    const nonce = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.keys.get(this.currentId)!, nonce);
    cipher.setAAD(Buffer.from(this.currentId));
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final(), cipher.getAuthTag()]);
    return `v1.${this.currentId}.${nonce.toString('base64url')}.${body.toString('base64url')}`;
  }

  /** Throws (without echoing the input) if the value was tampered with or its key is not configured. */
  decrypt(sealed: string): string {
    const parts = sealed.split('.');
    if (parts.length !== 4 || parts[0] !== 'v1') throw new Error('not a sealed secret');
    const [, id, nonceText, bodyText] = parts;
    const key = this.keys.get(id);
    if (!key) throw new Error(`secret sealed with key "${id}", which is not in SWITCHYARD_MASTER_KEY`);
    const nonce = Buffer.from(nonceText, 'base64url');
    const body = Buffer.from(bodyText, 'base64url');
    if (nonce.length !== 12 || body.length < 16) throw new Error('sealed secret is malformed');
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, nonce);
      decipher.setAAD(Buffer.from(id));
      decipher.setAuthTag(body.subarray(body.length - 16));
      return Buffer.concat([decipher.update(body.subarray(0, body.length - 16)), decipher.final()]).toString('utf8');
    } catch {
      throw new Error('sealed secret failed authentication (tampered, or the wrong key)');
    }
  }

  /** Whether a sealed value should be re-encrypted under the current key. */
  needsRotation(sealed: string): boolean {
    return sealed.split('.')[1] !== this.currentId;
  }
}

function toKey(secret: string): Buffer {
  if (/^[0-9a-fA-F]{64}$/.test(secret)) return Buffer.from(secret, 'hex');
  const b64 = Buffer.from(secret, 'base64');
  if (b64.length === 32 && /^[A-Za-z0-9+/_-]+=*$/.test(secret)) return b64;
  if (secret.length < 32) throw new Error('SWITCHYARD_MASTER_KEY: each key must be 32 bytes (hex or base64) or a passphrase of at least 32 characters');
  return createHash('sha256').update(secret, 'utf8').digest();
}
