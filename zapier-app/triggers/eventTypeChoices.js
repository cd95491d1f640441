'use strict';
/**
 * Hidden trigger behind the general trigger's "Event Types" dropdown: the connector's own catalog
 * (GET /api/v1/events), so the choice follows the connector the Zap is connected to. Types BillRun
 * never fires are left out; "every event" (`*`) comes first, the rest in catalog order.
 */
const { apiUrl } = require('../lib/api');

const KEY = 'event_type_choices';

/** "Subscriber Updated (subscribers.update)": the title for people, the type for the precise. */
const choiceOf = (entry) => ({ id: entry.type, label: `${entry.title} (${entry.type})` });

const perform = async (z, bundle) => {
  if ((bundle.meta || {}).page) {
    return []; // every choice comes on the first page
  }
  const response = await z.request({ url: apiUrl(bundle, '/api/v1/events') });
  const entries = ((response.data || {}).data || []).filter((entry) => entry.fired_by_billrun !== false);
  const every = entries.filter((entry) => entry.type === '*');
  return [...every, ...entries.filter((entry) => entry.type !== '*')].map(choiceOf);
};

module.exports = {
  key: KEY,
  noun: 'Event Type',
  display: {
    label: 'Event Types',
    description: 'Lists the BillRun event types a Zap can start from, for the New BillRun Event trigger.',
    hidden: true,
  },
  operation: {
    type: 'polling',
    perform,
    sample: { id: 'subscribers.update', label: 'Subscriber Updated (subscribers.update)' },
    outputFields: [{ key: 'id', label: 'Event Type' }, { key: 'label', label: 'Name' }],
  },
};
