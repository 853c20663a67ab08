import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { commitChange, createSampleRepository, type SampleRepository } from '../../../local/demo/repository';

/**
 * The service repositories the suite's pipelines build: the demo's sample service under another name, with the
 * image buildspec an AWS user would write for CodeBuild: it names the image by the digest of its source (no Docker
 * engine here; on AWS it would `docker build` and push to `$IMAGE_REPOSITORY_URI`), renders the manifests per
 * environment and copies them to the artifacts bucket with the AWS CLI, under the build project role's credentials,
 * as CodeBuild gives them. The AWS CLI is told the endpoint explicitly (`--endpoint-url`), which on AWS is unset.
 */

export const AWS_BUILDSPEC = `version: 0.2
env:
  exported-variables:
    - IMAGE_DIGEST
    - MANIFESTS_LOCATION
phases:
  build:
    commands:
      - IMAGE_DIGEST="sha256:$(git archive --format=tar HEAD | sha256sum | cut -d' ' -f1)"
      - echo "image $IMAGE_REPOSITORY_URI@$IMAGE_DIGEST"
  post_build:
    commands:
      - node scripts/render-manifests.js out
      - rm -f out/*/namespace.yaml
      - |
        if [ "$STEPLINE_TRUSTED" = "true" ]; then
          MANIFESTS_LOCATION="s3://$ARTIFACTS_BUCKET/manifests/$STEPLINE_REPOSITORY/$IMAGE_TAG"
          aws --endpoint-url "$AWS_ENDPOINT_URL" s3 cp --recursive --only-show-errors out "$MANIFESTS_LOCATION/"
        fi
`;

/** A repository of the configuration (`stepline-demo/<name>`), its environments in namespaces `<name>-<env>`. */
export async function serviceRepository(name: string, environments: readonly string[]): Promise<SampleRepository> {
  const dir = join(mkdtempSync(join(tmpdir(), 'stepline-aws-repo-')), name);
  const sample = await createSampleRepository(dir);
  const values = Object.fromEntries(
    environments.map((environment) => [
      environment,
      { namespace: `${name}-${environment}`, replicas: 2, greeting: `Hello from ${environment}` },
    ]),
  );
  const committed = await commitChange(
    sample,
    { 'buildspec.yml': AWS_BUILDSPEC, 'deploy/environments.json': `${JSON.stringify(values, null, 2)}\n` },
    'Build for CodeBuild',
  );
  return { ...committed, name: `stepline-demo/${name}` };
}

/** Commits a change and keeps the repository's name. */
export async function change(
  repository: SampleRepository,
  files: Readonly<Record<string, string>>,
  message: string,
): Promise<SampleRepository> {
  return { ...(await commitChange(repository, files, message)), name: repository.name };
}
