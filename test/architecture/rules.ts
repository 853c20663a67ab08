/**
 * Who may import whom: the layering of the architecture page (`../shared/design/ARCHITECTURE.md`, "Layout and who
 * may import whom"), written once, here. `boundaries.test.ts` checks the repository's import graph against these
 * rules, and `bundles.test.ts` checks each Lambda bundle's inputs against `LOCAL_ONLY`. Each rule quotes the words
 * of the page it holds. Patterns are picomatch globs over module ids: a repository path (`core/intake/route.ts`), a
 * package name (`@aws-sdk/client-sfn`, `aws-cdk-lib`), or a Node.js built-in as `node:<name>` (`node:fs`).
 *
 * Type-only imports count: a layer that names another layer's types depends on it as surely as one that calls it.
 */

export interface LayerRule {
  readonly id: string;
  /** The architecture page's words that this rule holds. */
  readonly words: string;
  /** The importing files the rule applies to. */
  readonly from: readonly string[];
  /** When given, the only module ids these files may import. */
  readonly allow?: readonly string[];
  /** Module ids these files never import. */
  readonly forbid?: readonly string[];
}

/** Files the check reads: the code of the layers (tests, benchmarks and scripts may import anything). */
export const LAYERS = ['core', 'adapters', 'functions', 'infra', 'local'] as const;

/** What is not Stepline's code though it lies in a layer: the demo's sample application is a project of its own. */
export const NOT_SCANNED = ['local/demo/sample/**'] as const;

/** Node.js built-ins that do I/O: never in core. */
const IO_BUILTINS = ['node:http', 'node:https', 'node:http2', 'node:net', 'node:tls', 'node:dgram', 'node:fs'];

/** Modules that exist for the local runtime only: never in a function, never in a Lambda bundle. */
export const LOCAL_ONLY = ['adapters/local/**', 'local/**', 'better-sqlite3'] as const;

/** The Lambda composition root: a function's entry point, what it builds from AWS clients, and its settings. */
const LAMBDA_COMPOSITION = [
  'functions/*/index.ts',
  'functions/*/dependencies.ts',
  'functions/*/settings.ts',
  'functions/shared/settings.ts',
];

export const RULES: readonly LayerRule[] = [
  {
    id: 'core-is-pure',
    words:
      'core/ … Imports only core/ and small pure libraries. No AWS SDK, CDK, middy, Powertools, HTTP. ' +
      '(The brief of issue 13 adds: no node:http/https/fs/net.)',
    from: ['core/**'],
    allow: ['core/**', 'zod', 'yaml', 'picomatch', 'jsonata', 'jsonpath-plus', 'node:crypto', 'node:buffer'],
    forbid: IO_BUILTINS,
  },
  {
    id: 'adapters-below-functions',
    words: 'adapters/ … Imports core/ and SDKs.',
    from: ['adapters/**'],
    forbid: ['functions/**', 'infra/**', 'local/**', 'aws-cdk-lib', 'constructs', 'cdk-nag', '@middy/*'],
  },
  {
    id: 'aws-adapters-never-local',
    words: 'adapters/ … aws/ and local/ variants. (Nothing local reaches a Lambda bundle.)',
    from: ['adapters/**', '!adapters/local/**'],
    forbid: ['adapters/local/**', 'better-sqlite3'],
  },
  {
    id: 'functions-compose-aws-only',
    words:
      'functions/ … Imports core/, adapters/aws (never adapters/local), middy, Powertools. Never infra/ or local/. ' +
      'Each Lambda’s index.ts composes AWS adapters … Nothing local reaches a Lambda bundle.',
    from: ['functions/**'],
    forbid: [...LOCAL_ONLY, 'infra/**', 'aws-cdk-lib', 'constructs', 'cdk-nag'],
  },
  {
    id: 'infra-imports-cdk-and-contracts',
    words:
      'infra/ … Imports aws-cdk-lib, cdk-nag and core/ contracts (names of env vars, events). Refers to handlers and ' +
      'ASL by path.',
    // The .js files under infra/ are inline Lambda code that a construct reads by path (the EKS authentication-mode
    // check of infra/constructs/EksDeployer): handlers it refers to, not modules of the CDK app.
    from: ['infra/**', '!infra/**/*.js'],
    allow: ['infra/**', 'core/**', 'aws-cdk-lib', 'constructs', 'cdk-nag', 'node:*'],
  },
  {
    id: 'local-never-infra',
    words:
      'local/ … Imports core/, adapters/, functions/’ handler factories. Never infra/. (`local/runtime` composes ' +
      'local adapters: it never uses the Lambda composition root, a function’s index.ts, dependencies or settings.)',
    from: ['local/**'],
    forbid: ['infra/**', ...LAMBDA_COMPOSITION],
  },
];

/**
 * The folders between which no cycle may run: the top-level layers, and the rooms of local/ (engine, services,
 * runtime, store, server, console, demo). "Data flows one way … A module that needs something from further down
 * the flow takes it as an argument (a port), never by importing upward."
 */
export const CYCLE_SCOPES: readonly { readonly under: string; readonly depth: number }[] = [
  { under: '', depth: 1 },
  { under: 'local/', depth: 2 },
];

/**
 * A violation that is known, left for the files' owners, with the issue that tracks it. `from` is the importing
 * file (for `no-cycles`, the folder; for `lambda-bundle-local-only`, the function's entry point) and `target` a
 * glob over what it imports (for a bundle, the input's path, `node_modules/<package>/**` for a package). The tests
 * fail when an exception no longer occurs, so that the list shrinks as the owners fix them.
 */
export interface KnownException {
  readonly rule: string;
  readonly from: string;
  readonly target: string;
  readonly issue: string;
}

export const KNOWN_EXCEPTIONS: readonly KnownException[] = [];
