/** How a registered model's immutable id is chosen. */
import { createHash } from 'node:crypto';

/**
 * The id a model named `name` gets when it is created, unless a model had it before (its name
 * was used earlier: that model was renamed or deleted, and its partition keeps its history; the
 * new model then gets a random id). UUID-shaped (RFC 9562 version 8) from a hash of the name, so
 * a reader that has only the name can read the model's versions, stage members and requests in
 * the same round trip as the model itself, and check the id once the model is read.
 */
export function firstModelId(name: string): string {
  const b = createHash('sha256')
    .update('registered-model\u0000')
    .update(name, 'utf8')
    .digest()
    .subarray(0, 16);
  b[6] = (b[6]! & 0x0f) | 0x80;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}
