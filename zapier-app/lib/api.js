'use strict';
/** Where the connector lives: every request goes to the Connector URL the user entered. */

/** The Connector URL from the connection, without trailing slashes, checked to be http(s). */
const connectorBase = (bundle) => {
  const raw = String((bundle.authData || {}).connector_url || '').trim();
  let url;
  try {
    url = new URL(raw);
  } catch (error) {
    throw new Error(`The Connector URL "${raw}" is not a valid URL; use e.g. https://billrun-connector.example.com`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new Error(`The Connector URL must start with https:// (or http://), got "${raw}"`);
  }
  return `${url.origin}${url.pathname}`.replace(/\/+$/, '');
};

/** An absolute URL on the connector for an API path such as `/api/v1/hooks`. */
const apiUrl = (bundle, apiPath) => `${connectorBase(bundle)}${apiPath}`;

module.exports = { apiUrl };
