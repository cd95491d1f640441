'use strict';
/** Custom (API key) authentication against a billrun-connector deployment. */
const { apiUrl } = require('./lib/api');

/** GET /api/v1/me: succeeds only with a valid key; its answer names the tenant for the label. */
const test = async (z, bundle) => {
  const url = apiUrl(bundle, '/api/v1/me');
  let response;
  try {
    response = await z.request({ url, skipThrowForStatus: true });
  } catch (error) {
    if (error.name === 'FetchError') {
      throw new z.errors.Error(`Could not reach the BillRun connector at ${url}: ${error.message}`, 'ConnectionError');
    }
    throw error;
  }
  const me = response.status === 200 ? response.data : null;
  if (!me || !me.tenant || !me.tenant.name) {
    throw new z.errors.Error(
      `The Connector URL answered${response.status === 200 ? '' : ` HTTP ${response.status}`}, but not like a BillRun `
        + 'connector: check the URL with the person who runs your connector.',
      'AuthenticationError',
      response.status,
    );
  }
  return me;
};

/** "acme (zapier)": the tenant, then the key's label, from what `test` returned. */
const connectionLabel = (z, bundle) => {
  const { tenant, key } = bundle.inputData;
  return key && key.label ? `${tenant.name} (${key.label})` : tenant.name;
};

module.exports = {
  type: 'custom',
  fields: [
    {
      key: 'connector_url',
      label: 'Connector URL',
      type: 'string',
      required: true,
      placeholder: 'https://billrun-connector.example.com',
      helpText: 'The web address of your BillRun connector: the service that receives BillRun\'s events and passes '
        + 'them on to Zapier. The person who runs it for your company (your BillRun administrator or IT team) can '
        + 'give it to you.',
    },
    {
      key: 'api_key',
      label: 'API Key',
      type: 'password',
      required: true,
      helpText: 'The key that lets Zapier use your company\'s BillRun connector. Ask the person who runs the connector '
        + 'to create a key for Zapier and send it to you; it only lets Zapier subscribe to your company\'s events. '
        + 'Keep it secret like a password.',
    },
  ],
  test,
  connectionLabel,
  customConfig: {},
};
