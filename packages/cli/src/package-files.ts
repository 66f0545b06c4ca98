/**
 * The package's own folder (with package.json and src/ui/). This module sits directly in src/,
 * and the build (scripts/build.mjs) puts every chunk directly in dist/, so one level up is the
 * package folder both when tsx runs the sources and when node runs the build.
 */
export const PACKAGE_DIRECTORY = new URL('../', import.meta.url);
