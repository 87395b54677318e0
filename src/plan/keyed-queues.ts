// Queues of items by key, each in insertion order, whose head skips the items already taken: how
// plan and read-back pair things in linear time where "the first untaken item with this key" was
// once found by scanning every item for every item.

export class KeyedQueues<T> {
  private readonly queues = new Map<string, { head: number; items: T[] }>();

  /** `isTaken` must stay true once it is true: a skipped item is never looked at again. */
  constructor(private readonly isTaken: (item: T) => boolean) {}

  add(key: string, item: T): void {
    const queue = this.queues.get(key);
    if (queue === undefined) this.queues.set(key, { head: 0, items: [item] });
    else queue.items.push(item);
  }

  /** Every item added with this key, taken or not, in the order added. */
  items(key: string): readonly T[] {
    return this.queues.get(key)?.items ?? [];
  }

  /** The first item added with this key that is not taken yet. */
  first(key: string): T | undefined {
    const queue = this.queues.get(key);
    if (queue === undefined) return undefined;
    let item = queue.items[queue.head];
    while (item !== undefined && this.isTaken(item)) {
      queue.head += 1;
      item = queue.items[queue.head];
    }
    return item;
  }
}
