// The browser side of the console (this folder) is type-checked on its own, with the DOM's types
// (tsconfig.console.json); the server side never sees them.

/** The stylesheet, bundled by esbuild beside the script. */
declare module '*.css' {}
