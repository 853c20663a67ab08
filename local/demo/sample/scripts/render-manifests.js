/**
 * Renders the Kubernetes manifests of every environment: `deploy/base/*.yaml` with the `${NAME}` placeholders
 * filled from `deploy/environments.json` (`${NAMESPACE}` from "namespace", ...; `${ENVIRONMENT}` is the
 * environment's own name), written to `<out>/<environment>/`. The pipeline's deploy step then puts the built image
 * in, by digest.
 *
 *   node scripts/render-manifests.js OUT_DIR
 */

const { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } = require('node:fs');
const { join } = require('node:path');

const root = join(__dirname, '..');
const out = process.argv[2];
if (!out) {
  console.error('usage: node scripts/render-manifests.js OUT_DIR');
  process.exit(2);
}

const environments = JSON.parse(readFileSync(join(root, 'deploy/environments.json'), 'utf8'));
const base = join(root, 'deploy/base');
const templates = readdirSync(base)
  .filter((file) => file.endsWith('.yaml'))
  .sort();

const problems = [];
for (const [environment, values] of Object.entries(environments)) {
  const dir = join(out, environment);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const fill = { ...values, environment };
  for (const file of templates) {
    const text = readFileSync(join(base, file), 'utf8').replace(/\$\{([A-Z][A-Z0-9_]*)\}/g, (whole, name) => {
      const key = name.toLowerCase();
      if (Object.hasOwn(fill, key)) return String(fill[key]);
      problems.push(`${file}: no value for ${whole} in environment "${environment}"`);
      return whole;
    });
    writeFileSync(join(dir, file), text);
  }
  console.log(`rendered ${templates.length} manifests for ${environment} into ${dir}`);
}
if (problems.length > 0) {
  for (const problem of problems) console.error(problem);
  process.exit(1);
}
