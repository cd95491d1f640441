'use strict';
/** What Zapier hands the app, built the way Zapier builds it: delivery bundles and flattened records. */
const { asZapierRawRequest } = require('./receiver');

/**
 * The bundle `perform` gets for a request the hook URL received: Zapier's raw request (headers with
 * its `Http-` prefix, the body as received) and its parsed copy with the `querystring` it adds.
 */
const deliveryBundle = (authData, captured, subscribeData, content = captured.content) => {
  let cleaned;
  try {
    cleaned = { ...JSON.parse(content), querystring: {} };
  } catch (error) {
    cleaned = { querystring: {} };
  }
  return { authData, subscribeData, rawRequest: asZapierRawRequest({ ...captured, content }), cleanedRequest: cleaned };
};

/**
 * The keys the Zap editor shows for a record: nested objects joined with `__`, the members of a
 * list of objects as `list[]member`; a list of plain values, and any other value, is one key.
 * Empty objects and empty lists show nothing.
 */
const flattenKeys = (record) => {
  const keys = new Set();
  const visit = (value, key) => {
    if (Array.isArray(value)) {
      const objects = value.filter((item) => item && typeof item === 'object' && !Array.isArray(item));
      if (objects.length) {
        objects.forEach((item) => Object.entries(item).forEach(([name, inner]) => visit(inner, `${key}[]${name}`)));
      } else if (value.length) {
        keys.add(key);
      }
    } else if (value && typeof value === 'object') {
      Object.entries(value).forEach(([name, inner]) => visit(inner, key ? `${key}__${name}` : name));
    } else {
      keys.add(key);
    }
  };
  visit(record, '');
  return [...keys];
};

module.exports = { deliveryBundle, flattenKeys };
