import { createCipheriv, createDecipheriv, createHash, createHmac, createPrivateKey, createPublicKey, generateKeyPairSync, KeyObject, randomBytes, sign, verify } from 'node:crypto';
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

/**
 * Writes `content` to `file` (mode 600) unless it exists, and returns what the file holds. Written
 * beside it first and linked into place, so two processes starting at once (the API and a worker)
 * agree on one key and neither reads a half-written file.
 */
function createOnce(file: string, content: string | Buffer): Buffer {
  if (fs.existsSync(file)) return fs.readFileSync(file);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const staging = `${file}.${process.pid}.${randomBytes(4).toString('hex')}`;
  fs.writeFileSync(staging, content, { mode: 0o600, flag: 'wx' });
  try {
    fs.linkSync(staging, file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  } finally {
    fs.rmSync(staging, { force: true });
  }
  return fs.readFileSync(file);
}

/** The embedded default: a random key generated on first start and kept beside the data (mode 600). */
export function loadOrCreateKeyFile(file: string, parse: (raw: string) => Buffer): Buffer {
  return parse(createOnce(file, randomBytes(32).toString('base64') + '\n').toString('utf8'));
}

/** The Ed25519 key that signs documents leaving the service: created on first start beside the data (mode 600). */
export function loadOrCreateSigningKey(file: string): KeyObject {
  const pem = fs.existsSync(file) ? fs.readFileSync(file) : createOnce(file, generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }));
  return createPrivateKey(pem);
}

export interface DocumentSignature {
  algorithm: 'Ed25519';
  /** sha256 of the public key (SPKI DER), to tell keys apart after a rotation. */
  publicKeySha256: string;
  /** base64 Ed25519 signature over the canonical JSON of the document without its `signature`. */
  value: string;
}

export function publicKeyPem(key: KeyObject): string {
  return createPublicKey(key).export({ type: 'spki', format: 'pem' }).toString();
}

function publicKeySha256(key: KeyObject): string {
  return sha256Hex(createPublicKey(key).export({ type: 'spki', format: 'der' }));
}

/** Adds `signature` over the canonical bytes of everything else in the document. */
export function signDocument<T extends object>(document: T, privateKey: KeyObject): T & { signature: DocumentSignature } {
  const value = sign(null, Buffer.from(canonicalJson(document)), privateKey).toString('base64');
  return { ...document, signature: { algorithm: 'Ed25519', publicKeySha256: publicKeySha256(privateKey), value } };
}

/** Checks a document as downloaded (parsed JSON) against a public key in PEM: true when not one byte changed. */
export function verifySignedDocument(document: { signature?: Partial<DocumentSignature> } & Record<string, unknown>, publicKey: string | KeyObject): boolean {
  const { signature, ...signed } = document;
  if (signature?.algorithm !== 'Ed25519' || typeof signature.value !== 'string') return false;
  const key = typeof publicKey === 'string' ? createPublicKey(publicKey) : publicKey;
  return verify(null, Buffer.from(canonicalJson(signed)), key, Buffer.from(signature.value, 'base64'));
}
