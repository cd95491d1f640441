'use strict';
/** Authentication against a real connector: the key test, the connection label, a bad key. */
const zapier = require('zapier-platform-core');
const App = require('..');
const { startConnector, freePort } = require('./support/connector');
const { startReceiver } = require('./support/receiver');

const appTester = zapier.createAppTester(App);

describe('authentication', () => {
  let connector;

  beforeAll(async () => {
    connector = await startConnector({ ingest: false });
  });

  afterAll(async () => {
    if (connector) {
      await connector.stop();
    }
  });

  const authData = (overrides = {}) => ({ connector_url: connector.url, api_key: connector.apiKey, ...overrides });

  test('a good key passes the test and the label names the tenant', async () => {
    const me = await appTester(App.authentication.test, { authData: authData() });
    expect(me.tenant.name).toBe('acme');
    expect(me.key.label).toBe('zapier');
    const label = await appTester(App.authentication.connectionLabel, { authData: authData(), inputData: me });
    expect(label).toBe('acme (zapier)');
  });

  test('a trailing slash on the Connector URL is fine', async () => {
    const me = await appTester(App.authentication.test, { authData: authData({ connector_url: `${connector.url}/` }) });
    expect(me.tenant.name).toBe('acme');
  });

  test('a bad key is reported as an invalid API key, with what to do about it', async () => {
    await expect(appTester(App.authentication.test, { authData: authData({ api_key: 'brc_not_a_real_key' }) }))
      .rejects.toThrow(/Invalid API key: .*Ask the person who runs your connector for a new key for Zapier/);
  });

  test('the help text tells a Zap user what the URL and the key are and who gives them', () => {
    const [url, key] = App.authentication.fields;
    expect(url).toMatchObject({ key: 'connector_url', required: true });
    expect(url.helpText).toMatch(/web address of your BillRun connector.*person who runs it/);
    expect(key).toMatchObject({ key: 'api_key', type: 'password', required: true });
    expect(key.helpText).toMatch(/Ask the person who runs the connector to create a key for Zapier and send it to you/);
    for (const field of App.authentication.fields) {
      expect(field.helpText).not.toMatch(/billrun-connector keys|--tenant|`/);
    }
  });

  test('a Connector URL where no connector answers gets a clear message', async () => {
    const other = await startReceiver(200);
    try {
      await expect(appTester(App.authentication.test, { authData: authData({ connector_url: new URL(other.url).origin }) }))
        .rejects.toThrow(/answered, but not like a BillRun connector: check the URL/);
      other.status = 404;
      await expect(appTester(App.authentication.test, { authData: authData({ connector_url: new URL(other.url).origin }) }))
        .rejects.toThrow(/answered HTTP 404, but not like a BillRun connector/);
    } finally {
      await other.close();
    }
    const closed = `http://127.0.0.1:${await freePort()}`;
    await expect(appTester(App.authentication.test, { authData: authData({ connector_url: closed }) }))
      .rejects.toThrow(/Could not reach the BillRun connector/);
  });

  test('a Connector URL that is not http(s) gets a clear message', async () => {
    await expect(appTester(App.authentication.test, { authData: authData({ connector_url: 'ftp://127.0.0.1' }) }))
      .rejects.toThrow(/must start with https:\/\//);
    await expect(appTester(App.authentication.test, { authData: authData({ connector_url: 'not a url' }) }))
      .rejects.toThrow(/not a valid URL/);
  });
});
