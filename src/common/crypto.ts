import { createCipheriv, createDecipheriv, createHash, createHmac, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';

export function sha256Hex(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/** JSON with object keys sorted recursively, so equal values always give equal bytes (for hashes). */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value instanceof Date) return value.toISOString();
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) {
      const v = (value as Record<string, unknown>)[key];
      if (v !== undefined) out[key] = sortKeys(v);
    }
    return out;
  }
  return value;
}

export interface Sealed {
  ciphertext: Buffer;
  iv: Buffer;
  authTag: Buffer;
}

/**
 * AES-256-GCM for personal data at rest. Keys for encryption and for keyed digests are derived
 * separately from the configured master key so one never doubles as the other.
 */
export class DataCipher {
  private readonly encryptionKey: Buffer;
  private readonly digestKey: Buffer;

  constructor(masterKey: Buffer) {
    if (masterKey.length !== 32) throw new Error('the encryption key must be 32 bytes');
    this.encryptionKey = createHmac('sha256', masterKey).update('lethe/encryption').digest();
    this.digestKey = createHmac('sha256', masterKey).update('lethe/digest').digest();
  }

  seal(plaintext: Buffer, associatedData: string): Sealed {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.encryptionKey, iv);
    cipher.setAAD(Buffer.from(associatedData));
    const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    return { ciphertext, iv, authTag: cipher.getAuthTag() };
  }

  /** Throws when the data or its associated data (e.g. the owning row id) were tampered with. */
  open(sealed: Sealed, associatedData: string): Buffer {
    const decipher = createDecipheriv('aes-256-gcm', this.encryptionKey, sealed.iv);
    decipher.setAAD(Buffer.from(associatedData));
    decipher.setAuthTag(sealed.authTag);
    return Buffer.concat([decipher.update(sealed.ciphertext), decipher.final()]);
  }

  /** Keyed digest: lets us compare personal payloads without a guessable plain sha256 of a name. */
  digest(data: string | Buffer): string {
    return createHmac('sha256', this.digestKey).update(data).digest('hex');
  }
}

/** The embedded default: a random key generated on first start and kept beside the data (mode 600). */
export function loadOrCreateKeyFile(file: string, parse: (raw: string) => Buffer): Buffer {
  if (fs.existsSync(file)) return parse(fs.readFileSync(file, 'utf8'));
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const key = randomBytes(32);
  fs.writeFileSync(file, key.toString('base64') + '\n', { mode: 0o600, flag: 'wx' });
  return key;
}
