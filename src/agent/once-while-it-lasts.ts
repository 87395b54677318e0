// Conditions that repeat on every cycle while they last (a failing pull, a drift, a preflight
// problem, an open confirm window...) are worth one report when they start or change, not one per
// cycle. This remembers, per kind of condition, what was last reported, until the condition ends.

export class OnceWhileItLasts<K extends string, V = string> {
  private readonly reported = new Map<K, V>();

  /**
   * The condition `key` holds with `value`: true when that is news (nothing reported for the key,
   * or another value), and then remembered; false while the same value lasts.
   */
  report(key: K, value: V): boolean {
    if (this.reported.has(key) && this.reported.get(key) === value) return false;
    this.reported.set(key, value);
    return true;
  }

  /** The condition ended: true when it had been reported (so its end is worth saying). */
  clear(key: K): boolean {
    return this.reported.delete(key);
  }

  /** What was last reported for the key, while it lasts. */
  current(key: K): V | undefined {
    return this.reported.get(key);
  }

  has(key: K): boolean {
    return this.reported.has(key);
  }

  /** A copy to decide on, so that a decision leaves the memory it was given as it was. */
  clone(): OnceWhileItLasts<K, V> {
    const copy = new OnceWhileItLasts<K, V>();
    for (const [key, value] of this.reported) copy.reported.set(key, value);
    return copy;
  }
}

/**
 * The same for a set of conditions found together each time (such as the warnings of one
 * compile): each is news once, and forgotten when a round no longer finds it.
 */
export class OnceEachWhileItLasts {
  private reported = new Set<string>();
  private round: Set<string> | null = null;

  /** Starts a round: what is not found again during it is forgotten when it ends. */
  begin(): void {
    this.round = new Set();
  }

  /** Found in this round: true when it was not found in the round before. */
  report(key: string): boolean {
    this.round?.add(key);
    return !this.reported.has(key);
  }

  end(): void {
    if (this.round !== null) this.reported = this.round;
    this.round = null;
  }
}
