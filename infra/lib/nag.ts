import { Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

/** [rule id, why it does not apply here]: every acknowledged cdk-nag rule carries its reason in code. */
export type Justified = readonly [id: string, reason: string];

/** `AwsSolutions-X` or the granular `AwsSolutions-X[finding]`, recorded under cdk-nag's own prefix. */
export function suppress(construct: IConstruct, rules: readonly Justified[]): void {
  for (const [id, reason] of rules) Validations.of(construct).acknowledge({ id: id.startsWith('AwsSolutions::') ? id : `AwsSolutions::${id}`, reason });
}
