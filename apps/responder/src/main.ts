import 'reflect-metadata';
import { basename } from 'node:path';
import { Logger } from '@nestjs/common';
import { formatSourceProblem } from '@responder/domain';
import { awsActions } from '@responder/aws/actions';
import { knownActions, loadRunbooks } from '@responder/runbooks';
import { CatalogError, loadCatalog } from './catalog/catalog.loader';
import { ConfigError, loadConfig } from './config/config';
import { createApp } from './create-app';

async function bootstrap(): Promise<void> {
  let config;
  let catalog;
  let catalogMissing = false;
  try {
    config = loadConfig(process.env);
    ({ catalog, missing: catalogMissing } = loadCatalog(config.catalog.path, config.catalog.explicit, knownActions(awsActions({ region: config.awsRegion }))));
  } catch (err) {
    if (err instanceof ConfigError || err instanceof CatalogError) {
      process.stderr.write(`responder: ${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
  // The shipped example describes no real production: unless RESPONDER_MODE says otherwise, nothing
  // planned against it is ever called (an empty value counts as unset, as for every variable).
  const exampleCatalog = catalog.example === true;
  if (exampleCatalog && !process.env.RESPONDER_MODE) config = { ...config, mode: 'dry-run' as const };
  const actions = awsActions({ region: config.awsRegion });
  const loaded = loadRunbooks(config.runbooksDir, knownActions(actions), { catalog, skip: [basename(config.catalog.path)] });
  if (loaded.problems.length > 0) {
    process.stderr.write(`responder: invalid runbooks:\n${loaded.problems.map((p) => `  ${formatSourceProblem(p)}`).join('\n')}\n`);
    process.exit(1);
  }
  const app = await createApp({ config, catalog, runbooks: loaded.runbooks, actions });
  const logger = new Logger('Responder');
  if (exampleCatalog) {
    logger.warn(
      `${config.catalog.path} is the shipped EXAMPLE catalog (example: true): its services and ARNs are not yours. ` +
        `Running in ${config.mode}${process.env.RESPONDER_MODE ? ' (RESPONDER_MODE)' : ' (the default with the example catalog)'}. ` +
        'Describe your own services (runbooks/README.md) and point SERVICE_CATALOG at them.',
    );
  }
  if (catalogMissing) logger.warn(`no service catalog at ${config.catalog.path}: every alarm becomes an unrouted incident`);
  if (!config.ingestApiKey) logger.warn('INGEST_API_KEY is not set: POST /events/eventbridge refuses every request');
  if (!config.apiToken) logger.warn('API_TOKEN is not set: the HTTP API takes only personal tokens (responder tokens create) and OIDC tokens');
  if (!config.slack) logger.log('Slack is off (no SLACK_BOT_TOKEN)');
  await app.listen(config.port, config.host);
  logger.log(`listening on ${config.host}:${config.port} (${config.mode}), ${Object.keys(catalog.services).length} services in the catalog, ${loaded.runbooks.length} runbooks`);
}

void bootstrap();
