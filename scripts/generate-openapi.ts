/** Writes docs/openapi.json from the API contract (`npm run openapi`). */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildOpenApiDocument } from '../functions/api/openapi';
import pkg from '../package.json';

const target = join(__dirname, '..', 'docs', 'openapi.json');
writeFileSync(target, `${JSON.stringify(buildOpenApiDocument(pkg.version), null, 2)}\n`);
console.log(`wrote ${target}`);
