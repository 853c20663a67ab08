/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
// The browser side of the console (this folder) is type-checked with the DOM's types; the server side never uses them.

/** The stylesheet, bundled by esbuild beside the script. */
declare module '*.css' {}
