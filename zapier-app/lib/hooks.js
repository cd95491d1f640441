'use strict';
/**
 * The REST-hook lifecycle every trigger shares. `eventsOf(bundle)` names the connector event types a
 * trigger subscribes to (concrete types, `<entity>.trackchanges`, `<module>.*`, `*`, or a collection
 * step); each function here returns, or is, a Zapier operation function.
 */
const { apiUrl } = require('./api');
const { verifiedEvent, envelope } = require('./delivery');

const SAMPLE_LIMIT = 3; // the Zap editor shows at most three test records
const PAGE_SIZE = 100;

/** The connector's `{"error": {"message"}}` text of a refused request, if it sent one. */
const errorMessage = (response) => {
  const error = (response.data || {}).error;
  return error && typeof error.message === 'string' ? error.message : '';
};

/** DELETE one subscription; resolves with the status when it is gone (204 removed, 410 already gone). */
const remove = async (z, bundle, id) => {
  const response = await z.request({
    url: apiUrl(bundle, `/api/v1/hooks/${encodeURIComponent(id)}`),
    method: 'DELETE',
    skipThrowForStatus: true,
  });
  if (response.status === 204 || response.status === 410) {
    return response;
  }
  if (response.status === 404) {
    throw new z.errors.Error(
      `The BillRun connector has no subscription ${id} that this connection's API key can see (it belongs to `
        + 'another tenant, or never existed), so nothing was removed. Reconnect this Zap with the API key of the '
        + 'tenant it was turned on with, or ask your connector\'s operator to remove the subscription.',
      'SubscriptionNotFound',
      404,
    );
  }
  response.throwForStatus();
  throw new z.errors.Error(`The BillRun connector answered HTTP ${response.status} to removing subscription ${id}.`, 'UnsubscribeError', response.status);
};

/**
 * Subscriptions this Zap's hook URL already has: left behind when an earlier unsubscribe could not
 * reach the connector, they would deliver every event to the Zap a second time.
 */
const leftovers = async (z, bundle) => {
  const found = [];
  let cursor;
  do {
    const response = await z.request({
      url: apiUrl(bundle, '/api/v1/hooks'),
      params: { target_url: bundle.targetUrl, limit: PAGE_SIZE, ...(cursor ? { cursor } : {}) },
    });
    // Compared here too: a connector without the target_url filter would list every subscription.
    found.push(...response.data.data.filter((hook) => hook.target_url === bundle.targetUrl).map((hook) => hook.id));
    cursor = response.data.next_cursor;
  } while (cursor);
  return found;
};

/**
 * Zap turned on: POST /api/v1/hooks after removing this hook URL's leftovers; the flat answer (`id`,
 * `secret`, ...) becomes bundle.subscribeData, which `perform` verifies deliveries with.
 */
const subscribe = (eventsOf, describe) => async (z, bundle) => {
  const events = eventsOf(bundle);
  for (const id of await leftovers(z, bundle)) {
    await remove(z, bundle, id);
  }
  const response = await z.request({
    url: apiUrl(bundle, '/api/v1/hooks'),
    method: 'POST',
    body: { target_url: bundle.targetUrl, events, description: describe(bundle) },
    skipThrowForStatus: true,
  });
  if (response.status === 422 || response.status === 400) {
    throw new z.errors.Error(`The BillRun connector refused the subscription: ${errorMessage(response) || `HTTP ${response.status}`}`, 'SubscribeError', response.status);
  }
  response.throwForStatus();
  const subscription = response.data;
  if (!subscription || !subscription.id || !subscription.secret) {
    throw new z.errors.Error('The BillRun connector accepted the subscription but returned no id or signing secret.', 'SubscribeError', response.status);
  }
  return subscription;
};

/**
 * Zap turned off or deleted: succeeds only when the subscription is gone (removed now, or already
 * removed); a subscription this key cannot see is an error, as it may still be delivering.
 */
const unsubscribe = async (z, bundle) => {
  const id = (bundle.subscribeData || {}).id;
  if (!id) {
    throw new z.errors.Error('This Zap holds no BillRun subscription id, so there is nothing it can remove.', 'UnsubscribeError');
  }
  const response = await remove(z, bundle, id);
  return response.status === 204 ? { id, removed: true } : { id, removed: true, alreadyGone: true, detail: errorMessage(response) };
};

/** A delivery reached the Zap: the verified event, or an error saying why the request was refused. */
const perform = async (z, bundle) => [await verifiedEvent(z, bundle)];

/** "Test trigger" in the Zap editor: the newest events of the trigger's types, shaped like deliveries. */
const list = (eventsOf) => async (z, bundle) => {
  const answers = await Promise.all(eventsOf(bundle).map(async (type) => {
    const response = await z.request({
      url: apiUrl(bundle, `/api/v1/events/${encodeURIComponent(type)}/samples`),
      params: { limit: SAMPLE_LIMIT },
      skipThrowForStatus: true,
    });
    if (response.status === 404) {
      throw new z.errors.Error(`The BillRun connector does not know the event type "${type}": ${errorMessage(response)}`, 'SamplesError', 404);
    }
    response.throwForStatus();
    if (!Array.isArray(response.data)) {
      throw new z.errors.Error(`The BillRun connector's samples for ${type} are not a list.`, 'SamplesError', response.status);
    }
    return response.data;
  }));
  const byId = new Map(answers.flat().map((event) => [event.id, envelope(event)]));
  const time = (event) => Date.parse(event.timestamp) || 0;
  return [...byId.values()].sort((a, b) => time(b) - time(a)).slice(0, SAMPLE_LIMIT);
};

module.exports = { subscribe, unsubscribe, perform, list };
