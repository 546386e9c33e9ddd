// A binary min-heap over an array, ordered by a comparator. Internal: the pool uses it for
// block selection (a k-way merge of senders' nonce-ordered queues) and for eviction.

/** A binary heap whose top is the item `compare` ranks first (negative = `a` first). */
export class Heap<T> {
  readonly items: T[]
  readonly #compare: (a: T, b: T) => number

  constructor(compare: (a: T, b: T) => number, items: T[] = []) {
    this.#compare = compare
    this.items = items
    for (let i = (items.length >> 1) - 1; i >= 0; i--) this.#down(i)
  }

  get size(): number {
    return this.items.length
  }

  peek(): T | undefined {
    return this.items[0]
  }

  push(item: T): void {
    this.items.push(item)
    this.#up(this.items.length - 1)
  }

  pop(): T | undefined {
    const items = this.items
    const top = items[0]
    const last = items.pop()
    if (items.length > 0 && last !== undefined) {
      items[0] = last
      this.#down(0)
    }
    return top
  }

  /** Replaces the top with `item` (one sift instead of a pop and a push). */
  replaceTop(item: T): void {
    this.items[0] = item
    this.#down(0)
  }

  #up(index: number): void {
    const items = this.items
    const item = items[index]!
    while (index > 0) {
      const parent = (index - 1) >> 1
      const parentItem = items[parent]!
      if (this.#compare(item, parentItem) >= 0) break
      items[index] = parentItem
      index = parent
    }
    items[index] = item
  }

  #down(index: number): void {
    const items = this.items
    const length = items.length
    const item = items[index]!
    for (;;) {
      let child = 2 * index + 1
      if (child >= length) break
      const right = child + 1
      if (right < length && this.#compare(items[right]!, items[child]!) < 0) child = right
      if (this.#compare(items[child]!, item) >= 0) break
      items[index] = items[child]!
      index = child
    }
    items[index] = item
  }
}

/**
 * A fixed-capacity max-heap on a numeric score with a comparator for equal scores: the
 * selection heap, where scores are compared inline (no call) and the comparator runs only on
 * ties. It never grows beyond the items it was built with (selection only pops and replaces).
 */
export class ScoredHeap<T> {
  readonly #items: T[]
  readonly #scores: Float64Array
  readonly #ties: Float64Array
  readonly #tie: (a: T, b: T) => number
  #size: number

  /** `score`: higher first; `tieScore`: lower first among equal scores; `tie`: the rest. */
  constructor(
    items: T[],
    score: (item: T) => number,
    tieScore: (item: T) => number,
    tie: (a: T, b: T) => number,
  ) {
    this.#items = items
    this.#tie = tie
    this.#size = items.length
    this.#scores = new Float64Array(items.length)
    this.#ties = new Float64Array(items.length)
    for (let i = 0; i < items.length; i++) {
      this.#scores[i] = score(items[i]!)
      this.#ties[i] = tieScore(items[i]!)
    }
    for (let i = (items.length >> 1) - 1; i >= 0; i--) this.#down(i)
  }

  get size(): number {
    return this.#size
  }

  peek(): T | undefined {
    return this.#size > 0 ? this.#items[0] : undefined
  }

  pop(): void {
    const last = --this.#size
    if (last > 0) {
      this.#items[0] = this.#items[last]!
      this.#scores[0] = this.#scores[last]!
      this.#ties[0] = this.#ties[last]!
      this.#down(0)
    }
  }

  replaceTop(item: T, score: number, tieScore: number): void {
    this.#items[0] = item
    this.#scores[0] = score
    this.#ties[0] = tieScore
    this.#down(0)
  }

  /** Whether the item at `i` goes before the one at `j`. */
  #before(i: number, j: number): boolean {
    const a = this.#scores[i]!
    const b = this.#scores[j]!
    if (a !== b) return a > b
    const tieA = this.#ties[i]!
    const tieB = this.#ties[j]!
    if (tieA !== tieB) return tieA < tieB
    return this.#tie(this.#items[i]!, this.#items[j]!) < 0
  }

  #down(index: number): void {
    const items = this.#items
    const scores = this.#scores
    const ties = this.#ties
    const size = this.#size
    for (;;) {
      let child = 2 * index + 1
      if (child >= size) break
      if (child + 1 < size && this.#before(child + 1, child)) child++
      if (!this.#before(child, index)) break
      const item = items[index]!
      const score = scores[index]!
      const tie = ties[index]!
      items[index] = items[child]!
      scores[index] = scores[child]!
      ties[index] = ties[child]!
      items[child] = item
      scores[child] = score
      ties[child] = tie
      index = child
    }
  }
}

/**
 * The selection heap of the built-in policies: integer handles ranked by a numeric key (higher
 * first), then a numeric tie key (lower first), then `breakTie` on the handles. Plain typed
 * arrays, kept by the pool and reused, so a selection allocates nothing per step.
 */
export class RankHeap {
  #handles = new Int32Array(1024)
  #keys = new Float64Array(1024)
  #ties = new Float64Array(1024)
  #size = 0
  #breakTie: (a: number, b: number) => boolean = () => false

  get size(): number {
    return this.#size
  }

  /** Empties the heap; `breakTie(a, b)` tells whether `a` goes first when both keys are equal. */
  reset(breakTie: (a: number, b: number) => boolean): void {
    this.#size = 0
    this.#breakTie = breakTie
  }

  /** The best handle; only valid when the heap is not empty. */
  top(): number {
    return this.#handles[0]!
  }

  push(handle: number, key: number, tie: number): void {
    if (this.#size === this.#handles.length) this.#grow()
    const handles = this.#handles
    const keys = this.#keys
    const ties = this.#ties
    let index = this.#size++
    while (index > 0) {
      const parent = (index - 1) >> 1
      const parentKey = keys[parent]!
      if (
        parentKey > key ||
        (parentKey === key &&
          (ties[parent]! < tie ||
            (ties[parent] === tie && !this.#breakTie(handle, handles[parent]!))))
      ) {
        break
      }
      handles[index] = handles[parent]!
      keys[index] = parentKey
      ties[index] = ties[parent]!
      index = parent
    }
    handles[index] = handle
    keys[index] = key
    ties[index] = tie
  }

  pop(): void {
    const last = --this.#size
    if (last > 0) this.#siftDown(this.#handles[last]!, this.#keys[last]!, this.#ties[last]!)
  }

  /** Replaces the top (one sift instead of a pop and a push). */
  replaceTop(handle: number, key: number, tie: number): void {
    this.#siftDown(handle, key, tie)
  }

  #siftDown(handle: number, key: number, tie: number): void {
    const handles = this.#handles
    const keys = this.#keys
    const ties = this.#ties
    const size = this.#size
    let index = 0
    for (;;) {
      let child = 2 * index + 1
      if (child >= size) break
      let childKey = keys[child]!
      const right = child + 1
      if (right < size) {
        const rightKey = keys[right]!
        if (
          rightKey > childKey ||
          (rightKey === childKey &&
            (ties[right]! < ties[child]! ||
              (ties[right] === ties[child] && this.#breakTie(handles[right]!, handles[child]!))))
        ) {
          child = right
          childKey = rightKey
        }
      }
      if (
        key > childKey ||
        (key === childKey &&
          (tie < ties[child]! || (tie === ties[child] && !this.#breakTie(handles[child]!, handle))))
      ) {
        break
      }
      handles[index] = handles[child]!
      keys[index] = childKey
      ties[index] = ties[child]!
      index = child
    }
    handles[index] = handle
    keys[index] = key
    ties[index] = tie
  }

  #grow(): void {
    const capacity = this.#handles.length * 2
    const handles = new Int32Array(capacity)
    const keys = new Float64Array(capacity)
    const ties = new Float64Array(capacity)
    handles.set(this.#handles)
    keys.set(this.#keys)
    ties.set(this.#ties)
    this.#handles = handles
    this.#keys = keys
    this.#ties = ties
  }
}
