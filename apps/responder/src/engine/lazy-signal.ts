/**
 * An action's abort signal, made only if the action reads it (an AbortController costs more than
 * a no-op diagnostic): aborted before it is read, it is made aborted, with the same reason.
 */
export class LazySignal {
  private controller: AbortController | null = null;
  private reason: { error: unknown } | null = null;

  get signal(): AbortSignal {
    if (!this.controller) {
      this.controller = new AbortController();
      if (this.reason) this.controller.abort(this.reason.error);
    }
    return this.controller.signal;
  }

  abort(error: unknown): void {
    if (this.reason) return;
    this.reason = { error };
    this.controller?.abort(error);
  }
}
