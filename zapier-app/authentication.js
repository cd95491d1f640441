'use strict';
/** Custom (API key) authentication against a billrun-connector deployment. */
const { apiUrl } = require('./lib/api');

/** GET /api/v1/me: succeeds only with a valid key; its answer names the tenant for the label. */
const test = async (z, bundle) => {
  const url = apiUrl(bundle, '/api/v1/me');
  let response;
  try {
    response = await z.request({ url });
  } catch (error) {
    if (error.name === 'FetchError') {
      throw new z.errors.Error(`Could not reach the BillRun connector at ${url}: ${error.message}`, 'ConnectionError');
    }
    throw error;
  }
  const me = response.data;
  if (!me || !me.tenant || !me.tenant.name) {
    throw new z.errors.Error(
      'The Connector URL answered, but not like a BillRun connector: check the URL.',
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
      helpText: 'The address of your BillRun connector, the service that relays BillRun\'s webhooks.',
    },
    {
      key: 'api_key',
      label: 'API Key',
      type: 'password',
      required: true,
      helpText: 'A connector API key for your tenant, made with `billrun-connector keys create --tenant <name> --label zapier`.',
    },
  ],
  test,
  connectionLabel,
  customConfig: {},
};
