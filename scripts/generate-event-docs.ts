/** Writes docs/events.md from the event schemas (`npm run docs:events`). */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { eventDocs } from '../functions/domain/event-docs';

const target = join(__dirname, '..', 'docs', 'events.md');
writeFileSync(target, eventDocs());
console.log(`wrote ${target}`);
