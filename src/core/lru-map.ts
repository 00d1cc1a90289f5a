/**
 * A map that holds at most `capacity` entries and lets go of the least recently used first: the
 * bound every in-memory cache of records needs, so that many distinct keys (a hostile tenant's)
 * cannot grow it without end. A Map keeps insertion order, so reading an entry moves it to the end
 * and the first key is always the least recently used.
 */
export class LruMap<K, V> {
  private readonly entries = new Map<K, V>();

  constructor(private readonly capacity: number) {}

  get(key: K): V | undefined {
    const value = this.entries.get(key);
    if (value === undefined) return undefined;
    this.entries.delete(key);
    this.entries.set(key, value);
    return value;
  }

  set(key: K, value: V): void {
    this.entries.delete(key);
    this.entries.set(key, value);
    if (this.entries.size > this.capacity) this.entries.delete(this.entries.keys().next().value!);
  }

  delete(key: K): void {
    this.entries.delete(key);
  }
}
