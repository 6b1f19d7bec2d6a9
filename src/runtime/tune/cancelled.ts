import { QuantscopeError } from '../../core/errors';

/** Throws the coded CANCELLED error once `signal` is aborted: `what` names the work (evaluation, tuning...). */
export function checkCancelled(signal: AbortSignal | undefined, what: string): void {
  if (signal?.aborted) throw new QuantscopeError('CANCELLED', `${what} was cancelled`);
}
