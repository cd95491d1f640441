'use strict';
/** Request and response middleware shared by every request the app makes to the connector. */

/** Adds the connection's API key to every request. */
const addApiKey = (request, z, bundle) => {
  const key = (bundle.authData || {}).api_key;
  if (key) {
    request.headers = { ...request.headers, Authorization: `Bearer ${key}` };
  }
  request.headers = { Accept: 'application/json', ...request.headers };
  return request;
};

/** Turns the connector's 401 into a message a user can act on (runs before Zapier's own status check). */
const explainUnauthorized = (response, z) => {
  if (response.status === 401) {
    throw new z.errors.Error(
      'Invalid API key: the BillRun connector does not accept it (mistyped, or revoked). Ask the person who runs '
        + 'your connector for a new key for Zapier and reconnect.',
      'AuthenticationError',
      401,
    );
  }
  return response;
};

module.exports = { befores: [addApiKey], afters: [explainUnauthorized] };
