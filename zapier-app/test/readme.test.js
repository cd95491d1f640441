'use strict';
/** README.md shows the triggers as the Zap editor lists them, and explains what a user must know. */
const fs = require('fs');
const os = require('os');
const path = require('path');
const App = require('..');
const catalog = require('../lib/catalog.json');
const { editorOrder, renderList, readmeStaleness, withList } = require('../scripts/trigger-list');

const README = fs.readFileSync(path.join(__dirname, '..', 'README.md'), 'utf8');

describe('README.md', () => {
  test('lists the visible triggers alphabetically, as the Zap editor does (run `npm run readme` when this fails)', () => {
    expect(readmeStaleness()).toBeNull();
    const labels = editorOrder(App).map((trigger) => trigger.display.label);
    const shown = [...README.matchAll(/^\| ([^|]+) \| Triggers when/gm)].map((match) => match[1]);
    expect(shown).toEqual(labels);
    expect([...labels].sort((a, b) => a.toLowerCase().localeCompare(b.toLowerCase()))).toEqual(labels);
  });

  test('the check notices a list that drifted', () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'billrun-zapier-readme-')), 'README.md');
    try {
      fs.writeFileSync(file, withList(README, renderList(App, catalog)));
      expect(readmeStaleness(App, catalog, file)).toBeNull();
      fs.writeFileSync(file, README.replace('| New Payment |', '| Payment Received |'));
      expect(readmeStaleness(App, catalog, file)).toMatch(/npm run readme/);
    } finally {
      fs.rmSync(path.dirname(file), { recursive: true, force: true });
    }
  });

  test('explains the general trigger and signature verification', () => {
    expect(README).toMatch(/### New BillRun Event, the general trigger/);
    expect(README).toMatch(/GET \/api\/v1\/events/);
    expect(README).toMatch(/## Every delivery is verified/);
    expect(README).toMatch(/Refused a request without a signature/);
  });
});
