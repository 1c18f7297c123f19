/**
 * The region a client is configured for (its `region` option or the SDK chain), or null when none
 * resolves. Used for console links only, so an unknown region costs a link, never the evidence.
 */
export async function clientRegion(client: { config: { region: unknown } }): Promise<string | null> {
  try {
    const region = client.config.region;
    const value: unknown = typeof region === 'function' ? await (region as () => Promise<unknown>)() : region;
    return typeof value === 'string' && value !== '' ? value : null;
  } catch {
    return null;
  }
}
