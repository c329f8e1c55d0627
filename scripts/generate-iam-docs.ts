/** Writes docs/iam.md from the API contract's audiences and the grants built on them (`npm run docs:iam`). */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { iamDocs } from '../lib/iam-docs';

const target = join(__dirname, '..', 'docs', 'iam.md');
writeFileSync(target, iamDocs());
console.log(`wrote ${target}`);
