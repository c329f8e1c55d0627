/** The console's JavaScript budget, and how much it weighs: every .js file it ships, gzipped. */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

/** 150 KB of JavaScript, gzipped (what a browser downloads on a first visit). */
export const JS_BUDGET_GZIP_BYTES = 150 * 1024;

export interface BundleSize {
  readonly files: { readonly path: string; readonly bytes: number; readonly gzipBytes: number }[];
  readonly bytes: number;
  readonly gzipBytes: number;
}

export function consoleBundleSize(dir: string): BundleSize {
  const files: BundleSize['files'][number][] = [];
  const walk = (d: string) => {
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      const path = join(d, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.js')) {
        const content = readFileSync(path);
        files.push({ path, bytes: content.length, gzipBytes: gzipSync(content, { level: 9 }).length });
      }
    }
  };
  walk(dir);
  return {
    files,
    bytes: files.reduce((n, f) => n + f.bytes, 0),
    gzipBytes: files.reduce((n, f) => n + f.gzipBytes, 0),
  };
}
