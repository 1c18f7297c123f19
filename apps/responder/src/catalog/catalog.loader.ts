import { existsSync, readFileSync } from 'node:fs';
import { type ActionDescriptor, type Catalog, EMPTY_CATALOG, formatSourceProblem, parseCatalog } from '@responder/domain';

export class CatalogError extends Error {
  override readonly name = 'CatalogError';
}

/**
 * Reads the service catalog at boot. An explicitly configured catalog must exist; the default path
 * may be missing (every alarm is then unrouted, and the caller warns). Problems are all listed,
 * each as file:line:column.
 */
export function loadCatalog(path: string, explicit: boolean, actions?: ReadonlyMap<string, ActionDescriptor>): { catalog: Catalog; missing: boolean } {
  if (!existsSync(path)) {
    if (explicit) throw new CatalogError(`SERVICE_CATALOG: no file at ${path}`);
    return { catalog: EMPTY_CATALOG, missing: true };
  }
  const parsed = parseCatalog(path, readFileSync(path, 'utf8'), { actions });
  if (!parsed.ok) {
    throw new CatalogError(`invalid service catalog:\n${parsed.problems.map((p) => `  ${formatSourceProblem(p)}`).join('\n')}`);
  }
  return { catalog: parsed.value, missing: false };
}
