import { fnv1a } from '../hash.ts';

/** Share of selected customers held out as the control group unless configured otherwise (0 turns it off). */
export const DEFAULT_CONTROL_SHARE = 0.1;

/**
 * Consecutive members of one stratum that are randomised together. Small enough that a run cut
 * short by its budget still holds out close to the share in every stratum, large enough that a
 * share like 15% (3 in 20) needs no rounding.
 */
export const CONTROL_BLOCK_SIZE = 20;

/** Which arm of the experiment a selected customer is in. */
export type OutreachArm = 'treated' | 'control';

export interface ControlGroupOptions<T> {
  /** Share held out, in [0, 1); 0 holds out nobody. */
  share: number;
  /** Seed of the randomisation: the same seed, items and order give the same control group (a resumed run). */
  seed: string;
  /** The stratum of an item (e.g. `playbook|band`): each stratum holds out its own share. */
  stratum: (item: T) => string;
  /** A stable id of an item (the customer id). */
  id: (item: T) => string;
  blockSize?: number;
}

/** FNV-1a, then murmur3's finaliser: FNV alone keeps too much of the order of near-identical ids (`c-1`, `c-2`). */
function hash(text: string): number {
  let h = fnv1a(text);
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

const unit = (text: string): number => hash(text) / 4294967296;

/**
 * Stratified permuted-block randomisation. Within each stratum, items are taken in the order given
 * (the caller's ranking), cut into blocks of `blockSize`, and the block of positions [s, e) holds
 * out exactly `⌊share·e + u⌋ − ⌊share·s + u⌋` items, where `u` is a seeded offset of the stratum
 * (so a fractional share·B is spread evenly over the blocks, and a short last block is fair too); which members of a block are
 * held out follows a seeded hash of their ids. So every item is in control with probability
 * `share`, independently of anything measured after the draw, each stratum holds out its share
 * exactly up to one block, and any prefix of the ranking (a run that stops at its budget) is
 * balanced too. Returns the ids held out.
 *
 * Reusable by any selection that needs a randomised hold-out (at-risk outreach, win-back).
 */
export function assignControl<T>(items: readonly T[], options: ControlGroupOptions<T>): Set<string> {
  const { share, seed } = options;
  if (!(share >= 0 && share < 1)) throw new Error(`control share must be in [0, 1), got ${share}`);
  const blockSize = options.blockSize ?? CONTROL_BLOCK_SIZE;
  if (!Number.isInteger(blockSize) || blockSize < 1) throw new Error(`control block size must be a whole number ≥ 1, got ${blockSize}`);
  const control = new Set<string>();
  if (share === 0) return control;
  const strata = new Map<string, string[]>();
  for (const item of items) {
    const key = options.stratum(item);
    const members = strata.get(key) ?? strata.set(key, []).get(key)!;
    members.push(options.id(item));
  }
  for (const [stratum, ids] of strata) {
    const offset = unit(`${seed}|offset|${stratum}`);
    for (let start = 0; start < ids.length; start += blockSize) {
      const end = Math.min(ids.length, start + blockSize);
      const count = Math.floor(share * end + offset) - Math.floor(share * start + offset);
      const block = ids.slice(start, end);
      block
        .map((id) => ({ id, key: hash(`${seed}|${stratum}|${id}`) }))
        .sort((a, b) => a.key - b.key || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
        .slice(0, count)
        .forEach(({ id }) => {
          control.add(id);
        });
    }
  }
  return control;
}

/** The stratum of outreach selection: playbook × risk band. */
export const playbookBandStratum = (candidate: { playbook: string; band: string }): string => `${candidate.playbook}|${candidate.band}`;
