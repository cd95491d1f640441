import { createHmac, timingSafeEqual } from 'node:crypto';

/** Standard Webhooks allow this much clock difference between sender and receiver. */
export const TOLERANCE_SECONDS = 5 * 60;

export interface SignedRequest {
	id: string | undefined;
	timestamp: string | undefined;
	/** The `webhook-signature` header: space-separated `v1,<base64>` entries. */
	signature: string | undefined;
	rawBody: Buffer;
}

/** `mismatch`: the delivery is well-formed and fresh, but no signature matches the secret. */
export type Verification = { valid: true } | { valid: false; reason: string; mismatch?: true };

const SECRET_PREFIX = 'whsec_';

function secretKey(secret: string): Buffer {
	const encoded = secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret;
	return Buffer.from(encoded, 'base64');
}

/** Base64 HMAC-SHA256 of `id.timestamp.body`, as in the Standard Webhooks specification. */
export function sign(secret: string, id: string, timestamp: string, rawBody: Buffer): string {
	return createHmac('sha256', secretKey(secret))
		.update(Buffer.concat([Buffer.from(`${id}.${timestamp}.`, 'utf8'), rawBody]))
		.digest('base64');
}

/**
 * Checks a delivery against the subscription secret. Any one `v1` signature that matches passes,
 * so deliveries signed with both the old and the new secret during a rotation are accepted.
 */
export function verify(
	request: SignedRequest,
	secret: string,
	nowSeconds: number = Math.floor(Date.now() / 1000),
): Verification {
	const { id, timestamp, signature, rawBody } = request;
	if (!id || !timestamp || !signature) {
		return {
			valid: false,
			reason: 'missing webhook-id, webhook-timestamp or webhook-signature header',
		};
	}
	if (!/^\d+$/.test(timestamp))
		return { valid: false, reason: 'webhook-timestamp is not a number' };
	if (Math.abs(nowSeconds - Number(timestamp)) > TOLERANCE_SECONDS) {
		return { valid: false, reason: 'webhook-timestamp is too far from the current time' };
	}
	const expected = Buffer.from(sign(secret, id, timestamp, rawBody), 'base64');
	const matches = signature.split(' ').some((entry) => {
		const [version, value] = entry.split(',', 2);
		if (version !== 'v1' || !value) return false;
		const given = Buffer.from(value, 'base64');
		return given.length === expected.length && timingSafeEqual(given, expected);
	});
	return matches
		? { valid: true }
		: {
				valid: false,
				reason: 'no signature matches the secret this trigger holds',
				mismatch: true,
			};
}
