// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${Name} is the placeholder syntax of DefinitionSubstitutions under test.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { applySubstitutions, compileStateMachine, MissingSubstitutionError } from '../../../local/engine';

// The local runtime runs statemachines/*.asl.json with the placeholders CDK fills through DefinitionSubstitutions.

describe('definition substitutions', () => {
  it('replaces ${Name} placeholders in every string, leaving the rest alone', () => {
    // Prepare
    const text = JSON.stringify({
      StartAt: 'Build',
      States: {
        Build: {
          Type: 'Task',
          Resource: 'arn:aws:states:::codebuild:startBuild.sync',
          Arguments: {
            ProjectName: '${BuildProjectName}',
            Note: 'costs ${Cents} cents',
            Literal: '$not_a_placeholder',
          },
          End: true,
        },
      },
      QueryLanguage: 'JSONata',
    });
    // Act
    const def = applySubstitutions(text, { BuildProjectName: 'stepline-build', Cents: 3 });
    // Assess
    expect((def.States['Build'] as { Arguments: unknown }).Arguments).toEqual({
      ProjectName: 'stepline-build',
      Note: 'costs 3 cents',
      Literal: '$not_a_placeholder',
    });
  });

  it('names every placeholder left without a value', () => {
    // Act
    const attempt = (): unknown =>
      applySubstitutions({ StartAt: '${A}', States: { '${B}': { Type: 'Pass', End: true } } }, {});
    // Assess
    expect(attempt).toThrow(MissingSubstitutionError);
    expect(attempt).toThrow('No substitution for ${A}, ${B}');
  });

  it('makes the pipeline definition of this repository a valid state machine', () => {
    // Prepare
    const text = readFileSync(join(__dirname, '../../../statemachines/pipeline.asl.json'), 'utf8');
    const names = [...new Set([...text.matchAll(/\$\{([A-Za-z0-9_]+)\}/g)].map((m) => m[1] as string))];
    const values = Object.fromEntries(
      names.map((n) => [
        n,
        n.endsWith('Arn') ? `arn:aws:lambda:eu-west-1:123456789012:function:${n}` : `value-of-${n}`,
      ]),
    );
    // Act
    const machine = compileStateMachine(applySubstitutions(text, values));
    // Assess
    expect(machine.resources.length).toBeGreaterThan(0);
  });
});
