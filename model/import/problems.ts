import type { EventRejection } from '../events/validate.ts';

/** Why one line of an imported file was kept out. */
export interface RowProblem {
  line: number;
  message: string;
}

/** A rejected event's errors as one readable message: "properties.attributes.x: must be ...". */
export const rejectionMessage = (rejection: EventRejection): string => rejection.errors.map((e) => `${e.path}: ${e.message}`).join('; ');
