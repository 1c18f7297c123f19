import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { buildStacks } from '../lib/app';

const app = new App();
buildStacks(app);
// A violation of the AwsSolutions pack fails `cdk synth`; every acknowledged rule in lib/ names its reason.
Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
