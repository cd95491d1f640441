'use strict';
/**
 * Standard Webhooks signature check: `webhook-signature` holds space-separated `v1,<base64>`
 * entries (two of them while the connector rotates a secret), each an HMAC-SHA256 of
 * "<webhook-id>.<webhook-timestamp>.<raw body>" keyed with the base64 part of the `whsec_` secret.
 */
const crypto = require('crypto');

const HEADER_NAMES = ['webhook-id', 'webhook-timestamp', 'webhook-signature'];

/**
 * The three Standard Webhooks headers from a raw request's headers, found case-insensitively with or
 * without the `Http-` prefix Zapier puts on them; null when none is present.
 */
const webhookHeaders = (headers) => {
  const found = {};
  for (const [name, value] of Object.entries(headers || {})) {
    const bare = name.toLowerCase().replace(/^http-/, '');
    if (HEADER_NAMES.includes(bare)) {
      found[bare] = Array.isArray(value) ? value.join(' ') : String(value);
    }
  }
  return Object.keys(found).length ? found : null;
};

/** The HMAC key of a `whsec_<base64>` secret. */
const secretKey = (secret) => Buffer.from(String(secret).replace(/^whsec_/, ''), 'base64');

/** Whether one of the `v1` signatures in `headers` matches `body` under `secret`. */
const isValidSignature = (secret, headers, body) => {
  const id = headers['webhook-id'];
  const timestamp = headers['webhook-timestamp'];
  const signatures = headers['webhook-signature'];
  if (!secret || !id || !timestamp || !signatures) {
    return false;
  }
  const expected = crypto
    .createHmac('sha256', secretKey(secret))
    .update(`${id}.${timestamp}.${body}`)
    .digest();
  return signatures
    .split(' ')
    .filter(Boolean)
    .some((entry) => {
      const comma = entry.indexOf(',');
      if (comma < 0 || entry.slice(0, comma) !== 'v1') {
        return false;
      }
      const given = Buffer.from(entry.slice(comma + 1), 'base64');
      return given.length === expected.length && crypto.timingSafeEqual(given, expected);
    });
};

module.exports = { HEADER_NAMES, webhookHeaders, isValidSignature };
