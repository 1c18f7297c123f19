#!/usr/bin/env node
import { awsActions } from '@responder/aws/actions';
import { knownActions } from '@responder/runbooks';
import { runCli } from './program';

/**
 * `responder`: the command line, built with the service (`npm run build`, `bin` in package.json,
 * in the Docker image). No Nest here: a command reads files, Redis or the HTTP API and prints.
 */
void runCli(process.argv.slice(2), {
  env: process.env,
  out: (t) => process.stdout.write(t),
  err: (t) => process.stderr.write(t),
  // The CLI only reads the actions' descriptors: the clients never connect, but the SDK refuses
  // to build one without a region, so any region does when AWS_REGION is not set.
  actions: knownActions(awsActions({ region: process.env.AWS_REGION || 'us-east-1' })),
}).then((code) => {
  process.exitCode = code;
});
