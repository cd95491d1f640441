'use strict';
/**
 * The REST-hook lifecycle every trigger shares. Each function takes `eventOf(bundle)`, which names
 * the connector event type a trigger stands for (a concrete type, an `<entity>.trackchanges` group
 * or a collection step), and returns a Zapier operation function.
 */
const { apiUrl } = require('./api');
const { webhookHeaders, isValidSignature } = require('./signature');

const SAMPLE_LIMIT = 3; // the Zap editor shows at most three test records

/** The delivery envelope and nothing else (Zapier adds e.g. `querystring` to parsed requests). */
const envelope = ({ id, type, timestamp, data }) => ({ id, type, timestamp, data });

/** Zap turned on: POST /api/v1/hooks; the flat answer (`id`, `secret`, ...) becomes bundle.subscribeData. */
const subscribe = (eventOf) => async (z, bundle) => {
  const response = await z.request({
    url: apiUrl(bundle, '/api/v1/hooks'),
    method: 'POST',
    body: { target_url: bundle.targetUrl, event: eventOf(bundle) },
  });
  const subscription = response.data;
  if (!subscription || !subscription.id) {
    throw new z.errors.Error('The connector accepted the subscription but returned no id.', 'SubscribeError', response.status);
  }
  return subscription;
};

/** Zap turned off or deleted: DELETE the subscription; one that is already gone counts as removed. */
const unsubscribe = async (z, bundle) => {
  const id = (bundle.subscribeData || {}).id;
  if (!id) {
    return { removed: false, reason: 'no subscription id' };
  }
  const response = await z.request({
    url: apiUrl(bundle, `/api/v1/hooks/${encodeURIComponent(id)}`),
    method: 'DELETE',
    skipThrowForStatus: true,
  });
  if (response.status === 404 || response.status === 410) {
    return { id, removed: true, alreadyGone: true };
  }
  response.throwForStatus();
  return { id, removed: true, alreadyGone: false };
};

/**
 * A delivery reached the Zap. When it carries Standard Webhooks headers, the signature over the raw
 * body must match the subscription's secret, else the delivery is dropped (`[]`); the event is then
 * read from exactly the signed bytes.
 */
const perform = async (z, bundle) => {
  const raw = bundle.rawRequest || {};
  const headers = webhookHeaders(raw.headers);
  let body = bundle.cleanedRequest;
  if (headers) {
    const content = typeof raw.content === 'string' ? raw.content : '';
    if (!isValidSignature((bundle.subscribeData || {}).secret, headers, content)) {
      z.console.log(`Dropped delivery ${headers['webhook-id'] || '(no id)'}: its signature does not match.`);
      return [];
    }
    try {
      body = JSON.parse(content);
    } catch (error) {
      z.console.log(`Dropped delivery ${headers['webhook-id']}: the body is not JSON.`);
      return [];
    }
  }
  const events = Array.isArray(body) ? body : [body];
  return events.filter((event) => event && typeof event === 'object' && event.id).map(envelope);
};

/** "Test trigger" in the Zap editor: recent events of this type, shaped like live deliveries. */
const list = (eventOf) => async (z, bundle) => {
  const type = eventOf(bundle);
  const response = await z.request({
    url: apiUrl(bundle, `/api/v1/events/${encodeURIComponent(type)}/samples`),
    params: { limit: SAMPLE_LIMIT },
  });
  if (!Array.isArray(response.data)) {
    throw new z.errors.Error(`The connector's samples for ${type} are not a list.`, 'SamplesError', response.status);
  }
  return response.data.map(envelope);
};

module.exports = { subscribe, unsubscribe, perform, list };
