import { writeFile } from 'node:fs/promises';
import { App, type PolicyViolation, Stack, Validations } from 'aws-cdk-lib';
import { CfnInclude } from 'aws-cdk-lib/cloudformation-include';
import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';
import * as v from 'valibot';
import type { RawTemplate } from './sls-package.ts';

/**
 * A suppression as serverless.yml writes it beside a resource: `Metadata.cdk_nag.rules_to_suppress`
 * (the layout cdk-nag itself writes into templates), each with a reason a reviewer can check.
 */
const SuppressionsSchema = v.object({
  cdk_nag: v.object({
    rules_to_suppress: v.array(
      v.object({
        id: v.string(),
        reason: v.pipe(v.string(), v.minLength(60, 'a suppression needs a written reason (60 characters or more)')),
      }),
    ),
  }),
});

/** One finding of a rule pack on one resource. */
export interface Finding {
  /** `AwsSolutions-SQS4`, or with a finding id: `AwsSolutions-IAM5[Resource::...]`. */
  readonly rule: string;
  /** The template's logical id. */
  readonly resource: string;
  readonly severity: 'error' | 'warning' | string;
}

/** What cdk-nag says about a template. */
export interface NagReport {
  /** Findings the template's suppressions leave: each one fails the build. */
  readonly open: readonly Finding[];
  /** Every finding, suppressed or not. */
  readonly all: readonly Finding[];
  /** Each suppression the template holds, as `<resource> <rule>`. */
  readonly suppressions: readonly string[];
}

/**
 * Runs cdk-nag's AwsSolutions and Serverless packs on a CloudFormation template, offline: the
 * template is loaded with aws-cdk-lib's `CfnInclude` into a `Stack`, the suppressions written in
 * its resources' metadata are acknowledged (`Validations.of(resource).acknowledge`), and each pack
 * validates the stack's construct tree.
 * @param template the template as `sls package` wrote it
 * @param file where to write it for `CfnInclude`, which reads a file
 */
export async function runCdkNag(template: RawTemplate, file: string): Promise<NagReport> {
  await writeFile(file, JSON.stringify(template));
  const run = (acknowledge: boolean) => {
    const stack = new Stack(new App(), 'Jobhooks');
    const included = new CfnInclude(stack, 'Template', { templateFile: file });
    const suppressions: string[] = [];
    for (const [id, resource] of Object.entries(template.Resources)) {
      if (!resource.Metadata || !('cdk_nag' in resource.Metadata)) continue;
      for (const rule of v.parse(SuppressionsSchema, resource.Metadata).cdk_nag.rules_to_suppress) {
        suppressions.push(`${id} ${rule.id}`);
        if (acknowledge) Validations.of(included.getResource(id)).acknowledge({ id: rule.id, reason: rule.reason });
      }
    }
    const findings = [new AwsSolutionsChecks(), new ServerlessChecks()].flatMap((pack) =>
      pack.validateScope(stack).violations.flatMap((violation: PolicyViolation) =>
        violation.violatingResources.map((resource) => ({
          rule: violation.ruleName,
          resource: (resource.constructPath ?? '').replace('Jobhooks/Template/', ''),
          severity: violation.severity ?? 'error',
        })),
      ),
    );
    return { findings, suppressions };
  };
  const acknowledged = run(true);
  return { open: acknowledged.findings, all: run(false).findings, suppressions: acknowledged.suppressions };
}
