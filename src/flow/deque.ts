/**
 * A growable ring buffer: O(1) push/shift at both ends. Channels use it for their queues, where
 * Array.prototype.shift would cost O(n) per take.
 */
export class Deque<T> {
  private items: (T | undefined)[] = new Array<T | undefined>(16)
  private head = 0
  private count = 0

  get length(): number {
    return this.count
  }

  pushBack(item: T): void {
    this.grow()
    this.items[(this.head + this.count) % this.items.length] = item
    this.count++
  }

  pushFront(item: T): void {
    this.grow()
    this.head = (this.head - 1 + this.items.length) % this.items.length
    this.items[this.head] = item
    this.count++
  }

  shift(): T | undefined {
    if (this.count === 0) return undefined
    const item = this.items[this.head]
    this.items[this.head] = undefined
    this.head = (this.head + 1) % this.items.length
    this.count--
    return item
  }

  peek(): T | undefined {
    return this.count === 0 ? undefined : this.items[this.head]
  }

  *[Symbol.iterator](): IterableIterator<T> {
    for (let i = 0; i < this.count; i++) yield this.items[(this.head + i) % this.items.length]!
  }

  private grow(): void {
    if (this.count < this.items.length) return
    const bigger = new Array<T | undefined>(this.items.length * 2)
    for (let i = 0; i < this.count; i++) bigger[i] = this.items[(this.head + i) % this.items.length]
    this.items = bigger
    this.head = 0
  }
}
