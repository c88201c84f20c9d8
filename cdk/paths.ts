import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root: NodejsFunction entries and the job's Docker build context are resolved from it. */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** Absolute path of a file given relative to the repository root. */
export const fromRepoRoot = (relative: string): string => path.join(REPO_ROOT, relative);
