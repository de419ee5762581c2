/**
 * Hides a job's secret values in the log it streams, before the text leaves the agent: the stored
 * log never holds them (PROTOCOL.md 10). Each occurrence of a value, and of each line of a
 * multi-line value, shows as `****`. Text is masked as it streams: the end of a write that could
 * be the start of a value is held back until the next write tells (a value split across two reads
 * of the pipe, or across two chunks, is still found).
 */

export const SECRET_MASK = "****";

/** Values shorter than this are not masked: they would mask ordinary words (as on the server). */
export const SHORTEST_MASKED = 4;

export class SecretMasker {
  /** Longest first, so that a value containing another is masked whole. */
  readonly values: readonly string[];
  private readonly longest: number;

  constructor(secrets: Iterable<string>) {
    const values = new Set<string>();
    for (const value of secrets)
      for (const part of [value, ...value.split(/\r?\n/).map((line) => line.trim())])
        if (part.length >= SHORTEST_MASKED) values.add(part);
    this.values = [...values].sort((a, b) => b.length - a.length);
    this.longest = this.values[0]?.length ?? 0;
  }

  get empty(): boolean {
    return this.values.length === 0;
  }

  /** Every whole occurrence masked. */
  mask(text: string): string {
    let masked = text;
    for (const value of this.values)
      if (masked.includes(value)) masked = masked.split(value).join(SECRET_MASK);
    return masked;
  }

  /** How many characters at the end of `text` could begin a value (they are held back). */
  heldLength(text: string): number {
    for (let k = Math.min(this.longest - 1, text.length); k > 0; k--) {
      const suffix = text.slice(text.length - k);
      if (this.values.some((value) => value.startsWith(suffix))) return k;
    }
    return 0;
  }

  /** A streaming masker for one output stream. */
  stream(): StreamMasker {
    return new StreamMasker(this);
  }
}

export class StreamMasker {
  private tail = "";

  constructor(private readonly masker: SecretMasker) {}

  /** The text that may go out now; the end that could begin a value waits for the next write. */
  push(text: string): string {
    if (this.masker.empty) return text;
    const masked = this.masker.mask(this.tail + text);
    const held = this.masker.heldLength(masked);
    this.tail = masked.slice(masked.length - held);
    return masked.slice(0, masked.length - held);
  }

  /** The held end once the stream ended: the start of a value is masked too. */
  end(): string {
    const tail = this.tail;
    this.tail = "";
    if (tail.length === 0) return "";
    return tail.length >= SHORTEST_MASKED ? SECRET_MASK : tail;
  }
}
