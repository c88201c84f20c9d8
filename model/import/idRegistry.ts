/**
 * Finds repeated ids in a stream of millions at 16 bytes or less per id, not the ~200 a `Map` of
 * strings takes: an open-addressing set of 64-bit hashes (two 32-bit lanes in typed arrays).
 * A hash seen twice makes its id a *suspect*; two different ids may share a hash, so suspects are
 * confirmed by comparing the ids themselves in a second look at only their rows (`confirm`).
 */
export class IdRegistry {
  private lanes = { a: new Uint32Array(1024), b: new Uint32Array(1024) };
  private size = 0;
  private readonly suspects = new Set<string>();
  private readonly linesOfSuspects = new Map<string, number[]>();

  /** Notes an id; true when its hash was seen before (the id may repeat). */
  add(id: string): boolean {
    const [a, b] = hashes(id);
    if (this.size * 2 >= this.lanes.a.length) this.grow();
    const seen = this.insert(a, b);
    if (seen) this.suspects.add(`${a}:${b}`);
    return seen;
  }

  /** Whether any id may repeat: only then do the suspects' rows need a second look. */
  get hasSuspects(): boolean {
    return this.suspects.size > 0;
  }

  /** Second look: notes the line of an id whose hash was seen more than once. */
  confirm(id: string, line: number): void {
    const [a, b] = hashes(id);
    if (!this.suspects.has(`${a}:${b}`)) return;
    this.linesOfSuspects.set(id, [...(this.linesOfSuspects.get(id) ?? []), line]);
  }

  /** The ids that really repeat, with their lines (after `confirm` saw every suspect row). */
  duplicates(): Map<string, number[]> {
    return new Map([...this.linesOfSuspects].filter(([, lines]) => lines.length > 1));
  }

  private insert(a: number, b: number): boolean {
    const { a: laneA, b: laneB } = this.lanes;
    const mask = laneA.length - 1;
    for (let slot = a & mask; ; slot = (slot + 1) & mask) {
      if (laneA[slot] === 0 && laneB[slot] === 0) {
        laneA[slot] = a;
        laneB[slot] = b;
        this.size++;
        return false;
      }
      if (laneA[slot] === a && laneB[slot] === b) return true;
    }
  }

  private grow(): void {
    const old = this.lanes;
    this.lanes = { a: new Uint32Array(old.a.length * 2), b: new Uint32Array(old.b.length * 2) };
    this.size = 0;
    for (let i = 0; i < old.a.length; i++) if (old.a[i] !== 0 || old.b[i] !== 0) this.insert(old.a[i] as number, old.b[i] as number);
  }
}

/** Two independent 32-bit hashes of a string (FNV-1a, and a murmur-style mix); (0, 0) is kept for empty slots. */
function hashes(id: string): [number, number] {
  let a = 0x811c9dc5;
  let b = 0x9747b28c;
  for (let i = 0; i < id.length; i++) {
    const c = id.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x5bd1e995);
    b ^= b >>> 15;
  }
  b = Math.imul(b ^ (b >>> 13), 0xc2b2ae35);
  b ^= b >>> 16;
  a >>>= 0;
  b >>>= 0;
  return a === 0 && b === 0 ? [1, 0] : [a, b];
}
