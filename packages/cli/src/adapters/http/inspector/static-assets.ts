import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PACKAGE_DIRECTORY } from '../../../package-files.js';

const require = createRequire(import.meta.url);

/** The page's own files: plain ES modules and CSS, served as they are (no build step). */
export const UI_DIRECTORY = fileURLToPath(new URL('src/ui/', PACKAGE_DIRECTORY));

/** The folder of an installed package, found from its entry point (not every package exports its package.json). */
function packageDirectory(name: string): string {
  let directory = dirname(require.resolve(name));
  while (dirname(directory) !== directory) {
    try {
      const manifest = JSON.parse(readFileSync(join(directory, 'package.json'), 'utf8')) as { name?: string };
      if (manifest.name === name) return directory;
    } catch {
      // No package.json at this level: keep walking up.
    }
    directory = dirname(directory);
  }
  throw new Error(`cannot find the folder of the ${name} package`);
}

/**
 * The browser modules the page imports by bare name, read from node_modules and served under
 * `/vendor/<package>/<path in the package>`, so nothing comes from a CDN.
 */
const VENDOR_MODULES: ReadonlyArray<{ specifier: string; packageName: string; file: string }> = [
  { specifier: 'preact', packageName: 'preact', file: 'dist/preact.mjs' },
  { specifier: 'preact/hooks', packageName: 'preact', file: 'hooks/dist/hooks.mjs' },
  { specifier: 'htm', packageName: 'htm', file: 'dist/htm.mjs' },
];

const CONTENT_TYPES: Record<string, string> = {
  js: 'text/javascript; charset=utf-8',
  mjs: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
  svg: 'image/svg+xml',
  png: 'image/png',
};

/**
 * Flat names only: no directories, so nothing outside the UI folder can be asked for; no dot
 * before the extension, so test files (`*.test.ts`) and the like are never served either.
 */
const UI_FILE = /^[a-z0-9][a-z0-9-]*\.(js|css|svg|png)$/;

export interface Asset {
  body: Buffer;
  contentType: string;
}

export interface StaticAssets {
  /** The page with its import map, and the Content-Security-Policy that allows exactly that map. */
  page: { html: string; contentSecurityPolicy: string };
  /** `/ui/<file>` or `/vendor/...`, or null when there is no such file. */
  asset(path: string): Asset | null;
}

/**
 * Loads the page and indexes the files it may load. UI files are read on each request (they
 * are few and small, and an edited file shows on reload); vendor files once.
 */
export function loadStaticAssets(uiDirectory: string = UI_DIRECTORY): StaticAssets {
  const vendor = new Map<string, Asset>();
  const imports: Record<string, string> = {};
  for (const module of VENDOR_MODULES) {
    const url = `/vendor/${module.packageName}/${module.file}`;
    imports[module.specifier] = url;
    vendor.set(url, {
      body: readFileSync(join(packageDirectory(module.packageName), module.file)),
      contentType: CONTENT_TYPES.mjs as string,
    });
  }
  const importMap = JSON.stringify({ imports }, null, 2);
  const importMapHash = createHash('sha256').update(importMap).digest('base64');
  const template = readFileSync(join(uiDirectory, 'index.html'), 'utf8');
  const html = template.replace('<!-- import map -->', `<script type="importmap">${importMap}</script>`);
  const contentSecurityPolicy = [
    "default-src 'self'",
    `script-src 'self' 'sha256-${importMapHash}'`,
    "style-src 'self'",
    "img-src 'self' data:",
    "connect-src 'self'",
    "frame-ancestors 'none'",
    "base-uri 'none'",
    "form-action 'none'",
  ].join('; ');

  return {
    page: { html, contentSecurityPolicy },
    asset(path) {
      const fromVendor = vendor.get(path);
      if (fromVendor) return fromVendor;
      if (!path.startsWith('/ui/')) return null;
      const name = path.slice('/ui/'.length);
      const match = UI_FILE.exec(name);
      if (!match) return null;
      try {
        return {
          body: readFileSync(join(uiDirectory, name)),
          contentType: CONTENT_TYPES[match[1] as string] as string,
        };
      } catch {
        return null;
      }
    },
  };
}
