// Time formats shared by the model and the markdown renderer (internal: not exported by the library).

export function ms(iso: string | null | undefined): number | undefined {
  if (!iso) return undefined;
  const n = Date.parse(iso);
  return Number.isNaN(n) ? undefined : n;
}

export function day(t: number): string {
  return new Date(t).toISOString().slice(0, 10);
}

export function clock(t: number): string {
  return new Date(t).toISOString().slice(11, 19);
}

/** "2024-11-22 23:58:00 UTC" */
export function stamp(t: number): string {
  return `${day(t)} ${clock(t)} UTC`;
}
