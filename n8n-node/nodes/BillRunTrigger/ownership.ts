import type { IDataObject } from 'n8n-workflow';

import type { Hook, HookWithSecret } from './hooksApi';

/** What the trigger keeps in its static data between activations. */
export interface HookState extends IDataObject {
	subscriptionId?: string;
	secret?: string;
	/**
	 * When the connector issued `secret`, on the connector's clock: the subscription's `created_at`,
	 * or the `secret_rotated_at` of the rotation that returned it.
	 */
	secretIssuedAt?: string;
}

/** The subscription the trigger needs on its URL. */
export interface Wanted {
	events: string[];
	/** A test listener: short-lived, and never takes over a subscription it did not make. */
	test: boolean;
}

/** Which of the subscriptions on the trigger's URL it keeps, and which it removes. */
export interface Ownership {
	keep?: Hook;
	/** The state holds the current secret of `keep`: nothing to change. */
	secretHeld: boolean;
	/** Every subscription on the URL but `keep`. */
	remove: Hook[];
}

export function sameEvents(a: string[], b: string[]): boolean {
	const left = [...new Set(a)].sort();
	const right = [...new Set(b)].sort();
	return left.length === right.length && left.every((type, index) => type === right[index]);
}

/**
 * Whether the secret in the state still signs this subscription's deliveries: true until the
 * connector rotates it after the state got it. A state without `secretIssuedAt` (kept by an
 * older version of the node) holds the secret the subscription was made with.
 */
export function holdsCurrentSecret(hook: Hook, state: HookState): boolean {
	if (!state.secret || state.subscriptionId !== hook.id) return false;
	if (!hook.secret_rotated_at) return true;
	if (!state.secretIssuedAt) return false;
	return Date.parse(hook.secret_rotated_at) <= Date.parse(state.secretIssuedAt);
}

/**
 * Decides over the subscriptions posting to the trigger's URL. The one to keep is active, has
 * the wanted events and (outside tests) no expiry; the trigger's own one is preferred, else the
 * oldest fitting one is taken over (a rename, an import or a crash lost the trigger's state).
 */
export function planOwnership(hooks: Hook[], state: HookState, wanted: Wanted): Ownership {
	const fits = (hook: Hook) =>
		hook.status === 'active' &&
		sameEvents(hook.events ?? [], wanted.events) &&
		(wanted.test || !hook.expires_at);
	const own = hooks.find((hook) => hook.id === state.subscriptionId && fits(hook));
	const keep = own ?? (wanted.test ? undefined : hooks.find(fits));
	return {
		keep,
		secretHeld: keep !== undefined && holdsCurrentSecret(keep, state),
		remove: hooks.filter((hook) => hook !== keep),
	};
}

export function remember(state: HookState, hook: HookWithSecret): void {
	state.subscriptionId = hook.id;
	state.secret = hook.secret;
	state.secretIssuedAt = hook.secret_rotated_at ?? hook.created_at;
}

export function forget(state: HookState): void {
	delete state.subscriptionId;
	delete state.secret;
	delete state.secretIssuedAt;
}
