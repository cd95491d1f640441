'use strict';
/**
 * Checks that a request Zapier received at a Zap's hook URL is a delivery of the BillRun connector:
 * Standard Webhooks headers, a signature made with the subscription's secret over exactly the bytes
 * received, and a body that is a connector event. Anything else is refused with a message that says
 * why; it shows in the Zap's history.
 *
 * Refusals are `HaltedError`s: a stranger posting to the hook URL stops that run but cannot make the
 * Zap collect errors until Zapier switches it off. A signature that fails because the connector
 * rotated the subscription's secret is a plain error instead: the Zap needs its owner's attention.
 */
const { HEADER_NAMES, webhookHeaders, isValidSignature } = require('./signature');
const { apiUrl } = require('./api');

/** The delivery envelope and nothing else (Zapier adds e.g. `querystring` to parsed requests). */
const envelope = ({ id, type, timestamp, data }) => ({ id, type, timestamp, data });

const isEvent = (body) => Boolean(body) && typeof body === 'object' && !Array.isArray(body)
  && typeof body.id === 'string' && typeof body.type === 'string' && typeof body.timestamp === 'string'
  && Boolean(body.data) && typeof body.data === 'object';

/**
 * When the connector rotated the subscription's secret after the Zap subscribed (so the secret the
 * Zap holds signs nothing any more), the subscription as the connector shows it; otherwise null.
 */
const rotatedSubscription = async (z, bundle) => {
  const held = bundle.subscribeData || {};
  try {
    const response = await z.request({
      url: apiUrl(bundle, `/api/v1/hooks/${encodeURIComponent(held.id)}`),
      skipThrowForStatus: true,
    });
    const current = response.status === 200 ? response.data : null;
    return current && current.secret_rotated_at && current.secret_rotated_at !== held.secret_rotated_at ? current : null;
  } catch (error) {
    return null; // the connector cannot say: the request is refused as unverified
  }
};

/** The connector event a request carries, verified; throws when the request is not one. */
const verifiedEvent = async (z, bundle) => {
  const refuse = (message) => new z.errors.HaltedError(message);
  const raw = bundle.rawRequest || {};
  const headers = webhookHeaders(raw.headers) || {};
  const missing = HEADER_NAMES.filter((name) => !headers[name]);
  if (missing.length === HEADER_NAMES.length) {
    throw refuse(
      'Refused a request without a signature: BillRun connector deliveries carry webhook-id, webhook-timestamp and '
        + 'webhook-signature headers, and this request has none of them, so it did not come from the connector.',
    );
  }
  if (missing.length) {
    throw refuse(`Refused a request without the ${missing.join(' and ')} header: it is not a complete signed delivery of the BillRun connector.`);
  }
  const id = headers['webhook-id'];
  const { secret } = bundle.subscribeData || {};
  if (!secret) {
    throw new z.errors.Error(
      `Cannot verify delivery ${id}: this Zap holds no signing secret for its BillRun subscription. Turn the Zap off and on again.`,
      'SignatureError',
    );
  }
  const content = typeof raw.content === 'string' ? raw.content : '';
  if (!isValidSignature(secret, headers, content)) {
    const rotated = await rotatedSubscription(z, bundle);
    if (rotated) {
      throw new z.errors.Error(
        `Delivery ${id} is signed with a new secret: the BillRun connector rotated this Zap's subscription secret at `
          + `${rotated.secret_rotated_at}, and the secret the Zap holds stopped signing at ${rotated.previous_secret_expires_at}. `
          + 'Turn the Zap off and on again so that it subscribes with the current secret.',
        'SignatureError',
      );
    }
    throw refuse(`Refused delivery ${id}: its signature does not match this Zap's subscription secret, so it was forged or changed on the way.`);
  }
  let body;
  try {
    body = JSON.parse(content);
  } catch (error) {
    throw refuse(`Refused delivery ${id}: its body is not valid JSON (${error.message}).`);
  }
  if (!isEvent(body)) {
    throw refuse(`Refused delivery ${id}: its body is not a BillRun connector event (an object with id, type, timestamp and data).`);
  }
  return envelope(body);
};

module.exports = { verifiedEvent, envelope };
