/**
 * `--set data.status=failed` on a charge should not leave `paid: true` beside it. After the
 * overrides, the charge's state rules (the same functions that move a charge through its story)
 * are applied to the fields the user did not set; where no rule is clear, a warning names the
 * fields that disagree.
 */
import type { OmiseCharge } from '@omise-webhook/events';
import {
  captureCharge,
  completeCharge,
  expireCharge,
  FAILING_TEST_CARDS,
  reverseCharge,
  type SimulationContext,
} from './objects.js';
import { applySetAssignments, type SetAssignment } from './set-overrides.js';

export interface ConsistentAfterSet<T> {
  event: T;
  /** `data.paid=false`, ...: fields changed to follow the status the user set, in object order. */
  adjusted: string[];
  /** Contradictions left in place (the user set both sides, or no rule says what to do). */
  warnings: string[];
}

/** The decline a failed charge gets when the user gave none: Omise's documented test card 4111 1111 1111 0014. */
const DEFAULT_FAILURE = FAILING_TEST_CARDS['4111111111110014'] as { code: string; message: string };

type ChargeRule = (ctx: SimulationContext, charge: OmiseCharge) => OmiseCharge;

/** The charge statuses whose other fields follow from them, and the story step that sets them. */
const CHARGE_STATUS_RULES: Readonly<Record<string, ChargeRule>> = {
  successful: (ctx, charge) => captureCharge(ctx, charge),
  failed: (ctx, charge) => {
    const failed = completeCharge(ctx, charge, {
      code: charge.failure_code ?? DEFAULT_FAILURE.code,
      message: charge.failure_message ?? DEFAULT_FAILURE.message,
    });
    // completeCharge also records 3-D Secure (it finishes a waiting charge); a status alone does not.
    return {
      ...failed,
      authentication: charge.authentication,
      authenticated_by: charge.authenticated_by,
      refundable: false,
      disputable: false,
      authorized_amount: 0,
      captured_amount: 0,
      transaction: null,
      fee: 0,
      fee_vat: 0,
      net: 0,
      paid_at: null,
    };
  },
  expired: (ctx, charge) => expireCharge(ctx, charge),
  reversed: (ctx, charge) => reverseCharge(ctx, charge),
};

/** What each status says about `paid` and `authorized`, to check what no rule was applied to. */
const CHARGE_STATUS_IMPLIES: Readonly<Record<string, Partial<Record<'paid' | 'authorized', boolean>>>> = {
  successful: { paid: true, authorized: true },
  failed: { paid: false, authorized: false },
  expired: { paid: false },
  reversed: { paid: false },
  pending: { paid: false },
};

function setPaths(assignments: readonly SetAssignment[]): Set<string> {
  return new Set(assignments.map((assignment) => assignment.path.join('.')));
}

/**
 * Makes a charge agree with the `data.status` the user set: the status's rule is applied, then the
 * user's own assignments again, so whatever they set explicitly wins. Events about anything but a
 * charge, or without `data.status` among the assignments, come back unchanged (but checked).
 *
 * @example
 * const { event, adjusted } = consistentAfterSet(withSets, [parseSetAssignment('data.status=failed')], ctx);
 * // adjusted: ['data.authorized=false', 'data.paid=false', ...]
 */
export function consistentAfterSet<T extends Record<string, unknown>>(
  event: T,
  assignments: readonly SetAssignment[],
  ctx: SimulationContext,
): ConsistentAfterSet<T> {
  const data = event.data as Record<string, unknown> | undefined;
  if (data?.object !== 'charge' || assignments.length === 0) return { event, adjusted: [], warnings: [] };
  const explicit = setPaths(assignments);
  const status = String(data.status);
  let result = event;
  const adjusted: string[] = [];
  const rule = CHARGE_STATUS_RULES[status];
  if (explicit.has('data.status') && rule) {
    const ruled = { ...event, data: rule(ctx, data as unknown as OmiseCharge) };
    result = applySetAssignments(ruled as T, assignments, `a ${String(event.key)} event`);
    const after = result.data as Record<string, unknown>;
    for (const [name, value] of Object.entries(after)) {
      if (JSON.stringify(value) !== JSON.stringify(data[name])) adjusted.push(`data.${name}=${JSON.stringify(value)}`);
    }
  }
  const after = result.data as Record<string, unknown>;
  const implied = CHARGE_STATUS_IMPLIES[status] ?? {};
  const disagree = Object.entries(implied)
    .filter(([name, value]) => after[name] !== value)
    .map(([name]) => `data.${name}=${JSON.stringify(after[name])}`);
  const warnings =
    disagree.length === 0
      ? []
      : [
          `the charge is ${status} but ${disagree.join(' and ')}; Omise never sends that combination (drop the --set that makes it, or set both to agree)`,
        ];
  return { event: result, adjusted, warnings };
}
