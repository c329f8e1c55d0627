/**
 * Webhook secrets sealed with AES-256-GCM under a key of the local registry (kept in its data
 * directory, as the page token secret is). The encryption context is the cipher's associated
 * data: a sealed secret opens only for the webhook it was sealed for.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { SecretSealer } from '../../use-cases/ports';

const PREFIX = 'aes256gcm:v1:';

/** The associated data of a context: its entries in key order. */
const aad = (context: Readonly<Record<string, string>>) =>
  Buffer.from(JSON.stringify(Object.entries(context).sort(([a], [b]) => a.localeCompare(b))), 'utf8');

export class AesSecretSealer implements SecretSealer {
  private readonly key: Buffer;

  /** `key`: 32 bytes, base64 or base64url. */
  constructor(key: string) {
    this.key = Buffer.from(key, 'base64url');
    if (this.key.length !== 32) throw new Error('The webhook secret key must be 32 bytes (base64)');
  }

  async seal(plaintext: string, context: Readonly<Record<string, string>>): Promise<string> {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    cipher.setAAD(aad(context));
    const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    const parts = [iv, ciphertext, cipher.getAuthTag()].map((b) => b.toString('base64url'));
    return `${PREFIX}${parts.join('.')}`;
  }

  async open(sealed: string, context: Readonly<Record<string, string>>): Promise<string> {
    if (!sealed.startsWith(PREFIX)) throw new Error('Not an AES-sealed secret');
    const [iv, ciphertext, tag] = sealed
      .slice(PREFIX.length)
      .split('.')
      .map((p) => Buffer.from(p, 'base64url'));
    if (!iv || !ciphertext || !tag) throw new Error('Malformed sealed secret');
    const decipher = createDecipheriv('aes-256-gcm', this.key, iv);
    decipher.setAAD(aad(context));
    decipher.setAuthTag(tag);
    return Buffer.concat([decipher.update(ciphertext), decipher.final()]).toString('utf8');
  }
}
